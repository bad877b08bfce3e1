"""ReplicaSets left without an owner keep serving the old version.

``kubectl delete deployment x --cascade=orphan`` (the usual recipe for changing a Deployment's immutable selector)
deletes the Deployment but leaves its ReplicaSets and their pods running, with no ``ownerReferences``. The new
Deployment does not adopt a ReplicaSet its selector does not match, so the old pods are never scaled down, while a
Service whose selector still matches them (``app: x``) keeps sending them a share of the traffic: the old version
answers some requests although "rollout status" says the new one rolled out.
"""
# ruff: noqa: E501  (user-facing messages read better unwrapped)

from __future__ import annotations

import re

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import rec
from engine.facts import LogDoc, Observations, TextDoc
from engine.findings import Finding, workload_of
from engine.parsers.common import excerpt

_NONE = ("<none>", "", "null", "none")
_IMAGE = re.compile(r"\s(?P<image>[\w.-]+(?:\.[\w-]+)*(?::\d+)?/[\w./-]+:[\w.-]+)\s")
_ORPHAN_CMD = re.compile(r"--cascade[= ]orphan|--cascade=false")


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    rows = _owner_rows(obs)
    findings: list[Finding] = []
    for name, desired, owner, cite in rows:
        if owner.lower() not in _NONE or desired == 0:
            continue
        base = workload_of(name)
        owned = [r for r in rows if r[0] != name and workload_of(r[0]) == base and r[2].lower() not in _NONE]
        orphan_cmd = _orphan_command(obs, base)
        if not owned and orphan_cmd is None:
            continue
        evidence = [cite]
        if orphan_cmd:  # "" when only a command line shows it
            evidence.append(orphan_cmd)
        image = _image_of(name, obs)
        version = f" of the old version ({image})" if image else ""
        how = (
            "no ownerReferences; left behind when the Deployment was deleted with --cascade=orphan"
            if orphan_cmd is not None
            else "no ownerReferences"
        )
        findings.append(
            Finding(
                kind="replicaset_orphaned",
                subject=f"{base}:replicaset_orphaned",
                role="cause",
                title=(
                    f"{base}: ReplicaSet {name} has no owner ({how}) and still runs {desired} pods{version}; the new Deployment does not manage it, "
                    f"so nothing scales it down, and a Service selecting these pods keeps sending them part of the traffic"
                ),
                weight=91,
                evidence=evidence,
                workload=base,
                affected=[base, name],
                recommendations=[
                    rec(
                        "high",
                        f"Delete the orphaned ReplicaSet once the new version serves everything: kubectl delete rs {name} (its pods go with it); make the Service selector match only the new Deployment's labels",
                    ),
                ],
            )
        )
    return findings[:1]


def _owner_rows(obs: Observations) -> list[tuple[str, int, str, str]]:
    """(ReplicaSet, desired replicas, owner name or <none>, cite) from an OWNER column or ReplicaSet objects."""
    rows: list[tuple[str, int, str, str]] = []
    for text in obs.texts:
        header = next(
            (i for i, line in enumerate(text.lines) if re.match(r"^NAME\s", line) and re.search(r"\sOWNER", line)), None
        )
        if header is None:
            continue
        head = text.lines[header]
        at = head.index("OWNER", head.index(" "))
        desired_at = head.find("DESIRED")
        for line in text.lines[header + 1 :]:
            if not line.strip() or len(line) <= at:
                continue
            owner_cells = line[at:].split()
            desired_cells = line[desired_at:].split() if desired_at > 0 else []
            desired = int(desired_cells[0]) if desired_cells and desired_cells[0].isdigit() else 1
            rows.append(
                (
                    line.split()[0],
                    desired,
                    owner_cells[0] if owner_cells else "",
                    f"{text.label} {excerpt(line.strip())}",
                )
            )
    for resource in obs.resources:
        if resource.kind != "ReplicaSet":
            continue
        meta = resource.raw.get("metadata") or {}
        spec = resource.raw.get("spec") or {}
        owners = meta.get("ownerReferences") or []
        owner = str(owners[0].get("name", "")) if owners and isinstance(owners[0], dict) else "<none>"
        replicas = spec.get("replicas", 1)
        rows.append(
            (resource.name, int(replicas) if isinstance(replicas, int) else 1, owner, resource.quote(resource.name))
        )
    return rows


def _orphan_command(obs: Observations, base: str) -> str | None:
    """The ``--cascade=orphan`` delete of the workload, as a cite ("" when only a document's command line shows it)."""
    docs: list[TextDoc | LogDoc] = [*obs.texts, *obs.logs]
    for doc in docs:
        for line in doc.lines:
            if _ORPHAN_CMD.search(line) and base in line:
                return f"{doc.label} {excerpt(line.strip())}"
        if _ORPHAN_CMD.search(doc.command) and base in doc.command:
            return ""
    return None


def _image_of(replicaset: str, obs: Observations) -> str:
    for pod in obs.pods:
        if pod.name.startswith(f"{replicaset}-"):
            image = next((c.image for c in pod.containers if c.image), None)
            if image:
                return image
    for text in obs.texts:
        for line in text.lines:
            if line.startswith(f"{replicaset}-") and (m := _IMAGE.search(line)):
                return m.group("image")
    return ""
