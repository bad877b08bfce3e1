"""A node running out of process IDs, and the process that eats them, from pasted ``ps`` listings.

Each process and each thread takes a PID from ``kernel.pid_max``; when the kubelet's ``pid.available`` falls under
its threshold the node reports PIDPressure and ``fork``/``clone`` fail with EAGAIN ("resource temporarily
unavailable"). What an SRE counts on the node (``ps ... | sort | uniq -c``) names the culprit:

- zombies (state ``Z``, ``<defunct>``) by the thousands: exited children whose parent never calls ``wait()`` —
  a container whose PID 1 is an application that spawns helpers but is no init (no tini/dumb-init, no
  ``shareProcessNamespace``); the parent PID, its command and the pod it runs in are the finding;
- one process with thousands of threads (``ps -eLf`` counted by PID) or thousands of processes of one name.
"""
# ruff: noqa: E501  (messages read better unwrapped)

from __future__ import annotations

import re

from engine.analyzers.common import rec
from engine.analyzers.disk_owner import pod_of_uid
from engine.analyzers.scheduling_detail import lines_of
from engine.facts import Observations
from engine.findings import Finding
from engine.parsers.common import excerpt
from engine.parsers.counted import CountedRow, counted_rows

Doc = tuple[str, str, list[str]]  # label, the command that printed it, its lines
_MANY = 1000  # a count no healthy node reaches for one name, one parent or one state
_SHELL_HOST = re.compile(r"^\[?[\w.-]+@([\w.-]+)(?::|\s+[^\]\s]*\][#$])")
_POD_LABEL = re.compile(r"io\.kubernetes\.pod\.name\"?\s*[=:]\s*\"?(?P<pod>[a-z0-9][\w.-]*[a-z0-9])")
_DEPLOYMENT_POD = re.compile(r"(?<![\w.-])(?P<pod>[a-z0-9][a-z0-9-]*-[a-z0-9]{6,10}-[a-z0-9]{5})(?![\w.-])")
_BARE_POD = re.compile(r"^(?P<pod>[a-z0-9][a-z0-9-]*-[a-z0-9]{6,10}-[a-z0-9]{5}|[a-z0-9][a-z0-9-]*-\d+)$")
_CGROUP_POD = re.compile(
    r"kubepods[\w.-]*?pod(?P<uid>[0-9a-f]{8}[_-][0-9a-f]{4}[_-][0-9a-f]{4}[_-][0-9a-f]{4}[_-][0-9a-f]{12})"
)
_COMMAND_COLUMNS = ("ARGS", "CMD", "COMMAND")


def pid_pressure(obs: Observations) -> list[Finding]:
    lines = list(lines_of(obs))
    docs = [(t.label, t.command, t.lines) for t in obs.texts] + [(d.label, d.command, d.lines) for d in obs.logs]
    rows = [r for r in counted_rows(docs) if r.from_ps]
    node_fact = next(
        (n for n in obs.nodes if any(c.type == "PIDPressure" and c.status == "True" for c in n.conditions)), None
    )
    zombies = [r for r in rows if r.zombie]
    zombie_total = max(
        (sum(r.count for r in zombies if r.command == cmd) for cmd in {r.command for r in zombies}), default=0
    )
    if node_fact is None and zombie_total < _MANY:
        return []
    node = node_fact.name if node_fact else _host(lines)
    cite = next((c.cite for c in node_fact.conditions if c.type == "PIDPressure"), "") if node_fact else ""
    if zombie_total >= _MANY:
        what, evidence, culprit = _zombies(zombies, zombie_total, rows, lines, docs)
    else:
        top = max(((r.count, i, r) for i, r in enumerate(rows) if r.get("comm") or _pid_of(r)), default=None)
        if top is None or top[0] < _MANY:
            return []
        what, evidence, culprit = _crowd(top[2], lines, docs)
    pressure = "runs out of process IDs (PIDPressure)" if node_fact else "is filling its process ID table"
    pod = culprit[1]
    return [
        Finding(
            kind="node_pid_exhaustion",
            subject=f"{node or 'node'}:node_pid_exhaustion",
            role="cause",
            title=f"{node + ': ' if node else ''}the node {pressure}: {what} fill the PID table, so new processes cannot fork and pods fail to start",
            weight=90,
            evidence=[e for e in (cite, *evidence) if e][:4],
            workload=node,
            recommendations=[
                rec(
                    "high",
                    (
                        f"Restart {pod or 'the parent process'} and make it reap its children (run an init such as tini or dumb-init as PID 1, shareProcessNamespace, or wait() on exited children); set a pod PID limit (kubelet podPidsLimit)"
                        if culprit[0] == "zombies"
                        else f"Find the pod spawning {culprit[2]} (leaked processes or threads) and fix it; set a pod PID limit (kubelet podPidsLimit)"
                    ),
                )
            ],
            affected=[a for a in (node, pod) if a],
        )
    ]


