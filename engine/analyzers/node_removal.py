"""Why a node is not drained or removed, as the drain, the cluster autoscaler and Karpenter print it.

- ``This pod has more than one PodDisruptionBudget, which the eviction subresource does not support``: the
  eviction API refuses a pod that two budgets select; one of the budgets has to go or be narrowed.
- cluster-autoscaler ``Node X cannot be removed: <reason>: ns/pod`` (scale-down): a pod annotated
  ``cluster-autoscaler.kubernetes.io/safe-to-evict: "false"``, a kube-system pod without a PDB, a pod with local
  storage, a pod not backed by a controller, or not enough PDB to move it (cluster-autoscaler FAQ).
- Karpenter ``Cannot disrupt Node|NodeClaim: pod "ns/x" has "karpenter.sh/do-not-disrupt" annotation`` or
  ``pdb "ns/x" prevents pod evictions`` (consolidation, drift, expiration).
"""
# ruff: noqa: E501  (messages read better unwrapped)

from __future__ import annotations

import re
from collections import Counter

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import rec
from engine.analyzers.log_signatures import doc_source
from engine.analyzers.scheduling_detail import lines_of
from engine.facts import Observations
from engine.findings import Finding, workload_of
from engine.parsers.common import excerpt

_TWO_BUDGETS = re.compile(
    r"pods?/\\?\"?(?P<pod>[a-z0-9][\w.-]*)\\?\"?(?:\s+-n\s+\\?\"?(?P<ns>[\w-]+)\\?\"?)?[^\n]*more than one PodDisruptionBudget"
)
_CA_BLOCKED = re.compile(
    r"Node (?P<node>[\w.-]+) cannot be removed: (?P<reason>[^:]+?)(?: present)?: (?:(?P<ns>[\w-]+)/)?(?P<pod>[a-z0-9][\w.-]*)"
)
_KARPENTER = re.compile(
    r"Cannot disrupt (?:Node|NodeClaim)[^:]*: (?:pod \\?\"(?P<pod>[\w./-]+)\\?\" has \\?\"(?P<annotation>karpenter\.sh/do-not-(?:disrupt|evict))\\?\" annotation|pdb \\?\"(?P<pdb>[\w./-]+)\\?\" prevents pod evictions)"
)
_CA_MEANINGS = {
    "pod annotated as not safe to evict": 'annotated cluster-autoscaler.kubernetes.io/safe-to-evict: "false"',
    "not enough pod disruption budget to move": "their PodDisruptionBudget allows no disruption",
    "non-daemonset, non-mirrored, non-pdb-assigned kube-system pod": "kube-system pods without a PodDisruptionBudget",
    "pod with local storage": "local storage (emptyDir/hostPath) without the safe-to-evict annotation",
    "pod not backed by a controller": "no controller to recreate them elsewhere",
}


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    return [*_two_budgets(obs), *_autoscaler_blocked(obs, ctx), *_karpenter_blocked(obs), *_spot_reclaimed(obs)]


# the cloud taking a spot/preemptible node back: AWS Node Termination Handler, Karpenter, GKE, Azure
_SPOT = re.compile(
    r"Spot ITN received|SPOT_ITN|spot interruption|SpotInterrupted|Spot Instance interruption|preemptible (?:VM|instance)[^\n]*preempted|Preempted by Compute Engine|Spot VM eviction|ScheduledEvent[^\n]*Preempt"
    # GCE/GKE: the node's PreemptScheduled event ("GCE VM will be preempted in 30s"), the compute operation
    r"|\bPreemptScheduled\b|VM will be preempted|compute\.instances\.preempted|instance was preempted",
    re.I,
)
_NODE_NAME = re.compile(
    r"(?:\"?(?:NodeName|node_name|node)\"?\s*[=:]\s*\"?|\bnode/)(?P<node>[a-z0-9][\w.-]*\.(?:internal|local)|[a-z0-9][\w-]*-\d+[\w-]*)"
)
_INSTANCE = re.compile(r"\binstances/(?P<node>[a-z][\w-]*)")
_INTERRUPTED_AT = re.compile(r"interrupted at (?P<when>\S+?Z)")


