"""A volume that cannot attach because the node's VM already holds as many data disks as its size allows.

Every cloud VM size has a maximum number of data disks (Azure: "The maximum number of data disks allowed to be
attached to a VM of this size is N", OperationNotAllowed; AWS: AttachmentLimitExceeded; GCE:
maximum_persistent_disks). The CSI driver's CSINode ``allocatable.count`` lets the scheduler place pods by that
limit, but it only counts the volumes the driver attached: a disk attached by hand (a restore or debugging disk)
takes a slot the scheduler does not know about, so a pod lands on a full node and its volume never attaches. The
VM's disk list names the disk that is not a Kubernetes volume.
"""
# ruff: noqa: E501  (documented messages read better unwrapped)

from __future__ import annotations

import re

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import rec
from engine.analyzers.scheduling_detail import lines_of
from engine.facts import Observations
from engine.findings import Finding, workload_of
from engine.parsers.common import excerpt

_LIMIT = re.compile(
    r"maximum number of data disks allowed to be attached to a VM of this size is (?P<n>\d+)"
    r"|(?P<aws>AttachmentLimitExceeded)|(?P<gce>maximum_persistent_disks)",
    re.IGNORECASE,
)
_VOLUME = re.compile(r"AttachVolume\.Attach failed for volume \\?\"(?P<volume>[\w.-]+)")
_INSTANCE = re.compile(r"\bto (?:instance|node) \\?\"?(?P<node>[\w.-]+)")
# {"lun": 2, "name": "restore-scratch-01", ...} / "lun": 2 ... in az/aws JSON, or a "LUN NAME" table row
_LUN = re.compile(
    r"""["']?lun["']?\s*:\s*(?P<lun>\d+)\s*,\s*["']?name["']?\s*:\s*["'](?P<name>[\w.-]+)["']""", re.IGNORECASE
)
_VM_SIZE = re.compile(r"""["']?(?:size|vmSize|sku)["']?\s*:\s*["'](?P<size>Standard_[\w-]+)["']""")
_KUBERNETES_DISK = re.compile(r"^(?:pvc-|kubernetes-dynamic-pvc-|restore-pvc-)", re.IGNORECASE)


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    del ctx
    limit: tuple[str, str] | None = None  # (the limit in words, cite)
    volume = node = size = None
    luns: list[tuple[str, str]] = []  # (disk name, cite)
    for label, line in lines_of(obs):
        found = _LIMIT.search(line)
        if found and limit is None:
            words = (
                f"at most {found.group('n')} data disks"
                if found.group("n")
                else "the instance's volume attachment limit"
            )
            limit = (words, f"{label} {excerpt(line.strip(), around=found.group(0))}")
        volume = volume or _group(_VOLUME, line, "volume")
        node = node or _group(_INSTANCE, line, "node")
        size = size or _group(_VM_SIZE, line, "size")
        lun = _LUN.search(line)
        if lun:
            luns.append((lun.group("name"), f"{label} {excerpt(line.strip(), around=lun.group('name'))}"))
    if limit is None:
        return []
    owner = next(
        (
            e.object_name
            for e in obs.events
            if e.object_name and _VOLUME.search(e.message) and e.object_kind in (None, "Pod")
        ),
        None,
    )
    pod = next((p for p in obs.pods if p.name == owner), None)
    node = node or (pod.node if pod else None)
    foreign = [(name, cite) for name, cite in luns if not _KUBERNETES_DISK.match(name)]
    evidence = [limit[1]]
    title = (
        f"{owner + ': ' if owner else ''}volume {volume or 'the volume'} cannot be attached: node {node or 'the node'}"
        f"{f' ({size})' if size else ''} already holds the maximum number of data disks its VM size allows ({limit[0]})"
    )
    if foreign:
        names = ", ".join(name for name, _ in foreign)
        title += (
            f"; disk {names} takes a slot but is not a Kubernetes volume (attached by hand), so the CSI driver's "
            "attach limit the scheduler uses does not count it and the pod was placed on a full node"
        )
        evidence += [cite for _, cite in foreign[:2]]
    workload = workload_of(owner) if owner else None
    return [
        Finding(
            kind="data_disk_limit",
            subject=f"{workload or node or 'node'}:data_disk_limit",
            role="cause",
            title=title,
            weight=93,
            evidence=evidence,
            workload=workload,
            related=[node] if node else [],
            recommendations=[
                rec(
                    "high",
                    f"Detach the disk that is not a Kubernetes volume{f' ({foreign[0][0]})' if foreign else ''} from "
                    f"{node or 'the node'}, or move the pod to a node with a free slot / a VM size with more data disks",
                )
            ],
            affected=[workload] if workload else [],
        )
    ]


def _group(pattern: re.Pattern[str], line: str, name: str) -> str | None:
    found = pattern.search(line)
    return found.group(name) if found else None
