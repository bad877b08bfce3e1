"""A PodDisruptionBudget that can never allow a disruption, read from its spec and the workload it covers.

``minAvailable`` equal to (or above) the replicas of the workload its selector covers, or ``maxUnavailable: 0``,
leaves ``disruptionsAllowed`` at 0 for good: every eviction is refused, so node drains, node-pool upgrades and the
cluster autoscaler's scale-down wait forever
(kubernetes.io/docs/tasks/run-application/configure-pdb/#think-about-how-your-application-reacts-to-disruptions).
When the budget's status is printed, the cluster analyzer reads it directly; this one works from the spec alone.
"""
# ruff: noqa: E501  (user-facing messages read better unwrapped)

from __future__ import annotations

import re
from typing import Any

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import rec
from engine.facts import Observations
from engine.findings import Finding, workload_of
from engine.parsers.common import excerpt


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    replicas = _replicas(obs)
    findings: list[Finding] = [
        *exhausted_quotas(obs),
        *blocked_evictions(obs, replicas),
        *default_limit_oom(obs),
    ]
    for pdb in (r for r in obs.resources if r.kind == "PodDisruptionBudget"):
        status = _d(pdb.raw.get("status"))
        if "disruptionsAllowed" in status or _d(pdb.raw.get("row")):
            continue  # status printed: the cluster analyzer reads disruptionsAllowed itself
        spec = _d(pdb.raw.get("spec"))
        labels = {str(k): str(v) for k, v in _d(_d(spec.get("selector")).get("matchLabels")).items()}
        workload = next(
            (v for k, v in labels.items() if k in ("app", "app.kubernetes.io/name", "k8s-app", "name")), None
        )
        count = replicas.get(workload or "")
        minimum, maximum = spec.get("minAvailable"), spec.get("maxUnavailable")
        why = ""
        if str(maximum) in ("0", "0%"):
            why = f"maxUnavailable is {maximum}"
        elif isinstance(minimum, int) and count is not None and minimum >= count:
            why = f"minAvailable {minimum} equals the {count} replicas of {workload}"
        elif str(minimum) == "100%":
            why = "minAvailable is 100%"
        if not why:
            continue
        target = workload or pdb.name
        findings.append(
            Finding(
                kind="pdb_never_allows_disruption",
                subject=f"poddisruptionbudget/{pdb.name}",
                role="cause",
                title=f"{target}: PodDisruptionBudget {pdb.name} can never allow a disruption ({why}), so every eviction of its pods is refused and node drains, node-pool upgrades and autoscaler scale-downs wait forever",
                weight=86,
                evidence=[pdb.quote("maxUnavailable" if "maxUnavailable" in why else "minAvailable")],
                workload=target,
                recommendations=[
                    rec(
                        "high",
                        f"Lower minAvailable (or set maxUnavailable: 1) on PodDisruptionBudget {pdb.name}, or run more replicas of {target} than the budget keeps",
                    )
                ],
                affected=[target],
            )
        )
    return findings


def _replicas(obs: Observations) -> dict[str, int]:
    found: dict[str, int] = {w.name: w.desired for w in obs.workloads if w.desired is not None}
    for resource in obs.resources:
        spec = _d(resource.raw.get("spec"))
        if resource.kind in ("Deployment", "StatefulSet") and isinstance(spec.get("replicas"), int):
            found.setdefault(resource.name, spec["replicas"])
    for text in obs.texts:  # `kubectl get sts` rows (NAME READY AGE) the table reader leaves as text
        for line in text.lines:
            cells = line.split()
            if len(cells) == 3 and "/" in cells[1] and cells[1].split("/")[1].isdigit():
                found.setdefault(cells[0].split("/")[-1], int(cells[1].split("/")[1]))
    return found