def _zombies(
    zombies: list[CountedRow], total: int, rows: list[CountedRow], lines: list[tuple[str, str]], docs: list[Doc]
) -> tuple[str, list[str], tuple[str, str, str]]:
    """'N zombie (defunct) <child> processes, children of PID p (<command>) in pod x that never reaps them'."""
    top = max(zombies, key=lambda r: r.count)
    child = next((_name(r) for r in sorted(zombies, key=lambda r: -r.count) if _name(r)), "")
    parent_row = _parent_row(zombies, rows)
    parent = _pid_of(parent_row) if parent_row else ""
    evidence = [f"{top.label} {excerpt(top.line.strip())}"]
    what = f"{total} zombie (defunct) {child + ' ' if child else ''}processes"
    pod = ""
    if parent and parent_row is not None:
        if parent_row is not top:
            evidence.append(f"{parent_row.label} {excerpt(parent_row.line.strip())}")
        command = _command_of(parent, lines)
        pod, pod_cite = _pod_of(parent, docs)
        if pod_cite:
            evidence.append(pod_cite)
        what += f", {parent_row.count} of them children of PID {parent}{' (' + command + ')' if command else ''}{' in pod ' + pod if pod else ''} that never reaps them (no init or wait() in the container)"
    return what, evidence, ("zombies", pod, child)


def _crowd(
    row: CountedRow, lines: list[tuple[str, str]], docs: list[Doc]
) -> tuple[str, list[str], tuple[str, str, str]]:
    """'N threads of process p (<command>)' or 'N processes named x'."""
    evidence = [f"{row.label} {excerpt(row.line.strip())}"]
    pid = _pid_of(row)
    if pid and not row.get("comm"):
        command = _command_of(pid, lines)
        pod, pod_cite = _pod_of(pid, docs)
        if pod_cite:
            evidence.append(pod_cite)
        threads = "threads" if row.get("pid") and "L" in row.command else "processes or threads"
        if row.get("ppid"):
            threads = "child processes"
        who = f"process {pid}{' (' + command + ')' if command else ''}{' in pod ' + pod if pod else ''}"
        return f"{row.count} {threads} of {who}", evidence, ("crowd", pod, f"the {threads} of {who}")
    name = row.get("comm")
    return f"{row.count} processes named {name}", evidence, ("crowd", "", f"{name} processes")


def _pid_of(row: CountedRow) -> str:
    return row.get("ppid") or row.get("pid") or row.get("pid?")


def _name(row: CountedRow) -> str:
    return row.get("comm").replace("<defunct>", "").strip(" []")


def _command_of(pid: str, lines: list[tuple[str, str]]) -> str:
    """The command of ``pid`` from a ``ps -o pid,...,args -p <pid>`` table (its header names the columns)."""
    header: list[str] = []
    for _, line in lines:
        words = line.split()
        if "PID" in words and any(c in words for c in _COMMAND_COLUMNS):
            header = words
            continue
        if header and words and len(words) >= len(header) - 1:
            at = header.index("PID")
            if at < len(words) and words[at] == pid:
                column = max(i for i, h in enumerate(header) if h in _COMMAND_COLUMNS)
                if column >= len(words):
                    continue
                return " ".join(words[column:]) if column == len(header) - 1 else words[column]
    return ""


def _parent_row(zombies: list[CountedRow], rows: list[CountedRow]) -> CountedRow | None:
    """The biggest count of zombies by parent PID: zombie rows that print a parent, or PID-only rows (a pipeline
    that kept only zombies and printed their parent)."""
    candidates = [r for r in rows if (r in zombies or not r.get("comm")) and (r.get("ppid") or r.get("pid?"))]
    best = max(candidates, key=lambda r: r.count, default=None)
    return best if best is not None and best.count >= _MANY else None


def _pod_of(pid: str, docs: list[Doc]) -> tuple[str, str]:
    """The pod ``pid`` runs in: ``crictl inspect`` output printed with (or after) that PID, or its cgroup path's
    pod UID (``kubepods-burstable-pod<uid>.slice``) resolved to the pod with that UID."""
    token = re.compile(rf"(?<![\w.-]){re.escape(pid)}(?![\w.-])")
    for label, command, lines in docs:
        windows = [lines[:8]] if token.search(command) else []
        windows += [lines[at : at + 5] for at, line in enumerate(lines) if token.search(line)]
        for window in windows:
            for near in window:
                found = _POD_LABEL.search(near) or _DEPLOYMENT_POD.search(near) or _BARE_POD.match(near.strip())
                if found:
                    return found.group("pod"), f"{label} {excerpt(near.strip())}"
                uid = _CGROUP_POD.search(near)
                if uid:
                    pod, cite = pod_of_uid(uid.group("uid").replace("_", "-"), docs)
                    if pod:
                        return pod, cite
    return "", ""


def _host(lines: list[tuple[str, str]]) -> str:
    return next((m.group(1) for _, line in lines if (m := _SHELL_HOST.match(line))), "")
