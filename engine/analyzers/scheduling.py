"""Pods that cannot be scheduled: resources, selectors/affinity, taints, unbound PVCs, pod limits per node."""
# ruff: noqa: E501  (regexes and user-facing messages read better unwrapped)

from __future__ import annotations

import re
from datetime import datetime

from engine.analysis_context import AnalysisContext
from engine.analyzers import host_ports, scheduling_detail
from engine.analyzers.common import finding_time, rec, workload_name
from engine.facts import EventFact, Observations, PodFact
from engine.findings import Finding, workload_of

_INSUFFICIENT = re.compile(r"Insufficient ([\w./-]+)")
_REASONS: tuple[tuple[str, re.Pattern[str], str], ...] = (
    (
        "affinity",
        re.compile(r"didn't match (?:Pod's )?node (?:affinity|selector)|node affinity/selector", re.I),
        "no node matches its node selector/affinity",
    ),
    (
        "taint",
        re.compile(r"had (?:untolerated )?taint[s]? \{?([^}]*)\}?|that the pod didn't tolerate", re.I),
        "the nodes carry taints it does not tolerate",
    ),
    (
        "volume_zone",
        re.compile(r"volume node affinity conflict", re.I),
        "its PersistentVolume's node affinity (zone) matches none of the nodes (volume node affinity conflict)",
    ),
    (
        "pvc",
        re.compile(r"unbound (?:immediate )?PersistentVolumeClaims|persistentvolumeclaim \"[\w.-]+\" not found", re.I),
        "its PersistentVolumeClaim is not bound",
    ),
    (
        "topology_spread",
        re.compile(r"topology spread constraints", re.I),
        "its topology spread constraints cannot be met (maxSkew / whenUnsatisfiable: DoNotSchedule)",
    ),
    (
        "volume_limit",
        re.compile(r"exceed max volume count|max volume count", re.I),
        "the nodes reached their volume attach limit",
    ),
    ("pods", re.compile(r"Too many pods", re.I), "the nodes have reached their maximum pod count"),
    ("ports", re.compile(r"didn't have free ports", re.I), "the requested host port is taken on every node"),
    (
        "anti_affinity",
        re.compile(r"didn't match pod (?:anti-)?affinity rules", re.I),
        "its pod anti-affinity/affinity rules cannot be satisfied",
    ),
    ("unschedulable", re.compile(r"node\(s\) were unschedulable", re.I), "the nodes are cordoned"),
    (
        "autoscaler_limit",
        re.compile(
            r"exceed limits for nodepool|would breach limits|max node group size reached|node group[^\n]*max size",
            re.I,
        ),
        "the node autoscaler cannot add a node: the node pool/group is at its limits",
    ),
    (
        "existing_anti_affinity",
        re.compile(r"didn't satisfy existing pods anti-affinity rules", re.I),
        "the anti-affinity rules of pods already running on the nodes exclude it",
    ),
)


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    findings: list[Finding] = []
    pods = {pod.name: pod for pod in obs.pods}
    reported: set[str] = set()
    asked = ctx.question.named if ctx.question else None
    for event in _newest_first(obs.events):
        if event.reason != "FailedScheduling" or ctx.is_stale(event.last_seen):
            continue
        # an events excerpt without its object column (`describe` rows pasted alone) is about the pod asked about
        name = event.object_name or (asked if asked and not any(e.object_name for e in obs.events) else None)
        if not name or name in reported:
            continue
        pod = pods.get(name) or PodFact(name=name, namespace=event.namespace)
        if pod.phase not in (None, "Pending") or _scheduled_since(event, obs):
            continue  # scheduled since; the event is history
        reported.add(name)
        findings.append(_finding(pod, event.message, event.cite, event, obs))
    if not reported and not any(e.reason == "FailedScheduling" for e in obs.events):
        findings += _pasted_messages(obs, pods, asked, reported)
    for pod in obs.pods:
        if pod.name in reported:
            continue
        condition = next((c for c in pod.conditions if c.type == "PodScheduled" and c.status == "False"), None)
        if condition and condition.message:
            reported.add(pod.name)
            findings.append(_finding(pod, condition.message, condition.cite, None, obs))
    return findings


