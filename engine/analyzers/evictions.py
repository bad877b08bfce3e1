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
from engine.analyzers.scheduling_detail import lines_of
from engine.facts import EventFact, Observations
from engine.findings import Finding, workload_of
from engine.parsers.command_line import prompt_host

_LOW = re.compile(r"low on resource: ([\w-]+)")
# "Container x was using 3421Mi, request is 512Mi" (older kubelets) / "... which exceeds its request of 0." (newer)
_USAGE = re.compile(
    r"Container ([\w.-]+) was using (\w+(?:\.\d+)?\w*), (?:request is|which exceeds its request of) (\w+(?:\.\d+)?\w*)"
)


# newer kubelets on an emptyDir over its sizeLimit: `Usage of EmptyDir volume "scratch" exceeds ... emptyDir "scratch" usage 61Gi`
_EMPTYDIR = re.compile(
    r"(?:emptyDir|EmptyDir volume) \\?\"?(?P<volume>[\w.-]+)\\?\"? usage (?P<used>\d+(?:\.\d+)?[KMGTE]?i?)\b"
)
_POD_COMMAND = re.compile(r"\bget\s+(?:pods?|po)\s+(?P<pod>[a-z0-9][\w.-]*)|\bget\s+pod/(?P<pod2>[a-z0-9][\w.-]*)")
_BYTES = re.compile(r"^(\d+(?:\.\d+)?)([KMGTE]?)(i?)$")


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
    users: list[tuple[float, str, str, EventFact]] = []  # bytes, what used it, how much, the eviction
    known = {e.object_name for e in evictions}
    for label, lines, command in [(t.label, t.lines, t.command) for t in obs.texts] + [
        (d.label, d.lines, d.command) for d in obs.logs
    ]:
        named = _POD_COMMAND.search(command) if command else None
        if not named or (named.group("pod") or named.group("pod2")) in known:
            continue
        for line in lines:
            if _LOW.search(line) and _USAGE.search(line):
                message = line.strip().split('"message":', 1)[-1].strip(' ",')
                evictions.append(
                    EventFact(
                        "Warning",
                        "Evicted",
                        message,
                        "Pod",
                        named.group("pod") or named.group("pod2"),
                        None,
                        cite=f"{label} {line.strip()}",
                    )
                )
                known.add(named.group("pod") or named.group("pod2"))
                break
    for event in evictions:
        assert event.object_name is not None
        low, usage, emptydir = _LOW.search(event.message), _USAGE.search(event.message), _EMPTYDIR.search(event.message)
        if emptydir and low:
            users.append(
                (
                    _bytes(emptydir.group("used")),
                    f'emptyDir "{emptydir.group("volume")}"',
                    emptydir.group("used"),
                    event,
                )
            )
        elif usage and low:
            users.append(
                (
                    _bytes(usage.group(2)),
                    f"container {usage.group(1)}",
                    f"{usage.group(2)} (request {usage.group(3)})",
                    event,
                )
            )
        if not low or not usage or event.object_name in findings:
            continue
        pod = pods.get(event.object_name)
        node = pod.node if pod and pod.node else _pressured_node(obs, low.group(1))
        workload = workload_of(event.object_name)
        where = f"node {node}" if node else "its node"
        threshold = _THRESHOLD.search(event.message)
        if threshold and _bytes(usage.group(2)) * 100 < _bytes(threshold.group(1)):
            findings[event.object_name] = _victim(event, usage, low.group(1), workload, where, node)
            continue
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
    heaviest = _heaviest(obs, users, pods)
    if heaviest:
        findings[heaviest.subject.removeprefix("pod/")] = heaviest
    filler = _log_filler(obs, evictions)
    if filler:
        findings[filler.subject.removeprefix("pod/")] = filler
    return list(findings.values())


_THRESHOLD = re.compile(r"Threshold quantity: (\d+(?:\.\d+)?[KMGTE]?i?)\b")


