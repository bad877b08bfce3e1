"""Node health: NotReady, memory/disk/PID pressure, cordons."""

from __future__ import annotations

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import finding_time, rec
from engine.facts import Observations, UsageFact
from engine.findings import Finding

_PRESSURE = {
    "MemoryPressure": (
        "memory",
        "Free memory on the node: find the biggest consumers (kubectl top pods -A --sort-by=memory) "
        "and set memory limits on them",
    ),
    "DiskPressure": (
        "disk",
        "Free disk on the node: prune images/logs (crictl rmi --prune) or grow the node's volume",
    ),
    "PIDPressure": (
        "process IDs",
        "Find the workload leaking processes/threads on the node and cap it (pids limit)",
    ),
}
_NODE_EVENTS = {
    "NodeNotReady",
    "EvictionThresholdMet",
    "NodeHasDiskPressure",
    "NodeHasInsufficientMemory",
    "NodeHasInsufficientPID",
}


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    findings: list[Finding] = []
    on_node: dict[str, list[str]] = {}
    for pod in obs.pods:
        if pod.node:
            on_node.setdefault(pod.node, []).append(pod.name)
    reported: set[str] = set()
    for node in obs.nodes:
        for condition in node.conditions:
            if condition.type in _PRESSURE and condition.status == "True":
                what, action = _PRESSURE[condition.type]
                users = _top_memory(obs) if condition.type == "MemoryPressure" else []
                named = ", ".join(f"{u.name} ({(u.memory_bytes or 0) // 2**20}Mi)" for u in users)
                heaviest = f"; the biggest memory users are {named}" if users else ""
                findings.append(
                    Finding(
                        kind="node_pressure",
                        subject=f"node/{node.name}",
                        role="cause",
                        title=f"Node {node.name} is under {what} pressure ({condition.type}), "
                        f"so the kubelet evicts pods{heaviest}",
                        weight=80,
                        evidence=[condition.cite, *(u.cite for u in users[:1])],
                        workload=f"node/{node.name}",
                        recommendations=[rec("high", action)],
                        affected=[f"node/{node.name}"],
                        related=sorted(on_node.get(node.name, [])),
                    )
                )
                reported.add(node.name)
            if condition.type == "Ready" and condition.status in ("False", "Unknown"):
                findings.append(
                    Finding(
                        kind="node_not_ready",
                        subject=f"node/{node.name}",
                        role="cause",
                        title=f"Node {node.name} is NotReady"
                        + (
                            f" ({condition.message or condition.reason})"
                            if condition.message or condition.reason
                            else ""
                        ),
                        weight=78,
                        evidence=[condition.cite],
                        workload=f"node/{node.name}",
                        recommendations=[
                            rec(
                                "high",
                                f"Check the kubelet and runtime on {node.name} (journalctl -u kubelet) "
                                "and drain it: "
                                f"kubectl drain {node.name} --ignore-daemonsets --delete-emptydir-data",
                            ),
                        ],
                        affected=[f"node/{node.name}"],
                        related=sorted(on_node.get(node.name, [])),
                    )
                )
                reported.add(node.name)
    for event in obs.events:
        if event.reason in _NODE_EVENTS and event.object_name and event.object_name not in reported:
            if ctx.is_stale(event.last_seen):
                continue
            reported.add(event.object_name)
            findings.append(
                Finding(
                    kind="node_not_ready" if event.reason == "NodeNotReady" else "node_pressure",
                    subject=f"node/{event.object_name}",
                    role="cause",
                    title=f"Node {event.object_name}: {event.message or event.reason}",
                    weight=70,
                    evidence=[event.cite],
                    workload=f"node/{event.object_name}",
                    timestamp=finding_time(event),
                    recommendations=[
                        rec(
                            "high",
                            f"Inspect node {event.object_name}: kubectl describe node {event.object_name}",
                        )
                    ],
                    affected=[f"node/{event.object_name}"],
                    related=sorted(on_node.get(event.object_name, [])),
                )
            )
    return findings


def _top_memory(obs: Observations) -> list[UsageFact]:
    """The pods `kubectl top` shows using the most memory (what a person checks on a node under memory pressure)."""
    pods = [u for u in obs.usage if u.kind == "pod" and u.memory_bytes]
    return sorted(pods, key=lambda u: -(u.memory_bytes or 0))[:2]
