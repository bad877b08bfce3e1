"""A node whose clock is wrong, read from what its pods print about time.

Go's TLS stack prints ``x509: certificate has expired or is not yet valid: current time <T> is after <NotAfter>``
with the clock it checked against. When ``T`` is far from the investigation's time, the certificates are fine and
the clock is not: every TLS check on that node fails (the API server, outside providers). The node is the one the
pods run on (``get pods -o wide``); ``timedatectl``/``chronyc`` next to it (or a NodeClock alert) must say the
clock is not synchronised, since a certificate that really expired prints the same line.
"""
# ruff: noqa: E501  (messages read better unwrapped)

from __future__ import annotations

import re
from datetime import datetime

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import rec
from engine.analyzers.scheduling_detail import lines_of
from engine.facts import Observations
from engine.findings import Finding, workload_of
from engine.parsers.command_line import logs_pod
from engine.parsers.common import excerpt

_CURRENT_TIME = re.compile(
    r"x509: certificate has expired or is not yet valid: current time (?P<now>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ) is (?:after|before) (?P<bound>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)"
)
_NTP_BROKEN = re.compile(
    r"System clock synchronized: no|Can't synchronise: no selectable sources|Leap status\s*:\s*Not synchronised|unsynchronised|NTP synchronized: no",
    re.I,
)
_MIN_SKEW = 300  # seconds


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    lines = list(lines_of(obs))
    hits: list[tuple[str | None, int, str]] = []  # (pod that printed it, skew in seconds, cite)
    docs = [(t.label, t.lines, t.command) for t in obs.texts] + [(d.label, d.lines, d.command) for d in obs.logs]
    for label, doc_lines, command in docs:
        pod = logs_pod(command) if command else None
        for line in doc_lines:
            found = _CURRENT_TIME.search(line)
            if not found:
                continue
            seen = datetime.fromisoformat(found.group("now").replace("Z", "+00:00"))
            skew = int((seen - ctx.now).total_seconds())
            if abs(skew) >= _MIN_SKEW:
                hits.append((pod, skew, f"{label} {excerpt(line.strip(), around='current time')}"))
    if not hits:
        return []
    skew = hits[0][1]
    nodes = [n for p, _, _ in hits if p and (n := _node_of(lines, p))]
    node = nodes[0] if nodes else None
    ntp = next(((label, line) for label, line in lines if _NTP_BROKEN.search(line)), None)
    clock_alert = bool(ctx.question and (ctx.question.alert or "").startswith("NodeClock"))
    if ntp is None and not clock_alert:
        return []  # a certificate that really expired prints the same line: only a broken clock makes it the clock's
    direction = "ahead" if skew > 0 else "behind"
    why = f"; NTP is not synchronising ({_NTP_BROKEN.search(ntp[1]).group(0)})" if ntp else ""  # type: ignore[union-attr]
    evidence = [hits[0][2], *([f"{ntp[0]} {excerpt(ntp[1].strip())}"] if ntp else [])]
    pods = sorted({p for p, _, _ in hits if p})
    question = ctx.question
    if question and (question.alert or "").startswith("Node"):  # a node alert's pod label is its exporter there
        pods += [value for key, value in question.labels if key == "pod" and value not in pods]
    return [
        Finding(
            kind="node_clock_skew",
            subject=f"node/{node}" if node else "clock:skew",
            role="cause",
            title=f"{node + ': ' if node else ''}the node's clock is {_duration(abs(skew))} {direction} (its pods check certificates against {hits[0][2].split('current time ')[-1][:20]}){why}, so TLS verification on it fails with 'certificate has expired or is not yet valid' while the certificates themselves are fine",
            weight=95,
            evidence=evidence,
            workload=node,
            recommendations=[
                rec(
                    "high",
                    f"Fix time synchronisation on {node or 'the node'} (chrony/NTP sources reachable, e.g. the cloud's link-local time server), step the clock (chronyc makestep), then restart the pods that cached failures",
                )
            ],
            affected=[node, *pods] if node else pods,
            related=[*pods, *{workload_of(p) for p in pods}],
        )
    ]


def _node_of(lines: list[tuple[str, str]], pod: str) -> str | None:
    """The NODE column of the pod's ``get pods -o wide`` row."""
    header: list[str] | None = None
    for _, line in lines:
        cells = line.split()
        if "NAME" in cells and "NODE" in cells:
            header = cells
            continue
        if header and pod in cells and len(cells) >= header.index("NODE") + 1:
            return cells[header.index("NODE")]
    return None


def _duration(seconds: int) -> str:
    hours, rest = divmod(seconds, 3600)
    minutes = rest // 60
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes} min"