def _scheduled_since(failed: EventFact, obs: Observations) -> bool:
    """The same pod was assigned to a node after it failed to schedule ("Scheduled ... Successfully assigned"): the
    scheduler found room (a node was added, a pod left) and the failure is resolved history."""
    for event in obs.events:
        if event.reason != "Scheduled" or event.object_name != failed.object_name:
            continue
        if event.last_seen is None or failed.last_seen is None or event.last_seen >= failed.last_seen:
            return True
    return False


def _finding(pod: PodFact, message: str, cite: str, event: EventFact | None, obs: Observations) -> Finding:
    workload = workload_name(pod)
    evidence = [cite]
    reasons = _reasons(message)
    claim_names = pod.volumes_claims
    resources = _decisive_resources(message, reasons)
    if resources:
        what = f"insufficient {', '.join(resources)} on the nodes"
        amounts = [
            (r, found)
            for r in resources
            if (
                found := scheduling_detail.requested(r, obs)
                or ("/" in r and scheduling_detail.extended_limit(r, obs))
                or None
            )
        ]
        if amounts:
            what += " (it requests " + ", ".join(f"{r} {amount}" for r, (amount, _) in amounts) + ")"
            evidence.extend(cite for _, (_, cite) in amounts)
            for resource, (amount, _) in amounts:
                largest = scheduling_detail.allocatable(resource, obs)
                if largest and scheduling_detail.quantity(amount) > scheduling_detail.quantity(largest[0]) > 0:
                    what += (
                        f"; {resource} {amount} is more than any node's allocatable {resource} ({largest[0]}), "
                        f"so it fits on no node even when empty: the request exceeds the node size"
                    )
                    evidence.append(largest[1])
                    break
        offered = next((o for r in resources if "/" in r and (o := scheduling_detail.offered_instead(r, obs))), None)
        if offered and "node size" not in what:
            what += (
                f"; no node offers {resources[0]} at all: the nodes expose {offered[0]} ({offered[1]}) instead, "
                f"so the request names a resource (profile) the current nodes do not have"
            )
            evidence.append(offered[2])
        at_max = _autoscaler_at_max(obs)
        if at_max:
            what += f"; the cluster autoscaler adds no node because the node group is at its maximum size{at_max[0]}"
            evidence.append(at_max[1])
        action = (
            f"Lower {workload}'s {'/'.join(resources)} requests or add capacity "
            f"(scale the node group / cluster autoscaler max) so a node can fit it"
        )
        kind = "insufficient_resources"
    else:
        matched = next(  # the decisive reason first; a control-plane taint is never the reason
            (
                (key, text)
                for reason in (*sorted((t for _, t in reasons), key=_filter_rank), message)
                for key, pattern, text in _REASONS
                if pattern.search(reason) and not _CONTROL_PLANE.search(reason)
            ),
            None,
        )
        key, what = matched if matched else ("other", "no node satisfies its constraints")
        kind = f"unschedulable_{key}"
        selector = pod.node_selector or _template_selector(workload, obs)
        printed = scheduling_detail.printed_selector(obs) if not selector else None
        if printed:
            selector = printed[0]
            evidence.append(printed[1])
        taints = [t.strip() for t in _TAINT.findall(message) if not _CONTROL_PLANE.search(t)]
        if key == "taint" and taints:
            what = f"the nodes carry taint {', '.join(dict.fromkeys(taints))}, which it does not tolerate"
            down = [t for t in taints if re.search(r"node\.kubernetes\.io/(?:unreachable|not-ready)", t)]
            if down and (not_ready := scheduling_detail.not_ready_nodes(obs)):
                what = (
                    f"the nodes it could use are NotReady ({', '.join(not_ready[:5])}): the node controller taints them "
                    f"{down[0].split(':')[0]}, so nothing new lands there until their kubelets report again"
                )
            elif down:
                what = f"the nodes it could use are NotReady/unreachable (taint {down[0].split(':')[0]}): nothing new lands there until their kubelets report again"
        if key == "affinity" and selector:
            wanted = ", ".join(f"{k}={v}" for k, v in sorted(selector.items()))
            what = f"no node has the label(s) its nodeSelector requires ({wanted})"
            present = {
                k: seen
                for k, v in selector.items()
                if (seen := scheduling_detail.label_values(obs, k)) and v not in seen
            }
            if present:
                what += "; the nodes have " + "; ".join(f"{k}={', '.join(v)}" for k, v in present.items())
        elif key == "affinity" and (terms := scheduling_detail.node_affinity_terms(obs)):
            what = f"no node satisfies its required node affinity ({terms})"
        what = _detail(key, what, message, obs, evidence)
        if key == "ports":
            what = host_ports.held_elsewhere(obs, workload, evidence) or what
        action = {
            "affinity": f"Fix {workload}'s nodeSelector/affinity or label a node to match (kubectl get nodes --show-labels)",
            "taint": f"Add a toleration for the taint to {workload} or remove the taint from a node (kubectl describe nodes | grep Taints)",
            "pvc": "Bind the PersistentVolumeClaim: check its StorageClass and provisioner (kubectl describe pvc)",
            "pods": "Add nodes or raise the kubelet's maxPods",
            "ports": f"Drop hostPort from {workload} or run fewer replicas than nodes",
            "anti_affinity": f"Relax {workload}'s pod anti-affinity or add nodes",
            "volume_zone": f"Run {workload} in the zone of its PersistentVolume (add a node there) or restore the volume into the nodes' zone",
            "topology_spread": f"Relax {workload}'s topologySpreadConstraints (maxSkew, whenUnsatisfiable: ScheduleAnyway) or add nodes in the missing zone",
            "volume_limit": "Add nodes or spread the volumes: the nodes reached their attachable-volume limit",
            "unschedulable": "Uncordon a node (kubectl uncordon <node>) or add nodes",
            "autoscaler_limit": "Raise the node pool's limits (Karpenter NodePool spec.limits, the node group's max size) or free capacity in it; the pods stay Pending until a node can be added",
            "existing_anti_affinity": f"Narrow the other workload's required podAntiAffinity (its labelSelector/namespaces) so it does not repel {workload}, or relabel {workload}",
        }.get(key, "Check the scheduler's message and the nodes' capacity and labels")
        if key == "pvc":
            for claim in obs.claims:
                if claim.phase == "Pending" and (not claim_names or claim.name in claim_names):
                    evidence.append(claim.cite)
                    what = f"PersistentVolumeClaim {claim.name} is Pending" + (
                        f" (StorageClass {claim.storage_class})" if claim.storage_class else ""
                    )
                    break
            why = _claim_warning(obs, claim_names)
            if why:
                what += f"; the claim's own events say why: {why.reason}: {why.message}"
                evidence.append(why.cite)
    if "volume node affinity conflict" in message:
        pinned = scheduling_detail.node_affinity_terms(obs, ("PersistentVolume",))
        zones = scheduling_detail.pinned_zones(obs) if not pinned else None
        if pinned:
            what += f"; its PersistentVolume is pinned to {pinned}, so only nodes there can run it"
        elif zones:
            evidence.append(zones[1])
            what += f"; its PersistentVolume is pinned to zone {', '.join(zones[0])}, so only nodes there can run it"
            elsewhere = sorted({z for z in scheduling_detail.node_zones(obs).values() if z not in zones[0]})
            if elsewhere:
                what += f" (the nodes it may use are in {', '.join(elsewhere)})"
    nodes = re.search(r"0/(\d+) nodes are available", message)
    breakdown = ", ".join(f"{n} {text}" for n, text in reasons)
    scope = (
        f" (0/{nodes.group(1)} nodes available: {breakdown})"
        if nodes and breakdown
        else f" (0/{nodes.group(1)} nodes available)"
        if nodes
        else ""
    )
    return Finding(
        kind=kind,
        subject=f"pod/{pod.name}",
        role="cause",
        title=f"{workload}: pod {pod.name} cannot be scheduled: {what}{scope}",
        weight=88,
        evidence=[e for e in dict.fromkeys(evidence) if e],
        workload=workload if workload else workload_of(pod.name),
        timestamp=finding_time(event),
        recommendations=[rec("high", action)],
        affected=[workload],
    )


