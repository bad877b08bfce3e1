"""Two copies of one exporter scraped side by side: every series exists twice, so rules that join on it fail.

kube-prometheus recording rules join kube-state-metrics series with ``on(...) group_left``; when a second
kube-state-metrics (a second monitoring stack, a chart that bundles its own) is scraped too, each series exists
twice with different ``instance``/``job`` labels and Prometheus fails the rule with "found duplicate series for the
match group" / "many-to-many matching not allowed" (PrometheusRuleFailures, gaps in the dashboards built on those
rules). The fix is to scrape one copy only, not to touch the rules.
"""
# ruff: noqa: E501  (user-facing messages read better unwrapped)

from __future__ import annotations

import re

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import rec
from engine.analyzers.scheduling_detail import lines_of
from engine.facts import Observations
from engine.findings import Finding, workload_of
from engine.parsers.common import excerpt

_DUPLICATE = re.compile(r"found duplicate series for the match group|many-to-many matching not allowed", re.IGNORECASE)
_EXPORTERS = ("kube-state-metrics", "node-exporter", "prometheus-node-exporter", "cadvisor")
# a listing row: "<namespace>  <name>  ..." or "<name>  ..." (not a label value inside quotes)
_ROW_NAME = re.compile(r"^\s*(?:(?P<ns>[a-z0-9][a-z0-9-]*)\s{2,})?(?P<name>[a-z0-9][a-z0-9-]*)\s{2,}\S")


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    lines = list(lines_of(obs))
    failing = next(((label, line) for label, line in lines if _DUPLICATE.search(line)), None)
    if failing is None:
        return []
    for exporter in _EXPORTERS:
        copies: dict[str, tuple[str | None, str]] = {}
        for label, line in lines:
            if _DUPLICATE.search(line) or exporter not in line:
                continue
            row = _ROW_NAME.match(line)
            if row and exporter in row.group("name"):
                name = workload_of(row.group("name"))
                copies.setdefault(name, (row.group("ns"), f"{label} {excerpt(line.strip())}"))
        for workload in obs.workloads:
            if exporter in workload.name:
                copies.setdefault(workload.name, (workload.namespace, workload.cites.get("replicas", "")))
        if len(copies) < 2:
            continue
        names = sorted(copies, key=lambda n: (n != exporter, n))  # the canonical name first, the extra one after
        extra = [n for n in names if n != exporter] if exporter in copies else names[1:]
        shown = ", ".join(f"{ns}/{n}" if (ns := copies[n][0]) else n for n in names)
        return [
            Finding(
                kind="duplicate_exporter",
                subject=f"deployment/{extra[0]}",
                role="cause",
                title=f"{extra[0]}: a second {exporter} is scraped next to the first ({shown}), so every series it exports exists twice and rules that join on them fail with duplicate series ('{_DUPLICATE.search(failing[1]).group(0)}')",  # type: ignore[union-attr]
                weight=92,
                evidence=[
                    f"{failing[0]} {excerpt(failing[1].strip(), around='duplicate')}",
                    *[c for n in names[:2] if (c := copies[n][1])],
                ],
                workload=extra[0],
                recommendations=[
                    rec(
                        "high",
                        f"Scrape one {exporter} only: remove {extra[0]} (or its ServiceMonitor), or disable the {exporter} the second chart bundles",
                    )
                ],
                affected=[extra[0], "prometheus"],
            )
        ]
    return []
