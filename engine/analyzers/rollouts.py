"""Update strategies that hold a rollout back by design, read from any format that prints them.

- ``updateStrategy.type: OnDelete`` (DaemonSet or StatefulSet): a template change replaces no running pod; only
  pods deleted by hand come back with the new template (kubernetes.io/docs/tasks/manage-daemon/update-daemon-set/).
- ``updateStrategy.rollingUpdate.partition: N`` (StatefulSet): only pods with an ordinal >= N are updated; the
  others keep the old revision even when deleted (kubernetes.io/docs/concepts/workloads/controllers/statefulset/#partitions).

Each is named with the counts that show it (``UP-TO-DATE 0`` of ``DESIRED 14``, ``updatedReplicas: 2`` of 5).
"""
# ruff: noqa: E501  (user-facing messages read better unwrapped)

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import rec
from engine.facts import Observations
from engine.findings import Finding
from engine.parsers.command_line import command_object

_ON_DELETE = re.compile(r"""(?:type|Update ?Strategy|strategy)["']?\s*[:=]\s*["']?OnDelete\b""", re.IGNORECASE)
_PARTITION = re.compile(r"""\bpartition["']?\s*[:=]\s*["']?(?P<n>\d+)""", re.IGNORECASE)
_COUNTS = {
    "updated": re.compile(r"""\b(?:updatedReplicas|updatedNumberScheduled)["']?\s*[:=]\s*(\d+)"""),
    "desired": re.compile(r"""(?<![\w.])(?:replicas|desiredNumberScheduled)["']?\s*[:=]\s*(\d+)"""),
}


@dataclass
class _Marker:
    label: str
    line: str
    strategy: str  # OnDelete | partition
    partition: int
    name: str | None
    kind: str | None
    counts: dict[str, int]


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    markers = _markers(obs)
    findings: list[Finding] = []
    seen: set[tuple[str, str]] = set()
    for marker in markers:
        kind, name = _resolve(marker, obs)
        if name is None or (name, marker.strategy) in seen:
            continue
        seen.add((name, marker.strategy))
        updated, desired = _progress(marker, obs, name)
        behind = updated is not None and desired is not None and updated < desired
        counts = f" ({updated} of {desired} pods run the current template)" if behind else ""
        if marker.strategy == "OnDelete":
            if updated is not None and desired is not None and not behind:
                continue
            kind = kind or "DaemonSet"
            title = (
                f"{name}: {kind} {name} uses updateStrategy OnDelete, so changing its template (a new image or config) replaces no running pod; "
                f"pods get the new template only when they are deleted{counts}"
            )
            action = f"Delete the old pods of {kind} {name} one by one (they come back with the new template), or set its updateStrategy to RollingUpdate"
        else:
            if marker.partition <= 0 or (updated is not None and desired is not None and not behind):
                continue
            kind = kind or "StatefulSet"
            title = (
                f"{name}: {kind} {name} has updateStrategy.rollingUpdate.partition {marker.partition}, so only pods with an ordinal >= {marker.partition} are updated; "
                f"pods {name}-0..{name}-{marker.partition - 1} keep the old revision even when deleted{counts}"
            )
            action = f"Lower the partition of {kind} {name} (to 0 to finish the rollout) once the canary ordinals look healthy"
        findings.append(
            Finding(
                kind="rollout_held_by_strategy",
                subject=f"{kind.lower()}/{name}",
                role="cause",
                title=title,
                weight=84 if behind else 62,
                evidence=[f"{marker.label} {marker.line.strip()}"],
                workload=name,
                recommendations=[rec("high", action)],
                affected=[name],
            )
        )
    return findings


def _markers(obs: Observations) -> list[_Marker]:
    sources: list[tuple[str, list[str], str]] = [(t.label, t.lines, t.command) for t in obs.texts]
    sources += [(d.label, d.lines, d.command) for d in obs.logs]
    found: list[_Marker] = []
    for label, lines, command in sources:
        named = command_object(command) if command else None
        counts: dict[str, int] = {}
        for line in lines[:400]:
            for key, pattern in _COUNTS.items():
                match = pattern.search(line)
                if match and key not in counts:
                    counts[key] = int(match.group(1))
        for line in lines[:400]:
            strategy, partition = None, 0
            if _ON_DELETE.search(line):
                strategy = "OnDelete"
            elif (match := _PARTITION.search(line)) is not None:
                strategy, partition = "partition", int(match.group("n"))
            if strategy:
                found.append(
                    _Marker(
                        label,
                        line,
                        strategy,
                        partition,
                        named[1] if named else None,
                        named[0] if named else None,
                        counts,
                    )
                )
    for resource in obs.resources:  # whole objects (-o yaml/json): the spec says it directly
        if resource.kind not in ("DaemonSet", "StatefulSet"):
            continue
        spec_strategy = _d(_d(resource.raw.get("spec")).get("updateStrategy"))
        status = _d(resource.raw.get("status"))
        counts = {
            k: v
            for k, v in (
                ("updated", _int(status.get("updatedNumberScheduled", status.get("updatedReplicas")))),
                ("desired", _int(status.get("desiredNumberScheduled", status.get("replicas")))),
            )
            if v is not None
        }
        if spec_strategy.get("type") == "OnDelete":
            found.append(
                _Marker(resource.label, resource.quote("OnDelete"), "OnDelete", 0, resource.name, resource.kind, counts)
            )
        spec_partition = _int(_d(spec_strategy.get("rollingUpdate")).get("partition"))
        if spec_partition:
            found.append(
                _Marker(
                    resource.label,
                    resource.quote("partition"),
                    "partition",
                    spec_partition,
                    resource.name,
                    resource.kind,
                    counts,
                )
            )
    for marker in found:
        if marker.line.startswith("[") and "] " in marker.line:  # a quote already labelled
            marker.line = marker.line.split("] ", 1)[1]
    return found


def _resolve(marker: _Marker, obs: Observations) -> tuple[str | None, str | None]:
    if marker.name:
        return marker.kind, marker.name
    kinds = ("DaemonSet", "StatefulSet") if marker.strategy == "OnDelete" else ("StatefulSet",)
    same_paste = {
        (w.kind, w.name)
        for w in obs.workloads
        if w.kind in kinds and any(c.startswith(marker.label) for c in w.cites.values())
    }
    same_paste |= {(r.kind, r.name) for r in obs.resources if r.kind in kinds and r.label == marker.label}
    if len(same_paste) == 1:
        kind, name = next(iter(same_paste))
        return kind, name
    return None, None


def _progress(marker: _Marker, obs: Observations, name: str) -> tuple[int | None, int | None]:
    updated, desired = marker.counts.get("updated"), marker.counts.get("desired")
    for workload in obs.workloads:
        if workload.name == name and workload.kind in ("DaemonSet", "StatefulSet"):
            updated = updated if updated is not None else workload.updated
            desired = desired if desired is not None else workload.desired
    return updated, desired


def _d(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _int(value: Any) -> int | None:
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None