_MAX_GROUP_SIZE = re.compile(r"max node group size reached", re.IGNORECASE)
_CA_GROUP = re.compile(r"^\s*-\s*name:\s*(?P<name>\S+)")
_CA_FIELD = re.compile(r"^\s*(?P<key>cloudProviderTarget|maxSize):\s*(?P<value>\d+)")


def _autoscaler_at_max(obs: Observations) -> tuple[str, str] | None:
    """(" (node group X: maxSize N)", cite) when the cluster autoscaler says a node group's maximum stops a scale-up."""
    said = next((e.cite for e in obs.events if e.cite and _MAX_GROUP_SIZE.search(e.message)), None) or next(
        (f"{label} {line.strip()}" for label, line in scheduling_detail.lines_of(obs) if _MAX_GROUP_SIZE.search(line)),
        None,
    )
    if said is None:
        return None
    group: str | None = None
    fields: dict[str, int] = {}
    for _label, line in scheduling_detail.lines_of(obs):  # the autoscaler's status ConfigMap (YAML since 1.30)
        named = _CA_GROUP.match(line)
        if named:
            group, fields = named.group("name"), {}
            continue
        field = _CA_FIELD.match(line)
        if field and group:
            fields[field.group("key")] = int(field.group("value"))
            if len(fields) == 2 and fields["cloudProviderTarget"] >= fields["maxSize"]:
                return (
                    f" (node group {group}: {fields['cloudProviderTarget']} nodes, maxSize {fields['maxSize']})",
                    said,
                )
    return "", said


