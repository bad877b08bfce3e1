"""Filesystems nearly full, as ``df`` prints them, with the biggest directory ``du`` listed next to it.

A volume at 90 % or more is about to refuse writes (ENOSPC): databases stop, log shippers drop, Prometheus and
Loki stop ingesting. The pod the command ran in (``kubectl exec <pod> -- df``) names what owns the volume.
"""
# ruff: noqa: E501  (user-facing messages read better unwrapped)

from __future__ import annotations

import re
from dataclasses import dataclass

from engine.analysis_context import AnalysisContext
from engine.analyzers import disk_owner
from engine.analyzers.common import rec
from engine.analyzers.log_signatures import doc_source
from engine.facts import Observations
from engine.findings import Finding, workload_of
from engine.parsers.common import excerpt

_DF_HEADER = re.compile(
    r"^Filesystem\s+(?:Size|1K-blocks|1M-blocks|\d+-blocks)\s+Used\s+Avail(?:able)?\s+(?:Use%|Capacity)\s+Mounted on",
    re.I,
)
# df -i: the same rows counting inodes; a filesystem out of inodes refuses new files (ENOSPC) with blocks free
_DF_INODE_HEADER = re.compile(r"^Filesystem\s+Inodes\s+IUsed\s+IFree\s+IUse%\s+Mounted on", re.I)
_DF_ROW = re.compile(
    r"^(?P<fs>\S+)\s+(?P<size>\S+)\s+(?P<used>\S+)\s+(?P<avail>\S+)\s+(?P<pct>\d+)%\s+(?P<mount>/\S*)\s*$"
)
_DU_ROW = re.compile(r"^(?P<size>\d+(?:\.\d+)?[KMGT]?)\s+(?P<path>/\S+)\s*$")
# root@node-3:~# df -h, [ec2-user@ip-10-2-8-14 ~]$ sudo df -h (Debian and Red Hat style prompts)
_SHELL_HOST = re.compile(r"^\s*\[?[\w.-]+@(?P<host>[a-z0-9][\w.-]*)(?:[: ][^#$\]]*)?\]?[#$]\s")
_EXEC = re.compile(r"kubectl\b.*?\bexec\s+(?:-\S+\s+)*(?:pod/)?(?P<pod>[a-z0-9][\w.-]*)")
_DEBUG_NODE = re.compile(r"\bdebug\s+(?:-\S+\s+)*node/(?P<node>[a-z0-9][\w.-]*)")
_UNITS = {"": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}


@dataclass
class _Full:
    label: str
    line: str
    mount: str
    pct: int
    avail: str
    pod: str | None
    node: str | None = None  # the host whose root shell printed it
    inodes: bool = False  # a `df -i` row: the inode table is what is used up


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    full: list[_Full] = []
    biggest: tuple[float, str, str, str] | None = None  # bytes, path, line, label
    du_rows: list[disk_owner.DuRow] = []
    # a paste split per command keeps its command line apart: `kubectl exec <pod> -- df` names the pod
    sources: list[tuple[str, list[str], str | None, str]] = [
        (t.label, t.lines, _exec_pod(t.command), t.command) for t in obs.texts
    ]
    sources += [(d.label, d.lines, d.pod or _exec_pod(d.command), d.command) for d in obs.logs]
    for label, lines, pod, printed_by in sources:
        in_df, inodes = False, False
        debug = _DEBUG_NODE.search(printed_by)  # `kubectl debug node/x -it --image=... -- chroot /host sh`
        node = debug.group("node") if debug else None
        for line in lines[:5000]:
            command = _EXEC.search(line)
            if command:
                pod, in_df = command.group("pod"), False
            shell = _SHELL_HOST.match(line)
            if shell and not command:
                node = shell.group("host")
            if _DF_HEADER.match(line.strip()) or _DF_INODE_HEADER.match(line.strip()):
                in_df, inodes = True, bool(_DF_INODE_HEADER.match(line.strip()))
                continue
            row = _DF_ROW.match(line.strip()) if in_df else None
            if row and int(row.group("pct")) >= 90 and not row.group("fs").startswith(("tmpfs", "overlay", "shm")):
                on_node = node if pod is None else None
                full.append(
                    _Full(
                        label, line, row.group("mount"), int(row.group("pct")), row.group("avail"), pod, on_node, inodes
                    )
                )
            du = _DU_ROW.match(line.strip())
            if du:
                du_rows.append(disk_owner.DuRow(_bytes(du.group("size")), du.group("path"), line, label))
            if du and (biggest is None or _bytes(du.group("size")) > biggest[0]):
                biggest = (_bytes(du.group("size")), du.group("path"), line, label)
    asked = (ctx.question.named if ctx.question else None) or ctx.service
    full.sort(key=lambda item: not item.inodes)  # out of inodes is the surprise that explains ENOSPC
    found = []
    for item in full[:2]:
        largest = biggest if biggest and biggest[1].startswith(item.mount) else None
        whose = ("", "")
        if largest and (item.node or (item.pod is None and disk_owner.in_layer(largest[1]))):
            deepest = disk_owner.culprit(du_rows, disk_owner.DuRow(*largest))
            largest = (deepest.size, deepest.path, deepest.line, deepest.label)
            whose = disk_owner.owner(
                deepest.path,
                du_rows,
                [(t.label, t.command, t.lines) for t in obs.texts] + [(d.label, d.command, d.lines) for d in obs.logs],
            )
            if not whose[0]:
                whose = disk_owner.layer_owner(deepest.path, obs.pods, item.node or asked)
        finding = _finding(item, _owner(item, asked), largest, whose)
        if item.node and whose[0]:  # what fills the node's disk is what its DiskPressure and evictions come from
            finding.related = [f"node/{n.name}" for n in obs.nodes if n.name.split(".")[0] == item.node]
        _writers(item, finding, obs, ctx)
        found.append(finding)
    return found


