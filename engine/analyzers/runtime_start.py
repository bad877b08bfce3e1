"""A container runtime that does not start, as its own journal prints it, behind a node gone NotReady.

When containerd, CRI-O or dockerd exits at start (systemd: ``Main process exited, code=exited, status=1/FAILURE``,
``Start request repeated too quickly``), the kubelet cannot dial the runtime's socket (``dial unix
/run/containerd/containerd.sock: connect: connection refused``), reports "container runtime is down, PLEG is not
healthy" and the node goes NotReady. The runtime's last error line before it exits names the fix, most often a
config file it cannot parse (``failed to load TOML from /etc/containerd/config.toml: (37, 7): ...``) after a
configuration-management run; restarting the runtime does nothing until that file is fixed.
"""
# ruff: noqa: E501  (messages read better unwrapped)

from __future__ import annotations

import re

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import rec
from engine.analyzers.scheduling_detail import lines_of, not_ready_nodes
from engine.facts import Observations
from engine.findings import Finding
from engine.parsers.common import excerpt

_DAEMONS = r"containerd|crio|cri-o|dockerd|cri-dockerd"
# journald: "May 14 02:14:53 wk-gpu-07 containerd[884213]: containerd: failed to load TOML from ..."
_DAEMON_LINE = re.compile(
    rf"^\w{{3}}\s+\d{{1,2}}\s+[\d:]{{8}}\s+(?P<host>[\w.-]+)\s+(?P<daemon>{_DAEMONS})\[\d+\]:\s+(?P<message>.+)$"
)
_SERVICES = {"docker": "dockerd", "cri-o": "crio"}  # the systemd unit's name -> the daemon's journal name
_EXITED = re.compile(
    rf"(?P<daemon>{_DAEMONS}|docker)(?:\.service)?: (?:Main process exited, code=exited|Failed with result 'exit-code'|Start request repeated too quickly)"
)
_ERROR = re.compile(
    r"level=(?:fatal|error)|\bfailed to (?:load|parse|read|decode|start|create|validate)|\binvalid\b|\bunable to (?:configure|load|parse|start)|\bcannot\b|\bunknown (?:field|key|option)|\bduplicate",
    re.I,
)
_INFO = re.compile(r"level=(?:info|debug|warning)", re.I)
_CONFIG = re.compile(r"(?P<path>/[\w./-]+\.(?:toml|json|conf|ya?ml))")
_POSITION = re.compile(r"\((?P<line>\d+), (?P<column>\d+)\)|\bline (?P<line2>\d+)")
_SOCKET_DOWN = re.compile(
    r"dial unix /[\w/.-]*(?:containerd|crio|docker|cri-dockerd)\.sock: connect: (?:connection refused|no such file)|container runtime is down"
)


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    lines = list(lines_of(obs))
    exited = {_SERVICES.get(d, d) for _, line in lines if (m := _EXITED.search(line)) for d in [m.group("daemon")]}
    if not exited:
        return []
    errors = [
        (label, line, m)
        for label, line in lines
        if (m := _DAEMON_LINE.match(line))
        and _SERVICES.get(m.group("daemon"), m.group("daemon")) in exited
        and _ERROR.search(m.group("message"))
        and not _INFO.search(m.group("message"))
    ]
    if not errors:
        return []
    label, line, found = errors[-1]
    daemon, host = found.group("daemon"), found.group("host")
    message = _message(found.group("message"))
    node = next((n for n in not_ready_nodes(obs) if n == host or n.startswith(host + ".")), host)
    config = _CONFIG.search(message)
    where = ""
    position = _POSITION.search(message)
    if position:
        where = f" at line {position.group('line') or position.group('line2')}" + (
            f", column {position.group('column')}" if position.group("column") else ""
        )
    what = (
        f"it cannot parse its config file {config.group('path')}{where}"
        if config and re.search(r"load|parse|decode|toml|json|yaml|invalid|duplicat|unknown", message, re.I)
        else "it rejects its configuration"
        if "config" in message.lower()
        else "it exits at start"
    )
    socket = next(((lb, ln) for lb, ln in lines if _SOCKET_DOWN.search(ln)), None)
    evidence = [f"{label} {excerpt(line.strip(), around=message[:30])}"]
    if socket:
        evidence.append(
            f"{socket[0]} {excerpt(socket[1].strip(), around='dial unix' if 'dial unix' in socket[1] else 'runtime is down')}"
        )
    others = [n for n in not_ready_nodes(obs) if n != node]
    also = f"; the other NotReady nodes ({', '.join(others[:4])}) likely got the same change" if others else ""
    fix = (
        f"Fix {config.group('path')}{where} (or restore the previous version) on {node}, then restart {daemon} (systemctl restart {daemon}); the kubelet recovers by itself"
        if config
        else f"Fix what {daemon}'s start error names on {node}, then restart it (systemctl restart {daemon})"
    )
    finding = Finding(
        kind="runtime_start_failure",
        subject=f"node/{node}",
        role="cause",
        title=f"{node}: the container runtime {daemon} fails to start ({what}: '{message}'), so the kubelet cannot reach its socket and the node is NotReady (container runtime is down, PLEG is not healthy){also}",
        weight=95,
        evidence=evidence,
        workload=node,
        recommendations=[rec("high", fix)],
        affected=[node, *others[:4]],
        related=[f"node/{n}" for n in (node, *others[:4])],
    )
    owner = ctx.focus.owner() if ctx.focus else None
    if owner and ctx.focus and ctx.focus.covers(finding):
        finding.related.append(owner)  # the runtime down explains what the subject's nodes report (CNI, PLEG)
    return [finding]


def _message(raw: str) -> str:
    """The error itself: logfmt's ``msg="..."`` (and ``error="..."``) or the plain text after the daemon's name."""
    msg = re.search(r'msg="(?P<msg>(?:[^"\\]|\\.)*)"', raw)
    text = msg.group("msg") if msg else raw
    err = re.search(r'error="(?P<err>(?:[^"\\]|\\.)*)"', raw)
    if err and err.group("err") not in text:
        text += f": {err.group('err')}"
    return re.sub(rf"^(?:{_DAEMONS}):\s*", "", text.replace('\\"', '"')).strip()