_UNSCHEDULABLE_LINE = re.compile(r"\b0/\d+ nodes are available: ")
_CONTROL_PLANE = re.compile(r"node-role\.kubernetes\.io/(?:control-plane|master)")
_TAINT = re.compile(r"taints? \{([^}]*)\}")
_REASON_ITEM = re.compile(r"(\d+) (.+?)(?=, \d+ |$)")


# Filters that exclude nodes by the pod's own design (its node selector, the taints it does not tolerate): the
# nodes that pass them fail for the remaining reason, which is the one to fix ("6 didn't match node selector,
# 3 Insufficient memory": the 3 nodes meant for it are full).
_FILTERS = re.compile(
    r"didn't match (?:Pod's )?node (?:affinity|selector)|node affinity/selector|taint|didn't tolerate"
    r"|volume node affinity conflict",
    re.I,
)


def _filter_rank(reason: str) -> int:
    """Reasons that are not filters first; among filters, the volume's zone before the pod's own node selector: the
    scheduler names the first filter a node fails, so nodes counted under "volume node affinity conflict" passed
    the selector and are the ones meant for the pod."""
    if not _FILTERS.search(reason):
        return 0
    return 1 if "volume node affinity conflict" in reason.lower() else 2


_CLAIM_REASONS = frozenset({"ProvisioningFailed", "ClaimLost", "VolumeMismatch", "ClaimMisbound"})


