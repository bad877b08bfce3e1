"""``kubectl get`` / ``kubectl top`` tables (default and ``-o wide``, one or many blocks) -> facts."""

from __future__ import annotations

import re

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
    UsageFact,
    WorkloadFact,
)
from engine.parsers.common import Citer, millicores, quantity_bytes, to_int

# Upper-case header cells; kubectl top adds a unit in lower case: CPU(cores), MEMORY(bytes)
_HEADER_CELL = re.compile(r"[A-Z][A-Z0-9()%_/-]*(?:\((?:cores|bytes)\))?(?: [A-Z][A-Z0-9()%_/-]*)*")
_COUNT = re.compile(r"\bx?(\d+)\b")
_WAITING_STATUSES = {
    "CrashLoopBackOff",
    "ImagePullBackOff",
    "ErrImagePull",
    "InvalidImageName",
    "CreateContainerConfigError",
    "CreateContainerError",
    "RunContainerError",
    "ContainerCreating",
    "PodInitializing",
}
_TERMINATED_STATUSES = {
    "OOMKilled",
    "Error",
    "Completed",
    "ContainerCannotRun",
    "DeadlineExceeded",
    "StartError",
}


def is_header(line: str) -> bool:
    stripped = line.strip()
    cells = re.split(r"\s{2,}", stripped)
    events = "REASON" in cells and bool({"MSG", "MESSAGE"} & set(cells))  # custom-columns event listings
    if not events and not stripped.startswith(("NAME", "LAST SEEN", "NAMESPACE", "POD ")):  # POD: kubectl top pod
        return False
    return len(cells) >= 2 and all(_HEADER_CELL.fullmatch(cell) for cell in cells)


def split_tables(text: str) -> list[tuple[list[str], list[str], list[int]]]:
    """Blocks of (header names, rows, column starts)."""
    tables: list[tuple[list[str], list[str], list[int]]] = []
    for line in text.splitlines():
        if is_header(line):
            starts = [m.start() for m in re.finditer(r"(?:(?<=\s\s)|^)\S", line)]
            names = [cell.strip() for cell in re.split(r"\s{2,}", line.strip())]
            tables.append((names, [], starts))
        elif line.strip() and tables:
            tables[-1][1].append(line.rstrip())
    return tables


def cells(row: str, starts: list[int]) -> list[str]:
    """Slice a row by the header's column starts, moving each cut to a whitespace boundary."""
    cuts = []
    for position in starts:
        position = min(position, len(row))
        while 0 < position < len(row) and not row[position - 1].isspace():
            position += 1
        cuts.append(position)
    values = [row[a:b].strip() for a, b in zip(cuts, [*cuts[1:], len(row)], strict=True)]
    if any(not v for v in values[:-1]) and len(re.split(r"\s{2,}", row.strip())) == len(starts):
        values = [v.strip() for v in re.split(r"\s{2,}", row.strip())]
    elif len(values) > 2 and not values[-1] and (tokens := re.split(r"(\s{2,})", row.strip()))[1::2]:
        # blank middle cells (a Pending claim's VOLUME, CAPACITY) pasted with fewer spaces: kubectl never leaves the
        # last column (AGE, MODE) blank, so the values after the widest gap belong to the last columns
        words, gaps = tokens[0::2], [len(g) for g in tokens[1::2]]
        cut = gaps.index(max(gaps)) + 1
        if len(words) < len(values):
            values = words[:cut] + [""] * (len(values) - len(words)) + words[cut:]
    return values


