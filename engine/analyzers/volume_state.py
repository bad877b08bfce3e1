"""The state a claim or volume is stuck in, read from its own status and the cluster's classes.

- ``no persistent volumes available for this claim and no storage class is set`` (FailedBinding): the claim names
  no class and the cluster has no default StorageClass (none annotated ``is-default-class``), so nothing
  provisions it; the class list shows the one to name or mark default.
- ``FileSystemResizePending`` (claim condition): the volume was expanded but the file system grows only when a
  pod mounts it again, so ``df`` keeps the old size until the pod restarts.
- ``kubelet_volume_stats_available_bytes`` / ``capacity_bytes`` (KubePersistentVolumeFillingUp): the claim's use;
  the biggest ``du`` entry in the pod names what fills it.
- A ``Released`` PersistentVolume with reclaim policy ``Retain`` keeps the ``claimRef`` of its deleted claim, so a
  new claim naming it (``volumeName``) stays Pending until that claimRef is removed.
"""
# ruff: noqa: E501  (messages read better unwrapped)

from __future__ import annotations

import re

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import rec
from engine.analyzers.scheduling_detail import lines_of
from engine.facts import Observations
from engine.findings import Finding, workload_of
from engine.parsers.common import excerpt

_NO_CLASS = re.compile(r"no persistent volumes available for this claim and no storage class is set")
_SC_HEADER = re.compile(r"^\s*NAME\s+PROVISIONER\s+RECLAIMPOLICY")
_RESIZE_PENDING = re.compile(
    r"FileSystemResizePending|Waiting for user to \(re-\)start a pod to finish file system resize"
)
_VOLUME_STAT = re.compile(
    r"kubelet_volume_stats_(?P<what>available|capacity|used)_bytes\{[^}]*persistentvolumeclaim=\"(?P<claim>[\w.-]+)\"[^}]*\}\s+(?P<value>[\d.e+]+)"
)
_DU = re.compile(r"^(?P<size>\d+(?:\.\d+)?[KMGT]?)\s+(?P<path>/\S+)\s*$")
_RELEASED_ROW = re.compile(
    r"^\s*(?P<pv>[\w.-]+)\s+\S+\s+\S+\s+(?P<policy>Retain|Delete|Recycle)\s+Released\s+(?P<claim>[\w.-]+/[\w.-]+)"
)
_VOLUME_NAME = re.compile(r"^\s*\"?volumeName\"?\s*:\s*\"?(?P<pv>[\w.-]+)")


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    return [
        *_no_default_class(obs, ctx),
        *_resize_pending(obs),
        *_filling(obs),
        *_released(obs, ctx),
        *_stale_attachment(obs, ctx),
        *_rollout_holds_volume(obs),
    ]


_HOLDERS = re.compile(r"Volume is already used by pod\(s\)\s*(?P<holders>[\w.-]+(?:,\s*[\w.-]+)*)")
_STRATEGY = re.compile(
    r"^\s*(?:\"?type\"?\s*:\s*\"?(?P<type>RollingUpdate|Recreate)|(?:strategy\.)?type:\s*(?P<type2>RollingUpdate|Recreate))"
)


