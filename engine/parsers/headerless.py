"""``kubectl get pods ... | grep x`` rows whose header the filter dropped.

``grep``/``tail`` keep the rows of a ``kubectl get pods`` table but not its header, so nothing reads them as pods.
The command line says what they are: the default columns (NAME READY STATUS RESTARTS AGE), ``NAMESPACE`` first
with ``-A``, ``IP NODE NOMINATED NODE READINESS GATES`` with ``-o wide`` and ``LABELS`` with ``--show-labels``. A
header is written back at the rows' own column positions when every row has exactly those columns.
"""

from __future__ import annotations

import re

from engine.parsers.table import is_header

_GET_PODS = re.compile(r"\bget\s+(?:-\S+\s+|--\S+\s+|-[ln]\s+\S+\s+)*(?:pods?|po)\b(?![/.\w-])")
_FILTER = re.compile(r"\|\s*(?:grep|egrep|tail|awk|sed)\b")
_ROW = re.compile(r"^\S+\s{2,}\d+/\d+\s{2,}\S")


def with_pod_header(content: str, command: str) -> str:
    """``content`` with a ``kubectl get pods`` header put back, when a filter in ``command`` removed it."""
    if not command or not _FILTER.search(command) or not _GET_PODS.search(command.split("|", 1)[0]):
        return content
    lines = [line for line in content.splitlines() if line.strip()]
    if not lines or any(is_header(line) for line in lines[:3]):
        return content
    head = command.split("|", 1)[0]
    names = ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    if re.search(r"(?:^|\s)(?:-a|--all-namespaces)\b", head, re.IGNORECASE):
        names.insert(0, "NAMESPACE")
    if re.search(r"-o\s*=?\s*wide\b", head):
        names += ["IP", "NODE", "NOMINATED NODE", "READINESS GATES"]
    if "--show-labels" in head:
        names.append("LABELS")
    first = lines[0]
    starts = [m.start() for m in re.finditer(r"(?:(?<=\s\s)|^)\S", first)]
    if not _ROW.match(first if names[0] == "NAME" else first.split(None, 1)[-1]) or len(starts) != len(names):
        return content
    if any(len(re.split(r"\s{2,}", line.strip())) != len(names) for line in lines):
        return content  # a row with another shape: not this table
    header = ""
    for start, name in zip(starts, names, strict=True):
        header = header.ljust(start) + name if header else " " * start + name
    return f"{header}\n{content}"
