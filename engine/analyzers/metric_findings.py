"""Findings from the metrics: the component that changed first is the lead, the others are its symptoms.

The ranking (``components.rank_components``) is anchored on the start the question or its alert states, else
on the earliest of the strongest change points in the window. The top component becomes a cause finding whose
title names it and its signal ("inventory: CPU usage rose from 0.2 to 0.95 cores at 07:43:10Z, 40 s before
checkout p95 latency rose"); every other changed component a symptom in rank order. Two leaders that score
alike and do not explain each other are reported as ambiguous, naming both; nothing changed, no finding.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime

from engine.analysis_context import AnalysisContext
from engine.analyzers.components import (
    RESOURCE_KINDS,
    ComponentChange,
    Deviation,
    Ranking,
    anchor_from_onsets,
    deviation,
    rank_components,
)
from engine.analyzers.dependency_logs import log_call_graph
from engine.analyzers.metrics import MetricKind, format_clock
from engine.facts import CallEdgeFact, Observations, SeriesFact
from engine.findings import Finding, Role
from engine.models import Recommendation

MAX_COMPONENTS = 8
# The next components stay this far below the lead, more than the ranker's bonus for a component the question
# names (often the entry service where the alert fired, a symptom).
FOLLOWER_GAP = 12
EVIDENCE_LINES = 3


def ranking(obs: Observations, ctx: AnalysisContext) -> Ranking | None:
    """This investigation's component ranking, computed once for what has been fetched so far."""
    what = f"components:{len(obs.series)}:{len(obs.edges)}"
    return ctx.memo.get(what, obs, lambda: rank_series(obs.series, obs, ctx))


def rank_series(series: Sequence[SeriesFact], obs: Observations, ctx: AnalysisContext) -> Ranking | None:
    """Rank the components of ``series``, anchored on the stated start, else on the strongest early onsets."""
    if not series:
        return None
    now = ctx.now.timestamp()
    if ctx.anchor is not None:
        anchor: float | None = ctx.anchor.timestamp()
    else:
        anchor = anchor_from_onsets(series, now - ctx.window.total_seconds())
    if anchor is None:
        return None
    edges = list(obs.edges)
    for caller, callees in log_call_graph(obs).items():
        edges += [CallEdgeFact(caller, callee) for callee in callees]
    return rank_components(series, anchor, edges=edges, end=now, measure=lambda f: measured(f, anchor, ctx))


def measured(fact: SeriesFact, anchor: float, ctx: AnalysisContext) -> Deviation | None:
    """``deviation`` once per series and anchor in this investigation (the charts and the ranking share it)."""
    end = ctx.now.timestamp()
    return ctx.memo.get(f"deviation@{anchor:.0f}", fact, lambda: deviation(fact, anchor, end=end))


def statement(comp: ComponentChange, dev: Deviation) -> str:
    """What changed, as the evidence and the ``detect_anomalies`` output both say it."""
    source = f" ({dev.fact.family})" if dev.fact.family else ""
    return f"{comp.name} {describe(dev)}{source}"


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    found = ranking(obs, ctx)
    findings: list[Finding] = []
    if found is not None and found.components:
        findings += _component_findings(found)
    findings += _alert_findings(obs, ctx)
    return findings


def _component_findings(found: Ranking) -> list[Finding]:
    comps = found.components[:MAX_COMPONENTS]
    lead = comps[0]
    weight = _lead_weight(lead, comps)
    # Where it started is not why: a latency or error change alone stays a lead to confirm (a symptom to the
    # ranker, which caps its confidence), and so does a tie between two components.
    role: Role = "cause" if _is_own_cause(lead) and not found.ambiguous else "symptom"
    findings = [
        Finding(
            kind="metric_origin",
            subject=f"service/{lead.name}",
            role=role,
            title=_lead_title(found, lead),
            weight=weight,
            evidence=_evidence(lead),
            workload=lead.name,
            timestamp=_when(lead.onset),
            recommendations=_recommend(lead),
            affected=[lead.name, *lead.explains],
            # ``related``: the components that may be why this one changed (a cause there explains it).
            related=[],
        )
    ]
    for position, comp in enumerate(comps[1:], start=1):
        findings.append(
            Finding(
                kind="metric_anomaly",
                subject=f"service/{comp.name}",
                role="symptom",
                title=_component_title(comp),
                weight=max(10, min(weight - FOLLOWER_GAP, 55) - 4 * (position - 1)),
                evidence=_evidence(comp),
                workload=comp.name,
                timestamp=_when(comp.onset),
                affected=[comp.name],
                related=[c.name for c in comps[:position]],  # the components ranked before it
            )
        )
    findings += _silent_dependencies(found, weight - FOLLOWER_GAP + 2)
    return findings


