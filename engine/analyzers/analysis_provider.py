"""A progressive-delivery analysis that errors because its metrics provider address names a Service that is gone.

Argo Rollouts (and Flagger) judge a canary with metric queries against a provider address written in the
AnalysisTemplate (``provider.prometheus.address``). When Prometheus is reinstalled under another release (a
standalone ``prometheus-server`` replaced by kube-prometheus-stack's ``kube-prometheus-stack-prometheus``), the old
address no longer resolves: every measurement is an *Error* ("no such host"), the run hits
``consecutiveErrorLimit`` and the rollout aborts, although the canary itself is healthy. The fix is the address,
not the application.
"""
# ruff: noqa: E501  (user-facing messages read better unwrapped)

from __future__ import annotations

import re

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import rec
from engine.analyzers.hpa_detail import unresolved_service
from engine.analyzers.scheduling_detail import lines_of
from engine.facts import Observations
from engine.findings import Finding
from engine.parsers.common import excerpt

_ANALYSIS = re.compile(r"analysis|AnalysisRun|Metric \"|consecutiveError|canary", re.I)
_METRIC = re.compile(r"Metric \"(?P<metric>[\w.-]+)\"")
_ROLLOUT = re.compile(r"(?:get|describe) rollouts?(?:\.argoproj\.io)? (?P<name>[a-z0-9][\w.-]*)")


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    missing = unresolved_service(obs, _ANALYSIS)
    if missing is None:
        return []
    host, service, namespace, port, listed = (
        missing.host,
        missing.service,
        missing.namespace,
        missing.port,
        missing.listed,
    )
    words = [w for w in re.split(r"[-_]", service) if len(w) > 3 and w not in ("server", "service", "svc")]
    meant = _similar(words, list(listed))
    rollout = _rollout(obs) or "rollout"
    metric = next((m.group("metric") for _, ln in lines_of(obs) if (m := _METRIC.search(ln))), None)
    measured = f"metric {metric}" if metric else "the analysis"
    instead = f"; {namespace} now serves it as {', '.join(meant[:2])}" if meant else ""
    evidence = [missing.cite, *(listed[meant[0]][1:] if meant else [])]
    address = next(
        (
            f"{lbl} {excerpt(ln.strip())}"
            for lbl, ln in lines_of(obs)
            if re.search(r"^\s*address\s*:", ln) and host in ln
        ),
        None,
    )
    if address:
        evidence.append(address)
    target = f"{meant[0]}.{namespace}.svc" if meant else f"the Service that serves it in {namespace}"
    return [
        Finding(
            kind="analysis_provider_missing",
            subject=f"{rollout}:analysis_provider_missing",
            role="cause",
            title=(
                f"{rollout}: the canary analysis ({measured}) errors instead of measuring: its provider address {host}{':' + port if port else ''} is a stale address, "
                f"the Service {service} does not exist in {namespace} any more (no such host){instead}; every measurement is an Error, so the AnalysisRun fails and the rollout aborts although the canary is healthy"
            ),
            weight=93,
            evidence=evidence,
            workload=rollout,
            affected=[rollout],
            related=[*meant[:1]],
            recommendations=[
                rec(
                    "high",
                    f"Point the AnalysisTemplate's provider address at {target} (with its port), then retry the rollout (kubectl argo rollouts retry rollout {rollout})",
                ),
            ],
        )
    ]


def _similar(words: list[str], services: list[str]) -> list[str]:
    """Services that serve what the missing one did: the word as the name's last part first (kube-prometheus-stack-
    prometheus for prometheus-server), then as any part; operator-made headless ones (``-operated``) last."""

    def rank(name: str) -> int:
        tokens = name.split("-")
        shared = sum(t in words for t in tokens)
        return 0 if tokens[-1] in words else (10 - shared if shared else 99)

    ranked = sorted((s for s in services if rank(s) < 99), key=lambda s: (rank(s), "operated" in s))
    return [s for s in ranked if rank(s) == rank(ranked[0])] if ranked else []


def _rollout(obs: Observations) -> str | None:
    for text in obs.texts:
        if m := _ROLLOUT.search(text.command):
            return m.group("name")
    for _label, line in lines_of(obs):
        if m := _ROLLOUT.search(line):
            return m.group("name")
    for text in obs.texts:  # an AnalysisRun is named <rollout>-<pod-template-hash>-<revision>-<step>
        if m := re.search(r"(?:get|describe) analysisruns?(?:\.argoproj\.io)? (?P<name>[a-z0-9][\w.-]*)", text.command):
            return re.sub(r"-[a-z0-9]{6,10}-\d+-\d+$", "", m.group("name"))
    return next((r.name for r in obs.resources if r.kind == "Rollout"), None)