def _rollout_holds_volume(obs: Observations) -> list[Finding]:
    """A Multi-Attach error whose holder is an older pod of the same Deployment (another ReplicaSet hash): a
    RollingUpdate starts the new pod before it stops the old one, and the old pod keeps the ReadWriteOnce volume
    until the new one is Ready, which it never becomes: the rollout deadlocks. ``strategy: Recreate`` fixes it."""
    for label, line in lines_of(obs):
        found = _MULTI_ATTACH.search(line)
        holders = _HOLDERS.search(line) if found else None
        if not found or not holders:
            continue
        old = holders.group("holders").split(",")[0].strip()
        deployment = workload_of(old)
        if deployment == old:
            continue
        waiting = [
            p.name
            for p in obs.pods
            if p.name != old
            and workload_of(p.name) == deployment
            and p.name.rsplit("-", 2)[-2:-1] != old.rsplit("-", 2)[-2:-1]
        ]
        if not waiting:
            continue
        strategy = next(
            ((lb, ln, m.group("type") or m.group("type2")) for lb, ln in lines_of(obs) if (m := _STRATEGY.match(ln))),
            None,
        )
        evidence = [f"{label} {excerpt(line.strip(), around='Multi-Attach')}"]
        how = "its RollingUpdate strategy"
        if strategy:
            evidence.append(f"{strategy[0]} {excerpt(strategy[1].strip())}")
            how = f"its strategy {strategy[2]}" if strategy[2] == "RollingUpdate" else how
        return [
            Finding(
                kind="rollout_rwo_deadlock",
                subject=f"{deployment}:rollout_rwo_deadlock",
                role="cause",
                title=f"{deployment}: the rollout is stuck: new pod {waiting[0]} cannot attach volume {found.group('pv')} (ReadWriteOnce, Multi-Attach) because the old pod {old} of the same Deployment still uses it — {how} (maxSurge) starts the new pod before the old one stops, and the old one stays until the new one is Ready",
                weight=92,
                evidence=evidence,
                workload=deployment,
                recommendations=[
                    rec(
                        "high",
                        f"Set {deployment}'s strategy to Recreate (or maxSurge: 0) since it mounts a ReadWriteOnce volume; delete {old} once to let the stuck rollout finish",
                    )
                ],
                affected=[deployment, old, waiting[0]],
            )
        ]
    return []


_MULTI_ATTACH = re.compile(r"Multi-Attach error for volume \\?\"(?P<pv>[\w.-]+)\\?\"")
_POD_OF_EVENT = re.compile(r"pod/(?P<pod>[a-z0-9][\w.-]*)")


