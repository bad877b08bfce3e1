"""Metric anomaly analysis: find when a service's golden signals changed, by how much, and who moved first.

Pure functions over plain ``(timestamp, value)`` points so they work the same on Prometheus, CloudWatch
and recorded demo data. The method is deliberately simple and robust:

1. a CUSUM-style change point (the split that best separates two means) proposes *where* the series changed;
2. the points before it give a median/MAD baseline that noise and earlier spikes barely move;
3. the change is accepted only if the level after the split sits clearly outside the baseline
   (several robust sigmas *and* a minimum relative/absolute size per kind of metric), and persists;
4. the onset is the first point of the persistent run beyond the baseline band near the change point.
"""

from __future__ import annotations

import bisect
import itertools
import math
import operator
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum

from engine.analysis_context import AnalysisContext
from engine.analyzers.dependency_logs import log_call_graph
from engine.facts import Observations, SeriesFact

Point = tuple[float, float]
"""A sample: (unix seconds, value)."""

MAD_TO_SIGMA = 1.4826


class MetricKind(StrEnum):
    REQUEST_RATE = "request_rate"
    ERROR_RATIO = "error_ratio"
    LATENCY_P50 = "latency_p50"
    LATENCY_P95 = "latency_p95"
    LATENCY_P99 = "latency_p99"
    SATURATION = "saturation"
    ERROR_RATE = "error_rate"
    CPU = "cpu"
    MEMORY = "memory"
    NETWORK = "network"
    DISK = "disk"
    CONNECTIONS = "connections"
    QUEUE = "queue"
    RESTARTS = "restarts"
    AVAILABILITY = "availability"
    GENERIC = "generic"


@dataclass(frozen=True)
class Sensitivity:
    """How big a shift must be, beyond robust noise, before it counts as an anomaly."""

    sigmas: float = 4.0
    min_relative: float = 0.5
    min_absolute: float = 0.0
    direction: str = "up"  # "up", "down" or "both"
    min_points: int = 3


SENSITIVITY: dict[MetricKind, Sensitivity] = {
    MetricKind.REQUEST_RATE: Sensitivity(sigmas=5.0, min_relative=0.5, min_absolute=0.5, direction="both"),
    MetricKind.ERROR_RATIO: Sensitivity(sigmas=4.0, min_relative=1.0, min_absolute=0.02),
    MetricKind.LATENCY_P50: Sensitivity(sigmas=4.0, min_relative=0.5, min_absolute=0.02),
    MetricKind.LATENCY_P95: Sensitivity(sigmas=4.0, min_relative=0.5, min_absolute=0.05),
    MetricKind.LATENCY_P99: Sensitivity(sigmas=4.0, min_relative=0.5, min_absolute=0.05),
    MetricKind.SATURATION: Sensitivity(sigmas=4.0, min_relative=0.25, min_absolute=0.0),
    MetricKind.ERROR_RATE: Sensitivity(sigmas=4.0, min_relative=1.0, min_absolute=0.05),
    MetricKind.CPU: Sensitivity(sigmas=4.0, min_relative=0.25),
    MetricKind.MEMORY: Sensitivity(sigmas=4.0, min_relative=0.15),
    MetricKind.NETWORK: Sensitivity(sigmas=4.0, min_relative=0.5, direction="both"),
    MetricKind.DISK: Sensitivity(sigmas=4.0, min_relative=0.25, direction="both"),
    MetricKind.CONNECTIONS: Sensitivity(sigmas=4.0, min_relative=0.25),
    MetricKind.QUEUE: Sensitivity(sigmas=4.0, min_relative=0.5, min_absolute=1.0),
    MetricKind.RESTARTS: Sensitivity(sigmas=3.0, min_relative=0.0, min_absolute=0.5),
    MetricKind.AVAILABILITY: Sensitivity(sigmas=3.0, min_relative=0.2, direction="both"),
    MetricKind.GENERIC: Sensitivity(),
}

KIND_LABEL: dict[MetricKind, str] = {
    MetricKind.REQUEST_RATE: "request rate",
    MetricKind.ERROR_RATIO: "error ratio",
    MetricKind.LATENCY_P50: "p50 latency",
    MetricKind.LATENCY_P95: "p95 latency",
    MetricKind.LATENCY_P99: "p99 latency",
    MetricKind.SATURATION: "saturation",
    MetricKind.ERROR_RATE: "error rate",
    MetricKind.CPU: "CPU usage",
    MetricKind.MEMORY: "memory usage",
    MetricKind.NETWORK: "network traffic",
    MetricKind.DISK: "disk usage",
    MetricKind.CONNECTIONS: "connections",
    MetricKind.QUEUE: "queue depth",
    MetricKind.RESTARTS: "restarts",
    MetricKind.AVAILABILITY: "availability",
    MetricKind.GENERIC: "value",
}