_ENOSPC = re.compile(r"no space left on device|ENOSPC", re.IGNORECASE)


def _writers(item: _Full, finding: Finding, obs: Observations, ctx: AnalysisContext) -> None:
    """Other workloads whose logs show a write under this mount failing with ENOSPC (often relayed from the
    server's answer: "rpc error ... write /var/loki/wal/...: no space left on device") are its victims."""
    if item.mount == "/":
        return
    path = re.compile(rf"{re.escape(item.mount)}(?:/|\b)")
    for doc in obs.logs:
        line = next((line for line in doc.lines[:20000] if _ENOSPC.search(line) and path.search(line)), None)
        source = doc_source(doc, ctx) if line else None
        client = workload_of(source) if source else None
        if line is None or client is None or client == finding.workload or client in finding.related:
            continue
        finding.related.append(client)
        finding.evidence.append(f"{doc.label} {excerpt(line.strip())}")
        finding.weight = max(finding.weight, 92)  # a write under it failing elsewhere confirms it


def _owner(item: _Full, asked: str | None) -> str | None:
    if item.pod and asked and asked.endswith(f"-{item.pod}"):
        return asked  # the claim asked about is this pod's volume (a StatefulSet's <template>-<pod> claim)
    return item.pod or item.node or asked


def _exec_pod(command: str) -> str | None:
    match = _EXEC.search(command)
    return match.group("pod") if match else None


def _bytes(size: str) -> float:
    number, unit = re.fullmatch(r"(\d+(?:\.\d+)?)([KMGT]?)", size).groups()  # type: ignore[union-attr]
    return float(number) * _UNITS[unit]


def _finding(
    item: _Full, owner: str | None, biggest: tuple[float, str, str, str] | None, whose: tuple[str, str] = ("", "")
) -> Finding:
    largest = f"; most of it is {biggest[1]} ({biggest[2].split()[0]})" if biggest else ""
    if whose[0]:
        largest += f", {whose[0]}"
    what = f"the disk (filesystem) mounted at {item.mount} is {item.pct}% full ({item.avail} available)"
    if item.inodes:
        largest = f"; most files are under {biggest[1]} ({biggest[2].split()[0]})" if biggest else ""
        what = f"the filesystem mounted at {item.mount} is out of inodes (IUse {item.pct}%, {item.avail} inodes free), so new files fail with 'no space left on device' even with blocks free"
    evidence = [f"{item.label} {excerpt(item.line.strip())}"]
    if biggest:
        evidence.append(f"{biggest[3]} {excerpt(biggest[2].strip())}")
    if whose[1]:
        evidence.append(whose[1])
    workload = (owner if item.node else workload_of(owner)) if owner else None
    return Finding(
        kind="filesystem_full",
        subject=f"{'node' if item.node else 'pod'}/{owner}" if owner else f"filesystem:{item.mount}",
        role="cause",
        title=f"{owner + ': ' if owner else ''}{what if item.inodes else what + ", so writes will soon fail with 'no space left on device'"}{largest}",
        weight=92
        if item.inodes
        else (90 if item.node and biggest else 84)
        if item.pct >= 95
        else (88 if whose[0] else 76),
        evidence=evidence,
        workload=workload,
        recommendations=[
            rec(
                "high",
                f"Free space under {biggest[1] if biggest else item.mount} (retention, compaction) or expand the volume (PVC resize if the StorageClass allows expansion)",
            )
        ],
        affected=[workload] if workload else [],
    )
