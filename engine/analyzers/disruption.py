"""A PodDisruptionBudget that can never allow a disruption, read from its spec and the workload it covers.

``minAvailable`` equal to (or above) the replicas of the workload its selector covers, or ``maxUnavailable: 0``,
leaves ``disruptionsAllowed`` at 0 for good: every eviction is refused, so node drains, node-pool upgrades and the
cluster autoscaler's scale-down wait forever
(kubernetes.io/docs/tasks/run-application/configure-pdb/#think-about-how-your-application-reacts-to-disruptions).
When the budget's status is printed, the cluster analyzer reads it directly; this one works from the spec alone.
"""
# ruff: noqa: E501  (user-facing messages read better unwrapped)

from __future__ import annotations

from typing import Any

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import rec
from engine.facts import Observations
from engine.findings import Finding


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    replicas = _replicas(obs)
    findings: list[Finding] = []
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