_GET_KIND = re.compile(r"\bget\s+(?:-\S+\s+)*([a-z.]+)")
_HEADER_KINDS = (
    ({"REFERENCE", "MINPODS", "MAXPODS"}, "HorizontalPodAutoscaler"),
    ({"MODE", "PROVIDED"}, "VerticalPodAutoscaler"),
    ({"MIN AVAILABLE", "ALLOWED DISRUPTIONS"}, "PodDisruptionBudget"),
    ({"MAX UNAVAILABLE", "ALLOWED DISRUPTIONS"}, "PodDisruptionBudget"),
    ({"TYPE", "CLUSTER-IP"}, "Service"),
    ({"ADDRESSTYPE", "PORTS", "ENDPOINTS"}, "EndpointSlice"),
    ({"CLASS", "HOSTS", "ADDRESS"}, "Ingress"),
    ({"PROVISIONER", "RECLAIMPOLICY"}, "StorageClass"),
    ({"POD-SELECTOR"}, "NetworkPolicy"),
    ({"SYNC STATUS", "HEALTH STATUS"}, "Application"),
    ({"DESIRED", "CURRENT", "NODE SELECTOR"}, "DaemonSet"),
    ({"SCHEDULE", "SUSPEND"}, "CronJob"),
)
_COMMAND_KINDS = {
    "po": "Pod",
    "pod": "Pod",
    "pods": "Pod",
    "no": "Node",
    "node": "Node",
    "nodes": "Node",
    "ns": "Namespace",
    "namespace": "Namespace",
    "namespaces": "Namespace",
    "svc": "Service",
    "service": "Service",
    "services": "Service",
    "hpa": "HorizontalPodAutoscaler",
    "pdb": "PodDisruptionBudget",
    "ing": "Ingress",
    "ingress": "Ingress",
    "netpol": "NetworkPolicy",
    "networkpolicy": "NetworkPolicy",
    "sc": "StorageClass",
    "storageclass": "StorageClass",
    "pv": "PersistentVolume",
    "applications": "Application",
    "application": "Application",
    "app": "Application",
    "apps": "Application",
    "scaledobject": "ScaledObject",
    "certificate": "Certificate",
    "certificates": "Certificate",
    "endpoints": "Endpoints",
    "secret": "Secret",
    "secrets": "Secret",
    "configmap": "ConfigMap",
    "configmaps": "ConfigMap",
    "cm": "ConfigMap",
    "ep": "Endpoints",
    "clusterissuer": "ClusterIssuer",
    "clusterissuers": "ClusterIssuer",
    "issuer": "Issuer",
    "issuers": "Issuer",
    "kustomization": "Kustomization",
    "kustomizations": "Kustomization",
    "helmrelease": "HelmRelease",
    "helmreleases": "HelmRelease",
}


def table_kind(names: list[str], hint: str) -> str:
    """The kind of a table's rows from its header, else from the ``kubectl get <kind>`` that printed it."""
    columns = set(names)
    for wanted, kind in _HEADER_KINDS:
        if wanted <= columns:
            return kind
    match = _GET_KIND.search(hint)
    return _COMMAND_KINDS.get(match.group(1).split(".")[0], "") if match else ""


_CUSTOM_COLUMNS = re.compile(r"custom-columns=['\"]?([^'\"\s]+)")
_FIELD_COLUMNS = {  # what kubectl's own tables call the fields a custom-columns spec prints under any header
    ".metadata.name": "NAME",
    ".metadata.namespace": "NAMESPACE",
    ".spec.nodeName": "NODE",
    ".status.phase": "STATUS",
    ".status.podIP": "IP",
}


def custom_column_names(hint: str) -> dict[str, str]:
    """Headers of a ``-o custom-columns=HEADER:.field,...`` listing renamed to kubectl's own column names
    (``POD:.metadata.name`` is the NAME column), so the rows read like ``kubectl get`` rows."""
    found = _CUSTOM_COLUMNS.search(hint)
    if not found:
        return {}
    renamed: dict[str, str] = {}
    for spec in found.group(1).split(","):
        header, _, field = spec.partition(":")
        if field in _FIELD_COLUMNS:
            renamed[header.upper()] = _FIELD_COLUMNS[field]
    return renamed


def observations_from_tables(text: str, citer: Citer, hint: str = "") -> Observations:
    obs = Observations()
    renamed = custom_column_names(hint)
    for names, rows, starts in split_tables(text):
        names = [renamed.get(name, name) for name in names]
        for row in rows:
            record = dict(zip(names, cells(row, starts), strict=False))
            _add_row(obs, names, record, row, citer, hint)
    return obs


_NAMESPACE_FLAG = re.compile(r"(?:^|\s)(?:-n|--namespace)(?:\s+|=)([a-z0-9][a-z0-9-]*)")


def command_namespace(hint: str) -> str | None:
    """The namespace a ``kubectl -n x get ...`` command printed its rows from (rows without a NAMESPACE column)."""
    command = hint.split("|", 1)[0]
    if re.search(r"(?:^|\s)(?:-A|--all-namespaces)\b", command, re.IGNORECASE):
        return None
    found = _NAMESPACE_FLAG.search(command)
    return found.group(1) if found else None


def _kind_name(value: str, default: str) -> tuple[str, str]:
    kind, slash, name = value.partition("/")
    return (kind, name) if slash else (default, value)