def _newest_first(events: list[EventFact]) -> list[EventFact]:
    """Events newest first (by last seen, else by their printed order, oldest first as ``describe`` prints them),
    so a pod's current FailedScheduling reason wins over the one it printed before the nodes changed."""
    if all(e.last_seen is not None for e in events):
        ranked = sorted(range(len(events)), key=lambda i: (events[i].last_seen or datetime.min, i), reverse=True)
        return [events[i] for i in ranked]
    return events[::-1]


def _claim_warning(obs: Observations, claim_names: list[str]) -> EventFact | None:
    """The newest Warning event of a PersistentVolumeClaim the pod uses (ProvisioningFailed, ...): why it is unbound."""
    warnings = [
        e
        for e in obs.events
        if e.type == "Warning"
        and (
            e.object_name in claim_names
            or (
                not claim_names
                and ((e.object_kind or "").lower() in ("persistentvolumeclaim", "pvc") or e.reason in _CLAIM_REASONS)
            )
        )
        and e.message
    ]
    return warnings[-1] if warnings else None


def _decisive_resources(message: str, reasons: list[tuple[int, str]]) -> list[str]:
    """The resources the nodes lack, when that is the decisive reason (else [])."""
    resources = sorted({r.rstrip(".") for r in _INSUFFICIENT.findall(message)})
    if not resources or not reasons:
        return resources
    device_taints = [t for _, t in reasons if re.search(r"taint", t, re.I) and not _CONTROL_PLANE.search(t)]
    if device_taints and all("/" in r for r in resources):
        # "2 had untolerated taint {nvidia.com/gpu: present}, 7 Insufficient nvidia.com/gpu": the 7 nodes have no such
        # device at all; the nodes that have it are reserved by a taint, so the missing toleration is the reason
        return []
    remaining = [(n, text) for n, text in reasons if not _FILTERS.search(text) and not _CONTROL_PLANE.search(text)]
    if not remaining:
        return resources
    top = max(n for n, _ in remaining)
    return resources if any(n == top and _INSUFFICIENT.search(t) for n, t in remaining) else []


def _detail(key: str, what: str, message: str, obs: Observations, evidence: list[str]) -> str:
    """The concrete thing behind the scheduler's reason: pod capacity, cordoned nodes, the affinity's selector."""
    if key == "pods":
        capacity = scheduling_detail.pod_capacity(obs)
        if capacity:
            evidence.append(capacity[1])
            return (
                f"the nodes have reached their maximum pod count (Too many pods: {capacity[0]} pods allowed per node)"
            )
        return "the nodes have reached their maximum pod count (Too many pods)"
    if key == "autoscaler_limit":
        return scheduling_detail.pool_limits(message, obs, evidence) or what
    if key == "unschedulable":
        cordoned = scheduling_detail.cordoned_nodes(obs)
        if cordoned:
            evidence.extend(cite for _, cite in cordoned[:3] if cite)
            names = ", ".join(name for name, _ in cordoned)
            return f"{len(cordoned)} node(s) are cordoned (unschedulable: {names}); uncordon them after maintenance"
        return "the nodes are cordoned (unschedulable); uncordon them after maintenance"
    if key == "existing_anti_affinity":
        selector = scheduling_detail.pod_affinity_selector(obs, True)
        if selector:
            evidence.append(selector[1])
            owner = _owner_of_cite(obs, selector[1])
            whose = f"pods of {owner}" if owner else "pods already running"
            return f"the required pod anti-affinity of {whose} repels pods labelled {selector[0]} from their nodes (topology domain), and this pod matches it on every node"
        return what
    if key in ("anti_affinity",):
        anti = "anti-affinity" in message.lower()
        selector = scheduling_detail.pod_affinity_selector(obs, anti)
        if selector:
            evidence.append(selector[1])
            term = "pod anti-affinity" if anti else "required pod affinity"
            return f"its {term} selects pods labelled {selector[0]}, and no node in the topology domain it requires runs such a pod"
        return what
    if key == "ports":
        ports = scheduling_detail.host_ports(obs)
        if ports and (surge := _surge_strategy(obs)):
            return (
                f"its hostPort {', '.join(ports)} is held on every node it fits by the old pods, and the rollout "
                f"({surge}) adds a new pod before removing an old one, so the surge pod never schedules and the rollout hangs; "
                "use maxUnavailable: 1 and maxSurge: 0 (or the Recreate strategy) for a hostPort workload"
            )
        if ports:
            return f"its hostPort {', '.join(ports)} is already taken on every node it fits (one pod per node and host port: more replicas than nodes cannot run)"
        return what
    if key == "topology_spread":
        topology = scheduling_detail.topology_key(obs)
        cordoned = scheduling_detail.cordoned_nodes(obs)
        if "missing required label" in message:
            missing = scheduling_detail.missing_spread_key(obs)
            if missing:
                evidence.append(missing[1])
                typo = f" (a typo of {missing[2]}?)" if missing[2] else ""
                return f"no node carries the label {missing[0]}{typo} that its topology spread constraint (whenUnsatisfiable: DoNotSchedule) spreads over (missing required label), so every node is filtered out; fix the topologyKey or label the nodes"
            if topology:
                evidence.append(topology[1])
            label = topology[0] if topology else "its topologyKey"
            return f"no node carries the label {label} that its topology spread constraint spreads over (missing required label), so every node is filtered out; label the nodes or fix the topologyKey"
        if topology:
            evidence.append(topology[1])
            what = f"its topology spread constraint over {topology[0]} (maxSkew, whenUnsatisfiable: DoNotSchedule) cannot be met"
            if cordoned:
                what += _cordoned_domains(cordoned, obs, evidence)
        elif cordoned:
            what += _cordoned_domains(cordoned, obs, evidence)
        return what
    return what


