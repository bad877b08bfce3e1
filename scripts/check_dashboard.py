"""Checks a Grafana dashboard JSON: it parses, every panel has a query, and every metric a query names is one the
app defines (ops/metrics.py), so a renamed metric cannot leave a silently empty panel.

    python scripts/check_dashboard.py deploy/grafana/incidentfox.json
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from prometheus_client import REGISTRY

from ops.metrics import SCRAPE_TIME_METRICS

METRIC = re.compile(r"\bincidentfox_[a-z_]+")
SUFFIXES = ("_bucket", "_sum", "_count", "_total", "_created")


def defined_metrics() -> set[str]:
    names = set(SCRAPE_TIME_METRICS)
    for family in REGISTRY.collect():
        names.add(family.name)
        names.update(sample.name for sample in family.samples)
    return names


def check(path: Path) -> list[str]:
    dashboard: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    defined = defined_metrics()
    problems = []
    panels = [panel for panel in dashboard.get("panels", []) if panel.get("type") != "row"]
    if not panels:
        problems.append("the dashboard has no panels")
    for panel in panels:
        exprs = [target.get("expr", "") for target in panel.get("targets", [])]
        if not any(exprs):
            problems.append(f"panel {panel.get('title')!r} has no query")
        for expr in exprs:
            for name in METRIC.findall(expr):
                base = next((name.removesuffix(s) for s in SUFFIXES if name.endswith(s)), name)
                if name not in defined and base not in defined:
                    problems.append(f"panel {panel.get('title')!r} queries unknown metric {name}")
    return problems


if __name__ == "__main__":
    failures = [problem for arg in sys.argv[1:] for problem in check(Path(arg))]
    for failure in failures:
        print(failure, file=sys.stderr)
    if failures:
        sys.exit(1)
    print(f"{', '.join(sys.argv[1:])}: every query names a defined metric")
