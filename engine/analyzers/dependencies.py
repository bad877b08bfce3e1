"""Dependency failures: join "cannot reach X" log lines, X's metrics and X's own state into one chain.

The root cause of a dependency incident names X (the database, the downstream service), not the callers
that log the errors. The chain is only as strong as its links: logs alone are a hypothesis; logs plus X
being unhealthy (or X's metrics deviating first) make a direct, consistent story.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from engine.analysis_context import AnalysisContext
from engine.analyzers.dependency_logs import (
    DependencySignal,
    log_signals,
    normalize_target,
)
from engine.analyzers.metrics import Anomaly, MetricKind, format_clock, observed_anomalies
from engine.analyzers.names import normalize_service
from engine.facts import Observations
from engine.findings import Finding
from engine.models import Recommendation


@dataclass(frozen=True)
class TargetState:
    """What a data source says about a dependency itself (pod not ready, RDS stopped, ...)."""

    target: str
    healthy: bool
    description: str
    source_tool: str
    timestamp: float | None = None


@dataclass(frozen=True)
class CausalChain:
    target: str
    mechanism: str
    callers: tuple[str, ...]
    signals: tuple[DependencySignal, ...]
    states: tuple[TargetState, ...] = field(default_factory=tuple)
    target_anomalies: tuple[Anomaly, ...] = field(default_factory=tuple)
    caller_anomalies: tuple[Anomaly, ...] = field(default_factory=tuple)

    @property
    def confidence(self) -> int:
        score = 45
        if sum(s.count for s in self.signals) >= 3:
            score += 10
        if any(not s.healthy for s in self.states):
            score += 25
        if any(a.kind is MetricKind.SATURATION for a in self.target_anomalies):
            score += 25  # the dependency's own resource is at its limit: direct evidence
        elif self.target_anomalies:
            score += 15
        if self.caller_anomalies:
            score += 5
        if self.states and all(s.healthy for s in self.states) and not self.target_anomalies:
            score -= 20
        return max(5, min(95, score))

    @property
    def first_seen(self) -> float:
        times = [s.first_seen for s in self.signals]
        times += [a.onset for a in self.target_anomalies]
        times += [s.timestamp for s in self.states if s.timestamp is not None and not s.healthy]
        return min(times)

    def describe(self) -> str:
        callers = ", ".join(self.callers)
        parts = [f"{callers} {MECHANISM_TEXT[self.mechanism]} {self.target}"]
        parts += [s.description for s in self.states if not s.healthy][:1]
        parts += [a.describe() for a in self.target_anomalies][:1]
        return "; ".join(parts)


MECHANISM_TEXT: dict[str, str] = {
    "connection_refused": "get connection refused from",
    "timeout": "time out calling",
    "dns": "cannot resolve",
    "connection_reset": "have connections reset by",
    "pool_exhausted": "cannot get a pooled connection to",
    "too_many_connections": "are refused for too many connections by",
    "unavailable": "get 503/unavailable from",
    "server_error": "get 5xx errors from",
}


def build_chains(
    signals: Sequence[DependencySignal],
    *,
    states: Iterable[TargetState] = (),
    anomalies: Iterable[Anomaly] = (),
) -> list[CausalChain]:
    """One chain per failing target, strongest first."""
    state_list = list(states)
    anomaly_list = list(anomalies)
    by_target: dict[str, list[DependencySignal]] = {}
    for s in signals:
        by_target.setdefault(normalize_service(s.target), []).append(s)
    chains: list[CausalChain] = []
    for key, sigs in by_target.items():
        mech_counts: dict[str, int] = {}
        for s in sigs:
            mech_counts[s.mechanism] = mech_counts.get(s.mechanism, 0) + s.count
        mechanism = max(mech_counts, key=lambda m: (mech_counts[m], m))
        callers = tuple(sorted({s.caller for s in sigs}))
        caller_keys = {normalize_service(c) for c in callers}
        chains.append(
            CausalChain(
                target=sigs[0].target,
                mechanism=mechanism,
                callers=callers,
                signals=tuple(sigs),
                states=tuple(s for s in state_list if _same(s.target, key)),
                target_anomalies=tuple(a for a in anomaly_list if _same(a.service, key)),
                caller_anomalies=tuple(a for a in anomaly_list if normalize_service(a.service) in caller_keys),
            )
        )
    chains.sort(key=lambda c: (-c.confidence, -sum(s.count for s in c.signals), c.target))
    return chains


_POD_SUFFIX = re.compile(r"^-(?:\d+|[a-z0-9]{6,10}(?:-[a-z0-9]{5})?)$")


def _same(name: str, key: str) -> bool:
    """Same component, allowing a pod name (``postgres-0``, ``payments-7d9f8b6c4-x2x9z``) for its workload."""
    n = normalize_service(normalize_target(name))
    return n == key or (n.startswith(key) and _POD_SUFFIX.match(n[len(key) :]) is not None)


# --- Analyzer over observations -------------------------------------------------------------------------


def target_states(obs: Observations) -> list[TargetState]:
    """What the sources say about components' own health: explicit states plus unready pods."""
    states = [
        TargetState(
            s.target,
            s.healthy,
            s.description,
            s.cite.split(" ", 1)[0].strip("[]").removeprefix("tool:"),
            s.timestamp.timestamp() if s.timestamp else None,
        )
        for s in obs.target_states
    ]
    for pod in obs.pods:
        waiting = next((c for c in pod.containers if c.reason and c.state in ("waiting", "terminated")), None)
        not_ready = any(c.ready is False for c in pod.containers) or pod.phase in (
            "Pending",
            "Failed",
            "Unknown",
        )
        if waiting is None and not not_ready:
            continue
        why = waiting.reason if waiting and waiting.reason else (pod.status_reason or f"phase {pod.phase}, not ready")
        states.append(TargetState(pod.name, False, f"pod {pod.name} is {why}", POD_STATE_SOURCE))
    return states


