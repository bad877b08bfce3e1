"""Change correlation: which deploys, config edits and restarts happened just before an anomaly began.

A change is a candidate cause when it precedes the onset (a small grace after it covers coarse onset
estimates) and touches an affected service. The score multiplies three plain factors: proximity
(exponential decay with a half-life), relevance (the affected service itself, one of its dependencies,
or something else) and how often that kind of change breaks things.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum

from engine.analysis_context import AnalysisContext
from engine.analyzers.metrics import Anomaly, ServiceDeviation, call_graph, observed_anomalies, origin
from engine.analyzers.names import normalize_service
from engine.facts import Observations, WorkloadFact
from engine.findings import Finding, workload_of
from engine.models import Recommendation


class ChangeKind(StrEnum):
    DEPLOY = "deploy"
    ROLLOUT = "rollout"
    PR_MERGED = "pr_merged"
    CONFIG = "config_change"
    RESTART = "restart"
    SCALE = "scale"


KIND_WEIGHT: dict[ChangeKind, float] = {
    ChangeKind.DEPLOY: 1.0,
    ChangeKind.ROLLOUT: 1.0,
    ChangeKind.CONFIG: 0.9,
    ChangeKind.PR_MERGED: 0.7,
    ChangeKind.SCALE: 0.5,
    ChangeKind.RESTART: 0.4,
}


@dataclass(frozen=True)
class Change:
    timestamp: float
    kind: ChangeKind
    service: str
    description: str
    source_tool: str
    ref: str = ""
    touches: tuple[str, ...] = field(default_factory=tuple)
    """Other services or paths the change touches (e.g. files of a PR, a shared config map)."""

    def timeline_event(self) -> str:
        return self.description


@dataclass(frozen=True)
class ScoredChange:
    change: Change
    score: float
    minutes_before_onset: float
    relation: str  # "affected", "dependency" or "unrelated"

    def explain(self) -> str:
        mins = self.minutes_before_onset
        when = (
            f"{mins:.0f} min before the anomaly began"
            if mins >= 1
            else "right as the anomaly began"
            if mins >= 0
            else f"{-mins:.0f} min after the anomaly began"
        )
        return f"{self.change.description} ({when})"


def correlate_changes(
    changes: Iterable[Change],
    *,
    onset: float,
    affected: Iterable[str],
    dependencies: Mapping[str, Iterable[str]] | None = None,
    lookback: float = 6 * 3600.0,
    half_life: float = 15 * 60.0,
    grace: float = 120.0,
) -> list[ScoredChange]:
    """Changes in ``[onset - lookback, onset + grace]`` scored and sorted, best candidate first."""
    affected_set = {normalize_service(s) for s in affected}
    dep_set: set[str] = set()
    for svc in affected_set:
        for key, deps in (dependencies or {}).items():
            if normalize_service(key) == svc:
                dep_set.update(normalize_service(d) for d in deps)
    scored: list[ScoredChange] = []
    for change in changes:
        delta = onset - change.timestamp
        if delta > lookback or delta < -grace:
            continue
        proximity = math.pow(0.5, max(delta, 0.0) / half_life)
        relation = _relation(change, affected_set, dep_set)
        relevance = {"affected": 1.0, "dependency": 0.7, "unrelated": 0.15}[relation]
        scored.append(
            ScoredChange(
                change=change,
                score=proximity * relevance * KIND_WEIGHT[change.kind],
                minutes_before_onset=delta / 60.0,
                relation=relation,
            )
        )
    scored.sort(key=lambda s: (-s.score, -s.change.timestamp))
    return scored


def _relation(change: Change, affected: set[str], deps: set[str]) -> str:
    names = {normalize_service(change.service), *(normalize_service(t) for t in change.touches)}
    if names & affected:
        return "affected"
    if names & deps:
        return "dependency"
    return "unrelated"


def format_ts(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- Analyzer over observations -------------------------------------------------------------------------

CANDIDATE_MIN_SCORE = 0.25
SIMULTANEOUS = 120.0


def observed_changes(obs: Observations) -> list[Change]:
    """Deploys, merged PRs and config edits from the sources, plus Kubernetes ReplicaSet rollouts."""
    changes = [
        Change(
            timestamp=c.timestamp.timestamp(),
            kind=_kind(c.kind),
            service=c.service,
            description=c.description,
            source_tool=c.cite,
            ref=c.ref,
            touches=tuple(c.touches),
        )
        for c in obs.changes
    ]
    by_owner: dict[str, list[WorkloadFact]] = {}
    for w in obs.workloads:
        if w.kind == "ReplicaSet" and w.created_at is not None:
            by_owner.setdefault(w.owner_name or workload_of(w.name), []).append(w)
    for owner, sets in by_owner.items():
        ordered = sorted(sets, key=lambda w: w.created_at or datetime.min.replace(tzinfo=UTC))
        for previous, rs in zip([None, *ordered], ordered, strict=False):
            if previous is None and len(ordered) > 1:
                continue  # the oldest known revision is history, not a change
            assert rs.created_at is not None
            image = rs.images[0] if rs.images else rs.name
            before = f" (was {previous.images[0]})" if previous is not None and previous.images else ""
            cite = next(iter(rs.cites.values()), "")
            changes.append(
                Change(
                    timestamp=rs.created_at.timestamp(),
                    kind=ChangeKind.ROLLOUT,
                    service=owner,
                    description=f"{owner} rolled out {image}{before}",
                    source_tool=cite,
                    ref=image,
                )
            )
    return changes


def _kind(value: str) -> ChangeKind:
    try:
        return ChangeKind(value)
    except ValueError:
        return ChangeKind.CONFIG


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    """The change that best explains the first anomaly becomes a cause; every change joins the timeline."""
    changes = observed_changes(obs)
    if not changes:
        return []
    first = origin(obs, ctx)
    findings: list[Finding] = []
    best: ScoredChange | None = None
    if first is not None:
        anomalies = observed_anomalies(obs, ctx)
        # Services that moved together with the first one (within two minutes) are equally suspect.
        together = {a.service for a, _ in anomalies if a.onset - first.onset <= SIMULTANEOUS}
        affected = [first.service, *sorted(together - {first.service})]
        scored = correlate_changes(changes, onset=first.onset, affected=affected, dependencies=call_graph(obs))
        best = next((s for s in scored if s.score >= CANDIDATE_MIN_SCORE and s.relation != "unrelated"), None)
        if best is not None:
            changed = normalize_service(best.change.service)
            owner = next((svc for svc in affected if normalize_service(svc) == changed), first.service)
            if owner != first.service:
                first = _deviation_of(owner, anomalies)
            head = first.headline
            evidence = [best.change.source_tool] if best.change.source_tool.startswith("[") else []
            evidence += [line for a, line in anomalies if a.service == first.service][:2]
            if len(evidence) >= 2:
                others = sorted({a.service for a, _ in anomalies if a.service != first.service})
                findings.append(
                    Finding(
                        kind="bad_change" if best.change.kind is not ChangeKind.CONFIG else "bad_config_change",
                        subject=_subject(best.change),
                        role="cause",
                        title=f"{best.explain()}, then {head.describe()}",
                        # Circumstantial: direct evidence on the same workload (a missing Secret) outranks it.
                        weight=int(min(88, 60 + 30 * best.score)),
                        evidence=evidence,
                        workload=first.service,
                        timestamp=datetime.fromtimestamp(best.change.timestamp, UTC),
                        recommendations=_recommend(best.change, changes),
                        affected=[first.service, *others],
                        related=others,
                    )
                )
    window_start = (ctx.now - ctx.window).timestamp()
    for change in changes:
        if (best is not None and change is best.change) or change.timestamp < window_start:
            continue
        if change.kind is ChangeKind.ROLLOUT:
            continue  # ReplicaSet creations are on the timeline already
        cite = change.source_tool
        findings.append(
            Finding(
                kind="change",
                subject=_subject(change),
                role="context",
                title=change.description,
                weight=5,
                evidence=[cite] if cite.startswith("[") else [],
                workload=None,
                timestamp=datetime.fromtimestamp(change.timestamp, UTC),
            )
        )
    return findings


def _recommend(change: Change, changes: list[Change]) -> list[Recommendation]:
    earlier = [
        c
        for c in changes
        if c.service == change.service and c.timestamp < change.timestamp and c.kind == change.kind and c.ref
    ]
    previous = max(earlier, key=lambda c: c.timestamp).ref if earlier else None
    if change.kind is ChangeKind.CONFIG:
        action = f"Revert the configuration change to {change.service} ({change.ref or change.description})"
    elif previous:
        action = f"Roll back {change.service} to {previous}"
    else:
        action = f"Roll back {change.service} to the release before {change.ref or 'this change'}"
    return [
        Recommendation(priority="high", action=action),
        Recommendation(
            priority="medium",
            action=f"Diff {change.ref or 'the change'} against the previous release "
            f"of {change.service} for the code path that now fails",
        ),
    ]


def _subject(change: Change) -> str:
    return f"change/{change.service}/{change.ref or int(change.timestamp)}"


def _deviation_of(service: str, anomalies: list[tuple[Anomaly, str]]) -> ServiceDeviation:
    mine = tuple(a for a, _ in anomalies if a.service == service)
    return ServiceDeviation(service, min(a.onset for a in mine), max(a.strength for a in mine), mine)
