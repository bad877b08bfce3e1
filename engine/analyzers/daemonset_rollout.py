"""A DaemonSet rolling update that stops because one of its pods sits on a NotReady node.

A DaemonSet's RollingUpdate replaces pods node by node and never has more than ``maxUnavailable`` (default 1) of
them unavailable (kubernetes.io/docs/tasks/manage-daemon/update-daemon-set/). A pod on a node whose kubelet stopped
reporting is unavailable and cannot be replaced (its deletion hangs in Terminating): with ``maxUnavailable: 1`` it
uses up the whole budget, so the controller updates no further pod and ``rollout status`` times out at "17 out of
42" although the new version is healthy everywhere it runs.
"""
# ruff: noqa: E501  (user-facing messages read better unwrapped)

from __future__ import annotations

import re

from engine.analysis_context import AnalysisContext
from engine.analyzers import scheduling_detail
from engine.analyzers.common import rec
from engine.facts import LogDoc, Observations, TextDoc
from engine.findings import Finding
from engine.parsers.common import excerpt

_WAITING = re.compile(
    r"Waiting for daemon set \"(?P<name>[\w.-]+)\" rollout to finish: (?P<done>\d+) out of (?P<total>\d+) new pods have been updated"
)
_UPDATED = re.compile(r"\"updatedNumberScheduled\"\s*:\s*(?P<done>\d+)")
_DESIRED = re.compile(r"\"desiredNumberScheduled\"\s*:\s*(?P<total>\d+)")
_MAX_UNAVAILABLE = re.compile(r"\"?maxUnavailable\"?\s*[:=]\s*\"?(?P<value>\d+%?)")


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    stuck = _stuck(obs)
    if stuck is None:
        return []
    name, done, total, cite = stuck
    not_ready = scheduling_detail.not_ready_nodes(obs)
    if not not_ready:
        return []
    pod = next((p for p in obs.pods if p.name.startswith(f"{name}-") and p.node in not_ready), None)
    node = pod.node if pod and pod.node else not_ready[0]
    limit = next(
        (m.group("value") for _, line in scheduling_detail.lines_of(obs) if (m := _MAX_UNAVAILABLE.search(line))), ""
    )
    budget = f"maxUnavailable: {limit}" if limit else "maxUnavailable (default 1)"
    held = f"its pod {pod.name} on NotReady node {node}" if pod else f"its pod on NotReady node {node}"
    evidence = [cite]
    node_cite = next(
        (
            f"{label} {excerpt(line.strip())}"
            for label, line in scheduling_detail.lines_of(obs)
            if line.split()[:2] == [node, "NotReady"]
        ),
        None,
    )
    if node_cite:
        evidence.append(node_cite)
    return [
        Finding(
            kind="daemonset_rollout_blocked_by_node",
            subject=f"{name}:daemonset_rollout_blocked_by_node",
            role="cause",
            title=(
                f"{name}: the DaemonSet rollout is stuck at {done}/{total} updated pods because {held} is unavailable and cannot be replaced "
                f"(the node's kubelet is not reporting); with {budget} that one unavailable pod uses the whole budget, so the controller updates no further pod"
            ),
            weight=90,
            evidence=evidence,
            workload=name,
            affected=[name, *([pod.name] if pod else [])],
            related=[node],
            recommendations=[
                rec(
                    "high",
                    f"Recover or remove node {node} (fix its kubelet, or cordon/drain and delete the Node object, which lets the stuck pod go); the rollout then continues. Raising maxUnavailable lets it proceed meanwhile",
                ),
            ],
        )
    ]


def _stuck(obs: Observations) -> tuple[str, str, str, str] | None:
    for label, line in scheduling_detail.lines_of(obs):
        if (m := _WAITING.search(line)) and m.group("done") != m.group("total"):
            return m.group("name"), m.group("done"), m.group("total"), f"{label} {excerpt(line.strip())}"
    docs: list[TextDoc | LogDoc] = [*obs.texts, *obs.logs]
    for doc in docs:
        command = re.search(r"get (?:ds|daemonsets?(?:\.apps)?) ([\w.-]+)", doc.command)
        if not command:
            continue
        for line in doc.lines:
            done, total = _UPDATED.search(line), _DESIRED.search(line)
            if done and total and int(done.group("done")) < int(total.group("total")):
                return (
                    command.group(1),
                    done.group("done"),
                    total.group("total"),
                    f"{doc.label} {excerpt(line.strip(), around='updatedNumberScheduled')}",
                )
    return None