def _d(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


# --- a ResourceQuota used up, as `kubectl describe quota` prints it --------------------------------------

_QUOTA_ROW = re.compile(r"^\s*(?P<resource>[a-z][\w./-]*)\s+(?P<used>[\d.]+[A-Za-z]*)\s+(?P<hard>[\d.]+[A-Za-z]*)\s*$")


def exhausted_quotas(obs: Observations) -> list[Finding]:
    """``describe quota`` rows (Resource / Used / Hard) where Used has reached Hard: new objects needing that
    resource are refused at admission (kubernetes.io/docs/concepts/policy/resource-quotas/)."""
    findings: list[Finding] = []
    for text in obs.texts:
        if not any(re.match(r"^\s*Resource\s+Used\s+Hard", line) for line in text.lines):
            continue
        name = next((ln.split(":", 1)[1].strip() for ln in text.lines if ln.startswith("Name:")), "")
        full = [
            (m.group("resource"), f"{m.group('used')}/{m.group('hard')}", f"{text.label} {line.strip()}")
            for line in text.lines
            if (m := _QUOTA_ROW.match(line)) and _amount(m.group("used")) >= _amount(m.group("hard")) > 0
        ]
        if not name or not full:
            continue
        shown = ", ".join(f"{resource} {used}" for resource, used, _ in full[:3])
        waiting = [w.name for w in obs.workloads if w.desired and (w.available or 0) < w.desired]
        short = (
            f"; {', '.join(waiting[:3])} cannot get {'its' if len(waiting) == 1 else 'their'} missing pods created"
            if waiting
            else ""
        )
        findings.append(
            Finding(
                kind="quota_used_up",
                subject=f"resourcequota/{name}",
                role="cause",
                title=f"ResourceQuota {name} is used up ({shown} used/hard), so new pods or objects that need it are refused at admission (FailedCreate: exceeded quota){short}",
                weight=72,
                evidence=[cite for _, _, cite in full[:3]],
                workload=name,
                recommendations=[
                    rec(
                        "high",
                        f"Raise the hard limits of ResourceQuota {name} or free what is used (old pods, finished jobs) in the namespace",
                    )
                ],
                affected=[name, *waiting[:3]],
                related=waiting,
            )
        )
    return findings


_UNITS = {
    "": 1.0,
    "m": 0.001,
    "k": 1e3,
    "Ki": 1024.0,
    "M": 1e6,
    "Mi": 1024.0**2,
    "G": 1e9,
    "Gi": 1024.0**3,
    "T": 1e12,
    "Ti": 1024.0**4,
}


def _amount(text: str) -> float:
    match = re.match(r"^([\d.]+)([A-Za-z]*)$", text)
    if match is None or match.group(2) not in _UNITS:
        return -1.0
    try:
        return float(match.group(1)) * _UNITS[match.group(2)]
    except ValueError:
        return -1.0


# --- an eviction (drain, upgrade, scale-down) refused, traced to the budget that refuses it ------------------

# kubectl drain: `error when evicting pods/"x" -n "ns" (will retry after 5s): Cannot evict pod as it would violate
# the pod's disruption budget.`; the API: `Cannot evict pod as it would violate the pod's disruption budget` with
# the pod named elsewhere on the line; cluster-autoscaler: `not enough pod disruption budget to move ns/x`
_REFUSED = re.compile(
    r"(?:evicting pods?/\\?\"?(?P<pod>[a-z0-9][\w.-]*)\\?\"?(?:\s+-n\s+\\?\"?(?P<ns>[\w-]+)\\?\"?)?[^\n]*?"
    r"(?:Cannot evict pod as it would violate|violate the pod's disruption budget|disruption budget)"
    r"|not enough pod disruption budget to move (?P<ns2>[\w-]+)/(?P<pod2>[a-z0-9][\w.-]*))",
    re.I,
)
_DRAINED = re.compile(r"(?:kubectl drain\s+(?:-\S+\s+)*|node/)(?P<node>[a-z0-9][\w.-]*)(?:\s+cordoned)?")


def blocked_evictions(obs: Observations, replicas: dict[str, int]) -> list[Finding]:
    """The PodDisruptionBudget that covers a pod whose eviction is refused, with why it allows nothing: a spec
    that never can (maxUnavailable 0, minAvailable at the replica count) or pods that are not healthy now."""
    refused: tuple[str, str | None, str] | None = None
    node: str | None = None
    docs = [(t.label, t.lines) for t in obs.texts] + [(d.label, d.lines) for d in obs.logs]
    for doc_label, doc_lines in docs:
        for line in doc_lines:
            drained = _DRAINED.search(line) if "drain" in line or "cordoned" in line else None
            if drained and node is None:
                node = drained.group("node")
            found = _REFUSED.search(line)
            if found and refused is None:
                pod = found.group("pod") or found.group("pod2")
                refused = (
                    pod,
                    found.group("ns") or found.group("ns2"),
                    f"{doc_label} {excerpt(line.strip(), around=pod)}",
                )
    if refused is None:
        return []
    pod, namespace, cite = refused
    owner = workload_of(pod)
    budgets = [
        r
        for r in obs.resources
        if r.kind == "PodDisruptionBudget" and (namespace is None or r.namespace in (None, namespace))
    ]
    budget = next((b for b in budgets if _covers(b, owner)), None)
    if budget is None:
        return []
    row, status, spec = _d(budget.raw.get("row")), _d(budget.raw.get("status")), _d(budget.raw.get("spec"))
    allowed = row.get("ALLOWED DISRUPTIONS", status.get("disruptionsAllowed"))
    minimum = _given(row.get("MIN AVAILABLE", spec.get("minAvailable")))
    maximum = _given(row.get("MAX UNAVAILABLE", spec.get("maxUnavailable")))
    count = replicas.get(owner)
    if maximum in ("0", "0%"):
        why = f"maxUnavailable: {maximum}, so it never allows a disruption"
    elif minimum is not None and (
        minimum == "100%" or (minimum.isdigit() and count is not None and int(minimum) >= count)
    ):
        why = (
            f"minAvailable: {minimum} with {count} replicas of {owner}, so it never allows a disruption"
            if count is not None
            else f"minAvailable: {minimum}, so it never allows a disruption"
        )
    else:
        healthy, desired = status.get("currentHealthy"), status.get("desiredHealthy")
        rule = f"maxUnavailable: {maximum}" if maximum is not None else f"minAvailable: {minimum}"
        now = f", {healthy} healthy of {desired} required" if healthy is not None and desired is not None else ""
        down = [
            f"{p.name} ({_state(p)})"
            for p in obs.pods
            if workload_of(p.name) == owner and p.name != pod and _state(p) not in ("Running", "Succeeded", "")
        ]
        already = f"{', '.join(down[:3])} already down" if down else f"other pods of {owner} are already down"
        why = f"{rule}, {allowed if allowed is not None else 0} allowed disruptions now{now}: {already}"
    where = f"The drain of {node}" if node else "The eviction"
    return [
        Finding(
            kind="pdb_blocks_drain",
            subject=f"poddisruptionbudget/{budget.name}",
            role="cause",
            title=f"{where} is blocked by PodDisruptionBudget {budget.namespace + '/' if budget.namespace else ''}{budget.name} ({why}; allowed disruptions {allowed if allowed is not None else 0}): it refuses every eviction of {pod}, so kubectl retries forever",
            weight=95,
            evidence=[cite, budget.quote(budget.name)],
            workload=owner,
            recommendations=[
                rec(
                    "high",
                    f"Relax PodDisruptionBudget {budget.name} (maxUnavailable: 1, or minAvailable below the replicas) or scale {owner} up so one pod may go; then the drain continues",
                )
            ],
            affected=[owner, *([node] if node else [])],
        )
    ]


def _state(pod: Any) -> str:
    """What a pod row or status says it is doing: the waiting reason of a container, else not ready, else its phase."""
    for container in pod.containers:
        if container.state == "waiting" and container.reason:
            return str(container.reason)
    if any(c.ready is False for c in pod.containers):
        return "not ready"
    return str(pod.phase or "")


def _given(value: Any) -> str | None:
    text = None if value is None else str(value).strip()
    return None if text in (None, "", "N/A", "<none>") else text


def _covers(budget: Any, owner: str) -> bool:
    """A budget covers the workload when its selector's app label or its own name is the workload's."""
    labels = {str(v) for v in _d(_d(_d(budget.raw.get("spec")).get("selector")).get("matchLabels")).values()}
    return owner in labels or budget.name == owner or (bool(labels) is False and owner.startswith(budget.name))


# --- a memory limit nobody wrote: the LimitRange default the admission plugin set ------------------------

_LIMIT_RANGER = re.compile(r"LimitRanger plugin set:[^\n]*?memory limit for container (?P<container>[\w.-]+)")


def default_limit_oom(obs: Observations) -> list[Finding]:
    """An OOMKilled container whose memory limit the LimitRanger admission plugin set
    (``kubernetes.io/limit-ranger: LimitRanger plugin set: ... memory limit for container x``): the limit is the
    namespace LimitRange's ``default``, not one the team chose."""
    for pod in obs.pods:
        annotation = next((c for c in pod.cites.values() if _LIMIT_RANGER.search(c)), None) or next(
            (f"{label} {line.strip()}" for label, line in _text_lines(obs) if _LIMIT_RANGER.search(line)), None
        )
        if annotation is None:
            continue
        named = _LIMIT_RANGER.search(annotation)
        container = next(
            (
                c
                for c in pod.containers
                if named and c.name == named.group("container") and "OOMKilled" in (c.last_reason or "", c.reason or "")
            ),
            None,
        )
        if container is None:
            continue
        limit = container.memory_limit or "the default"
        workload = workload_of(pod.name)
        default = next(
            (
                f"{label} {line.strip()}"
                for label, line in _text_lines(obs)
                if re.match(r"^\s*(?:-\s+)?default:\s*$", line) or re.search(r"Default Limit", line)
            ),
            "",
        )
        return [
            Finding(
                kind="limitrange_default_limit",
                subject=f"pod/{pod.name}",
                role="cause",
                title=f"{workload}: container {container.name} is OOMKilled at a memory limit of {limit} that its manifest never set: the namespace's LimitRange default applied it (kubernetes.io/limit-ranger: LimitRanger plugin set ... memory limit)",
                weight=93,
                evidence=[e for e in (annotation, default) if e],
                workload=workload,
                recommendations=[
                    rec(
                        "high",
                        f"Set {workload}'s own memory request and limit to its real peak (or raise the LimitRange default) instead of inheriting {limit}",
                    )
                ],
                affected=[workload],
            )
        ]
    return []


def _text_lines(obs: Observations) -> list[tuple[str, str]]:
    return [(t.label, line) for t in obs.texts for line in t.lines] + [
        (d.label, line) for d in obs.logs for line in d.lines
    ]
