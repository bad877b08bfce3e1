"""``chown``/``chmod`` as root failing on an NFS volume whose export squashes root.

An NFS server exporting with ``root_squash`` (the default of Linux ``exportfs``) or ``all_squash`` maps uid 0 of the
client to the anonymous user (``anonuid``, usually 65534): a container running as root gets "Operation not
permitted" from ``chown``/``chmod`` on files it does not own, however privileged it is in the pod. A volume moved to a
new NAS whose export has ``root_squash`` where the old one had ``no_root_squash`` breaks an init container that
fixes ownership. The fix is on the export (``no_root_squash`` for the client network), or ownership set on the
server, or the app running as the files' owner.
"""
# ruff: noqa: E501  (user-facing messages read better unwrapped)

from __future__ import annotations

import re

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import rec, text_docs
from engine.facts import Observations
from engine.findings import Finding, workload_of
from engine.parsers.common import excerpt

_EXPORT = re.compile(r"^\s*(?P<path>/\S+)\s+(?:\S*\((?P<opts>[^)]*)\)\s*)+")
_SQUASH = re.compile(r"(?<!no_)\b(?P<kind>root_squash|all_squash)\b")
_DENIED = re.compile(r"\b(?P<cmd>chown|chmod|chgrp)\b[^\n]*(?P<error>Operation not permitted|Permission denied)", re.I)
_NFS_PATH = re.compile(r"^\s*\"?path\"?\s*:\s*\"?(?P<path>/[^\s\",]+)")


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    denied = next(((doc, line) for doc in obs.logs for line in doc.lines if _DENIED.search(line)), None)
    if denied is None:
        return []
    nfs_paths = _nfs_paths(obs)
    squashed = None
    for doc in text_docs(obs):
        for line in doc.lines:
            if line.lstrip().startswith("#"):
                continue
            export = _EXPORT.match(line)
            if export is None or not (s := _SQUASH.search(line)):
                continue
            if nfs_paths and export.group("path") not in nfs_paths:
                continue
            squashed = (doc.label, line, export.group("path"), s.group("kind"))
            break
        if squashed:
            break
    if squashed is None:
        return []
    log, line = denied
    pod = log.pod or next(
        (p.name for p in obs.pods if any(c.init and c.reason == "CrashLoopBackOff" for c in p.containers)), ""
    )
    workload = workload_of(pod) if pod else "pod"
    container = f" (container {log.container})" if log.container else ""
    label, export_line, path, kind = squashed
    cmd = _DENIED.search(line)
    verb, error = (cmd.group("cmd"), cmd.group("error")) if cmd else ("chown", "Operation not permitted")
    return [
        Finding(
            kind="nfs_root_squash",
            subject=f"{workload}:nfs_root_squash",
            role="cause",
            title=(
                f"{workload}: {verb} fails with '{error}'{container} because the NFS export {path} is exported with {kind}: "
                f"the server maps the container's root to the anonymous user, so running as root does not allow changing ownership or modes of files on that volume"
            ),
            weight=93,
            evidence=[f"{log.label} {excerpt(line.strip())}", f"{label} {excerpt(export_line.strip(), around=kind)}"],
            workload=workload,
            affected=[workload, *([pod] if pod else [])],
            recommendations=[
                rec(
                    "high",
                    f"Export {path} with no_root_squash for the cluster's network (as the old export had), or set the ownership once on the NAS and drop the {verb} init step / run the app as the files' owner (runAsUser matching the owner)",
                ),
            ],
        )
    ]


def _nfs_paths(obs: Observations) -> set[str]:
    """The export paths the NFS volumes read here mount (``nfs: {server, path}`` of a PV or pod volume)."""
    paths: set[str] = set()
    for doc in obs.texts:
        inside = False
        for line in doc.lines:
            if re.match(r"^\s*\"?nfs\"?\s*:", line):
                inside = True
                continue
            if inside and (m := _NFS_PATH.match(line)):
                paths.add(m.group("path"))
                inside = False
    for resource in obs.resources:
        spec = resource.raw.get("spec") if isinstance(resource.raw, dict) else None
        nfs = spec.get("nfs") if isinstance(spec, dict) else None
        if isinstance(nfs, dict) and isinstance(nfs.get("path"), str):
            paths.add(nfs["path"])
    return paths
