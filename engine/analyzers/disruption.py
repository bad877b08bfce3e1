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
from engine.findings import Finding


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    replicas = _replicas(obs)
    findings: list[Finding] = exhausted_quotas(obs)
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
