"""Who holds a node's file descriptors when it nears its limit, and whether they are leaked deleted files.

``NodeFileDescriptorLimit`` (node_filefd_allocated / node_filefd_maximum, runbooks.prometheus-operator.dev) and
"Too many open files" are answered by counting ``/proc/<pid>/fd`` per process: the process holding most of them
is the cause, and when ``ls -l /proc/<pid>/fd`` shows most of them as ``(deleted)`` files (proc(5)), the program
unlinks its temporary files without closing them: the descriptors (and the disk space) leak until the process
restarts. A ``crictl inspect`` line mapping the PID to its pod names the workload.
"""
# ruff: noqa: E501  (documented messages read better unwrapped)

from __future__ import annotations

import re
from dataclasses import dataclass

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import rec
from engine.facts import Observations
from engine.findings import Finding, workload_of
from engine.parsers.common import excerpt

_TRIGGER = re.compile(r"Too many open files|file-nr|open file descriptors|FileDescriptor|filefd", re.IGNORECASE)
# "1043207 java 2291847": an fd count per process (count, command, pid), as a /proc loop or lsof | uniq -c prints it
_FD_ROW = re.compile(r"^\s*(?P<n>\d{2,})\s+(?P<comm>[A-Za-z][\w.@:+-]{0,30})\s+(?P<pid>\d{1,8})\s*$")
# "1042511 (deleted) /tmp/export-<uuid>.csv" (uniq -c over ls -l), or an ls -l / lsof row ending in "(deleted)"
_DELETED_COUNT = re.compile(
    r"^\s*(?P<n>\d+)\s+\(deleted\)\s+(?P<path>/\S+)|^\s*(?P<n2>\d+)\s+(?P<path2>/\S+)\s+\(deleted\)\s*$"
)
_PROC_FD = re.compile(r"/proc/(?P<pid>\d+)/fd\b")
# "2291847 reports/report-exporter-6f9c7d8b5-kq4t2 exporter": crictl inspect's pid, namespace/pod and container
_PID_POD = re.compile(
    r"^\s*(?P<pid>\d{1,8})\s+(?P<ns>[a-z0-9][\w-]*)/(?P<pod>[a-z0-9][\w.-]*)\s+(?P<container>[\w.-]+)\s*$"
)


@dataclass(frozen=True)
class _Holder:
    count: int
    comm: str
    pid: str
    cite: str


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    alert = (ctx.question.alert if ctx.question else None) or ""
    docs = [(t.label, t.lines) for t in obs.texts] + [(d.label, d.lines) for d in obs.logs]
    if not _TRIGGER.search(alert) and not any(_TRIGGER.search(line) for _, lines in docs for line in lines):
        return []
    holders: list[_Holder] = []
    deleted: dict[str, tuple[int, str, str]] = {}  # pid -> (count, path, cite)
    pods: dict[str, tuple[str, str, str]] = {}  # pid -> (pod, container, cite)
    for label, lines in docs:
        pid: str | None = None
        for line in lines:
            proc = _PROC_FD.search(line)
            if proc:
                pid = proc.group("pid")
                continue
            row = _FD_ROW.match(line)
            if row and row.group("comm") not in ("deleted",):
                holders.append(
                    _Holder(
                        int(row.group("n")), row.group("comm"), row.group("pid"), f"{label} {excerpt(line.strip())}"
                    )
                )
                continue
            gone = _DELETED_COUNT.match(line)
            if gone and pid:
                count = int(gone.group("n") or gone.group("n2"))
                if count > deleted.get(pid, (0, "", ""))[0]:
                    deleted[pid] = (
                        count,
                        gone.group("path") or gone.group("path2"),
                        f"{label} {excerpt(line.strip())}",
                    )
                continue
            mapped = _PID_POD.match(line)
            if mapped:
                pods.setdefault(
                    mapped.group("pid"),
                    (mapped.group("pod"), mapped.group("container"), f"{label} {excerpt(line.strip())}"),
                )
    if not holders:
        return []
    top = max(holders, key=lambda h: h.count)
    total = sum(h.count for h in holders)
    if top.count < 1000 or top.count * 3 < total:
        return []
    finding = _finding(top, holders, deleted, pods)
    # a node alert's pod label is the exporter that reported it: the node's holder explains what it reports
    exporter = dict(ctx.question.labels).get("pod") if ctx.question and alert.startswith("Node") else None
    if exporter:
        finding.related.append(exporter)
    return [finding]


def _finding(
    top: _Holder,
    holders: list[_Holder],
    deleted: dict[str, tuple[int, str, str]],
    pods: dict[str, tuple[str, str, str]],
) -> Finding:
    evidence = [top.cite]
    pod = pods.get(top.pid)
    workload = workload_of(pod[0]) if pod else top.comm
    who = (
        f"{workload} (pod {pod[0]}, container {pod[1]}, PID {top.pid})"
        if pod
        else f"process {top.comm} (PID {top.pid})"
    )
    if pod:
        evidence.append(pod[2])
    same = [
        h for h in holders if h is not top and pods.get(h.pid, ("",))[0] and workload_of(pods[h.pid][0]) == workload
    ]
    also = f" (its other pod holds {same[0].count} more)" if same else ""
    leak = deleted.get(top.pid)
    if leak and leak[0] * 2 >= top.count:
        evidence.append(leak[2])
        why = (
            f"{leak[0]} of them are deleted files ({leak[1]}) still open: the app removes its temporary files without "
            "closing them, so the descriptors leak until the process restarts"
        )
        action = f"Fix {workload} to close the file before deleting it (try-with-resources / close()), and restart its pods to release the descriptors now"
    else:
        why = "far more than any other process on the node"
        action = f"Find why {workload} keeps descriptors open (sockets or files it never closes) and restart it to release them"
    return Finding(
        kind="fd_leak",
        subject=f"{workload}:fd_leak",
        role="cause",
        title=f"{who} holds {top.count} open file descriptors{also}: {why}, pushing the node toward its file descriptor limit",
        weight=93,
        evidence=evidence,
        workload=workload,
        recommendations=[rec("high", action)],
        affected=[workload],
    )
