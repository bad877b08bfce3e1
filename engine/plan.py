"""Deterministic agent plans: which tool calls to make, given the agent's tools, context and what was seen.

A plan is a queue of :class:`Step`; a step may add follow-up steps from its result (list pods, then describe
the unhealthy ones), so ``steps_total`` grows as the investigation learns. Playbooks for more data sources are
appended to ``PLAYBOOKS``.
"""

from __future__ import annotations

from engine.analyzers.common import workload_name
from engine.facts import PodFact
from engine.plan_logs import log_playbook
from engine.plan_steps import PlanContext, Playbook, Step
from engine.plan_telemetry import telemetry_playbook
from engine.registry import ToolResult

K8S_TOOLS = {
    "list_pods",
    "describe_pod",
    "get_pod_logs",
    "get_pod_events",
    "describe_deployment",
    "get_deployment_history",
    "describe_service",
    "get_pod_resource_usage",
    "describe_node",
    "list_events",
}
MAX_PODS_DESCRIBED = 3


def kubernetes_playbook(plan: PlanContext) -> list[Step]:
    tools = set(plan.tools)
    if not tools & K8S_TOOLS or "kubernetes" not in plan.settings:
        return []
    ctx = plan.request.context
    namespace = ctx.namespace or plan.settings["kubernetes"].get("default_namespace") or "default"
    service = ctx.service
    steps: list[Step] = []
    if "list_pods" in tools:
        steps.append(
            Step(
                f"Listing pods in {namespace}",
                "list_pods",
                {"namespace": namespace},
                follow_up=lambda result: _after_list(result, tools, namespace, service),
            )
        )
    if "list_events" in tools:
        steps.append(Step(f"Reading warning events in {namespace}", "list_events", {"namespace": namespace}))
    if service and "describe_deployment" in tools:
        steps.append(
            Step(
                f"Describing deployment {service}",
                "describe_deployment",
                {"name": service, "namespace": namespace},
            )
        )
    return steps


def unhealthy(pod: PodFact) -> int:
    """0 healthy; higher is worse (waiting/terminated with errors > restarts > not ready > pending)."""
    if pod.phase == "Succeeded":
        return 0
    score = 0
    for c in pod.containers:
        if c.reason in (
            "CrashLoopBackOff",
            "ImagePullBackOff",
            "ErrImagePull",
            "CreateContainerConfigError",
            "CreateContainerError",
            "RunContainerError",
            "InvalidImageName",
            "OOMKilled",
            "Error",
        ):
            score = max(score, 4)
        elif c.restart_count:
            score = max(score, 3)
        elif c.ready is False:
            score = max(score, 2)
    if pod.phase in ("Pending", "Failed", "Unknown") or pod.status_reason:
        score = max(score, 3)
    return score


def _after_list(result: ToolResult, tools: set[str], namespace: str, service: str | None) -> list[Step]:
    pods = result.observations.pods
    if service:
        related = [p for p in pods if service in workload_name(p) or p.name.startswith(service)]
        pods = related or pods
    ranked = sorted((p for p in pods if unhealthy(p)), key=lambda p: (-unhealthy(p), p.name))
    steps: list[Step] = []
    workloads: list[str] = []
    nodes: list[str] = []
    for pod in ranked[:MAX_PODS_DESCRIBED]:
        if "describe_pod" in tools:
            steps.append(Step(f"Describing pod {pod.name}", "describe_pod", {"name": pod.name, "namespace": namespace}))
        elif "get_pod_events" in tools:
            steps.append(
                Step(
                    f"Reading events of pod {pod.name}",
                    "get_pod_events",
                    {"name": pod.name, "namespace": namespace},
                )
            )
        crashed = next((c for c in pod.containers if c.restart_count or c.state == "terminated"), None)
        running = next((c for c in pod.containers if c.state in ("running", "terminated") and not c.init), None)
        target = crashed or running
        if "get_pod_logs" in tools and target is not None:
            steps.append(
                Step(
                    f"Reading {'previous ' if crashed else ''}logs of {pod.name}",
                    "get_pod_logs",
                    {
                        "name": pod.name,
                        "namespace": namespace,
                        "container": target.name,
                        "previous": bool(crashed and crashed.restart_count),
                    },
                )
            )
        name = workload_name(pod)
        if pod.owner_kind == "ReplicaSet" and name not in workloads:
            workloads.append(name)
        if pod.node and (pod.status_reason or pod.phase in ("Failed", "Unknown")) and pod.node not in nodes:
            nodes.append(pod.node)
    for name in workloads[:2]:
        if "get_deployment_history" in tools:
            steps.append(
                Step(
                    f"Reading rollout history of {name}",
                    "get_deployment_history",
                    {"name": name, "namespace": namespace},
                )
            )
    for node in nodes[:2]:
        if "describe_node" in tools:
            steps.append(Step(f"Describing node {node}", "describe_node", {"name": node}))
    return steps


PLAYBOOKS: tuple[Playbook, ...] = (kubernetes_playbook, telemetry_playbook, log_playbook)
