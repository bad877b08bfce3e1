"""A StatefulSet pod left broken on an old revision after the template was fixed or reverted.

With the default ``podManagementPolicy: OrderedReady`` and RollingUpdate, the StatefulSet controller waits for
a pod to be Running and Ready before it updates it; a pod that crash-loops on a bad revision never is, so after
the template is reverted the controller waits forever and the pod must be deleted by hand ("forced rollback",
kubernetes.io/docs/concepts/workloads/controllers/statefulset/#forced-rollback). The pod's revision is its
``controller-revision-hash`` label (a ``-L controller-revision-hash`` column or its metadata); the current one is
the StatefulSet's ``status.updateRevision``, else the highest ``ControllerRevision``.
"""
# ruff: noqa: E501  (messages read better unwrapped)

from __future__ import annotations

import re

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import rec
from engine.analyzers.scheduling_detail import lines_of
from engine.facts import Observations, PodFact
from engine.findings import Finding
from engine.parsers.common import excerpt
from engine.parsers.table import cells, split_tables

_ORDINAL = re.compile(r"^(?P<sts>[a-z0-9][a-z0-9-]*?)-(?P<ordinal>\d+)$")
_BROKEN = (
    "CrashLoopBackOff",
    "Error",
    "ImagePullBackOff",
    "ErrImagePull",
    "CreateContainerConfigError",
    "RunContainerError",
)
_HASH = "controller-revision-hash"


def _revision_numbers(obs: Observations) -> dict[str, int]:
    found: dict[str, int] = {}
    for text in obs.texts:
        if "controllerrevision" not in (text.command or ""):
            continue
        for names, rows, starts in split_tables("\n".join(text.lines)):
            for row in rows:
                values = dict(zip(names, cells(row, starts), strict=False))
                if values.get("NAME") and (values.get("REVISION") or "").isdigit():
                    found[values["NAME"]] = int(values["REVISION"])
    for resource in obs.resources:
        if resource.kind == "ControllerRevision" and isinstance(resource.raw.get("revision"), int):
            found[resource.name] = resource.raw["revision"]
    return found


def _current(sts: str, obs: Observations, numbers: dict[str, int]) -> str | None:
    for resource in obs.resources:
        status = resource.raw.get("status") if resource.kind == "StatefulSet" and resource.name == sts else None
        if isinstance(status, dict) and status.get("updateRevision"):
            return str(status["updateRevision"])
    known = [h for h in numbers if h.startswith(f"{sts}-")]
    # without either, the revision the Ready pods run is not the current one during a rollout (it starts at the
    # highest ordinal, so a broken new pod is the odd one out): no answer
    return max(known, key=lambda h: numbers[h]) if known else None


def _image_of(pod: str, obs: Observations) -> tuple[str, str] | None:
    for text in obs.texts:
        if pod in (text.command or "").split() and "image" in (text.command or ""):
            for line in text.lines:
                match = re.search(r"([\w.-]+(?:/[\w.-]+)+:[\w.-]+)", line)
                if match:
                    return match.group(1), f"{text.label} {excerpt(line.strip())}"
    for label, line in lines_of(obs):
        if "image" in line and pod in label:
            match = re.search(r"([\w.-]+(?:/[\w.-]+)+:[\w.-]+)", line)
            if match:
                return match.group(1), f"{label} {excerpt(line.strip())}"
    return None


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    groups: dict[str, list[PodFact]] = {}
    for pod in obs.pods:
        match = _ORDINAL.match(pod.name)
        if match and pod.labels.get(_HASH) and pod.owner_kind in (None, "StatefulSet"):
            groups.setdefault(match.group("sts"), []).append(pod)
    numbers = _revision_numbers(obs)
    findings: list[Finding] = []
    for sts, pods in groups.items():
        current = _current(sts, obs, numbers)
        if current is None:
            continue
        for pod in pods:
            broken = any(c.reason in _BROKEN or c.last_reason in ("Error",) for c in pod.containers)
            if not broken or pod.labels[_HASH] == current:
                continue
            old = pod.labels[_HASH]
            image = _image_of(pod.name, obs)
            shown = f" (image {image[0]})" if image else ""
            evidence = [pod.cites.get("row") or next((c.cites.get("state", "") for c in pod.containers), "")]
            if image:
                evidence.append(image[1])
            findings.append(
                Finding(
                    kind="statefulset_pod_old_revision",
                    subject=f"pod/{pod.name}",
                    role="cause",
                    title=(
                        f"{pod.name}: it still runs the old revision {old}{shown} while StatefulSet {sts} is at revision {current}: "
                        f"the StatefulSet controller waits for {pod.name} to be Running and Ready before it replaces it, which a broken pod never is, "
                        f"so the revert never reaches it; delete {pod.name} (forced rollback) to recreate it from the current template"
                    ),
                    weight=90,
                    evidence=[e for e in evidence if e],
                    workload=sts,
                    recommendations=[
                        rec(
                            "high",
                            f"kubectl delete pod {pod.name} (the StatefulSet recreates it at revision {current})",
                        )
                    ],
                    affected=[sts],
                )
            )
    return findings
