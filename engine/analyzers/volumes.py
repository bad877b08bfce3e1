"""PersistentVolumeClaims in the states the Kubernetes storage docs describe as stuck.

- **Lost**: the claim was bound, and its PersistentVolume no longer exists (deleted by hand, by a cleanup job,
  or with its reclaim policy). The persistentvolume-controller prints ``ClaimLost``; the data is gone unless a
  snapshot exists, and a pod mounting it cannot start.
- **Terminating**: a deleted claim keeps its ``kubernetes.io/pvc-protection`` finalizer while any pod still
  uses it (Storage Object in Use Protection); the pods named in ``Used By`` (describe) or whose volumes name
  the claim (pod specs) hold it.
"""
# ruff: noqa: E501  (user-facing messages read better unwrapped)

from __future__ import annotations

import re

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import rec
from engine.analyzers.scheduling_detail import lines_of
from engine.facts import Observations
from engine.findings import Finding, workload_of
from engine.parsers.common import excerpt

_PV_NAME = re.compile(r"\bpvc-[0-9a-f]{8}-[0-9a-f-]{27}\b")
_USED_BY = re.compile(r"^\s*Used By:\s+(\S.*?)\s*$")


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    del ctx
    findings: list[Finding] = []
    states: dict[str, tuple[str, str]] = {}  # claim -> (phase, cite)
    for claim in obs.claims:
        if claim.phase in ("Lost", "Terminating"):
            states.setdefault(claim.name, (claim.phase, claim.cite))
    for resource in obs.resources:
        meta = resource.raw.get("metadata")
        if resource.kind == "PersistentVolumeClaim" and isinstance(meta, dict) and meta.get("deletionTimestamp"):
            states.setdefault(resource.name, ("Terminating", resource.quote("deletionTimestamp")))
    for event in obs.events:
        if event.reason == "ClaimLost" and event.object_name:
            states.setdefault(event.object_name, ("Lost", event.cite))
    for name, (phase, cite) in states.items():
        finding = _lost(name, cite, obs) if phase == "Lost" else _terminating(name, cite, obs)
        if finding:
            findings.append(finding)
    findings.extend(_not_expandable(obs))
    return findings


_NO_EXPANSION = re.compile(
    r"didn't find a plugin capable of expanding the volume|only dynamically provisioned pvc can be resized and the storageclass that provisions the pvc must support resize|storageclass .{0,40}does not support (?:volume )?expansion",
    re.I,
)


_REFUSED_CLAIM = re.compile(r"persistentvolumeclaims? \\?\"([a-z0-9][\w.-]*)\\?\" is forbidden")


def _not_expandable(obs: Observations) -> list[Finding]:
    """A resize that never happens: the claim's StorageClass does not allow volume expansion (or no plugin can)."""
    classes = {r.name.split(" ")[0]: r for r in obs.resources if r.kind == "StorageClass"}
    found: list[Finding] = []
    refusals = [
        (event.object_name, event.cite)
        for event in obs.events
        if event.object_name and (_NO_EXPANSION.search(event.message) or event.reason == "VolumeResizeFailed")
    ]
    for label, line in lines_of(obs):  # the API server refusing the patch: kubectl's "Error from server (Forbidden)"
        refused = _REFUSED_CLAIM.search(line) if _NO_EXPANSION.search(line) else None
        if refused:
            refusals.append((refused.group(1), f"{label} {excerpt(line.strip())}"))
    for name, cite in refusals:
        claim = next((c for c in obs.claims if c.name == name), None)
        storage_class = claim.storage_class if claim else None
        evidence = [cite]
        detail = ""
        resource = classes.get(storage_class or "")
        if resource is not None:
            allowed = resource.raw.get("allowVolumeExpansion")
            if allowed is not True:
                detail = f"; StorageClass {storage_class} does not set allowVolumeExpansion: true" + (
                    f" (provisioner {resource.raw.get('provisioner')})" if resource.raw.get("provisioner") else ""
                )
                evidence.append(resource.quote("allowVolumeExpansion") or resource.quote(storage_class or ""))
        elif printed := _printed_expansion(obs):  # `kubectl get sc <name> -o yaml | grep expansion`
            detail = f"; StorageClass {printed[0]} sets allowVolumeExpansion: false"
            evidence.append(printed[1])
        elif storage_class:
            detail = f"; its StorageClass {storage_class} must allow volume expansion (allowVolumeExpansion: true) with a provisioner that can resize"
        users = _claim_users(name, obs)
        full = next((f"{lb} {excerpt(ln.strip())}" for lb, ln in lines_of(obs) if _FULL.search(ln)), "")
        if full:  # the resize was the fix for a full volume: refused, the volume stays full
            evidence.append(full)
        found.append(
            Finding(
                kind="claim_not_expandable",
                subject=f"persistentvolumeclaim/{name}",
                role="cause",
                title=f"{name}: PersistentVolumeClaim {name} cannot be resized: no volume plugin can expand it{detail}, so its capacity stays the same{" and the full volume keeps refusing writes ('No space left on device')" if full else ''}",
                weight=93 if full else 88,
                evidence=[e for e in evidence if e],
                workload=workload_of(users[0]) if full and users else name,  # the workload whose volume stays full
                recommendations=[
                    rec(
                        "high",
                        "Use a StorageClass whose provisioner supports expansion (allowVolumeExpansion: true), or migrate the data to a bigger claim",
                    )
                ],
                affected=[name],
                related=users,
            )
        )
        break
    return found


