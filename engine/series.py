"""Metric series for the tool-call log: what a metric tool fetched, small enough to store and chart.

Each :class:`~engine.models.ToolCall` of a metric tool carries at most ``MAX_SERIES_PER_CALL`` series of at
most ``MAX_SERIES_POINTS`` points. Series where the metrics analyzer found an anomaly inside the investigation
window come first (earliest onset first), with the onset marked; the rest follow in the order the tool
returned them. Downsampling keeps real samples at a fixed stride plus the last one, so it is deterministic and
every charted point is a value the tool returned.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from engine.analysis_context import AnalysisContext
from engine.analyzers.metric_findings import measured
from engine.analyzers.metrics import KIND_LABEL, MetricKind, anomaly_of
from engine.facts import SeriesFact
from engine.models import MAX_SERIES_PER_CALL, MAX_SERIES_POINTS, MetricSeries

UNITS: dict[MetricKind, str] = {
    MetricKind.REQUEST_RATE: "req/s",
    MetricKind.ERROR_RATIO: "ratio",
    MetricKind.LATENCY_P50: "s",
    MetricKind.LATENCY_P95: "s",
    MetricKind.LATENCY_P99: "s",
    MetricKind.SATURATION: "",
    MetricKind.ERROR_RATE: "errors/s",
    MetricKind.CPU: "cores",
    MetricKind.MEMORY: "bytes",
    MetricKind.NETWORK: "",
    MetricKind.DISK: "",
    MetricKind.CONNECTIONS: "",
    MetricKind.QUEUE: "",
    MetricKind.RESTARTS: "",
    MetricKind.AVAILABILITY: "",
    MetricKind.GENERIC: "",
}


def _kind(fact: SeriesFact) -> MetricKind:
    try:
        return MetricKind(fact.kind)
    except ValueError:
        return MetricKind.GENERIC


def title_of(fact: SeriesFact) -> str:
    """``"postgres saturation"``: the same words the analyzer's evidence starts with."""
    return f"{fact.service} {fact.signal or KIND_LABEL[_kind(fact)]}".strip()


def onset_of(fact: SeriesFact, ctx: AnalysisContext) -> float | None:
    """The analyzer's onset for this series when it falls inside the investigation window, else None.

    With a stated incident start it is the anchored change (``metric_findings.measured``), else the onset
    detector's."""
    if ctx.anchor is not None:
        change = measured(fact, ctx.anchor.timestamp(), ctx)
        return change.onset if change is not None else None
    anomaly = anomaly_of(fact, ctx)
    if anomaly is None or anomaly.onset < (ctx.now - ctx.window).timestamp():
        return None
    return anomaly.onset


def _strength(fact: SeriesFact, ctx: AnalysisContext) -> float:
    if ctx.anchor is None:
        return 0.0
    change = measured(fact, ctx.anchor.timestamp(), ctx)
    return change.weighted if change is not None else 0.0


def downsample(points: Sequence[tuple[float, float]], limit: int = MAX_SERIES_POINTS) -> list[tuple[float, float]]:
    """At most ``limit`` finite points: every k-th sample at a fixed fractional stride, always the last one."""
    clean = [(float(t), float(v)) for t, v in points if math.isfinite(v)]
    if len(clean) <= limit:
        return clean
    stride = (len(clean) - 1) / (limit - 1)
    return [clean[round(i * stride)] for i in range(limit - 1)] + [clean[-1]]


def _compact(value: float) -> float:
    return float(f"{value:.6g}")


def metric_series(facts: Sequence[SeriesFact], ctx: AnalysisContext) -> list[MetricSeries]:
    """The series to store on one tool call: anomalous ones first, capped in count and points."""
    if not facts:
        return []
    onsets = [onset_of(fact, ctx) for fact in facts]
    strength = [_strength(fact, ctx) for fact in facts]  # with a stated start: the strongest changes first
    order = sorted(
        range(len(facts)),
        key=lambda i: (0, -strength[i], onsets[i], i) if onsets[i] is not None else (1, 0.0, 0.0, i),
    )
    out: list[MetricSeries] = []
    for i in order:
        fact = facts[i]
        points = downsample(fact.points)
        if len(points) < 2:
            continue
        out.append(
            MetricSeries(
                title=title_of(fact),
                service=fact.service,
                kind=fact.kind,
                unit=UNITS[_kind(fact)],
                points=[(t, _compact(v)) for t, v in points],
                onset=onsets[i],
            )
        )
        if len(out) == MAX_SERIES_PER_CALL:
            break
    return out