def _spot_reclaimed(obs: Observations) -> list[Finding]:
    hits = [(label, line) for label, line in lines_of(obs) if _SPOT.search(line)]
    hits += [
        (e.cite.split("] ", 1)[0] + "]", e.cite.split("] ", 1)[-1])
        for e in obs.events
        if e.cite and _SPOT.search(f"{e.reason} {e.message}") and not any(e.message in line for _, line in hits)
    ]
    if not hits:
        return []
    nodes = list(dict.fromkeys(m.group("node") for _, line in hits if (m := _NODE_NAME.search(line))))
    nodes += [
        e.object_name
        for e in obs.events
        if e.object_name and (e.object_kind or "").lower() == "node" and _SPOT.search(f"{e.reason} {e.message}")
    ]
    nodes += [m.group("node") for _, line in hits if (m := _INSTANCE.search(line))]
    not_ready = [n.name for n in obs.nodes if any(c.type == "Ready" and c.status != "True" for c in n.conditions)]
    nodes = list(dict.fromkeys(nodes)) or not_ready[:1]  # the one NotReady node is the one the cloud took back
    when = next((m.group("when") for _, line in hits if (m := _INTERRUPTED_AT.search(line))), None)
    label, line = hits[0]
    which = f"{', '.join(nodes[:4])} {'was' if len(nodes) == 1 else 'were'}" if nodes else "spot nodes were"
    stacked = _stacked_workloads(obs, nodes, [line for _, line in lines_of(obs)])
    together = (
        "; "
        + ", ".join(f"{count} pods of {name}" for name, count in stacked[:3])
        + " ran on it, so they all went at once (replicas not spread over nodes by topologySpreadConstraints or pod anti-affinity)"
        if stacked
        else ""
    )
    at = f" (interrupted at {when})" if when else ""
    return [
        Finding(
            kind="spot_reclaimed",
            subject=f"node/{nodes[0]}" if nodes else "node:spot_interruption",
            role="cause",
            title=f"{which} reclaimed (preempted) by the cloud provider: a spot interruption/preemption notice{at}, so {'the node was' if len(nodes) <= 1 else 'each node was'} cordoned and drained and its pods restarted elsewhere — capacity loss, not an application fault{together}",
            weight=90,
            evidence=[f"{label} {excerpt(line.strip(), around='Spot')}"],
            workload=nodes[0] if nodes else None,
            recommendations=[
                rec(
                    "high",
                    "Spread critical workloads over on-demand capacity or several spot instance types/zones, keep PodDisruptionBudgets and enough replicas to absorb a 2-minute interruption",
                )
            ],
            affected=nodes[:4],
            related=[name for name, _ in stacked],
        )
    ]


_POD_NAMES = re.compile(r"pod_names=\[(?P<names>[^\]]*)\]")


def _stacked_workloads(obs: Observations, nodes: list[str], lines: list[str]) -> list[tuple[str, int]]:
    """Workloads with several pods on the reclaimed nodes (the pods facts, the termination handler's pod list)."""
    pods = {p.name for p in obs.pods if p.node in nodes}
    for line in lines:
        if (found := _POD_NAMES.search(line)) and any(node in line for node in nodes):
            pods |= {name.strip().strip('"') for name in found.group("names").split(",") if name.strip()}
    counts: dict[str, int] = {}
    for pod in sorted(pods):
        counts[workload_of(pod)] = counts.get(workload_of(pod), 0) + 1
    return sorted(((name, n) for name, n in counts.items() if n >= 2), key=lambda item: -item[1])


