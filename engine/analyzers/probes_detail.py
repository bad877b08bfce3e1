"""Pods whose containers are ready but the pod is not: readiness gates.

A pod with ``spec.readinessGates`` is Ready only when its containers are ready *and* every gate's condition is
True (Kubernetes pod lifecycle docs). Load balancer controllers own such gates (AWS Load Balancer Controller's
``target-health.elbv2.k8s.aws/<target group>``, GKE's ``cloud.google.com/load-balancer-neg-ready``): they set
the condition True only when the pod is a healthy target of the load balancer, so a failing LB health check
(a wrong health-check path or port: ``Health checks failed with these codes: [404]``) keeps the pod unready
and a rollout stuck, while ``kubectl get pods`` shows 1/1 containers ready.
"""
# ruff: noqa: E501  (messages read better unwrapped)

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import workload_cause
from engine.analyzers.scheduling_detail import lines_of
from engine.facts import Observations
from engine.findings import Finding, workload_of
from engine.parsers.common import excerpt

_GATE_ROW = re.compile(r"^\s+(?P<type>[\w.-]+(?:\.[\w-]+)+/[\w.-]+|[\w.-]+/[\w.-]+)\s+False\s*$")
_GATE_COLUMN = "READINESS GATES"
_TARGET_FAILURE = re.compile(
    r"Health checks failed(?: with these codes: \[[^\]]*\])?|Target\.(?:FailedHealthChecks|Timeout|ResponseCodeMismatch)|Request timed out|unhealthy",
    re.I,
)


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    del ctx
    gates: list[tuple[str, str]] = []  # (gate type, cite)
    section = ""
    for label, line in lines_of(obs):
        if line and not line[0].isspace():
            section = line.split(":", 1)[0]
        if section in ("Readiness Gates", "Conditions"):
            row = _GATE_ROW.match(line)
            if row and row.group("type") not in (g for g, _ in gates):
                gates.append((row.group("type"), f"{label} {excerpt(line.strip())}"))
    for resource in obs.resources:
        gates.extend(_spec_gates(resource.raw, resource.quote))
    for document in obs.documents:  # a condition printed alone (jsonpath on status.conditions)
        for item in document.data if isinstance(document.data, list) else [document.data]:
            if isinstance(item, dict) and item.get("status") == "False" and "/" in str(item.get("type", "")):
                gates.append((str(item["type"]), document.quote(str(item["type"]))))
    if not gates:
        return []
    pods = _gated_pods(obs)
    failure = next(
        (
            (label, line, m.group(0))
            for label, line in lines_of(obs)
            if (m := _TARGET_FAILURE.search(line)) and ("Target" in line or "health" in line.lower())
        ),
        None,
    )
    gate, gate_cite = gates[0]
    names = [name for name, _ in pods]
    owner = workload_of(names[0]) if names else None
    evidence = [gate_cite, *(cite for _, cite in pods[:1])]
    why = ""
    if failure:
        codes = re.search(r"codes: \[[^\]]*\]", failure[1])
        why = f"; the load balancer's health check of the pods fails ({codes.group(0) if codes else failure[2]}), so the controller never sets it True"
        evidence.append(f"{failure[0]} {excerpt(failure[1].strip(), around=failure[2])}")
    port = _port_mismatch(obs)
    if port:
        why += f"; the target group health-checks port {port[0]} while the container listens on {', '.join(port[1])}"
        evidence.append(port[2])
    which = f"pods {', '.join(names)} are" if len(names) > 1 else (f"pod {names[0]} is" if names else "the pod is")
    return [
        workload_cause(
            "readiness_gate_false",
            owner=owner,
            fallback="pod",
            title=f"{owner + ': ' if owner else ''}{which} not Ready although {'their' if len(names) > 1 else 'its'} containers are: readiness gate {gate} is False — the load balancer controller sets it only when the pod is a healthy target of its target group{why}",
            weight=90,
            evidence=[e for e in evidence if e][:3],
            fix="Fix the load balancer's health check (path/port/success codes annotations on the Ingress or Service) so the targets turn healthy, or make the app answer it",
        )
    ]


def _spec_gates(raw: dict[str, Any], quote: Callable[..., str]) -> list[tuple[str, str]]:
    spec, status = raw.get("spec"), raw.get("status")
    if not isinstance(spec, dict) or not isinstance(status, dict):
        return []
    wanted = {g.get("conditionType") for g in spec.get("readinessGates") or [] if isinstance(g, dict)}
    found: list[tuple[str, str]] = []
    for condition in status.get("conditions") or []:
        if isinstance(condition, dict) and condition.get("type") in wanted and condition.get("status") == "False":
            found.append((str(condition["type"]), quote(str(condition["type"]))))
    return found


def _port_mismatch(obs: Observations) -> tuple[str, list[str], str] | None:
    """(health-check port, container ports, cite) when the load balancer checks a port no container declares."""
    checked: tuple[str, str] | None = None
    ports: list[str] = []
    for label, line in lines_of(obs):
        if "unhealthy" in line.lower():
            found = re.search(r"(?:HealthCheckPort\W+|\"Port\":\s*|\s)(\d{2,5})\s*\}?\s*$", line) or re.search(
                r"\"Port\":\s*(\d{2,5})", line
            )
            if found and checked is None:
                checked = (found.group(1), f"{label} {excerpt(line.strip())}")
        ports += re.findall(r"\"?containerPort\"?\s*:\s*(\d{2,5})", line)
    if checked is None or not ports or checked[0] in ports:
        return None
    return checked[0], sorted(set(ports)), checked[1]


def _gated_pods(obs: Observations) -> list[tuple[str, str]]:
    """(pod, cite) for rows of ``get pods -o wide`` whose READINESS GATES column shows a gate not passed (0/1)."""
    found: list[tuple[str, str]] = []
    start: int | None = None
    for label, line in lines_of(obs):
        if _GATE_COLUMN in line and line.lstrip().startswith(("NAME", "NAMESPACE")):
            start = line.index(_GATE_COLUMN)
            continue
        if start is None or len(line) <= start:
            continue
        value = line[start:].split()[0] if line[start:].split() else ""
        ratio = re.fullmatch(r"(\d+)/(\d+)", value)
        if ratio and ratio.group(1) != ratio.group(2):
            found.append((line.split()[0], f"{label} {excerpt(line.strip())}"))
    return found