def _state_cites(obs: Observations, chain: CausalChain) -> list[str]:
    names = {s.target for s in chain.states if not s.healthy}
    cites = [s.cite for s in obs.target_states if s.target in names and not s.healthy and s.cite]
    for pod in obs.pods:
        if pod.name in names:
            cite = next(iter(pod.cites.values()), "")
            for container in pod.containers:
                cite = container.cites.get("reason") or container.cites.get("state") or cite
            if cite:
                cites.append(cite)
    return cites


_MECHANISM_TITLE = {
    "pool_exhausted": "connection pool exhaustion",
    "too_many_connections": "connection limit reached",
    "connection_refused": "refusing connections",
    "timeout": "not answering in time",
    "dns": "name not resolving",
    "connection_reset": "resetting connections",
    "unavailable": "unavailable",
    "server_error": "failing requests",
}


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    """Name the dependency the callers cannot reach, when logs, its state or its metrics agree."""
    if not obs.logs:
        return []  # the chain starts from callers' log lines
    anomalies = observed_anomalies(obs, ctx)
    saturated = sorted({a.service for a, _ in anomalies if a.kind is MetricKind.SATURATION})
    default = saturated[0] if len(saturated) == 1 else None
    signals = log_signals(obs, default_target=default)
    if not signals:
        return []
    evidence_of = dict(anomalies)
    chains = build_chains(signals, states=target_states(obs), anomalies=[a for a, _ in anomalies])
    findings: list[Finding] = []
    for chain in chains[:3]:
        lines = [s.sample for s in chain.signals[:2]]
        evidence = [f"{s.source_tool} {s.sample}" for s in chain.signals[:2] if s.source_tool]
        evidence += _state_cites(obs, chain)[:2]
        evidence += [evidence_of[a] for a in chain.target_anomalies[:2]]
        if not lines or not evidence:
            continue
        count = sum(s.count for s in chain.signals)
        mechanism = _MECHANISM_TITLE.get(chain.mechanism, chain.mechanism)
        since = format_clock(min(s.first_seen for s in chain.signals))
        title = f"{chain.target} {mechanism}: {chain.describe()} ({count} errors since {since})"
        findings.append(
            Finding(
                kind=f"dependency_{chain.mechanism}",
                subject=f"dependency/{chain.target}",
                role="cause",
                title=title,
                weight=_weight(chain),
                evidence=evidence[:5],
                workload=chain.target,
                timestamp=datetime.fromtimestamp(chain.first_seen, UTC),
                recommendations=_recommend(chain),
                affected=[chain.target, *chain.callers],
                related=list(chain.callers),
                count=count,
            )
        )
    return findings


def _recommend(chain: CausalChain) -> list[Recommendation]:
    target = chain.target
    if chain.mechanism in ("pool_exhausted", "too_many_connections"):
        return [
            Recommendation(
                priority="high",
                action=f"Find what holds {target} connections (long transactions, leaked "
                f"connections on an error path) and restart the affected callers to free the pool",
            ),
            Recommendation(priority="medium", action=f"Compare the callers' pool size with {target}'s max_connections"),
        ]
    if chain.mechanism == "dns":
        return [Recommendation(priority="high", action=f"Check that the name {target} resolves (Service/DNS record)")]
    return [
        Recommendation(
            priority="high", action=f"Restore {target}: check why it is down or not ready and bring it back"
        ),
        Recommendation(
            priority="medium",
            action=f"Add timeouts and circuit breaking in {', '.join(chain.callers)} for calls to {target}",
        ),
    ]


POD_STATE_SOURCE = "pods"
SELF_EXPLAINED_REASONS = (
    "CreateContainerConfigError",
    "CreateContainerError",
    "ImagePullBackOff",
    "ErrImagePull",
    "InvalidImageName",
    "OOMKilled",
    "Evicted",
)


def _weight(chain: CausalChain) -> int:
    """A target pod that is itself broken has its own, more specific cause (a missing Secret, an OOM kill)
    that the pod analyzers find; stay below those so they explain this chain instead of competing with it."""
    for state in chain.states:
        if state.source_tool == POD_STATE_SOURCE and any(r in state.description for r in SELF_EXPLAINED_REASONS):
            return min(chain.confidence, 78)
    return chain.confidence