def _cordoned_domains(cordoned: list[tuple[str, str]], obs: Observations, evidence: list[str]) -> str:
    """Cordoned nodes by zone: a zone whose every node is cordoned still counts as a spread domain (with none of the
    pods), so the other zones are already at maxSkew and the new pods fit nowhere."""
    names = [name for name, _ in cordoned]
    evidence.extend(cite for _, cite in cordoned[:2] if cite)
    zones = scheduling_detail.node_zones(obs)
    emptied = sorted(
        {zone for name in names if (zone := zones.get(name)) and all(n in names for n, z in zones.items() if z == zone)}
    )
    if emptied:
        return (
            f"; every node of zone {', '.join(emptied)} is cordoned (SchedulingDisabled: {', '.join(names)}), so that zone "
            f"still counts as a domain with none of its pods and the other zones already exceed maxSkew; uncordon them"
        )
    return f"; cordoned in that domain: {', '.join(names)}"


_POD_HEADER = re.compile(r"\bpod[/ ](?:[\w-]+/)?(?P<pod>[a-z0-9][\w.-]*?)(?:\(|\s|$|:)", re.I)


def _pasted_messages(
    obs: Observations, pods: dict[str, PodFact], asked: str | None, reported: set[str]
) -> list[Finding]:
    """Scheduler messages pasted without an event around them: an events row without its object, a CI log line,
    k8sgpt's ``0: Pod ns/name()`` / ``- Error: 0/9 nodes are available: ...``. The pod is the one the line or the
    line before it names, else the one asked about."""
    findings: list[Finding] = []
    previous = ""
    for label, text in scheduling_detail.lines_of(obs):
        found = _UNSCHEDULABLE_LINE.search(text)
        if not found:
            previous = text
            continue
        named = _POD_HEADER.search(text[: found.start()]) or _POD_HEADER.search(previous)
        name = named.group("pod") if named else (asked if asked and not _names_other(label, asked) else None)
        previous = text
        if not name or name in reported or len(findings) >= 3:
            continue
        reported.add(name)
        pod = pods.get(name) or PodFact(name=name)
        findings.append(_finding(pod, text[found.start() :].strip(), f"{label} {text.strip()}", None, obs))
    return findings


