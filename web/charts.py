"""Server-rendered SVG line charts for metric evidence: the series, and a marker at the anomaly onset.

Pure geometry over ``(unix seconds, value)`` points; the template ``web/_chart.html`` draws it, so there is no
JavaScript and no CDN, and the chart is readable (it has a text alternative) without images.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

WIDTH = 320
HEIGHT = 96
PAD_X = 4
PAD_TOP = 8
PAD_BOTTOM = 18
MAX_POINTS = 400


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
    width: int = WIDTH
    height: int = HEIGHT

    @property
    def baseline_y(self) -> int:
        return HEIGHT - PAD_BOTTOM

    @property
    def label_y(self) -> int:
        return HEIGHT - 4


def _clock(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%H:%M")


def _thin(points: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    if len(points) <= MAX_POINTS:
        return list(points)
    stride = len(points) / MAX_POINTS
    return [points[int(i * stride)] for i in range(MAX_POINTS - 1)] + [points[-1]]


def build_chart(title: str, points: Sequence[tuple[float, float]], onset: float | None = None) -> Chart | None:
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
    plot_w = WIDTH - 2 * PAD_X
    plot_h = HEIGHT - PAD_TOP - PAD_BOTTOM

    def x_of(ts: float) -> float:
        return round(PAD_X + (ts - t0) / span_t * plot_w, 1)

    def y_of(value: float) -> float:
        return round(PAD_TOP + (1 - (value - low) / span_v) * plot_h, 1)

    polyline = " ".join(f"{x_of(t)},{y_of(v)}" for t, v in clean)
    onset_x = x_of(onset) if onset is not None and t0 <= onset <= t1 else None
    onset_label = f"onset {_clock(onset)} UTC" if onset_x is not None and onset is not None else ""
    description = (
        f"{title}: {len(clean)} points from {_clock(t0)} to {_clock(t1)} UTC, "
        f"between {low:.4g} and {high:.4g}"
        + (f"; anomaly onset at {_clock(onset)} UTC" if onset_label and onset else "")
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
    )