LATENCY_KINDS = frozenset({MetricKind.LATENCY_P50, MetricKind.LATENCY_P95, MetricKind.LATENCY_P99})


def _silent_dependencies(found: Ranking, weight: int) -> list[Finding]:
    """A lead that only got slower may be waiting on a dependency no latency metric covers (a database seen only
    through TCP counters): a dependency of the lead that calls nothing, shows no change of its own, and whose
    every caller changed is named as the next hypothesis, never as the lead."""
    lead = found.components[0]
    if lead.head.kind not in LATENCY_KINDS or lead.explained_by or found.ambiguous:
        return []
    changed = {c.name for c in found.components}
    callers: dict[str, set[str]] = {}
    for caller, callees in found.graph.items():
        for callee in callees:
            callers.setdefault(callee, set()).add(caller)
    silent = [
        c
        for c in sorted(found.graph.get(lead.name, ()))
        if c not in changed and not found.graph.get(c) and callers.get(c, set()) <= changed
    ]
    if len(silent) != 1:
        return []  # none, or several equally likely: no basis to name one
    callee = silent[0]
    return [
        Finding(
            kind="metric_silent_dependency",
            subject=f"service/{callee}",
            role="symptom",
            title=f"{callee}: every caller of it got slower ({lead.name}: {describe(lead.head)}) while its own "
            "metrics show no change (a slow network path, or a dependency no latency metric covers)",
            weight=max(10, weight),
            evidence=_evidence(lead)[:1],
            workload=callee,
            timestamp=_when(lead.onset),
            affected=[callee, *sorted(callers[callee])],
        )
    ]


def _lead_weight(lead: ComponentChange, comps: list[ComponentChange]) -> int:
    """Stronger with the component's own resource at its limit, with callers whose changes it explains and with
    a clear lead over the rest."""
    weight = 50 + 3 * min(3, len(lead.explains))
    if _is_own_cause(lead):
        weight += 12
    if len(comps) == 1 or comps[1].score < 0.6 * lead.score:
        weight += 4
    return min(weight, 66)


def _is_own_cause(comp: ComponentChange) -> bool:
    """Its own resource at a limit (CPU, memory, disk, restarts, it stopped) says why, not only where."""
    return comp.head.kind in RESOURCE_KINDS or comp.head.stopped


def _lead_title(found: Ranking, lead: ComponentChange) -> str:
    head = lead.head
    title = f"{lead.name}: {describe(head)}"
    followers = [c for c in found.components[1:] if c.name in lead.explains and c.onset >= lead.onset]
    if followers:
        nxt = min(followers, key=lambda c: c.onset)
        gap = nxt.onset - head.onset
        if gap >= 1:
            title += f", {gap:.0f} s before {nxt.name} {nxt.head.label} {_verb(nxt.head)}"
        else:
            title += f", as {nxt.name} {nxt.head.label} {_verb(nxt.head)}"
    if found.ambiguous and len(found.components) > 1:
        runner = found.components[1]
        title = (
            f"{lead.name} or {runner.name} (ambiguous, they changed alike): {lead.name} {describe(head)}; "
            f"{runner.name} {describe(runner.head)}"
        )
    return title


def _component_title(comp: ComponentChange) -> str:
    title = f"{comp.name}: {describe(comp.head)}"
    if comp.explained_by:
        title += f" (after its dependency {comp.explained_by[0]})"
    return title