def _names_other(label: str, asked: str) -> bool:
    """An attachment named after another object (``describe-zookeeper-2.txt`` when kafka-2 is asked about)."""
    stem = re.sub(r"^\[attachment:|\]$", "", label).rsplit(".", 1)[0].lower()
    stem = re.sub(r"^(?:kubectl-)?(?:describe|get|pod|pods|events?)[-_]", "", stem)
    return bool(re.search(r"[a-z0-9]-[a-z0-9]", stem)) and asked.lower() not in stem and stem not in asked.lower()


def _owner_of_cite(obs: Observations, cite: str) -> str | None:
    """The workload named by the command that printed the cited attachment (``get sts pg-main -o yaml``)."""
    label = cite.split("] ", 1)[0] + "]"
    for doc_label, command in [(t.label, t.command) for t in obs.texts] + [(d.label, d.command) for d in obs.logs]:
        found = re.search(
            r"\bget\s+(?:sts|statefulsets?|deploy|deployments?|ds|daemonsets?)(?:\.apps)?\s+([a-z0-9][\w.-]*)", command
        )
        if doc_label == label and found:
            return found.group(1)
    return None


def _surge_strategy(obs: Observations) -> str | None:
    """``maxUnavailable: 0`` with a surge (``maxSurge`` >= 1 or a percentage) in a Deployment's strategy, as printed."""
    text = " ".join(
        line for _, line in scheduling_detail.lines_of(obs) if "maxUnavailable" in line or "maxSurge" in line
    )
    unavailable = re.search(r"maxUnavailable\"?\s*:\s*\"?(0%?)\"?(?![\d%])", text)
    surge = re.search(r"maxSurge\"?\s*:\s*\"?([1-9]\d*%?)", text)
    return f"maxSurge {surge.group(1)}, maxUnavailable {unavailable.group(1)}" if unavailable and surge else None


def _reasons(message: str) -> list[tuple[int, str]]:
    """The scheduler's '0/N nodes are available: 3 Insufficient memory, 1 node(s) ...' as (count, reason), biggest first."""
    match = re.search(r"nodes are available: (.+?)(?:\.\s+preemption:|\.?\s*$)", message)
    if not match:
        return []
    items = [(int(n), text.strip().rstrip(".")) for n, text in _REASON_ITEM.findall(match.group(1))]
    return sorted(items, key=lambda item: (bool(_CONTROL_PLANE.search(item[1])), -item[0]))


def _template_selector(workload: str, obs: Observations) -> dict[str, str]:
    """The nodeSelector of the workload's pod template, when its manifest was read."""
    for resource in obs.resources:
        if resource.name == workload and resource.kind in (
            "Deployment",
            "StatefulSet",
            "DaemonSet",
            "Job",
            "ReplicaSet",
        ):
            spec = resource.raw.get("spec")
            template = spec.get("template") if isinstance(spec, dict) else None
            pod_spec = template.get("spec") if isinstance(template, dict) else None
            selector = pod_spec.get("nodeSelector") if isinstance(pod_spec, dict) else None
            if isinstance(selector, dict):
                return {str(k): str(v) for k, v in selector.items()}
    for document in obs.documents:  # a pasted spec excerpt without kind/metadata
        found = _find_key(document.data, "nodeSelector")
        if isinstance(found, dict) and found:
            return {str(k): str(v) for k, v in found.items()}
    return {}


def _find_key(data: object, key: str, depth: int = 0) -> object:
    if depth > 6:
        return None
    if isinstance(data, dict):
        if key in data:
            return data[key]
        for value in data.values():
            found = _find_key(value, key, depth + 1)
            if found is not None:
                return found
    elif isinstance(data, list):
        for item in data:
            found = _find_key(item, key, depth + 1)
            if found is not None:
                return found
    return None