def _victim(
    event: EventFact, usage: re.Match[str], resource: str, workload: str, where: str, node: str | None
) -> Finding:
    """A pod evicted while using a sliver of what the kubelet must reclaim: with a request of 0 any use "exceeds
    its request", so the kubelet picks it, but what fills the node is elsewhere (another pod, logs, a host path)."""
    return Finding(
        kind="eviction_victim",
        subject=f"pod/{event.object_name}",
        role="symptom",
        title=f"pod {event.object_name} was evicted when {where} ran low on {resource}{_pressure(resource)}, although container {usage.group(1)} used only {usage.group(2)}: it is a victim, not what fills the node",
        weight=60,
        evidence=[event.cite],
        workload=workload,
        timestamp=finding_time(event),
        recommendations=[
            rec(
                "medium",
                f"Set {workload}'s {resource} request so the kubelet evicts it last; free the node from what actually fills it",
            )
        ],
        affected=[workload],
        related=[f"node/{node}"] if node else [],
    )


# du of the kubelet's container log directories: /var/log/pods/<namespace>_<pod>_<uid>/<container>/0.log
_DU_POD_LOGS = re.compile(
    r"^\s*(?P<size>\d+(?:\.\d+)?[KMGT]?)\s+(?P<path>/var/log/pods/(?P<namespace>[a-z0-9][a-z0-9-]*)_(?P<pod>[a-z0-9][a-z0-9.-]*?)_\S*)\s*$"
)
_DISK_SIGNAL = re.compile(
    r"DiskPressure\s+True|disk-pressure|has disk pressure|low on resource: (?:ephemeral-storage|nodefs|imagefs)|No space left on device",
    re.I,
)
_DU_UNITS = {"": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}


def _log_filler(obs: Observations, evictions: list[EventFact]) -> Finding | None:
    """On a node short of disk, the pod whose container logs under /var/log/pods (``du``) dwarf every other pod's:
    the kubelet counts them against the node filesystem, so one chatty pod fills it and the evictions that follow
    hit whichever pods rank first, not the one writing."""
    lines = list(lines_of(obs))
    pressured = any(_DISK_SIGNAL.search(line) for _, line in lines) or any(
        c.type == "DiskPressure" and c.status == "True" for n in obs.nodes for c in n.conditions
    )
    if not pressured:
        return None
    sizes: dict[tuple[str, str], float] = {}
    cites: dict[tuple[str, str], str] = {}
    printed: dict[tuple[str, str], str] = {}
    host: str | None = None
    for label, line in lines:
        prompted = prompt_host(line)
        if prompted and "/var/log/pods" in line:
            host = prompted
        row = _DU_POD_LOGS.match(line)
        if not row:
            continue
        size = row.group("size")
        amount = float(size.rstrip("KMGT")) * _DU_UNITS[size[-1] if size[-1] in "KMGT" else ""]
        key = (row.group("namespace"), row.group("pod"))
        sizes[key] = sizes.get(key, 0.0) + amount
        if amount >= max(sizes.values()) or key not in cites:
            cites[key], printed[key] = f"{label} {line.strip()}", size
    if not sizes:
        return None
    ranked = sorted(sizes.items(), key=lambda item: -item[1])
    (namespace, pod), biggest = ranked[0]
    if biggest < 2**30 or (len(ranked) > 1 and biggest < 5 * ranked[1][1]):
        return None
    node = host or _pressured_node(obs, "ephemeral-storage")
    others = ", ".join(f"{p} {printed[(ns, p)]}" for (ns, p), _ in ranked[1:3])
    workload = workload_of(pod)
    evicted = sorted({e.object_name for e in evictions if e.object_name and e.object_name != pod})
    collateral = f"; the evicted pods ({', '.join(evicted[:3])}) are collateral" if evicted else ""
    return Finding(
        kind="node_disk_filled_by_pod_logs",
        subject=f"pod/{pod}",
        role="cause",
        title=(
            f"{'Node ' + node if node else 'The node'} ran out of disk (DiskPressure) because pod {namespace}/{pod} writes its "
            f"container logs to /var/log/pods at a huge rate: {printed[(namespace, pod)]} of log, far more than any other pod"
            f"{' (' + others + ')' if others else ''}{collateral}"
        ),
        weight=96,
        evidence=[cites[(namespace, pod)]],
        workload=workload,
        recommendations=[
            rec(
                "high",
                f"Lower {workload}'s log level (or its log volume) and cap container logs (kubelet containerLogMaxSize/containerLogMaxFiles), then free the node's disk",
            )
        ],
        affected=[workload, *([node] if node else [])],
        related=[*([f"node/{node}", node] if node else []), *evicted],
    )