def _evidence(comp: ComponentChange) -> list[str]:
    lines = []
    for dev in comp.deviations[:EVIDENCE_LINES]:
        cite = dev.fact.anomaly_cite or dev.fact.cite or "[tool:query_prometheus_range]"
        lines.append(f"{cite} {statement(comp, dev)}")
    return lines


def _verb(dev: Deviation) -> str:
    if dev.stopped:
        return "stopped"
    return "rose" if dev.level >= dev.baseline else "fell"


def describe(dev: Deviation) -> str:
    """``CPU usage rose from 0.2 to 0.95 cores at 07:43:10Z``."""
    when = format_clock(dev.onset)
    if dev.stopped:
        return f"{dev.label} stopped reporting at {when} (last {fmt(dev, dev.baseline)})"
    return f"{dev.label} {_verb(dev)} from {fmt(dev, dev.baseline)} to {fmt(dev, dev.level)} at {when}"


def fmt(dev: Deviation, value: float) -> str:
    """A value in the unit its family is in (ms histograms, byte gauges, CPU seconds counters)."""
    if math.isnan(value):
        return "nothing"
    family = dev.fact.family.lower()
    kind = dev.kind
    if kind in (MetricKind.LATENCY_P50, MetricKind.LATENCY_P95, MetricKind.LATENCY_P99):
        seconds = value / 1000.0 if ("milli" in family or family.endswith("_ms")) else value
        return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"
    if kind is MetricKind.ERROR_RATIO:
        pct = value * 100 if value <= 1.0 else value
        return f"{pct:.1f}%" if pct < 10 else f"{pct:.0f}%"
    if kind is MetricKind.REQUEST_RATE:
        return f"{value:.1f} req/s" if value < 100 else f"{value:.0f} req/s"
    if kind is MetricKind.CPU and "seconds" in family:
        return f"{value:.2f} cores"
    if "bytes" in family and abs(value) >= 1024:
        return _bytes(value)
    if abs(value) >= 100:
        return f"{value:.0f}"
    return f"{value:.3g}"


def _bytes(value: float) -> str:
    for unit in ("KiB", "MiB", "GiB", "TiB"):
        value /= 1024.0
        if abs(value) < 1024:
            return f"{value:.1f} {unit}"
    return f"{value:.0f} PiB"


def _when(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


_ADVICE: dict[MetricKind, str] = {
    MetricKind.CPU: "Find what is using {c}'s CPU (a hot loop, a runaway job, a noisy neighbour) and scale or "
    "throttle it",
    MetricKind.MEMORY: "Check {c} for a memory leak (heap growth since the change) and restart or roll it back",
    MetricKind.DISK: "Free or grow {c}'s disk and find what is filling it",
    MetricKind.NETWORK: "Check {c}'s network (packet loss, latency, retransmits) and the node it runs on",
    MetricKind.AVAILABILITY: "Bring {c} back: check why it stopped serving (crash, eviction, node) and restore it",
    MetricKind.RESTARTS: "Read {c}'s previous logs for why it restarted",
}


def _recommend(lead: ComponentChange) -> list[Recommendation]:
    advice = _ADVICE.get(
        lead.head.kind, "Look at {c}'s recent deploys and logs around the onset; roll back if a release coincides"
    )
    recs = [Recommendation(priority="high", action=advice.format(c=lead.name))]
    if lead.explains:
        callers = ", ".join(lead.explains[:3])
        recs.append(
            Recommendation(priority="medium", action=f"Protect {callers} from {lead.name} with timeouts and fallbacks")
        )
    return recs


def _alert_findings(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    findings: list[Finding] = []
    for alert in obs.alerts:
        if alert.active_at is None or ctx.is_stale(alert.active_at) or alert.state == "inactive":
            continue
        who = f" for {alert.service}" if alert.service else ""
        findings.append(
            Finding(
                kind="alert",
                subject=f"alert/{alert.name}",
                role="context",
                title=f"Alert {alert.name} {alert.state}{who}" + (f": {alert.summary}" if alert.summary else ""),
                weight=10,
                evidence=[alert.cite] if alert.cite else [],
                workload=alert.service,
                timestamp=alert.active_at,
                affected=[alert.service] if alert.service else [],
            )
        )
    return findings
