"""cluster-autoscaler refusing to scale a node group up from zero because its node-template tags lack a label.

A node group at zero nodes has no node to copy labels from: cluster-autoscaler builds the would-be node from the
ASG's ``k8s.io/cluster-autoscaler/node-template/label/<key>`` (and ``/taint/``) tags
(github.com/kubernetes/autoscaler/blob/master/cluster-autoscaler/cloudprovider/aws/README.md#auto-discovery-setup).
Labels the kubelet adds at boot (``--node-labels``) are invisible to it, so a pod selecting such a label "can't be
scheduled" on the group and nothing scales up ("No pod can fit", NotTriggerScaleUp).
"""
# ruff: noqa: E501  (user-facing messages read better unwrapped)

from __future__ import annotations

import re

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import rec
from engine.analyzers.datastore_text import text_lines
from engine.facts import Observations
from engine.findings import Finding, workload_of
from engine.parsers.common import excerpt

_TAG = re.compile(
    r"[\"']?(?P<asg>[\w.-]+)[\"']?[,\s]+[\"']?k8s\.io/cluster-autoscaler/(?P<what>enabled|node-template/label/(?P<key>[\w./-]+))[\"']?[,\s]+[\"']?(?P<value>[\w.:/=-]*)"
)
_SELECTOR = re.compile(r"Node-Selectors:\s+(?P<pairs>[\w./-]+=[\w.-]+(?:,[\w./-]+=[\w.-]+)*)")
_UNSCHEDULABLE = re.compile(r"Pod (?:[\w.-]+/)?(?P<pod>[\w.-]+) (?:is unschedulable|can't be scheduled)")
_NO_FIT = re.compile(r"No pod can fit to (?P<asg>[\w.-]+)")


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    del ctx
    lines = list(text_lines(obs))
    groups: dict[str, dict[str, str]] = {}
    cite: dict[str, str] = {}
    for label, line in lines:
        match = _TAG.search(line) if "k8s.io/cluster-autoscaler/" in line and len(line) < 4096 else None
        if match:
            labels = groups.setdefault(match.group("asg"), {})
            cite.setdefault(match.group("asg"), f"{label} {excerpt(line.strip())}")
            if match.group("key"):
                labels[match.group("key")] = match.group("value")
    selector = next((m.group("pairs") for _, line in lines if (m := _SELECTOR.search(line))), None)
    if not groups or selector is None:
        return []
    wanted = dict(pair.split("=", 1) for pair in selector.split(","))
    no_fit = {m.group("asg") for _, line in lines if (m := _NO_FIT.search(line))}
    for asg, labels in groups.items():
        missing = [key for key, value in wanted.items() if labels.get(key) != value]
        meant = asg in no_fit or any(value in asg for value in wanted.values())
        if not missing or not meant:
            continue
        key = missing[0]
        waiting = {workload_of(m.group("pod")) for _, line in lines if (m := _UNSCHEDULABLE.search(line))}
        waiting |= {workload_of(p.name) for p in obs.pods if p.phase == "Pending"}
        return [
            Finding(
                kind="ca_node_template_label_missing",
                subject=f"nodegroup/{asg}",
                role="cause",
                title=(
                    f"cluster-autoscaler cannot scale node group {asg} up from zero for pods selecting {key}={wanted[key]}: with no node to copy labels from it predicts "
                    f"the new node's labels from the ASG's k8s.io/cluster-autoscaler/node-template/label/* tags, and none sets {key} (a label the kubelet adds at boot is "
                    f"invisible to it), so it decides the pods would not fit and never scales up"
                ),
                weight=92,
                evidence=[
                    cite[asg],
                    *[
                        f"{label} {excerpt(line.strip())}"
                        for label, line in lines
                        if f"No pod can fit to {asg}" in line
                    ][:1],
                ],
                workload=asg,
                recommendations=[
                    rec(
                        "high",
                        f"Tag the ASG {asg} with k8s.io/cluster-autoscaler/node-template/label/{key}={wanted[key]} (and a taint tag for each taint its nodes register with)",
                    )
                ],
                affected=[asg],
                related=sorted(waiting),  # the pending pods' workloads it leaves unscheduled
            )
        ]
    return []