def _heaviest(obs: Observations, users: list[tuple[float, str, str, EventFact]], pods: dict) -> Finding | None:  # type: ignore[type-arg]
    """Among several pods evicted for one resource, the one whose usage dwarfs the others': the kubelet evicts
    by usage above requests, so the others are collateral and that one filled the node."""
    distinct = {event.object_name for _, _, _, event in users}
    if len(distinct) < 2:
        return None
    ranked = sorted(users, key=lambda user: -user[0])
    size, what, used, event = ranked[0]
    others = [u for u in ranked if u[3].object_name != event.object_name]
    if size < 2 * others[0][0]:
        return None
    assert event.object_name is not None
    low = _LOW.search(event.message)
    resource = low.group(1) if low else "resource"
    pod = pods.get(event.object_name)
    node = pod.node if pod and pod.node else _pressured_node(obs, resource) or _node_listing(obs, event.object_name)
    workload = workload_of(event.object_name)
    seen: list[str] = []
    for _, _, amount, other in others:
        if other.object_name and workload_of(other.object_name) not in [s.split(" ")[0] for s in seen]:
            seen.append(f"{workload_of(other.object_name)} {amount.split(' ')[0]}")
    where = f"Node {node}" if node else "The node"
    return Finding(
        kind="eviction_heavy_user",
        subject=f"pod/{event.object_name}",
        role="cause",
        title=(
            f"{where} ran low on {resource}{_pressure(resource)} because pod {event.object_name}'s {what} used {used}, "
            f"far more than any other pod ({', '.join(seen[:3])}): the kubelet evicted pods from the node until it got it back"
        ),
        weight=94,
        evidence=[event.cite, *[o[3].cite for o in others[:1]]],
        workload=workload,
        timestamp=finding_time(event),
        recommendations=[
            rec(
                "high",
                f"Bound {workload}'s {what} ({'emptyDir sizeLimit' if 'emptyDir' in what else resource + ' limit'}) or move that data to a PersistentVolume, and request what it really uses",
            ),
        ],
        affected=[workload],
        related=[
            *([f"node/{node}", node] if node else []),
            *{o[3].object_name for o in others if o[3].object_name},
            *{workload_of(o[3].object_name) for o in others if o[3].object_name},
        ],
    )


def _bytes(quantity: str) -> float:
    found = _BYTES.match(quantity.strip())
    if not found:
        return 0.0
    number, unit, binary = found.groups()
    power = " KMGTE".index(unit) if unit else 0
    return float(number) * float((1024 if binary else 1000) ** power)


def _pressured_node(obs: Observations, resource: str) -> str | None:
    """The one node whose pressure condition matches the resource that ran low."""
    condition = _PRESSURE.get(resource.strip().lower())
    names = [
        n.name for n in obs.nodes if condition and any(c.type == condition and c.status == "True" for c in n.conditions)
    ]
    return names[0] if len(names) == 1 else None


def _node_listing(obs: Observations, pod: str) -> str | None:
    """The node whose describe lists the pod (``Non-terminated Pods``)."""
    for text in obs.texts:
        name = next((line.split(":", 1)[1].strip() for line in text.lines if line.startswith("Name:")), None)
        if name and any(pod in line.split() for line in text.lines):
            return name
    return None


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