def _stale_attachment(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    """A Multi-Attach error whose volume a VolumeAttachment still binds to the old node (``attached: true``), with
    the detach error the attacher reports: the old node's attachment is what to clear."""
    hit = next(((label, line, m) for label, line in lines_of(obs) if (m := _MULTI_ATTACH.search(line))), None)
    if hit is None:
        return []
    _, line, found = hit
    pv = found.group("pv")
    for attachment in (r for r in obs.resources if r.kind == "VolumeAttachment"):
        spec, status = attachment.raw.get("spec") or {}, attachment.raw.get("status") or {}
        source = (spec.get("source") or {}).get("persistentVolumeName") if isinstance(spec, dict) else None
        if source != pv or not isinstance(status, dict):
            continue
        node = spec.get("nodeName")
        detach = (
            (status.get("detachError") or {}).get("message") if isinstance(status.get("detachError"), dict) else None
        )
        pod = _POD_OF_EVENT.search(line)
        owner = pod.group("pod") if pod else next((p.name for p in obs.pods if pv in " ".join(p.volumes_claims)), None)
        owner = owner or next((p.name for p in obs.pods), None) or (ctx.question.named if ctx.question else None)
        why = f"; its detach fails: {detach}" if detach else " (the old node never released it)"
        evidence = [f"{hit[0]} {excerpt(line.strip(), around='Multi-Attach')}", attachment.quote("nodeName")]
        if detach:
            evidence.append(
                attachment.quote("detachError", fallback=f"VolumeAttachment {attachment.name} detachError: {detach}")
            )
        return [
            Finding(
                kind="volume_attachment_stale",
                subject=f"pod/{owner}" if owner else f"persistentvolume/{pv}",
                role="cause",
                title=f"{owner + ': ' if owner else ''}volume {pv} is still attached to the old node {node} (VolumeAttachment {attachment.name}, attached: {str(status.get('attached')).lower()}){why}, so the new pod cannot attach it (Multi-Attach)",
                weight=94,
                evidence=evidence,
                workload=workload_of(owner) if owner else None,
                recommendations=[
                    rec(
                        "high",
                        f"Detach the volume from {node}: drain/stop the old node or unmount it there, force-detach in the cloud if the node is gone, then delete VolumeAttachment {attachment.name}",
                    )
                ],
                affected=[workload_of(owner)] if owner else [],
            )
        ]
    return []


def _claim_of(obs: Observations, ctx: AnalysisContext, near: str = "") -> str | None:
    for event in obs.events:
        if near and near in event.message and event.object_name:
            return event.object_name
    pending = [c.name for c in obs.claims if (c.phase or "").lower() == "pending"]
    if len(pending) == 1:
        return pending[0]
    return ctx.question.named if ctx.question else None


def _no_default_class(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    symptom = next(((label, line) for label, line in lines_of(obs) if _NO_CLASS.search(line)), None)
    if symptom is None:
        return []
    classes: list[tuple[str, str]] = []
    for text in obs.texts:
        inside = False
        for line in text.lines:
            if _SC_HEADER.match(line):
                inside = True
                continue
            cells = line.split()
            if inside and len(cells) >= 3:
                classes.append((line.strip(), f"{text.label} {excerpt(line.strip())}"))
            elif inside:
                inside = False
    if any("(default)" in row for row, _ in classes):
        return []
    claim = _claim_of(obs, ctx, "no storage class is set")
    names = [row.split()[0] for row, _ in classes]
    existing = (
        f"; the cluster has {', '.join(names)} but none is marked default"
        if names
        else "; the cluster has no StorageClass at all"
    )
    evidence = [
        f"{symptom[0]} {excerpt(symptom[1].strip(), around='no storage class')}",
        *[cite for _, cite in classes[:1]],
    ]
    return [
        Finding(
            kind="no_default_storageclass",
            subject=f"persistentvolumeclaim/{claim or 'claim'}",
            role="cause",
            title=f"{'PVC ' + claim if claim else 'The claim'} names no storageClassName and the cluster has no default StorageClass, so no volume is provisioned for it and it stays Pending{existing}",
            weight=90,
            evidence=evidence,
            workload=claim,
            recommendations=[
                rec(
                    "high",
                    f'Set storageClassName: {names[0]} on the claim, or mark {names[0]} default (kubectl patch storageclass {names[0]} -p \'{{"metadata": {{"annotations": {{"storageclass.kubernetes.io/is-default-class": "true"}}}}}}\')'
                    if names
                    else "Install a provisioner and a default StorageClass, or create a matching PersistentVolume",
                )
            ],
            affected=[claim] if claim else [],
        )
    ]


def _resize_pending(obs: Observations) -> list[Finding]:
    claim = next(
        (
            c
            for c in obs.resources
            if c.kind == "PersistentVolumeClaim"
            and any(
                isinstance(cond, dict)
                and cond.get("type") == "FileSystemResizePending"
                and str(cond.get("status")) == "True"
                for cond in (c.raw.get("status") or {}).get("conditions") or []
            )
        ),
        None,
    )
    line = next(((label, text) for label, text in lines_of(obs) if _RESIZE_PENDING.search(text)), None)
    if claim is None and line is None:
        return []
    name = claim.name if claim else None
    if name is None:
        name = next((c.name for c in obs.claims), None)
    requested = (
        str((((claim.raw.get("spec") or {}).get("resources") or {}).get("requests") or {}).get("storage") or "")
        if claim
        else ""
    )
    current = str(((claim.raw.get("status") or {}).get("capacity") or {}).get("storage") or "") if claim else ""
    sizes = f" ({current} now, {requested} requested)" if requested and current else ""
    evidence = [claim.quote("FileSystemResizePending")] if claim else [f"{line[0]} {excerpt(line[1].strip())}"]  # type: ignore[index]
    return [
        Finding(
            kind="filesystem_resize_pending",
            subject=f"persistentvolumeclaim/{name or 'claim'}",
            role="cause",
            title=f"{'PVC ' + name if name else 'The claim'}: the volume was expanded but its file system keeps the old size{sizes} (FileSystemResizePending): the file system grows only when a pod mounts the volume again, so restart the pod that uses it",
            weight=90,
            evidence=evidence,
            workload=name,
            recommendations=[
                rec(
                    "high",
                    "Restart (delete) the pod that mounts the claim so the kubelet resizes the file system on the next mount",
                )
            ],
            affected=[name] if name else [],
        )
    ]


def _filling(obs: Observations) -> list[Finding]:
    stats: dict[str, dict[str, float]] = {}
    cites: dict[str, str] = {}
    for label, line in lines_of(obs):
        found = _VOLUME_STAT.search(line)
        if found:
            stats.setdefault(found.group("claim"), {})[found.group("what")] = float(found.group("value"))
            if found.group("what") in ("available", "used"):
                cites.setdefault(found.group("claim"), f"{label} {excerpt(line.strip())}")
    for claim, values in stats.items():
        capacity, available = values.get("capacity"), values.get("available")
        if available is None and capacity and values.get("used") is not None:
            available = capacity - values["used"]
        if not capacity or available is None or claim not in cites:
            continue
        used = 1 - available / capacity
        if used < 0.85:
            continue
        biggest = max(
            (
                (_bytes(m.group("size")), m.group("path"), label, line)
                for label, line in lines_of(obs)
                if (m := _DU.match(line.strip()))
            ),
            default=None,
        )
        what = f"; most of it is {biggest[1]} ({biggest[3].split()[0]})" if biggest else ""
        evidence = [cites[claim], *([f"{biggest[2]} {excerpt(biggest[3].strip())}"] if biggest else [])]
        return [
            Finding(
                kind="volume_filling_up",
                subject=f"persistentvolumeclaim/{claim}",
                role="cause",
                title=f"PVC {claim} is {round(100 * used)}% full ({_human(available)} of {_human(capacity)} left){what}; writes fail with 'no space left on device' once it is full",
                weight=88,
                evidence=evidence,
                workload=claim,
                recommendations=[
                    rec(
                        "high",
                        f"Free what fills {claim}{' (' + biggest[1] + ')' if biggest else ''} or expand the claim if its StorageClass allows expansion",
                    )
                ],
                affected=[claim, workload_of(claim)],
            )
        ]
    return []


def _released(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    rows = [(label, line, m) for label, line in lines_of(obs) if (m := _RELEASED_ROW.match(line))]
    if not rows:
        rows = _released_described(obs)
    if not rows:
        return []
    wanted = {m.group("pv") for _, line in lines_of(obs) if (m := _VOLUME_NAME.match(line))}
    label, line, row = next(((lb, ln, m) for lb, ln, m in rows if m.group("pv") in wanted), rows[0])
    if not wanted and not any((c.phase or "").lower() == "pending" for c in obs.claims):
        return []
    pv, old = row.group("pv"), row.group("claim")
    claim = old.split("/")[-1]
    return [
        Finding(
            kind="pv_released_claimref",
            subject=f"persistentvolume/{pv}",
            role="cause",
            title=f"PersistentVolume {pv} is Released (reclaim policy {row.group('policy')}): it still holds the claimRef of the deleted claim {old}, so the new claim {claim} cannot bind to it and stays Pending until that claimRef is cleared",
            weight=90,
            evidence=[f"{label} {excerpt(line.strip())}"],
            workload=claim,
            recommendations=[
                rec(
                    "high",
                    f'Clear the stale claimRef so the volume becomes Available: kubectl patch pv {pv} --type json -p \'[{{"op": "remove", "path": "/spec/claimRef"}}]\'',
                )
            ],
            affected=[claim],
        )
    ]


def _released_described(obs: Observations) -> list[tuple[str, str, re.Match[str]]]:
    """``kubectl describe pv``: Name / Reclaim Policy / Status: Released / Claim, turned into a table row."""
    found: list[tuple[str, str, re.Match[str]]] = []
    for text in obs.texts:
        fields = {
            m.group(1): m.group(2).strip()
            for line in text.lines
            if (m := re.match(r"^(Name|Reclaim Policy|Status|Claim):\s+(\S.*)$", line))
        }
        if fields.get("Status") == "Released" and "Name" in fields and "Claim" in fields:
            row = f"{fields['Name']} - - {fields.get('Reclaim Policy', 'Retain')} Released {fields['Claim']}"
            match = _RELEASED_ROW.match(row)
            line = next(ln for ln in text.lines if ln.startswith("Status:"))
            if match:
                found.append((text.label, line, match))
    return found


_UNITS = {"": 1.0, "K": 1024.0, "M": 1024.0**2, "G": 1024.0**3, "T": 1024.0**4}


def _bytes(size: str) -> float:
    found = re.match(r"(\d+(?:\.\d+)?)([KMGT]?)", size)
    return float(found.group(1)) * _UNITS[found.group(2)] if found else 0.0


def _human(value: float) -> str:
    for unit, scale in (("Ti", 1024.0**4), ("Gi", 1024.0**3), ("Mi", 1024.0**2)):
        if value >= scale:
            return f"{value / scale:.1f}{unit}".replace(".0", "")
    return f"{int(value)}B"
