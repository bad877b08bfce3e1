"""NetworkPolicies that select no pod: they protect (or isolate) nothing.

General knowledge from the NetworkPolicy documentation and k8sgpt's NetworkPolicy analyzer ("not applied to any
pods"): ``spec.podSelector`` picks the pods of the policy's namespace by label; a selector naming labels no pod
carries (a chart that moved to ``app.kubernetes.io/*`` labels, a typo) leaves the intended pods unprotected and the
rules unused. Read from objects (``spec.podSelector``) and from ``kubectl get networkpolicy`` tables
(``POD-SELECTOR``), against pods whose labels are shown.
"""
# ruff: noqa: E501  (user-facing messages read better unwrapped)

from __future__ import annotations

from typing import Any

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import rec
from engine.facts import Observations, PodFact, ResourceFact
from engine.findings import Finding


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    findings: list[Finding] = []
    for policy in (r for r in obs.resources if r.kind == "NetworkPolicy"):
        wanted = _selector(policy)
        if not wanted:
            continue
        pods = [
            p for p in obs.pods if p.labels and p.namespace in (None, policy.namespace or ctx.namespace, ctx.namespace)
        ]
        if not pods or any(all(p.labels.get(k) == v for k, v in wanted.items()) for p in pods):
            continue
        findings.append(_finding(policy, wanted, pods))
    return findings


def _d(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _selector(policy: ResourceFact) -> dict[str, str]:
    spec = _d(policy.raw.get("spec"))
    if spec:
        selector = _d(spec.get("podSelector"))
        if selector.get("matchExpressions"):
            return {}  # expressions are not compared here
        return {str(k): str(v) for k, v in _d(selector.get("matchLabels")).items()}
    cell = str(_d(policy.raw.get("row")).get("POD-SELECTOR", ""))
    if not cell or cell == "<none>" or any(op in cell for op in (" in ", " notin ", "!")):
        return {}
    pairs = (item.partition("=") for item in cell.split(",") if "=" in item)
    return {k.strip(): v.strip() for k, _, v in pairs}


def _nearest(wanted: dict[str, str], pods: list[PodFact]) -> PodFact | None:
    values = set(wanted.values())
    scored = [
        (
            sum(1 for k in wanted if k in p.labels)
            + sum(1 for v in p.labels.values() if v in values or any(v in w or w in v for w in values)),
            p,
        )
        for p in pods
    ]
    best = max(scored, key=lambda item: item[0], default=(0, None))
    return best[1] if best[0] else None


def _finding(policy: ResourceFact, wanted: dict[str, str], pods: list[PodFact]) -> Finding:
    text = ",".join(f"{k}={v}" for k, v in wanted.items())
    near = _nearest(wanted, pods)
    shown = ",".join(f"{k}={v}" for k, v in near.labels.items() if k != "pod-template-hash") if near else ""
    meant = f"; the pod it was probably meant for, {near.name}, is labelled {shown}" if near else ""
    return Finding(
        kind="netpol_selects_no_pod",
        subject=f"networkpolicy/{policy.name}",
        role="cause",
        title=f"{policy.name}: NetworkPolicy {policy.name} selects pods labelled {text}, which no pod in the namespace carries, so it is not applied to any pod and protects nothing{meant}",
        weight=84,
        evidence=[
            e
            for e in (
                policy.quote(next(iter(wanted.values())), fallback=f"NetworkPolicy {policy.name}: podSelector {text}"),
                near.cites.get("row", "") if near else "",
            )
            if e
        ],
        workload=policy.name,
        recommendations=[
            rec(
                "high",
                f"Make NetworkPolicy {policy.name}'s podSelector match the labels of the pods it should protect (kubectl get pods --show-labels)",
            )
        ],
        affected=[policy.name],
    )
