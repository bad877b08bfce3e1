"""Metric families and the scrape model: hidden per-cell state becomes counters, gauges, histograms and summaries
sampled at each target's scrape times (its own phase, occasional missed scrapes, absent while the target is down).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from tests.support.metrics_sim.latent import DT, Sim

MetricType = Literal["counter", "gauge", "histogram", "summary"]
Z99 = 2.3263


@dataclass
class Series:
    name: str  # the sample name, with its suffix (``_total``, ``_bucket``, ``_sum``...)
    labels: dict[str, str]
    times: list[float]
    values: list[float]


@dataclass
class Family:
    name: str
    type: MetricType
    help: str
    unit: str = ""
    series: list[Series] = field(default_factory=list)


@dataclass
class Target:
    """One scrape target: the grid cells it is scraped at and their timestamps."""

    times: list[float]
    cells: list[int]
    present: Callable[[int], bool] | None = None  # whether the series exist at a cell (e.g. the pod runs)

    def only(self, present: Callable[[int], bool]) -> Target:
        """The same scrapes, for series that exist only while ``present`` holds."""
        return Target(self.times, self.cells, present)


@dataclass(frozen=True)
class Shape:
    les: tuple[float, ...]  # bucket bounds in the family's unit
    fractions: list[list[float]]  # per cell, the share of observations at or below each bound
    means: list[float]  # per cell, the mean observation in the family's unit


def lognormal_cdf(x: float, p50: float, p99: float) -> float:
    if x <= 0:
        return 0.0
    sigma = max(0.05, math.log(max(p99, p50 * 1.01) / p50) / Z99)
    return 0.5 * (1 + math.erf(math.log(x / p50) / (sigma * math.sqrt(2))))


def lognormal_quantile(q: float, p50: float, p99: float) -> float:
    sigma = max(0.05, math.log(max(p99, p50 * 1.01) / p50) / Z99)
    return p50 * math.exp(sigma * _z(q))


def _z(q: float) -> float:
    """The standard normal quantile (bisection on erf: only a handful of q values are ever asked)."""
    lo, hi = -8.0, 8.0
    for _ in range(60):
        mid = (lo + hi) / 2
        if 0.5 * (1 + math.erf(mid / math.sqrt(2))) < q:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


class Builder:
    """Collects families; samples per-cell values at a target's scrape times."""

    def __init__(self, sim: Sim, rng: random.Random, interval: float, *, gaps: bool = True) -> None:
        self.sim = sim
        self.rng = rng
        self.interval = interval
        self.gaps = gaps
        self._families: dict[str, Family] = {}
        self._targets: dict[str, Target] = {}
        self._shapes: dict[object, Shape] = {}

    # --- targets ----------------------------------------------------------------------------------------------
    def target(self, key: str) -> Target:
        """The scrape target ``key`` (created on first use): a random phase, a few missed scrapes now and then."""
        if key in self._targets:
            return self._targets[key]
        sim, rng = self.sim, self.rng
        end = sim.t(sim.cells - 1)
        first = math.floor(sim.start / self.interval) * self.interval + round(rng.uniform(0, self.interval), 3)
        while first < sim.start:
            first += self.interval
        missing: set[int] = set()
        if self.gaps and rng.random() < 0.25:
            total = int((end - first) // self.interval)
            for _ in range(rng.randint(1, 3)):
                at = rng.randint(0, max(0, total - 1))
                missing.update(range(at, at + rng.randint(1, 4)))
        times, cells = [], []
        k, ts = 0, first
        while ts <= end:
            cell = sim.index(ts)
            if k not in missing:
                times.append(round(ts, 3))
                cells.append(cell)
            k += 1
            ts = first + k * self.interval
        target = Target(times, cells)
        self._targets[key] = target
        return target

    # --- families ---------------------------------------------------------------------------------------------
    def family(self, name: str, type_: MetricType, help_: str, unit: str = "") -> Family:
        fam = self._families.get(name)
        if fam is None:
            fam = self._families[name] = Family(name, type_, help_, unit)
        return fam

    def families(self) -> list[Family]:
        return [f for f in self._families.values() if f.series]

    def _add(self, fam: Family, sample: str, labels: dict[str, str], target: Target, values: Sequence[float]) -> None:
        times, vals = [], []
        for ts, cell in zip(target.times, target.cells, strict=True):
            if target.present is None or target.present(cell):
                times.append(ts)
                vals.append(values[cell])
        if times:
            fam.series.append(Series(sample, dict(labels), times, vals))

    def gauge(
        self, name: str, help_: str, labels: dict[str, str], target: Target, values: Sequence[float], unit: str = ""
    ) -> None:
        self._add(self.family(name, "gauge", help_, unit), name, labels, target, values)

    def counter_values(
        self, name: str, help_: str, labels: dict[str, str], target: Target, values: Sequence[float], unit: str = ""
    ) -> None:
        """A counter given by its cumulative values (e.g. kube-state-metrics' restart count)."""
        self._add(self.family(name, "counter", help_, unit), f"{name}_total", labels, target, values)

    def counter(
        self,
        name: str,
        help_: str,
        labels: dict[str, str],
        target: Target,
        rate: Sequence[float],
        *,
        resets: Sequence[int] = (),
        unit: str = "",
        integer: bool = True,
        start: float = 0.0,
    ) -> None:
        """A counter whose per-second increase is ``rate`` (Poisson-like noise for counts); zero again at each
        reset. ``name`` is the family name: samples are ``<name>_total``."""
        values = cumulative(rate, self.rng, resets=resets, integer=integer, start=start)
        if integer and values[-1] == 0 and max(values) == 0:
            return  # a counter that never moved was never created (labelled children appear on first use)
        self._add(self.family(name, "counter", help_, unit), f"{name}_total", labels, target, values)

    def shape(
        self, key: object, p50: Sequence[float], p99: Sequence[float], les: Sequence[float], scale: float
    ) -> Shape:
        """Per-cell bucket fractions and mean of a log-normal latency (cached by ``key``: pods and codes of one
        call share one shape)."""
        cached = self._shapes.get(key)
        if cached is not None:
            return cached
        fractions = [[lognormal_cdf(le / scale, a, b) for le in les] for a, b in zip(p50, p99, strict=True)]
        means = [
            a * math.exp(0.5 * (math.log(max(b, a * 1.01) / a) / Z99) ** 2) * scale
            for a, b in zip(p50, p99, strict=True)
        ]
        shape = Shape(tuple(les), fractions, means)
        self._shapes[key] = shape
        return shape

    def histogram(
        self,
        name: str,
        help_: str,
        labels: dict[str, str],
        target: Target,
        *,
        count_rate: Sequence[float],
        shape: Shape,
        resets: Sequence[int] = (),
        unit: str = "",
    ) -> None:
        """A histogram with ``count_rate`` observations per second distributed as ``shape``."""
        counts = _noisy_counts(count_rate, self.rng)
        if sum(counts) == 0:
            return
        les = shape.les
        fam = self.family(name, "histogram", help_, unit)
        reset_set = set(resets)
        cum = [0.0] * (len(les) + 2)
        rows: list[list[float]] = [[] for _ in range(len(les) + 2)]
        for i, n in enumerate(counts):
            if i in reset_set:
                cum = [0.0] * len(cum)
            if n:
                fr = shape.fractions[i]
                for b in range(len(les)):
                    cum[b] += round(n * fr[b])
                cum[len(les)] += n
                cum[len(les) + 1] += n * shape.means[i]
            for b in range(len(cum)):
                rows[b].append(cum[b])
        for b in range(1, len(les) + 1):  # rounding must not break monotonicity across buckets
            rows[b] = [max(x, y) for x, y in zip(rows[b], rows[b - 1], strict=True)]
        for b, le in enumerate(les):
            self._add(fam, f"{name}_bucket", {**labels, "le": _le(le)}, target, rows[b])
        self._add(fam, f"{name}_bucket", {**labels, "le": "+Inf"}, target, rows[len(les)])
        self._add(fam, f"{name}_sum", labels, target, rows[len(les) + 1])
        self._add(fam, f"{name}_count", labels, target, rows[len(les)])

    def summary(
        self,
        name: str,
        help_: str,
        labels: dict[str, str],
        target: Target,
        *,
        count_rate: Sequence[float],
        p50: Sequence[float],
        p99: Sequence[float],
        quantiles: Sequence[float],
        window_s: float,
        resets: Sequence[int] = (),
        unit: str = "",
    ) -> None:
        """A summary: ``_sum``/``_count`` counters and, if ``quantiles``, quantiles over a sliding window of
        ``window_s`` seconds (as client libraries compute them)."""
        counts = _noisy_counts(count_rate, self.rng)
        if sum(counts) == 0:
            return
        fam = self.family(name, "summary", help_, unit)
        reset_set = set(resets)
        total = sums = 0.0
        count_row, sum_row = [], []
        for i, n in enumerate(counts):
            if i in reset_set:
                total = sums = 0.0
            total += n
            mean = p50[i] * math.exp(0.5 * (math.log(max(p99[i], p50[i] * 1.01) / p50[i]) / Z99) ** 2)
            sums += n * mean
            count_row.append(total)
            sum_row.append(sums)
        width = max(1, int(window_s // DT))
        for q in quantiles:
            row = window_quantile(q, counts, p50, p99, width, target.cells)
            self._add(fam, name, {**labels, "quantile": _le(q)}, target, row)
        self._add(fam, f"{name}_sum", labels, target, sum_row)
        self._add(fam, f"{name}_count", labels, target, count_row)


def _le(x: float) -> str:
    text = f"{x:.6g}"
    return text if "." in text or "e" in text else f"{text}.0"


def _noisy_counts(rate: Sequence[float], rng: random.Random) -> list[float]:
    out = []
    for r in rate:
        mean = max(0.0, r) * DT
        out.append(max(0.0, round(mean + rng.gauss(0, math.sqrt(mean)))) if mean > 0 else 0.0)
    return out


def cumulative(
    rate: Sequence[float], rng: random.Random, *, resets: Sequence[int] = (), integer: bool = True, start: float = 0.0
) -> list[float]:
    reset_set = set(resets)
    total, out = start, []
    for i, r in enumerate(rate):
        if i in reset_set:
            total = 0.0
        if integer:
            mean = max(0.0, r) * DT
            total += max(0.0, round(mean + rng.gauss(0, math.sqrt(mean)))) if mean > 0 else 0.0
        else:
            total += max(0.0, r) * DT
        out.append(total)
    return out


def window_quantile(
    q: float, counts: Sequence[float], p50: Sequence[float], p99: Sequence[float], width: int, at: Sequence[int]
) -> list[float]:
    """Per cell (computed at the cells in ``at``, NaN elsewhere): the ``q`` quantile of the observations of the
    last ``width`` cells, a mixture of log-normals (grouped in up to six sub-windows); NaN when the window saw
    nothing, as client libraries report."""
    out = [math.nan] * len(counts)
    for i in at:
        lo = max(0, i - width + 1)
        step = max(1, (i + 1 - lo) // 6)
        groups: list[tuple[float, float, float]] = []  # weight, p50, p99
        for g in range(lo, i + 1, step):
            cells = [k for k in range(g, min(i + 1, g + step)) if counts[k] > 0]
            if cells:
                w = sum(counts[k] for k in cells)
                groups.append((w, sum(p50[k] for k in cells) / len(cells), sum(p99[k] for k in cells) / len(cells)))
        if not groups:
            continue
        weight = sum(g[0] for g in groups)
        lo50, hi50 = min(g[1] for g in groups), max(g[1] for g in groups)
        lo99, hi99 = min(g[2] for g in groups), max(g[2] for g in groups)
        if hi50 < lo50 * 1.15 and hi99 < lo99 * 1.15:
            out[i] = lognormal_quantile(
                q, sum(g[0] * g[1] for g in groups) / weight, sum(g[0] * g[2] for g in groups) / weight
            )
            continue
        a, b = math.log(lo50 / 20), math.log(hi99 * 20)
        for _ in range(25):
            mid = (a + b) / 2
            x = math.exp(mid)
            if sum(g[0] * lognormal_cdf(x, g[1], g[2]) for g in groups) / weight < q:
                a = mid
            else:
                b = mid
        out[i] = math.exp((a + b) / 2)
    return out