_FULL = re.compile(r"No space left on device|^\S+\s+\S+\s+\S+\s+0\s+100%\s+/(?!dev/shm)")


def _claim_users(claim: str, obs: Observations) -> list[str]:
    """The pods a claim belongs to: ``<template>-<statefulset>-<ordinal>`` is pod ``<statefulset>-<ordinal>``'s."""
    pods = [p.name for p in obs.pods if claim in p.volumes_claims]
    if not pods:
        found = re.match(r"^[a-z0-9]+(?:-[a-z0-9]+)*?-(?P<pod>[a-z0-9][a-z0-9-]*-\d+)$", claim)
        pods = [found.group("pod")] if found else []
    return pods


def _printed_expansion(obs: Observations) -> tuple[str, str] | None:
    """A StorageClass named by the command that printed ``allowVolumeExpansion: false`` (a filtered ``get sc``)."""
    for label, lines, command in [(t.label, t.lines, t.command) for t in obs.texts] + [
        (d.label, d.lines, d.command) for d in obs.logs
    ]:
        named = re.search(
            r"\bget\s+(?:sc|storageclass(?:es)?)(?:\.storage\.k8s\.io)?\s+([a-z0-9][\w.-]*)", command or ""
        )
        line = next((ln for ln in lines if re.search(r"allowVolumeExpansion\"?\s*:\s*\"?false", ln)), None)
        if named and line:
            return named.group(1), f"{label} {excerpt(line.strip())}"
    return None


def _lost(name: str, cite: str, obs: Observations) -> Finding:
    evidence = [cite, *(e.cite for e in obs.events if e.reason == "ClaimLost" and e.object_name in (name, None))]
    volume = next((m.group(0) for line in (cite,) if (m := _PV_NAME.search(line))), "")
    gone = ""
    if volume:
        for label, line in lines_of(obs):
            if volume not in line:
                continue
            lowered = line.lower()
            if "not found" in lowered or "notfound" in lowered:
                evidence.append(f"{label} {excerpt(line.strip(), around=volume)}")
                gone = gone or f"; PersistentVolume {volume} is not found"
            if '"delete"' in lowered or "deleted" in lowered:
                evidence.append(f"{label} {excerpt(line.strip(), around=volume)}")
                user = re.search(r'"username"\s*:\s*"([^"]+)"', line)
                gone = f"; PersistentVolume {volume} was deleted" + (f" by {user.group(1)}" if user else "")
    bound = f" ({volume})" if volume else ""
    return Finding(
        kind="claim_lost",
        subject=f"persistentvolumeclaim/{name}",
        role="cause",
        title=f"{name}: PersistentVolumeClaim {name} is Lost: the PersistentVolume it was bound to{bound} no longer exists{gone}, so the pod that mounts it cannot start and its data is lost unless a snapshot or backup exists",
        weight=90,
        evidence=[e for e in dict.fromkeys(evidence) if e],
        workload=name,
        recommendations=[
            rec(
                "high",
                f"Restore the volume from a snapshot/backup into a new PersistentVolume and recreate claim {name} bound to it (or delete the claim so the StatefulSet provisions an empty one)",
            ),
            rec(
                "medium",
                "Set persistentVolumeReclaimPolicy: Retain on volumes holding data and restrict who may delete PersistentVolumes",
            ),
        ],
        affected=[name],
    )


def _terminating(name: str, cite: str, obs: Observations) -> Finding | None:
    users: list[str] = []
    evidence = [cite]
    for label, line in lines_of(obs):
        used = _USED_BY.match(line)
        if used and used.group(1) != "<none>":
            users.extend(u.strip() for u in used.group(1).split(","))
            evidence.append(f"{label} {excerpt(line.strip())}")
    users.extend(
        pod.name for pod in obs.pods if name in pod.volumes_claims and pod.phase not in ("Succeeded", "Failed")
    )
    finalizer = next(
        (
            f"{label} {excerpt(line.strip(), around='pvc-protection')}"
            for label, line in lines_of(obs)
            if "kubernetes.io/pvc-protection" in line
        ),
        "",
    )
    if not users and not finalizer:
        return None
    evidence.append(finalizer)
    users = list(dict.fromkeys(users))
    holder = f"pod {', '.join(users)} still uses it" if users else "a pod still uses it"
    return Finding(
        kind="claim_terminating_in_use",
        subject=f"persistentvolumeclaim/{name}",
        role="cause",
        title=f"{name}: PersistentVolumeClaim {name} stays Terminating because {holder}: the kubernetes.io/pvc-protection finalizer keeps a claim in use from being removed",
        weight=88,
        evidence=[e for e in dict.fromkeys(evidence) if e],
        workload=name,
        recommendations=[
            rec(
                "high",
                f"Delete or scale down {', '.join(users) if users else 'the pod that mounts it'}; the claim is removed once no pod uses it (do not strip the finalizer while it is mounted)",
            ),
        ],
        affected=[name, *users],
    )
