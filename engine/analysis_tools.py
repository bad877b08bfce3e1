"""Tools that analyze data this investigation already fetched (no data source of their own).

The runner hands them a :class:`RunData` (the run's observations and the analysis window) instead of a
connector. ``detect_anomalies`` runs the metrics analyzer's component ranking over the metric series fetched so
far and reports every change it found; the series it examined are charted on its tool call, and the
anomalies it reported are cited as ``[tool:detect_anomalies]`` in the findings.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from engine.analysis_context import AnalysisContext
from engine.analyzers.metric_findings import rank_series, ranking, statement
from engine.connectors import ToolFailure
from engine.facts import Observations, SeriesFact
from engine.registry import ToolResult, tool

DETECT_CITE = "[tool:detect_anomalies]"


@dataclass(frozen=True)
class RunData:
    """What a source-less tool may read: this run's observations so far and its analysis window."""

    obs: Observations
    ctx: AnalysisContext


def _wanted(params: dict[str, Any], key: str) -> set[str]:
    raw = params.get(key)
    if raw is None or raw == "" or raw == "*":
        return set()
    items = raw.split(",") if isinstance(raw, str) else list(raw)
    return {str(item).strip() for item in items if str(item).strip()}


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@tool("detect_anomalies")
def detect_anomalies(data: RunData, params: dict[str, Any]) -> ToolResult:
    """Onsets in the metric series fetched earlier in this run (optionally only some services or kinds)."""
    if not isinstance(data, RunData):
        raise ToolFailure("detect_anomalies can only analyze data fetched in this investigation")
    services, kinds = _wanted(params, "service"), _wanted(params, "signals")
    examined: list[SeriesFact] = [
        fact
        for fact in data.obs.series
        if (not services or fact.service in services) and (not kinds or fact.kind in kinds)
    ]
    if not examined:
        raise ToolFailure("detect_anomalies found no metric series fetched in this investigation to analyze")
    everything = len(examined) == len(data.obs.series)
    found = ranking(data.obs, data.ctx) if everything else rank_series(examined, data.obs, data.ctx)
    changes = [(comp, dev) for comp in (found.components if found else []) for dev in comp.deviations]
    changes.sort(key=lambda item: (item[1].onset, item[0].name, item[1].kind.value))
    lines = []
    for comp, dev in changes:
        dev.fact.anomaly_cite = DETECT_CITE
        lines.append(f"{statement(comp, dev)} (onset {_iso(dev.onset)}, {min(dev.score, 999.0):.1f} robust sigmas)")
    steady = len(examined) - len(changes)
    lines.append(
        f"{len(changes)} anomalous of {len(examined)} series examined"
        + (f"; {steady} steady within the window" if steady else "")
    )
    return ToolResult(text="\n".join(lines), charted=examined)
