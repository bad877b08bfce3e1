"""Outbound connections failing because the cluster's source-NAT ports are used up.

Pods reach the internet through SNAT on a fixed set of public IPs: an Azure Standard Load Balancer's outbound
rule (each node gets a share of 64,000 ports per IP: ``Used SNAT Ports`` reaching ``Allocated SNAT Ports``,
``SnatConnectionCount`` with ``ConnectionState`` failed), an AWS NAT gateway (``ErrorPortAllocation``), GCP
Cloud NAT (``OUT_OF_RESOURCES`` / dropped allocations). When a node's share is exhausted new connections to the
same destination wait and time out (``dial tcp ...: i/o timeout``) while the destination is healthy; more nodes
per outbound IP, or clients without keep-alive opening a connection per call, make it worse.
"""
# ruff: noqa: E501  (patterns and messages read better unwrapped)

from __future__ import annotations

import re

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import rec
from engine.facts import Observations
from engine.findings import Finding
from engine.parsers.common import excerpt

_USED = re.compile(r"Used ?SNAT ?Ports\s+(?P<n>\d+)", re.IGNORECASE)
_ALLOCATED = re.compile(r"Allocated ?SNAT ?Ports\s+(?P<n>\d+)", re.IGNORECASE)
_FAILED_METRIC = re.compile(
    r"SnatConnectionCount[^\n]*ConnectionState eq '?failed|ErrorPortAllocation|OUT_OF_RESOURCES|allocation_status\"?\s*:\s*\"?DROPPED",
    re.IGNORECASE,
)
_TOTAL = re.compile(
    r"\"(?:total|Sum|sum|maximum|Maximum)\"\s*:\s*(?P<n>\d+(?:\.\d+)?)|^\s*\S+\s+\S*\s*(?P<n2>\d+(?:\.\d+)?)\s*$"
    r"|\|\s*(?P<n3>\d+(?:\.\d+)?)\s*\|\s*$"
)
_TIMEOUT = re.compile(
    r"dial tcp [^\s:]+:\d+: (?:i/o timeout|connect: connection timed out)|connect(?:ion)? timed? ?out", re.IGNORECASE
)


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    lines = _with_commands(obs)
    exhausted = _ports_used_up(lines)
    failed = _failed_allocations(lines)
    if exhausted is None and failed is None:
        return []
    timeouts = [(label, line) for label, line in lines if _TIMEOUT.search(line)]
    if not timeouts:
        return []
    who = ctx.service or (ctx.focus.owner() if ctx.focus is not None else None)
    parts = []
    evidence = [f"{timeouts[0][0]} {excerpt(timeouts[0][1].strip(), around='timeout')}"]
    if exhausted is not None:
        used, cite = exhausted
        parts.append(f"Used SNAT Ports reach the Allocated SNAT Ports ({used}) per node")
        evidence.append(cite)
    if failed is not None:
        peak, cite = failed
        parts.append(
            f"failed SNAT/NAT port allocations rise to {peak:g}"
            if peak
            else "the NAT gateway drops connections it has no port for"
        )
        evidence.append(cite)
    title = (
        f"outbound connections time out because the cluster's source-NAT ports are exhausted ({'; '.join(parts)}): "
        "new connections wait for a free SNAT port and the destination never sees them, so its side looks healthy"
    )
    return [
        Finding(
            kind="snat_port_exhaustion",
            subject=f"{who or 'cluster'}:snat_port_exhaustion",
            role="cause",
            title=f"{who}: {title}" if who else title[:1].upper() + title[1:],
            weight=93,
            evidence=evidence[:3],
            workload=who,
            recommendations=[
                rec(
                    "high",
                    "Add outbound IPs (managedOutboundIPs / a NAT gateway with more IPs) or raise allocatedOutboundPorts per node, and reuse connections (HTTP keep-alive, a pooled client) so each call does not take a new SNAT port",
                ),
            ],
            affected=[who] if who else [],
        )
    ]


def _with_commands(obs: Observations) -> list[tuple[str, str]]:
    """Every line read, each output preceded by the command that printed it (a metric query names its filter)."""
    lines: list[tuple[str, str]] = []
    for label, command, doc_lines in [(t.label, t.command, t.lines) for t in obs.texts] + [
        (d.label, d.command, d.lines) for d in obs.logs
    ]:
        if command:
            lines.append((label, f"$ {command}"))
        lines.extend((label, line) for line in doc_lines)
    return lines


def _ports_used_up(lines: list[tuple[str, str]]) -> tuple[int, str] | None:
    allocated = {int(m.group("n")) for _, line in lines if (m := _ALLOCATED.search(line))}
    for label, line in lines:
        used = _USED.search(line)
        if used and int(used.group("n")) in allocated and int(used.group("n")) > 0:
            return int(used.group("n")), f"{label} {excerpt(line.strip())}"
    return None


def _failed_allocations(lines: list[tuple[str, str]]) -> tuple[float, str] | None:
    """The peak of a failed-SNAT metric printed after the command or query that names it."""
    for index, (label, line) in enumerate(lines):
        if not _FAILED_METRIC.search(line):
            continue
        if re.search(r"OUT_OF_RESOURCES|DROPPED", line):
            return 0, f"{label} {excerpt(line.strip())}"  # a NAT log entry: the drop itself, no count
        values: list[tuple[float, str]] = []
        for _, after in lines[index + 1 : index + 40]:
            if after.startswith("$ "):
                break
            found = _TOTAL.search(after)
            if found:
                values.append((float(found.group("n") or found.group("n2") or found.group("n3")), after))
        if values and max(values)[0] > 0:
            peak, shown = max(values)
            return peak, f"{label} {excerpt(shown.strip())}"
    return None