def _add_row(obs: Observations, names: list[str], row: dict[str, str], line: str, citer: Citer, hint: str) -> None:
    cite = citer.quote(line)
    namespace = row.get("NAMESPACE") or command_namespace(hint)
    if "REASON" in names and ("OBJECT" in names or "LAST SEEN" in names or "MSG" in names or "MESSAGE" in names):
        kind, name = _kind_name(row.get("OBJECT") or row.get("OBJ") or row.get("INVOLVED") or row.get("NAME", ""), "")
        count = to_int(row.get("COUNT") or "") or 1
        obs.events.append(
            EventFact(
                type=row.get("TYPE"),
                reason=row.get("REASON", ""),
                message=row.get("MESSAGE") or row.get("MSG", ""),
                object_kind=kind.capitalize() if kind else row.get("KIND"),
                object_name=name,
                namespace=namespace,
                count=count,
                cite=cite,
            )
        )
        return
    kind, name = _kind_name(row.get("NAME", ""), "")
    if "CPU(cores)" in names and row.get("POD"):  # per container: usage counted against the pod
        name = row["POD"]
    if "CPU(cores)" in names:
        memory = row.get("MEMORY(bytes)")
        percent = to_int(row.get("MEMORY%", "").rstrip("%")) if "MEMORY%" in names else None
        obs.usage.append(
            UsageFact(
                "node" if "CPU%" in names else "pod",
                name,
                millicores(row.get("CPU(cores)")),
                quantity_bytes(memory),
                percent,
                cite,
                namespace,
            )
        )
    elif (
        "RESTARTS" in names
        or (kind in ("pod", "") and "READY" in names and "STATUS" in names)
        or (not kind and "NAME" in names and table_kind(names, hint) == "Pod")  # get pods -o custom-columns=...
        or (not kind and not hint and {"NAME", "NODE", "IP"} <= set(names))  # only pods print a node and an IP
    ):
        pod = _pod_row(name, namespace, row, cite)
        pod.labels = _labels(row.get("LABELS", "")) | _label_columns(row, hint)
        obs.pods.append(pod)
    elif "ROLES" in names or kind == "node" or ("TAINTS" in names and table_kind(names, hint) == "Node"):
        status = row.get("STATUS", "")
        ready = "Ready" in status.split(",") and "NotReady" not in status
        node = NodeFact(name=name)
        if "STATUS" in names:  # a custom-columns listing may print no status: nothing is known of readiness
            node.conditions.append(ConditionFact("Ready", "True" if ready else "False", None, None, cite))
        node.unschedulable = "SchedulingDisabled" in status
        node.taints = _taint_cells(row.get("TAINTS", ""))
        node.cites["status"] = cite
        if node.taints:
            node.cites["taints"] = cite
        obs.nodes.append(node)
    elif "NODE SELECTOR" in names and "DESIRED" in names:
        raw = {"row": dict(row)}
        obs.resources.append(ResourceFact("DaemonSet", name, namespace, raw, citer.label, [line]))
    elif "UP-TO-DATE" in names or kind in ("deployment", "deployment.apps"):
        ready_count, _, desired = row.get("READY", "").partition("/")
        fact = WorkloadFact(
            kind="Deployment",
            name=name,
            namespace=namespace,
            desired=to_int(desired),
            ready=to_int(ready_count),
            updated=to_int(row.get("UP-TO-DATE", "")),
            available=to_int(row.get("AVAILABLE", "")),
            images=[i for i in row.get("IMAGES", "").split(",") if i and i != "<none>"],  # -o wide
        )
        fact.cites["replicas"] = cite
        obs.workloads.append(fact)
    elif "COMPLETIONS" in names:
        done, _, wanted = row.get("COMPLETIONS", "").partition("/")
        fact = WorkloadFact(kind="Job", name=name, namespace=namespace, desired=to_int(wanted), succeeded=to_int(done))
        if row.get("STATUS") == "Failed":
            fact.conditions.append(ConditionFact("Failed", "True", None, None, cite))
        fact.cites["replicas"] = cite
        obs.workloads.append(fact)
    elif ("ACCESS MODES" in names and "CLAIM" not in names) or kind == "persistentvolumeclaim":
        obs.claims.append(ClaimFact(name, namespace, row.get("STATUS"), row.get("STORAGECLASS"), cite))
    else:
        resource_kind = _PREFIX_KINDS.get(kind.split(".")[0], "") if kind else table_kind(names, hint)
        if not resource_kind and set(names) <= {"NAME", "STATUS", "AGE", "LABELS"} and row.get("STATUS") in _NS_PHASES:
            resource_kind = "Namespace"  # kubectl get ns: only namespaces print Active/Terminating with no other column
        if not resource_kind and ("SUSPENDED" in names or "SUSPEND" in names):
            flux = re.search(r"\bflux\s+get\s+(\w+)", hint)
            resource_kind = _FLUX_KINDS.get(flux.group(1).rstrip("s"), "Object") if flux else "Object"
        if resource_kind == "Service" and row.get("SELECTOR", "<none>") != "<none>":
            selector = _labels(row["SELECTOR"])  # kubectl get svc -o wide
            obs.services.append(ServiceFact(name, namespace, selector, cites={"selector": cite}))
        if resource_kind and name:
            raw = {"row": dict(row), "labels": _labels(row.get("LABELS", ""))}
            obs.resources.append(ResourceFact(resource_kind, name, namespace, raw, citer.label, [line]))