# How much each signal says "this service itself is broken" when ranking services.
KIND_WEIGHT: dict[MetricKind, float] = {
    MetricKind.ERROR_RATIO: 1.0,
    MetricKind.LATENCY_P99: 0.9,
    MetricKind.LATENCY_P95: 0.9,
    MetricKind.LATENCY_P50: 0.8,
    MetricKind.SATURATION: 0.8,
    MetricKind.REQUEST_RATE: 0.6,
    MetricKind.ERROR_RATE: 0.9,
    MetricKind.CPU: 0.8,
    MetricKind.MEMORY: 0.8,
    MetricKind.NETWORK: 0.7,
    MetricKind.DISK: 0.8,
    MetricKind.CONNECTIONS: 0.8,
    MetricKind.QUEUE: 0.8,
    MetricKind.RESTARTS: 0.9,
    MetricKind.AVAILABILITY: 0.9,
    MetricKind.GENERIC: 0.6,
}


@dataclass(frozen=True)
class Anomaly:
    service: str
    kind: MetricKind
    onset: float
    baseline: float
    level: float
    peak: float
    sigmas: float
    metric: str = ""

    @property
    def direction(self) -> str:
        return "rose" if self.level >= self.baseline else "fell"

    @property
    def relative_change(self) -> float:
        if self.baseline == 0:
            return math.inf if self.level != 0 else 0.0
        return abs(self.level - self.baseline) / abs(self.baseline)

    @property
    def strength(self) -> float:
        """A bounded 0..1 size of the shift, comparable across kinds of metric."""
        rel = min(self.relative_change, 20.0)
        return KIND_WEIGHT[self.kind] * (1.0 - math.exp(-rel / 2.0))

    def describe(self) -> str:
        label = KIND_LABEL[self.kind]
        when = format_clock(self.onset)
        shown_level = self.peak if self.kind in _PEAK_KINDS else self.level
        return (
            f"{self.service} {label} {self.direction} from {format_value(self.kind, self.baseline)} "
            f"to {format_value(self.kind, shown_level)} at {when}"
        )


_PEAK_KINDS = {MetricKind.LATENCY_P50, MetricKind.LATENCY_P95, MetricKind.LATENCY_P99}


@dataclass(frozen=True)
class ServiceDeviation:
    """A service's combined anomaly picture, used to order suspects."""

    service: str
    onset: float
    strength: float
    anomalies: tuple[Anomaly, ...] = field(default_factory=tuple)

    @property
    def headline(self) -> Anomaly:
        return max(self.anomalies, key=lambda a: (a.strength, -a.onset))


