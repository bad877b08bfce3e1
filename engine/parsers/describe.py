"""``kubectl describe`` text (pods, deployments, replicasets, nodes, jobs, services, PVCs) -> facts.

The text is read as an indentation tree: each ``Key: value`` line gets a path such as
``("Containers", "api", "Last State", "Reason")``, so one generic pass serves every resource kind.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from engine.facts import (
    ClaimFact,
    ConditionFact,
    ContainerFact,
    EventFact,
    NodeFact,
    Observations,
    PodFact,
    ResourceFact,
    ServiceFact,
    WorkloadFact,
)
from engine.parsers.common import Citer, parse_timestamp, to_int

_KEY = re.compile(r"^(\s*)([A-Za-z][\w .()/#-]*?):(?:[ \t]+(.*?))?\s*$")
_EVENT_COUNT = re.compile(r"\(x(\d+) over")
_AGE_THEN_SOURCE = re.compile(r"^(\S+ \(x\d+ over [\w.]+\)|[\w.<>]+) ([a-z][\w./:-]*(?:, [\w./:-]+)?)$")
_GAP = re.compile(r"\s{2,}")
_SECTION_TABLES = {"Conditions", "Events"}


@dataclass
class Entry:
    path: tuple[str, ...]
    value: str
    line: str


@dataclass
class Doc:
    entries: list[Entry] = field(default_factory=list)
    rows: dict[str, list[str]] = field(default_factory=dict)  # table sections: Events, Conditions
    items: dict[tuple[str, ...], list[str]] = field(default_factory=dict)

    def get(self, *path: str) -> Entry | None:
        return next((entry for entry in self.entries if entry.path == path), None)

    def value(self, *path: str) -> str | None:
        entry = self.get(*path)
        return entry.value if entry else None


def split_documents(text: str) -> list[list[str]]:
    """One document per ``Name:`` line at column 0."""
    docs: list[list[str]] = []
    for line in text.splitlines():
        if line.startswith("Name:") or not docs:
            docs.append([])
        docs[-1].append(line.rstrip())
    return [doc for doc in docs if any(line.startswith("Name:") for line in doc)]


def parse_tree(lines: list[str]) -> Doc:
    doc = Doc(items={})
    stack: list[tuple[int, str]] = []
    section_table: str | None = None
    for line in lines:
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip())
        if indent == 0:
            section_table = None
        if section_table is not None:
            doc.rows.setdefault(section_table, []).append(line)
            continue
        match = _KEY.match(line)
        if match and not (stack and stack[-1][1] in ("Command", "Args") and indent > stack[-1][0]):
            key, value = match.group(2).strip(), (match.group(3) or "").strip()
            while stack and stack[-1][0] >= indent:
                stack.pop()
            path = (*(k for _, k in stack), key)
            doc.entries.append(Entry(path, value, line))
            if indent == 0 and key in _SECTION_TABLES and not value:
                section_table = key
                continue
            stack.append((indent, key))
        else:
            while stack and stack[-1][0] >= indent:
                stack.pop()
            doc.items.setdefault(tuple(k for _, k in stack), []).append(line.strip())
    return doc


_DESCRIBED = re.compile(
    r"\bdescribe\s+(?:(?:-n|--namespace)[\s=]\S+\s+)?([a-z][\w.]*)(?:\s+|/)([a-z0-9][a-z0-9.-]*)", re.IGNORECASE
)
_NAMESPACE_FLAG = re.compile(r"(?:-n|--namespace)[\s=]([a-z0-9][a-z0-9-]*)")
_ASSIGNED = re.compile(r"Successfully assigned (?P<ns>[a-z0-9][a-z0-9-]*)/(?P<pod>[a-z0-9][a-z0-9.-]*) to ")
_EVENT_ROW = re.compile(r"^\s*(?:Normal|Warning)\s{2,}\w+\s{2,}\S")
_HINT_KINDS = {
    **dict.fromkeys(("po", "pod", "pods"), "Pod"),
    **dict.fromkeys(("no", "node", "nodes"), "Node"),
    **dict.fromkeys(("pvc", "persistentvolumeclaim", "persistentvolumeclaims"), "PersistentVolumeClaim"),
    **dict.fromkeys(("job", "jobs", "job.batch"), "Job"),
    **dict.fromkeys(("deploy", "deployment", "deployments", "deployment.apps"), "Deployment"),
    **dict.fromkeys(("sts", "statefulset", "statefulsets", "statefulset.apps"), "StatefulSet"),
    **dict.fromkeys(("ds", "daemonset", "daemonsets", "daemonset.apps"), "DaemonSet"),
    **dict.fromkeys(("rs", "replicaset", "replicasets", "replicaset.apps"), "ReplicaSet"),
    **dict.fromkeys(("cj", "cronjob", "cronjobs", "cronjob.batch"), "CronJob"),
}


def observations_from_describe(text: str, citer: Citer, hint: str = "") -> Observations:
    """Every described object; a fragment without its ``Name:`` line (``describe pod x | tail``) is named by
    the command that printed it, and bare event rows in it are read as its Events."""
    obs = Observations()
    documents: list[tuple[list[str], str | None, str | None]] = [(lines, None, None) for lines in split_documents(text)]
    described = _DESCRIBED.search(hint)
    if not documents and described:
        kind_word = described.group(1)
        hinted = _HINT_KINDS.get(kind_word.lower())
        documents = [(text.splitlines(), described.group(2), hinted)]
    elif not documents and (assigned := _ASSIGNED.search(text)):  # a pod's Events: excerpt names it when scheduled
        documents = [(text.splitlines(), assigned.group("pod"), "Pod")]
        hint = f"{hint} -n {assigned.group('ns')}"
    for lines, hinted_name, hinted_kind in documents:
        doc = parse_tree(lines)
        if hinted_name and "Events" not in doc.rows:
            doc.rows["Events"] = [line for line in lines if _EVENT_ROW.match(line)]
        name = doc.value("Name") or hinted_name or "?"
        namespace = doc.value("Namespace")
        if namespace is None and hinted_name:
            flag = _NAMESPACE_FLAG.search(hint)
            namespace = flag.group(1) if flag else None
        kind = _kind_of(doc) or hinted_kind
        obs.events.extend(_events(doc, kind, name, namespace, citer))
        if kind == "Pod":
            obs.pods.append(_pod(doc, name, namespace, citer))
        elif kind == "Node":
            obs.nodes.append(_node(doc, name, citer))
        elif kind == "Service":
            endpoints = doc.get("Endpoints")
            service = ServiceFact(name=name, namespace=namespace, endpoints=endpoints.value if endpoints else None)
            selector = doc.get("Selector")
            if selector and selector.value not in ("", "<none>"):
                service.selector = dict(item.partition("=")[::2] for item in selector.value.split(",") if "=" in item)
                service.cites["selector"] = citer.quote(selector.line)
            if endpoints:
                service.cites["endpoints"] = citer.quote(endpoints.line)
            port, target = doc.get("Port"), doc.get("TargetPort")
            if port:
                service.ports = [p.partition("/")[0] for p in port.value.split() if p != "<unset>"]
            if target and target.value:
                service.target_ports = [target.value.partition("/")[0]]
                service.cites["target_port"] = citer.quote(target.line)
            obs.services.append(service)
        elif kind == "PersistentVolumeClaim":
            status = doc.get("Status")
            obs.claims.append(
                ClaimFact(
                    name,
                    namespace,
                    status.value if status else None,
                    doc.value("StorageClass"),
                    citer.quote(status.line) if status else "",
                )
            )
        elif kind:
            obs.workloads.append(_workload(doc, kind, name, namespace, citer))
        else:
            other = _other_kind(doc)
            if other:
                raw = {"described": True, "entries": [[list(e.path), e.value, e.line] for e in doc.entries]}
                obs.resources.append(ResourceFact(other, name, namespace, raw, citer.label, lines))
    return obs


def _other_kind(doc: Doc) -> str | None:
    """Kinds this parser reads only as searchable entries (their analyzers read the entries)."""
    paths = {entry.path[-1] for entry in doc.entries}
    if "PodSelector" in paths or "Policy Types" in paths:
        return "NetworkPolicy"
    if "Min replicas" in paths and "Max replicas" in paths:
        return "HorizontalPodAutoscaler"
    if "Rules" in paths and ("Ingress Class" in paths or "Default backend" in paths):
        return "Ingress"
    return None


def _kind_of(doc: Doc) -> str | None:
    keys = {entry.path[0] for entry in doc.entries}
    if "Containers" in keys and ("Node" in keys or "IP" in keys or "QoS Class" in keys):
        return "Pod"
    if "Kubelet Version" in keys or "System Info" in keys or ("Taints" in keys and "Capacity" in keys):
        return "Node"
    if "Schedule" in keys and "Concurrency Policy" in keys:
        return "CronJob"
    if "Completions" in keys or "Backoff Limit" in keys or ("Pods Statuses" in keys and "Parallelism" in keys):
        return "Job"
    if "StrategyType" in keys or "RollingUpdateStrategy" in keys:
        return "Deployment"
    if "Update Strategy" in keys and "Pods Status" in keys and "Replicas" in keys:
        return "StatefulSet"
    if "Desired Number of Nodes Scheduled" in keys:
        return "DaemonSet"
    if "Controlled By" in keys and "Replicas" in keys:
        return "ReplicaSet"
    if "Endpoints" in keys and ("Selector" in keys or "IP" in keys or "Port" in keys):
        return "Service"
    if "Access Modes" in keys and "StorageClass" in keys:
        return "PersistentVolumeClaim"
    if "StorageClass" in keys and "Used By" in keys:  # only a claim prints the pods that use it
        return "PersistentVolumeClaim"
    if "Containers" in keys or "Init Containers" in keys:  # a fragment cut after the init containers
        return "Pod"
    if "Node-Selectors" in keys and "Tolerations" in keys:  # a pod with its container sections cut out
        return "Pod"
    if any(_KUBELET_CONDITION.search(row) for row in doc.rows.get("Conditions", [])):
        return "Node"  # a node trimmed to its conditions: only the kubelet reports Kubelet*/NodeStatusUnknown
    return None


_KUBELET_CONDITION = re.compile(
    r"^\s*(?:MemoryPressure|DiskPressure|PIDPressure|Ready)\s+(?:True|False|Unknown)\s"
    r".*\b(?:Kubelet\w+|NodeStatusUnknown)\b"
)


def _events(doc: Doc, kind: str | None, name: str, namespace: str | None, citer: Citer) -> list[EventFact]:
    events = []
    for row in doc.rows.get("Events", []):
        stripped = row.strip()
        if not stripped or stripped.startswith(("Type", "----", "<none>")):
            continue
        parts = _GAP.split(stripped, maxsplit=4)
        crowded = _AGE_THEN_SOURCE.match(parts[2]) if len(parts) == 4 else None
        if crowded:  # an age too wide for its column leaves one space before the source: "2m (x21 over 32m) kubelet"
            parts[2:3] = [crowded.group(1), crowded.group(2)]
        if len(parts) < 5 or parts[0] not in ("Normal", "Warning"):
            continue
        etype, reason, age, _source, message = parts
        count_match = _EVENT_COUNT.search(age)
        events.append(
            EventFact(
                type=etype,
                reason=reason,
                message=message,
                object_kind=kind,
                object_name=name,
                namespace=namespace,
                count=int(count_match.group(1)) if count_match else 1,
                cite=citer.quote(row),
            )
        )
    return events


def _conditions(doc: Doc, citer: Citer) -> list[ConditionFact]:
    facts = []
    for row in doc.rows.get("Conditions", []):
        parts = _GAP.split(row.strip())
        if len(parts) >= 2 and re.fullmatch(r"(True|False|Unknown) [A-Z][A-Za-z]+", parts[1]):
            parts[1:2] = parts[1].split(" ")  # a hand-aligned row: "Progressing    Unknown DeploymentPaused"
        if len(parts) < 2 or parts[0] in ("Type", "----") or parts[1] not in ("True", "False", "Unknown"):
            continue
        reason = next((p for p in parts[2:] if re.fullmatch(r"[A-Z][A-Za-z]+", p)), None)
        message = parts[-1] if len(parts) >= 4 else None
        facts.append(ConditionFact(parts[0], parts[1], reason, message, citer.quote(row)))
    return facts


def _pod(doc: Doc, name: str, namespace: str | None, citer: Citer) -> PodFact:
    node = doc.value("Node")
    controlled = doc.value("Controlled By") or ""
    owner_kind, _, owner_name = controlled.partition("/")
    pod = PodFact(
        name=name,
        namespace=namespace,
        phase=doc.value("Status"),
        status_reason=doc.value("Reason"),
        status_message=doc.value("Message"),
        node=node.split("/")[0] if node and node != "<none>" else None,
        owner_kind=owner_kind or None,
        owner_name=owner_name or None,
        created_at=parse_timestamp(doc.value("Start Time")),
        source=citer.label,
    )
    for key, fact_key in (("Reason", "status"), ("Message", "status_message")):
        entry = doc.get(key)
        if entry:
            pod.cites[fact_key] = citer.quote(entry.line)
    pod.conditions = _conditions(doc, citer)
    labels = doc.value("Labels")
    for label in [labels or "", *doc.items.get(("Labels",), [])]:
        key, _, value = label.partition("=")
        if value:
            pod.labels[key.strip()] = value.strip()
    selectors = doc.value("Node-Selectors")
    for item in [selectors or "", *doc.items.get(("Node-Selectors",), [])]:
        key, _, value = item.partition("=")
        if value and key.strip() != "<none>":
            pod.node_selector[key.strip()] = value.strip()
    for entry in doc.entries:
        if entry.path[-1] == "ClaimName" and entry.path[0] == "Volumes":
            pod.volumes_claims.append(entry.value)
    for section, init in (("Init Containers", True), ("Containers", False)):
        names = [e.path[1] for e in doc.entries if len(e.path) == 2 and e.path[0] == section and not e.value]
        for cname in names:
            pod.containers.append(_container(doc, section, cname, init, citer))
    if not pod.containers and (doc.get("Last State") or doc.get("Restart Count")):
        # a fragment cut out of one container's section (``describe pod x | sed -n '/State:/,/Requests:/p'``)
        pod.containers.append(_container(doc, "", "?", False, citer))
    return pod


def _container(doc: Doc, section: str, name: str, init: bool, citer: Citer) -> ContainerFact:
    base = (section, name) if section else ()
    fact = ContainerFact(name=name, init=init, image=doc.value(*base, "Image"))

    def entry(*path: str) -> Entry | None:
        return doc.get(*base, *path)

    state = entry("State")
    if state:
        fact.state = state.value.lower() or None
        fact.cites["state"] = citer.quote(state.line)
        reason = entry("State", "Reason")
        if reason:
            fact.reason = reason.value
            fact.cites["state"] = citer.quote(reason.line)
        message = entry("State", "Message")
        if message:
            fact.message = message.value
            fact.cites["message"] = citer.quote(message.line)
        fact.exit_code = to_int(doc.value(*base, "State", "Exit Code"))
        fact.started_at = parse_timestamp(doc.value(*base, "State", "Started"))
        fact.finished_at = parse_timestamp(doc.value(*base, "State", "Finished"))
    last_reason = entry("Last State", "Reason")
    if last_reason:
        fact.last_reason = last_reason.value
        fact.cites["last_state"] = citer.quote(last_reason.line)
    last_code = entry("Last State", "Exit Code")
    if last_code:
        fact.last_exit_code = to_int(last_code.value)
        fact.cites["last_exit_code"] = citer.quote(last_code.line)
    last_message = entry("Last State", "Message")
    if last_message:
        fact.last_message = last_message.value
        fact.cites["last_message"] = citer.quote(last_message.line)
    fact.last_finished_at = parse_timestamp(doc.value(*base, "Last State", "Finished"))
    ready = doc.value(*base, "Ready")
    fact.ready = None if ready is None else ready == "True"
    restarts = entry("Restart Count")
    if restarts:
        fact.restart_count = to_int(restarts.value) or 0
        fact.cites["restarts"] = citer.quote(restarts.line)
    memory = entry("Limits", "memory")
    if memory:
        fact.memory_limit = memory.value
        fact.cites["memory_limit"] = citer.quote(memory.line)
    fact.memory_request = doc.value(*base, "Requests", "memory")
    fact.cpu_limit = doc.value(*base, "Limits", "cpu")
    for key in ("Port", "Ports"):
        port_entry = entry(key)
        if port_entry:
            fact.ports += [int(p) for p in re.findall(r"(\d+)/(?:TCP|UDP|SCTP)", port_entry.value)]
            fact.cites["ports"] = citer.quote(port_entry.line)
    fact.command = [*doc.items.get((*base, "Command"), []), *doc.items.get((*base, "Args"), [])]
    for probe_key, probe in (
        ("Liveness", "livenessProbe"),
        ("Readiness", "readinessProbe"),
        ("Startup", "startupProbe"),
    ):
        probe_entry = entry(probe_key)
        if probe_entry:
            fact.cites[probe] = citer.quote(probe_entry.line)
    for line in doc.items.get((*base, "Environment Variables from"), []):
        parts = line.split()
        if len(parts) >= 2 and parts[1] in ("ConfigMap", "Secret"):
            fact.env_from_refs.append((parts[1], parts[0]))
    for env in doc.entries:
        if env.path[:-1] == (*base, "Environment"):
            ref = re.search(r"<set to the key '([^']+)' (?:in|of) (secret|config map) '([^']+)'>", env.value)
            if ref:
                kind = "Secret" if ref.group(2) == "secret" else "ConfigMap"
                fact.env_key_refs.append((env.path[-1], kind, ref.group(3), ref.group(1)))
    return fact


def _node(doc: Doc, name: str, citer: Citer) -> NodeFact:
    node = NodeFact(name=name, conditions=_conditions(doc, citer))
    taints = doc.get("Taints")
    if taints and taints.value != "<none>":
        node.taints = [taints.value, *doc.items.get(("Taints",), [])]
        node.cites["taints"] = citer.quote(taints.line)
    unschedulable = doc.get("Unschedulable")
    if unschedulable and unschedulable.value == "true":
        node.unschedulable = True
        node.cites["unschedulable"] = citer.quote(unschedulable.line)
    return node


def _workload(doc: Doc, kind: str, name: str, namespace: str | None, citer: Citer) -> WorkloadFact:
    fact = WorkloadFact(kind=kind, name=name, namespace=namespace, conditions=_conditions(doc, citer))
    replicas = doc.get("Replicas")
    if replicas:
        fact.cites["replicas"] = citer.quote(replicas.line)
        numbers = {
            label: int(count)
            for count, label in re.findall(
                r"(\d+) (desired|updated|total|available|unavailable|current)", replicas.value
            )
        }
        fact.desired = numbers.get("desired") if "desired" in numbers else to_int(replicas.value)
        fact.updated = numbers.get("updated")
        fact.available = numbers.get("available")
        fact.unavailable = numbers.get("unavailable")
    scheduled = doc.get("Desired Number of Nodes Scheduled")  # a DaemonSet: one pod per eligible node
    if scheduled and fact.desired is None:
        fact.desired = to_int(scheduled.value)
        fact.cites["replicas"] = citer.quote(scheduled.line)
    statuses = doc.get("Pods Statuses") or doc.get("Pods Status")
    if statuses:
        counts = {
            label: int(count)
            for count, label in re.findall(r"(\d+) (Active|Succeeded|Failed|Running|Waiting)", statuses.value)
        }
        fact.failed = counts.get("Failed")
        fact.succeeded = counts.get("Succeeded")
        fact.cites["pods_statuses"] = citer.quote(statuses.line)
    fact.backoff_limit = to_int(doc.value("Backoff Limit"))
    fact.active_deadline_seconds = to_int(doc.value("Active Deadline Seconds"))
    fact.revision = None
    for entry in doc.entries:
        if entry.path[-1] == "Image":
            fact.images.append(entry.value)
            fact.cites.setdefault("image", citer.quote(entry.line))
        if entry.path == ("Annotations",) and "deployment.kubernetes.io/revision" in entry.value:
            fact.revision = entry.value.rsplit(":", 1)[-1].strip()
    new_rs = doc.value("NewReplicaSet")
    if new_rs:
        fact.cites["new_replicaset"] = citer.quote(doc.get("NewReplicaSet").line)  # type: ignore[union-attr]
    controlled = doc.value("Controlled By")
    if controlled:
        fact.owner_name = controlled.partition("/")[2] or None
    return fact
