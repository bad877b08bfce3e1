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


_ROLLOUT_WORDS = frozenset(
    {
        "image",
        "version",
        "old",
        "new",
        "rollout",
        "rolled",
        "update",
        "updated",
        "upgrade",
        "still",
        "bumped",
        "revision",
    }
)


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
    words = ctx.question.words if ctx.question else frozenset()
    findings: list[Finding] = _ordered_ready_stalls(obs) + _daemonsets_selecting_no_node(obs)
    seen: set[tuple[str, str]] = set()
    for marker in markers:
        kind, name = _resolve(marker, obs)
        if name is None or (name, marker.strategy) in seen:
            continue
        seen.add((name, marker.strategy))
        updated, desired = _progress(marker, obs, name)
        behind = updated is not None and desired is not None and updated < desired
        if not behind and not words & _ROLLOUT_WORDS:
            continue  # the strategy is a legitimate choice; without pods left behind or a question about it, say nothing
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


# --- OrderedReady: a StatefulSet waits for each pod before creating the next --------------------------------

_ORDINAL = re.compile(r"^(?P<set>[a-z0-9][a-z0-9.-]*?)-(?P<ordinal>\d+)$")
_STS_ROW = re.compile(
    r"^\s*(?P<prefix>statefulset(?:\.apps)?/)?(?P<name>[a-z0-9][a-z0-9.-]*)\s+(?P<ready>\d+)/(?P<total>\d+)\s+\S+\s*$"
)


def _ordered_ready_stalls(obs: Observations) -> list[Finding]:
    """With the default ``podManagementPolicy: OrderedReady`` a StatefulSet creates pod N+1 only once pod N is
    Running and Ready: the first pod that is not Ready is why the higher ordinals do not exist."""
    desired: dict[str, tuple[int, str]] = {}
    for workload in obs.workloads:
        if workload.kind == "StatefulSet" and workload.desired:
            desired[workload.name] = (workload.desired, next(iter(workload.cites.values()), ""))
    for resource in obs.resources:
        row = _d(resource.raw.get("row"))
        ready = str(row.get("READY", ""))
        spec = _d(resource.raw.get("spec"))
        if resource.kind == "StatefulSet" and spec.get("podManagementPolicy") == "Parallel":
            desired.pop(resource.name, None)
            continue
        if resource.kind == "StatefulSet" and "/" in ready and ready.split("/")[1].isdigit():
            desired.setdefault(resource.name, (int(ready.split("/")[1]), resource.quote(resource.name)))
    for text in obs.texts:  # `kubectl get sts` / `get sts,pods`: NAME READY AGE rows the table reader leaves as text
        listing = "sts" in text.command or "statefulset" in text.command
        for line in text.lines:
            match = _STS_ROW.match(line)
            if match and (match.group("prefix") or listing):
                desired.setdefault(match.group("name"), (int(match.group("total")), f"{text.label} {line.strip()}"))
    findings: list[Finding] = []
    for name, (count, cite) in sorted(desired.items()):
        ready_by_ordinal: dict[int, bool] = {}
        for fact in obs.pods:
            match = _ORDINAL.match(fact.name)
            if match is None or match.group("set") != name:
                continue
            states = [c.ready for c in fact.containers if c.ready is not None]
            is_ready = bool(states) and all(states)
            ordinal = int(match.group("ordinal"))
            ready_by_ordinal[ordinal] = ready_by_ordinal.get(ordinal, True) and is_ready
        missing = [i for i in range(count) if i not in ready_by_ordinal]
        if not missing or not ready_by_ordinal:
            continue
        stalled = next((i for i in sorted(ready_by_ordinal) if i < missing[0] and not ready_by_ordinal[i]), None)
        if stalled is None:
            continue
        pod = f"{name}-{stalled}"
        ready_pods = [f"{name}-{i}" for i in sorted(ready_by_ordinal) if ready_by_ordinal[i]]
        probe = next((e for e in obs.events if e.object_name == pod and e.reason == "Unhealthy"), None)
        why = f" ({probe.message[:160]})" if probe else ""
        before = f"{', '.join(ready_pods)} {'is' if len(ready_pods) == 1 else 'are'} Ready, but " if ready_pods else ""
        findings.append(
            Finding(
                kind="statefulset_ordinal_not_ready",
                subject=f"pod/{pod}",
                role="cause",
                title=f"{name}: StatefulSet {name} creates its pods one at a time in ordinal order (OrderedReady): {before}{pod} is not Ready{why}, so {name}-{missing[0]} and later ordinals are never created",
                weight=86,
                evidence=[c for c in (cite, probe.cite if probe else "") if c],
                workload=name,
                recommendations=[
                    rec(
                        "high",
                        f"Find why {pod} is not Ready (kubectl describe pod {pod}; its logs and the peers it needs); podManagementPolicy: Parallel only changes creation order, not readiness",
                    )
                ],
                affected=[name],
            )
        )
    return findings


# --- a DaemonSet whose nodeSelector matches no node ------------------------------------------------------


def _daemonsets_selecting_no_node(obs: Observations) -> list[Finding]:
    """``kubectl get ds -o wide``: DESIRED 0 with a NODE SELECTOR means no node carries that label, so the
    DaemonSet runs nowhere (kubernetes.io/docs/concepts/workloads/controllers/daemonset/#running-pods-on-select-nodes)."""
    findings: list[Finding] = []
    for text in obs.texts:
        header: list[str] | None = None
        for line in text.lines:
            cells = re.split(r"\s{2,}", line.strip())
            if "NODE SELECTOR" in cells and "DESIRED" in cells:
                header = cells
                continue
            if header is None or len(cells) != len(header):
                continue
            row = dict(zip(header, cells, strict=True))
            selector = row.get("NODE SELECTOR", "<none>")
            if row.get("DESIRED") != "0" or selector in ("<none>", ""):
                continue
            name = row.get("NAME", "").split("/")[-1]
            value = selector.split("=", 1)[-1]
            elsewhere = next(
                (
                    f"{t.label} {ln.strip()}"
                    for t in obs.texts
                    for ln in t.lines
                    if value in ln and "NODE SELECTOR" not in ln and ln is not line and selector not in ln
                ),
                None,
            )
            hint = f"; nodes do carry the value {value}, probably under another label key" if elsewhere else ""
            findings.append(
                Finding(
                    kind="daemonset_selects_no_node",
                    subject=f"daemonset/{name}",
                    role="cause",
                    title=f"{name}: DaemonSet {name} has nodeSelector {selector}, which no node matches (DESIRED 0), so it runs on no node{hint}",
                    weight=86,
                    evidence=[f"{text.label} {line.strip()}", *([elsewhere] if elsewhere else [])],
                    workload=name,
                    recommendations=[
                        rec(
                            "high",
                            f"Fix the nodeSelector of DaemonSet {name} to a label the nodes carry (kubectl get nodes --show-labels), or label the nodes {selector}",
                        )
                    ],
                    affected=[name],
                )
            )
    return findings