def format_clock(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%H:%M:%SZ" if ts % 60 else "%H:%MZ")


def format_value(kind: MetricKind, value: float) -> str:
    if kind in _PEAK_KINDS:
        if value < 1.0:
            return f"{value * 1000:.0f} ms"
        return f"{value:.1f} s"
    if kind is MetricKind.ERROR_RATIO:
        pct = value * 100
        return f"{pct:.1f}%" if pct < 10 else f"{pct:.0f}%"
    if kind is MetricKind.REQUEST_RATE:
        return f"{value:.1f} req/s" if value < 100 else f"{value:.0f} req/s"
    if abs(value) >= 10:
        return f"{value:.0f}"
    return f"{value:.2f}".rstrip("0").rstrip(".")


def median(values: Sequence[float]) -> float:
    ordered = sorted(values)
    n = len(ordered)
    if n == 0:
        raise ValueError("median of an empty sequence")
    mid = n // 2
    return ordered[mid] if n % 2 else (ordered[mid - 1] + ordered[mid]) / 2.0


def robust_sigma(values: Sequence[float], center: float | None = None) -> float:
    """MAD scaled to a normal sigma."""
    c = median(values) if center is None else center
    return MAD_TO_SIGMA * median([abs(v - c) for v in values])


def change_point(values: Sequence[float], min_size: int = 3) -> int | None:
    """Index of the first point after the best single mean shift (max CUSUM statistic), or None.

    Linear time through prefix sums; the statistic |mean_r - mean_l| * sqrt(nl * nr / n) favours splits
    that are both large and well supported.
    """
    n = len(values)
    if n < 2 * min_size:
        return None
    total = math.fsum(values)
    best_i, best_stat = None, 0.0
    left = 0.0
    for i in range(1, n):
        left += values[i - 1]
        if i < min_size or n - i < min_size:
            continue
        nl, nr = i, n - i
        diff = (total - left) / nr - left / nl
        stat = abs(diff) * math.sqrt(nl * nr / n)
        if stat > best_stat:
            best_i, best_stat = i, stat
    return best_i


COARSE_POINTS = 1500


def _coarse_change_point(values: Sequence[float], min_size: int) -> int | None:
    """The change point on block means when the series is long; the onset search refines it locally."""
    block = math.ceil(len(values) / COARSE_POINTS)
    if block <= 1:
        return change_point(values, min_size=min_size)
    means = [math.fsum(values[i : i + block]) / len(values[i : i + block]) for i in range(0, len(values), block)]
    split = change_point(means, min_size=max(1, math.ceil(min_size / block)))
    return None if split is None else min(split * block, len(values) - min_size)


def _clean(points: Iterable[Point]) -> list[Point]:
    pts = list(points)
    if not all(map(math.isfinite, (p[1] for p in pts))):
        pts = [p for p in pts if math.isfinite(p[1])]
    times = [p[0] for p in pts]
    if not all(map(operator.le, times, times[1:])):
        pts.sort()
    return pts


def detect_onset(
    points: Iterable[Point],
    *,
    service: str = "",
    kind: MetricKind = MetricKind.GENERIC,
    sensitivity: Sensitivity | None = None,
    metric: str = "",
    smoothing_seconds: float = 0.0,
) -> Anomaly | None:
    """The first persistent departure from a robust baseline, or None when the series is steady.

    ``smoothing_seconds`` is the window of the ``rate()`` (or period) that produced the series: it turns a
    step into a ramp of that length, so the onset is moved back to where the ramp leaves the baseline.
    """
    sens = sensitivity or SENSITIVITY[kind]
    pts = _clean(points)
    if len(pts) < 2 * sens.min_points + 2:
        return None
    values = [v for _, v in pts]
    if max(values) - min(values) <= max(sens.min_relative * abs(median(values)), sens.min_absolute):
        return None  # no two levels in this range can differ by a reportable amount
    split = _coarse_change_point(values, min_size=max(sens.min_points, 3))
    if split is None:
        return None
    before, after = values[:split], values[split:]
    base = median(before)
    sigma = robust_sigma(before, base)
    level = median(after)
    shift = level - base
    if not _direction_ok(shift, sens.direction):
        return None
    noise_floor = max(sigma * sens.sigmas, sens.min_relative * abs(base), sens.min_absolute)
    if abs(shift) <= noise_floor or abs(shift) == 0:
        return None
    # The band edge is halfway between the baseline noise and the new level, so a noisy baseline
    # does not make the onset late and a small shift does not make it early.
    threshold = base + math.copysign(max(sigma * sens.sigmas, abs(shift) / 2.0), shift)
    onset_index = _persistent_onset(values, split, threshold, up=shift > 0, min_points=sens.min_points)
    if onset_index is None:
        return None
    if smoothing_seconds > 0:
        onset_index = _ramp_start(pts, onset_index, base, shift, sigma * sens.sigmas, smoothing_seconds)
    tail = values[onset_index:]
    peak = max(tail) if shift > 0 else min(tail)
    return Anomaly(
        service=service,
        kind=kind,
        onset=pts[onset_index][0],
        baseline=base,
        level=level,
        peak=peak,
        sigmas=abs(shift) / sigma if sigma > 0 else math.inf,
        metric=metric,
    )


def _ramp_start(pts: Sequence[Point], index: int, base: float, shift: float, noise: float, smoothing: float) -> int:
    """Walk back over the ramp a rate window draws in front of a step, at most ``smoothing`` seconds."""
    edge = base + math.copysign(max(noise, abs(shift) * 0.1), shift)
    limit_ts = pts[index][0] - smoothing
    i = index
    while i > 0 and pts[i - 1][0] >= limit_ts:
        v = pts[i - 1][1]
        if not (v > edge if shift > 0 else v < edge):
            break
        i -= 1
    return i


def _direction_ok(shift: float, direction: str) -> bool:
    if direction == "up":
        return shift > 0
    if direction == "down":
        return shift < 0
    return shift != 0


def _persistent_onset(
    values: Sequence[float], split: int, threshold: float, *, up: bool, min_points: int
) -> int | None:
    """Earliest index near the split that starts a run mostly beyond the threshold."""

    def beyond(v: float) -> bool:
        return v > threshold if up else v < threshold

    n = len(values)
    window = max(min_points, 3)

    def persistent(i: int) -> bool:
        run = values[i : min(n, i + window)]
        return beyond(values[i]) and sum(1 for v in run if beyond(v)) >= math.ceil(len(run) * 2 / 3)

    start = split
    # Walk back while the points just before the split are already beyond the band.
    while start > 0 and beyond(values[start - 1]):
        start -= 1
    for i in range(start, n):
        if persistent(i):
            return i
    return None


def histogram_quantile(q: float, buckets: Sequence[tuple[float, float]]) -> float:
    """Prometheus' histogram_quantile for one set of cumulative ``(le, count)`` buckets.

    Linear interpolation inside the bucket holding the rank; the +Inf bucket returns the highest finite
    bound, exactly like the server does. NaN when there are no observations.
    """
    if not buckets:
        return math.nan
    ordered = sorted(buckets, key=lambda b: b[0])
    if not math.isinf(ordered[-1][0]):
        return math.nan
    # Counts must be monotonic; scrape races can break that, Prometheus fixes it the same way.
    fixed: list[tuple[float, float]] = []
    running = 0.0
    for le, count in ordered:
        running = max(running, count)
        fixed.append((le, running))
    total = fixed[-1][1]
    if total <= 0:
        return math.nan
    rank = q * total
    prev_le, prev_count = 0.0, 0.0
    for i, (le, count) in enumerate(fixed):
        if count >= rank:
            if math.isinf(le):
                return fixed[i - 1][0] if i > 0 else math.nan
            if i == 0 and le <= 0:
                return le
            if count == prev_count:
                return le
            return prev_le + (le - prev_le) * (rank - prev_count) / (count - prev_count)
        prev_le, prev_count = le, count
    return fixed[-2][0] if len(fixed) > 1 else math.nan


def quantile_series(q: float, bucket_series: Mapping[float, Sequence[Point]]) -> list[Point]:
    """Quantile over time from per-bucket series of (rate of) cumulative counts keyed by ``le``."""
    by_time: dict[float, list[tuple[float, float]]] = {}
    for le, pts in bucket_series.items():
        for t, v in pts:
            by_time.setdefault(t, []).append((le, v))
    out: list[Point] = []
    for t in sorted(by_time):
        value = histogram_quantile(q, by_time[t])
        if not math.isnan(value):
            out.append((t, value))
    return out


def quantiles_over_time(
    by_time: Mapping[float, Sequence[tuple[float, float]]], qs: Sequence[float]
) -> list[list[Point]]:
    """Several quantiles at once from ``{t: [(le, rate of cumulative count), ...]}``: one sort per timestamp.

    The same interpolation as :func:`histogram_quantile` (and Prometheus); timestamps with no observations,
    or without a +Inf bucket, are left out."""
    out: list[list[Point]] = [[] for _ in qs]
    for t in sorted(by_time):
        ordered = sorted(by_time[t])
        if not ordered or not math.isinf(ordered[-1][0]):
            continue
        les = [le for le, _ in ordered]
        counts = list(itertools.accumulate((c for _, c in ordered), max))
        total = counts[-1]
        if total <= 0:
            continue
        for k, q in enumerate(qs):
            rank = q * total
            i = bisect.bisect_left(counts, rank)
            if i >= len(les) - 1:
                value = les[-2] if len(les) > 1 else math.nan  # in the +Inf bucket: the highest finite bound
            else:
                lower, below = (les[i - 1], counts[i - 1]) if i > 0 else (0.0, 0.0)
                if i == 0 and les[0] <= 0:
                    value = les[0]
                elif counts[i] == below:
                    value = les[i]
                else:
                    value = lower + (les[i] - lower) * (rank - below) / (counts[i] - below)
            if not math.isnan(value):
                out[k].append((t, value))
    return out


def ratio_series(numerator: Sequence[Point], denominator: Sequence[Point]) -> list[Point]:
    """Pointwise numerator/denominator on shared timestamps; 0 where there is no traffic."""
    den = dict(denominator)
    out: list[Point] = []
    for t, v in numerator:
        d = den.get(t)
        if d is None:
            continue
        out.append((t, v / d if d > 0 else 0.0))
    return out


def rank_services(
    anomalies: Iterable[Anomaly],
    *,
    calls: Mapping[str, Iterable[str]] | None = None,
    tolerance: float = 60.0,
) -> list[ServiceDeviation]:
    """Order services so the likeliest origin comes first.

    Earlier onset wins; onsets within ``tolerance`` seconds count as simultaneous, and then a service that
    the other one calls (``calls[caller] -> callees``) goes first, because callers inherit a callee's
    errors and latency. Remaining ties go to the stronger deviation.
    """
    grouped: dict[str, list[Anomaly]] = {}
    for a in anomalies:
        grouped.setdefault(a.service, []).append(a)
    deviations = [
        ServiceDeviation(
            service=svc,
            onset=min(a.onset for a in items),
            strength=max(a.strength for a in items),
            anomalies=tuple(sorted(items, key=lambda a: a.onset)),
        )
        for svc, items in grouped.items()
    ]
    downstream = _transitive_callees(calls or {})
    deviations.sort(key=lambda d: (d.onset, -d.strength, d.service))

    # Stable insertion: a service moves ahead of each near-simultaneous caller of it.
    ordered: list[ServiceDeviation] = []
    for dev in deviations:
        pos = len(ordered)
        for i in range(len(ordered) - 1, -1, -1):
            other = ordered[i]
            near = dev.onset - other.onset <= tolerance
            if near and dev.service in downstream.get(other.service, set()):
                pos = i
        ordered.insert(pos, dev)
    return ordered


def _transitive_callees(calls: Mapping[str, Iterable[str]]) -> dict[str, set[str]]:
    direct = {caller: set(callees) for caller, callees in calls.items()}
    closure: dict[str, set[str]] = {}
    for caller in direct:
        seen: set[str] = set()
        stack = list(direct[caller])
        while stack:
            svc = stack.pop()
            if svc in seen:
                continue
            seen.add(svc)
            stack.extend(direct.get(svc, ()))
        closure[caller] = seen
    return closure


# --- Analyzer over observations -------------------------------------------------------------------------


def anomaly_of(fact: SeriesFact, ctx: AnalysisContext) -> Anomaly | None:
    """The anomaly the analyzer sees in ``fact`` (any onset time; callers apply the investigation window).

    Detection is the costly part, and the planner, the charts and the analyzers look at the same series facts:
    it runs once per fact per investigation (``ctx.memo``)."""
    return ctx.memo.get("anomaly", fact, lambda: _detect(fact))


def _detect(fact: SeriesFact) -> Anomaly | None:
    try:
        kind = MetricKind(fact.kind)
    except ValueError:
        kind = MetricKind.GENERIC
    return detect_onset(
        fact.points, service=fact.service, kind=kind, metric=fact.metric, smoothing_seconds=fact.smoothing_seconds
    )


def observed_anomalies(obs: Observations, ctx: AnalysisContext) -> list[tuple[Anomaly, str]]:
    """Every series' anomaly (with its evidence string) that began inside the investigation window."""
    found: list[tuple[Anomaly, str]] = []
    earliest = (ctx.now - ctx.window).timestamp()
    for fact in obs.series:
        anomaly = anomaly_of(fact, ctx)
        if anomaly is not None and anomaly.onset >= earliest:
            cite = fact.anomaly_cite or fact.cite or "[tool:query_prometheus_range]"
            found.append((anomaly, f"{cite} {anomaly.describe()}"))
    return found


def origin(obs: Observations, ctx: AnalysisContext) -> ServiceDeviation | None:
    """The service that deviated first (callees before near-simultaneous callers)."""
    ranked = rank_services([a for a, _ in observed_anomalies(obs, ctx)], calls=call_graph(obs))
    return ranked[0] if ranked else None


def call_graph(obs: Observations) -> dict[str, list[str]]:
    """caller -> callees, as far as the logs and the metrics' labels show who calls whom."""
    graph = log_call_graph(obs)
    for edge in obs.edges:
        if edge.callee not in graph.setdefault(edge.caller, []):
            graph[edge.caller].append(edge.callee)
    return graph
