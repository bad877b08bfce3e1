"""Server-rendered SVG line charts for metric evidence: axes with units, the baseline, the anomaly onset, and the
value of each point on hover.

Pure geometry over ``(unix seconds, value)`` points; the template ``web/_chart.html`` draws it, so there is no chart
library and no CDN. Hover works without JavaScript (each point has an SVG ``<title>``); ``static/web/app.js`` also
writes the hovered value under the chart. The chart has a text alternative, so it reads without images.

Units follow the engine's series (``engine/series.py``): a ``ratio`` is shown as a percentage (as the evidence text
says "0.2 % → 18 %"), seconds below one as milliseconds, anything else with its unit as given.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

WIDTH = 640
HEIGHT = 220
PAD_LEFT = 64  # the y-axis labels
PAD_RIGHT = 12
PAD_TOP = 12
PAD_BOTTOM = 30  # the x-axis labels
MAX_POINTS = 400
MAX_HOVER_POINTS = 120
Y_TICKS = 4
X_TICKS = 4


@dataclass(frozen=True)
class Tick:
    position: float
    label: str


@dataclass(frozen=True)
class HoverPoint:
    x: float
    y: float
    label: str


@dataclass(frozen=True)
class Chart:
    title: str
    polyline: str  # "x,y x,y ..." in the viewBox
    onset_x: float | None
    onset_label: str
    start_label: str
    end_label: str
    min_value: float
    max_value: float
    description: str
    unit_label: str = ""
    y_ticks: tuple[Tick, ...] = ()
    x_ticks: tuple[Tick, ...] = ()
    baseline_value_y: float | None = None  # the mean before the onset, as a dashed line
    baseline_label: str = ""
    hover: tuple[HoverPoint, ...] = ()
    min_label: str = ""
    max_label: str = ""
    width: int = WIDTH
    height: int = HEIGHT

    @property
    def plot_left(self) -> int:
        return PAD_LEFT

    @property
    def plot_right(self) -> int:
        return self.width - PAD_RIGHT

    @property
    def plot_top(self) -> int:
        return PAD_TOP

    @property
    def baseline_y(self) -> int:
        """The x axis (bottom of the plot)."""
        return self.height - PAD_BOTTOM

    @property
    def label_y(self) -> int:
        return self.height - 10


def _clock(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%H:%M")


def _thin(points: Sequence[tuple[float, float]], limit: int = MAX_POINTS) -> list[tuple[float, float]]:
    if len(points) <= limit:
        return list(points)
    stride = len(points) / limit
    return [points[int(i * stride)] for i in range(limit - 1)] + [points[-1]]


def format_value(value: float, unit: str) -> str:
    """A value as the evidence text writes it: ratios as percentages, sub-second latencies in ms."""
    if unit == "ratio":
        return f"{value * 100:.3g} %"
    if unit == "s" and abs(value) < 1:
        return f"{value * 1000:.3g} ms"
    text = f"{value:.4g}"
    return f"{text} {unit}" if unit else text


def unit_label(unit: str) -> str:
    return {"ratio": "%", "s": "seconds / ms", "": ""}.get(unit, unit)


def build_chart(
    title: str, points: Sequence[tuple[float, float]], onset: float | None = None, unit: str = ""
) -> Chart | None:
    """A chart of the series, or None when there is nothing to draw (fewer than two finite points)."""
    clean = sorted(
        (float(t), float(v))
        for t, v in points
        if v == v and abs(v) != float("inf")  # drop NaN and ±inf
    )
    if len(clean) < 2:
        return None
    clean = _thin(clean)
    t0, t1 = clean[0][0], clean[-1][0]
    values = [v for _, v in clean]
    low, high = min(values), max(values)
    span_t = (t1 - t0) or 1.0
    span_v = (high - low) or 1.0
    plot_w = WIDTH - PAD_LEFT - PAD_RIGHT
    plot_h = HEIGHT - PAD_TOP - PAD_BOTTOM

    def x_of(ts: float) -> float:
        return round(PAD_LEFT + (ts - t0) / span_t * plot_w, 1)

    def y_of(value: float) -> float:
        return round(PAD_TOP + (1 - (value - low) / span_v) * plot_h, 1)

    polyline = " ".join(f"{x_of(t)},{y_of(v)}" for t, v in clean)
    onset_x = x_of(onset) if onset is not None and t0 <= onset <= t1 else None
    onset_label = f"onset {_clock(onset)} UTC" if onset_x is not None and onset is not None else ""
    before = [v for t, v in clean if onset_x is not None and onset is not None and t < onset]
    baseline = sum(before) / len(before) if before else None
    description = (
        f"{title}: {len(clean)} points from {_clock(t0)} to {_clock(t1)} UTC, "
        f"between {format_value(low, unit)} and {format_value(high, unit)}"
        + (f"; baseline {format_value(baseline, unit)}" if baseline is not None else "")
        + (f"; anomaly onset at {_clock(onset)} UTC" if onset_label and onset else "")
    )
    y_ticks = tuple(
        Tick(y_of(low + span_v * i / Y_TICKS), format_value(low + (high - low) * i / Y_TICKS, unit))
        for i in range(Y_TICKS + 1)
    )
    x_times = [t0 + span_t * i / X_TICKS for i in range(X_TICKS + 1)]
    x_ticks = tuple(Tick(x_of(moment), _clock(moment)) for moment in x_times)
    hover = tuple(
        HoverPoint(x_of(t), y_of(v), f"{_clock(t)} UTC: {format_value(v, unit)}")
        for t, v in _thin(clean, MAX_HOVER_POINTS)
    )
    return Chart(
        title=title,
        polyline=polyline,
        onset_x=onset_x,
        onset_label=onset_label,
        start_label=_clock(t0),
        end_label=_clock(t1),
        min_value=low,
        max_value=high,
        description=description,
        unit_label=unit_label(unit),
        y_ticks=y_ticks,
        x_ticks=x_ticks,
        baseline_value_y=y_of(baseline) if baseline is not None else None,
        baseline_label=f"baseline {format_value(baseline, unit)}" if baseline is not None else "",
        hover=hover,
        min_label=format_value(low, unit),
        max_label=format_value(high, unit),
    )