_NS_PHASES = ("Active", "Terminating")
_FLUX_KINDS = {
    "kustomization": "Kustomization",
    "helmrelease": "HelmRelease",
    "source": "GitRepository",
    "image": "ImagePolicy",
}
_PREFIX_KINDS = {
    "service": "Service",
    "endpoints": "Endpoints",
    "endpointslice": "EndpointSlice",
    "ingress": "Ingress",
    "horizontalpodautoscaler": "HorizontalPodAutoscaler",
    "verticalpodautoscaler": "VerticalPodAutoscaler",
    "poddisruptionbudget": "PodDisruptionBudget",
    "networkpolicy": "NetworkPolicy",
    "namespace": "Namespace",
    "storageclass": "StorageClass",
    "persistentvolume": "PersistentVolume",
    "application": "Application",
    "secret": "Secret",
    "configmap": "ConfigMap",
    "certificate": "Certificate",  # certificate.cert-manager.io/x in a multi-kind `get certificate,secret`
    "certificaterequest": "CertificateRequest",
    "issuer": "Issuer",
    "clusterissuer": "ClusterIssuer",
    "cronjob": "CronJob",
}


def _taint_cells(text: str) -> list[str]:
    """``-o custom-columns=...,TAINTS:.spec.taints`` prints Go maps: ``[map[effect:NoSchedule key:k value:v]]``."""
    taints = []
    for body in re.findall(r"map\[([^\]]*)\]", text):
        fields = dict(re.findall(r"(effect|key|value):(\S+)", body))
        if "key" in fields and "effect" in fields:
            value = f"={fields['value']}" if fields.get("value") else ""
            taints.append(f"{fields['key']}{value}:{fields['effect']}")
    return taints


def _labels(text: str) -> dict[str, str]:
    pairs = (item.partition("=") for item in text.split(",") if "=" in item)
    return {key.strip(): value.strip() for key, _, value in pairs}


def _pod_row(name: str, namespace: str | None, row: dict[str, str], cite: str) -> PodFact:
    status = row.get("STATUS", "")
    restarts = to_int(row.get("RESTARTS", "")) or 0
    ready_now, _, total = row.get("READY", "").partition("/")
    init = status.startswith("Init:")
    reason = status.removeprefix("Init:")
    container = ContainerFact(name="?", init=init, restart_count=restarts)
    container.ready = ready_now == total if total else None
    if reason in _WAITING_STATUSES:
        container.state, container.reason = "waiting", reason
    elif reason in _TERMINATED_STATUSES:
        container.state, container.reason = "terminated", reason
        if reason == "OOMKilled":
            container.last_reason = reason
    container.cites = {"state": cite, "restarts": cite}
    phase = status if status in ("Running", "Pending", "Succeeded", "Failed", "Unknown") else None
    pod = PodFact(
        name=name,
        namespace=namespace,
        phase=phase,
        status_reason=status if status in ("Evicted", "NodeAffinity", "OutOfcpu", "OutOfmemory", "Shutdown") else None,
        node=row.get("NODE") if row.get("NODE") not in (None, "<none>") else None,
        containers=[container],
        source=cite.split(" ", 1)[0],
    )
    pod.cites["row"] = cite
    if pod.status_reason:
        pod.cites["status"] = cite
    return pod


_LABEL_COLUMNS = re.compile(r"(?:^|\s)(?:-l|-L|--label-columns)[= ]([\w./-]+(?:,[\w./-]+)*)(?=\s|$)")


def _label_columns(row: dict[str, str], hint: str) -> dict[str, str]:
    """``kubectl get pods -L app,version`` prints each label as a column named after the key's last segment in
    capitals (the hint is lowercased, so ``-l`` without ``=`` is read as ``-L``: a selector always has ``=``)."""
    found: dict[str, str] = {}
    for match in _LABEL_COLUMNS.finditer(hint):
        for key in match.group(1).split(","):
            column = key.rsplit("/", 1)[-1].upper()
            value = row.get(column)
            if value and value != "<none>":
                found[key] = value
    return found
