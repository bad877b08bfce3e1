"""Kubelet evictions under node pressure, from the ``Evicted`` event or the pod's status message.

The kubelet names what ran low and, when it picks a pod for using more than it requested, the container, its
usage and its request ("Container reports was using 3421Mi, request is 512Mi, has larger consumption of
memory"); that container is the cause of the pressure, the node is where it happened.
"""
# ruff: noqa: E501  (user-facing messages read better unwrapped)

from __future__ import annotations

import re

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import finding_time, rec
from engine.facts import EventFact, Observations
from engine.findings import Finding, workload_of

_LOW = re.compile(r"low on resource: ([\w-]+)")
# "Container x was using 3421Mi, request is 512Mi" (older kubelets) / "... which exceeds its request of 0." (newer)
_USAGE = re.compile(
    r"Container ([\w.-]+) was using (\w+(?:\.\d+)?\w*), (?:request is|which exceeds its request of) (\w+(?:\.\d+)?\w*)"
)


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    findings: dict[str, Finding] = {}
    pods = {p.name: p for p in obs.pods}
    evictions = [e for e in obs.events if e.reason == "Evicted" and e.object_name and not ctx.is_stale(e.last_seen)]
    for evicted in obs.pods:  # the evicted pod's own status: "Reason: Evicted" + "Message: The node was low on ..."
        if evicted.status_reason == "Evicted" and evicted.status_message:
            cite = evicted.cites.get("status_message") or evicted.cites.get("status") or ""
            evictions.append(
                EventFact(
                    "Warning", "Evicted", evicted.status_message, "Pod", evicted.name, evicted.namespace, cite=cite
                )
            )
    for event in evictions:
        assert event.object_name is not None
        low, usage = _LOW.search(event.message), _USAGE.search(event.message)
        if not low or not usage or event.object_name in findings:
            continue
        pod = pods.get(event.object_name)
        node = pod.node if pod and pod.node else None
        workload = workload_of(event.object_name)
        where = f"node {node}" if node else "its node"
        findings[event.object_name] = Finding(
            kind="eviction_heavy_user",
            subject=f"pod/{event.object_name}",
            role="cause",
            title=(
                f"{workload}: container {usage.group(1)} of pod {event.object_name} used {usage.group(2)} of {low.group(1)} "
                f"against a request of {usage.group(3)}, so when {where} ran low on {low.group(1)}"
                f"{_pressure(low.group(1))} the kubelet evicted it"
            ),
            weight=80,
            evidence=[event.cite],
            workload=workload,
            timestamp=finding_time(event),
            recommendations=[
                rec(
                    "high",
                    f"Set {workload}'s {low.group(1)} request near its real use ({usage.group(2)}) and a limit, so the scheduler places it where it fits",
                ),
            ],
            affected=[workload],
            related=[f"node/{node}"] if node else [],
        )
    return list(findings.values())


# The node condition the kubelet sets when an eviction signal crosses its threshold (node-pressure eviction docs).
_PRESSURE = {
    "memory": "MemoryPressure",
    "ephemeral-storage": "DiskPressure",
    "nodefs": "DiskPressure",
    "imagefs": "DiskPressure",
    "pids": "PIDPressure",
    "pid": "PIDPressure",
}


def _pressure(resource: str) -> str:
    condition = _PRESSURE.get(resource.strip().lower())
    return f" ({condition})" if condition else ""