def _two_budgets(obs: Observations) -> list[Finding]:
    hit = next(((label, line, m) for label, line in lines_of(obs) if (m := _TWO_BUDGETS.search(line))), None)
    if hit is None:
        return []
    label, line, found = hit
    pod, namespace = found.group("pod"), found.group("ns")
    budgets = [
        r.name
        for r in obs.resources
        if r.kind == "PodDisruptionBudget" and (namespace is None or r.namespace in (None, namespace))
    ]
    owner = workload_of(pod)
    named = f" ({', '.join(budgets[:4])} in {namespace or 'its namespace'})" if budgets else ""
    return [
        Finding(
            kind="pdb_overlap",
            subject=f"pod/{pod}",
            role="cause",
            title=f"{owner}: pod {pod} cannot be evicted because more than one PodDisruptionBudget selects it{named}: the eviction API refuses a pod covered by two budgets, so the drain retries forever",
            weight=93,
            evidence=[f"{label} {excerpt(line.strip(), around='more than one')}"],
            workload=owner,
            recommendations=[
                rec(
                    "high",
                    f"Keep one PodDisruptionBudget per pod: delete or narrow the selector of the extra budget over {owner}",
                )
            ],
            affected=[owner],
            related=[pod, *([namespace] if namespace else [])],
        )
    ]


def _autoscaler_blocked(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    hits = [(label, line, m) for label, line in lines_of(obs) if (m := _CA_BLOCKED.search(line))]
    if not hits:
        return []
    owners = Counter(workload_of(m.group("pod")) for _, _, m in hits)
    owner, _ = owners.most_common(1)[0]
    label, line, found = next(h for h in hits if workload_of(h[2].group("pod")) == owner)
    reason = found.group("reason").strip()
    meaning = next((text for key, text in _CA_MEANINGS.items() if reason.startswith(key)), reason)
    same = [m for _, _, m in hits if m.group("reason").strip() == reason]
    nodes = list(dict.fromkeys(m.group("node") for m in same))
    blockers = list(dict.fromkeys("/".join(filter(None, (m.group("ns"), m.group("pod")))) for m in same))
    return [
        Finding(
            kind="scale_down_blocked",
            subject=f"pod/{found.group('pod')}",
            role="cause",
            title=f"cluster-autoscaler cannot remove {', '.join(nodes[:4])}: {', '.join(blockers[:3])} block{'s' if len(blockers) == 1 else ''} scale-down ({reason}: {meaning})",
            weight=90,
            evidence=[f"{label} {excerpt(line.strip(), around='cannot be removed')}"],
            workload=owner,
            recommendations=[
                rec(
                    "high",
                    f'Let the autoscaler move {owner}\'s pods (remove the safe-to-evict "false" annotation or add a PodDisruptionBudget that allows a disruption), or accept the node staying',
                )
            ],
            affected=[owner, *nodes[:4]],
            related=[s for d in obs.logs if d.label == label and (s := doc_source(d, ctx))],  # the autoscaler's log
        )
    ]


def _karpenter_blocked(obs: Observations) -> list[Finding]:
    hit = next(((label, line, m) for label, line in lines_of(obs) if (m := _KARPENTER.search(line))), None)
    if hit is None:
        return []
    label, line, found = hit
    if found.group("pod"):
        pod = found.group("pod").split("/")[-1]
        what = f"pod {found.group('pod')} carries the {found.group('annotation')} annotation, so Karpenter never disrupts its node (consolidation, drift, expiry)"
        fix = (
            f"Remove the {found.group('annotation')} annotation from {pod} when it may move, or accept the node staying"
        )
        subject, owner = f"pod/{pod}", workload_of(pod)
    else:
        pdb = str(found.group("pdb"))
        what = f"PodDisruptionBudget {pdb} prevents pod evictions, so Karpenter cannot drain the node"
        fix = f"Relax PodDisruptionBudget {pdb} so one pod may be evicted"
        subject, owner = f"poddisruptionbudget/{pdb.split('/')[-1]}", pdb.split("/")[-1]
    return [
        Finding(
            kind="karpenter_disruption_blocked",
            subject=subject,
            role="cause",
            title=f"{owner}: {what}",
            weight=90,
            evidence=[f"{label} {excerpt(line.strip(), around='Cannot disrupt')}"],
            workload=owner,
            recommendations=[rec("high", fix)],
            affected=[owner],
        )
    ]
