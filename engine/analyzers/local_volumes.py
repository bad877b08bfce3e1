"""Local PersistentVolumes that the static provisioner never creates because the disk is not mounted.

The local static provisioner (sig-storage-local-static-provisioner, ``local-volume-provisioner``) creates one PV per
*mount point* under its discovery directory (``/mnt/fast-disks``); a directory or a symlink there that is not a
mount point is skipped with "path ... is not an actual mountpoint". On a new node whose disk is attached but not
formatted and mounted (or bind-mounted) there, no local PV exists: the StatefulSet pods meant for those nodes stay
Pending with "didn't find available persistent volumes to bind" and their WaitForFirstConsumer claims stay
Pending too.
"""
# ruff: noqa: E501  (user-facing messages read better unwrapped)

from __future__ import annotations

import re

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import rec, text_docs, workload_name
from engine.facts import Observations
from engine.findings import Finding
from engine.parsers.common import excerpt

_NOT_MOUNTED = re.compile(r"path \\?\"?(?P<path>/[^\"\\\]\s]+)\\?\"? is not an actual mount ?point", re.I)
_NO_PV = re.compile(r"didn't find available persistent volumes to bind", re.I)


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    hits: list[tuple[str, str, str]] = []
    for doc in text_docs(obs):
        for line in doc.lines:
            if m := _NOT_MOUNTED.search(line):
                hits.append((doc.label, line, m.group("path")))
    if not hits:
        return []
    waiting = any(_NO_PV.search(e.message) for e in obs.events) or any(
        (c.phase or "").lower() == "pending" for c in obs.claims
    )
    pending = list(
        dict.fromkeys(p.name for p in obs.pods if (p.phase or "").lower() == "pending" or _row_pending(p.name, obs))
    )
    if not waiting or not pending:
        return []
    label, line, path = hits[0]
    nodes = _provisioner_nodes(hits, obs)
    where = f" on {', '.join(nodes)}" if nodes else ""
    pod = next(p for p in obs.pods if p.name == pending[0])
    workload = workload_name(pod)
    claims = [c.name for c in obs.claims if (c.phase or "").lower() == "pending"]
    evidence = [f"{label} {excerpt(line.strip(), around='not an actual mountpoint')}"]
    evidence.extend(e.cite for e in obs.events if _NO_PV.search(e.message) and e.cite)
    return [
        Finding(
            kind="local_pv_not_mountpoint",
            subject=f"{workload}:local_pv_not_mountpoint",
            role="cause",
            title=(
                f"{workload}: {', '.join(pending[:4])} stay Pending because no local PersistentVolume exists for them{where}: the local volume provisioner skips {path}, "
                f"which is not an actual mountpoint (the disk is attached but not mounted under the discovery directory), so it creates no PV and the scheduler finds no available persistent volumes to bind"
                + (f" (claims {', '.join(claims[:4])} stay Pending)" if claims else "")
            ),
            weight=93,
            evidence=evidence[:3],
            workload=workload,
            affected=[workload, *pending[:6]],
            related=claims[:4],
            recommendations=[
                rec(
                    "high",
                    f"Format and mount the disk at {path} on the new nodes (or bind-mount it there; symlinks and plain directories are skipped), e.g. in the node bootstrap script; the provisioner then creates the PVs and the pods bind and schedule",
                ),
            ],
        )
    ]


def _row_pending(name: str, obs: Observations) -> bool:
    return any(
        re.match(rf"(?:pod/)?{re.escape(name)}\s+\d+/\d+\s+Pending\b", line) for doc in obs.texts for line in doc.lines
    )


def _provisioner_nodes(hits: list[tuple[str, str, str]], obs: Observations) -> list[str]:
    """The nodes of the provisioner pods that print the error (``stern`` prefixes a line with its pod's name), from
    their pod facts or a two-column NAME NODE print."""
    pods = {line.split()[0] for _, line, _ in hits if line.split()}
    nodes: list[str] = []
    for doc in text_docs(obs):
        for line in doc.lines:
            cells = line.split()
            if len(cells) == 2 and cells[0] in pods and re.fullmatch(r"[a-z0-9][a-z0-9.-]+", cells[1]):
                nodes.append(cells[-1])
    nodes.extend(p.node for p in obs.pods if p.name in pods and p.node)
    return list(dict.fromkeys(nodes))
