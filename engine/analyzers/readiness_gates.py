"""Pod readiness gates that hold pods out of service: the AWS Load Balancer Controller's ``target-health`` gate.

A pod with a readiness gate is Ready only when its containers are Ready *and* the gate's condition is True
(kubernetes.io/docs/concepts/workloads/pods/pod-lifecycle/#pod-readiness-gate). The AWS Load Balancer Controller
sets ``target-health.elbv2.k8s.aws/<target group>`` True only once the load balancer's health check passes for the
pod (kubernetes-sigs.github.io/aws-load-balancer-controller/latest/deploy/pod_readiness_gate/): a health check on
a port the container does not listen on keeps every new pod unready, and a rolling update stalls after the
first new pod.
"""
# ruff: noqa: E501  (user-facing messages read better unwrapped)

from __future__ import annotations

import re

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import rec
from engine.facts import Observations
from engine.findings import Finding, workload_of
from engine.parsers.command_line import command_object

_GATE = re.compile(r"(?P<gate>target-health\.(?:elbv2\.k8s\.aws|alb\.ingress\.k8s\.aws)/[\w.-]+)")
_FALSE = re.compile(r'"status"\s*:\s*"False"|\bFalse\b')
_REASON = re.compile(r"(?P<reason>Target\.[A-Za-z]+|Elb\.[A-Za-z]+)")
_UNHEALTHY = re.compile(r"^\s*(?:\d{1,3}\.){3}\d{1,3}\s+unhealthy\s+(?P<reason>\S+)\s+(?P<port>\d{2,5})\s*$")
_CONTAINER_PORT = re.compile(
    r'"containerPort"\s*:\s*(?P<port>\d+)|^\s*-?\s*containerPort:\s*(?P<port2>\d+)|^\s*Ports?:\s+(?P<port3>\d+)/TCP'
)


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    sources = [(t.label, t.lines, t.command) for t in obs.texts] + [(d.label, d.lines, d.command) for d in obs.logs]
    gate: tuple[str, str, str, str] | None = None  # gate, reason, cite, pod
    health_port: tuple[str, str] | None = None
    health_reason = ""
    container_ports: dict[str, str] = {}
    for label, lines, command in sources:
        named = command_object(command) if command else None
        for line in lines[:3000]:
            found = _GATE.search(line)
            if found and gate is None and _FALSE.search(line):
                said = _REASON.search(line)
                pod = named[1] if named and named[0] == "Pod" else ""
                gate = (found.group("gate"), said.group("reason") if said else "", f"{label} {line.strip()}", pod)
            unhealthy = _UNHEALTHY.match(line)
            if unhealthy and health_port is None:
                health_port = (unhealthy.group("port"), f"{label} {line.strip()}")
                health_reason = unhealthy.group("reason")
            port = _CONTAINER_PORT.search(line)
            if port:
                value = port.group("port") or port.group("port2") or port.group("port3")
                container_ports.setdefault(value, f"{label} {line.strip()}")
    if gate is None:
        return []
    name, reason, cite, pod = gate
    reason = reason or health_reason or "False"
    workload = workload_of(pod) if pod else (ctx.focus.owner() if ctx.focus else None)
    subject = workload or "the pods"
    evidence = [cite]
    detail = ""
    if health_port and container_ports and health_port[0] not in container_ports:
        listening = sorted(container_ports, key=int)[0]
        detail = f": the load balancer health-checks port {health_port[0]} while the container listens on {listening}"
        evidence += [health_port[1], container_ports[listening]]
    elif health_port:
        detail = f": the load balancer's health check on port {health_port[0]} fails"
        evidence.append(health_port[1])
    return [
        Finding(
            kind="readiness_gate_false",
            subject=f"pod/{pod}" if pod else f"readinessgate/{name}",
            role="cause",
            title=f"{subject}: the pods' readiness gate {name} stays False ({reason}){detail}, so the new pods never become Ready and the rollout stops after the first one",
            weight=88 if detail else 78,
            evidence=evidence,
            workload=workload,
            recommendations=[
                rec(
                    "high",
                    "Make the target group's health check use the port and path the container serves (alb.ingress.kubernetes.io/healthcheck-port / the Service's targetPort), then the gate turns True",
                )
            ],
            affected=[workload] if workload else [],
        )
    ]
