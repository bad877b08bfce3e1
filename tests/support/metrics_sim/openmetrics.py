"""OpenMetrics text exposition for backfilling: every family contiguous (``# HELP``, ``# TYPE``, ``# UNIT``), each
series' samples in time order, ``# EOF`` at the end, as ``promtool tsdb create-blocks-from openmetrics`` reads it."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import TextIO

from tests.support.metrics_sim.series import Family


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _value(v: float) -> str:
    return "NaN" if math.isnan(v) else f"{v:.10g}"


def write(families: Iterable[Family], out: TextIO) -> tuple[int, int]:
    """Write the families; returns (series, samples)."""
    series = samples = 0
    for fam in sorted(families, key=lambda f: f.name):
        out.write(f"# HELP {fam.name} {_escape(fam.help or fam.name.replace('_', ' '))}\n")
        out.write(f"# TYPE {fam.name} {fam.type}\n")
        if fam.unit and fam.name.endswith(f"_{fam.unit}"):
            out.write(f"# UNIT {fam.name} {fam.unit}\n")
        for s in fam.series:
            labels = ",".join(f'{k}="{_escape(v)}"' for k, v in sorted(s.labels.items()) if v != "")
            head = f"{s.name}{{{labels}}} " if labels else f"{s.name} "
            if any(math.isnan(v) for v in s.values):
                lines = [f"{head}{_value(v)} {t:.3f}\n" for t, v in zip(s.times, s.values, strict=True)]
            else:
                lines = [f"{head}{v:.10g} {t:.3f}\n" for t, v in zip(s.times, s.values, strict=True)]
            out.write("".join(lines))
            series += 1
            samples += len(s.times)
    out.write("# EOF\n")
    return series, samples
