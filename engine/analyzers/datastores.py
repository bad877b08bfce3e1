"""Tools around the cluster, read from what they print: message brokers and datastores (RabbitMQ status,
Kafka topic descriptions, Redis/Sentinel INFO, PostgreSQL replication). Traces are read by ``traces``.
"""
# ruff: noqa: E501  (user-facing messages read better unwrapped)

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import rec
from engine.analyzers.log_signatures import doc_source
from engine.facts import DocumentFact, Observations
from engine.findings import Finding, workload_of
from engine.parsers.common import excerpt


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    findings: list[Finding] = []
    for document in obs.documents:
        findings += _rabbitmq(document)
        findings += _replication(document)
        findings += _connect_tasks(document)
        findings += _rabbitmq_api_nodes(document)
    findings += _kafka(obs)
    findings += _redis(obs, ctx)
    return findings


def _d(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _l(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _text_lines(obs: Observations) -> Iterator[tuple[str, str]]:
    for doc in obs.logs:
        for line in doc.lines:
            yield doc.label, line
    for text in obs.texts:
        for line in text.lines:
            yield text.label, line


# --- RabbitMQ ----------------------------------------------------------------------------------------------


def _rabbitmq(document: DocumentFact) -> list[Finding]:
    data = _d(document.data)
    if "alarms" not in data and "partitions" not in data:
        return []
    findings: list[Finding] = []
    for alarm in _l(data.get("alarms")):
        alarm = _d(alarm) if isinstance(alarm, dict) else {"resource": str(alarm)}
        resource = str(alarm.get("resource") or alarm.get("type") or "resource")
        node = str(alarm.get("node") or data.get("node") or "the node")
        limit = data.get("vm_memory_high_watermark_limit") if "memory" in resource else data.get("disk_free_limit")
        detail = f" (limit {limit} bytes)" if limit else ""
        findings.append(
            Finding(
                kind="rabbitmq_alarm",
                subject=f"rabbitmq:{node}",
                role="cause",
                title=f"RabbitMQ node {node} has raised its {resource} alarm ({'vm_memory_high_watermark' if resource == 'memory' else 'disk_free_limit'} reached{detail}), so it blocks every publishing connection until the alarm clears",
                weight=90,
                evidence=[document.quote('"resource"', resource, fallback=f"alarms: {resource} on {node}")],
                workload=node.split("@")[-1].split(".")[0] if "@" in node else node,
                recommendations=[
                    rec(
                        "high",
                        f"Drain what fills {resource} on {node} (a queue without consumers, large messages) and add consumers; raise the watermark only with headroom",
                    ),
                ],
                affected=[node],
            )
        )
    for partition in _l(data.get("partitions")):
        findings.append(
            Finding(
                kind="rabbitmq_partition",
                subject="rabbitmq:cluster",
                role="cause",
                title=f"RabbitMQ cluster is partitioned (network partition seen by {partition})",
                weight=88,
                evidence=[document.quote("partitions", fallback=f"partitions: {partition}")],
                recommendations=[
                    rec("high", "Heal the partition: restart the minority nodes per the partition handling strategy")
                ],
            )
        )
    return findings


def _rabbitmq_api_nodes(document: DocumentFact) -> list[Finding]:
    """The management API's ``GET /api/nodes`` (or one ``/api/nodes/<name>``): ``mem_alarm``/``disk_free_alarm``
    true block publishers cluster-wide; ``running: false`` is a node down; a non-empty ``partitions`` list a split."""
    findings: list[Finding] = []
    for node in _walk_dicts(document.data):
        if "name" not in node or not ({"mem_alarm", "disk_free_alarm"} & set(node)):
            continue
        name = str(node["name"])
        short = name.split("@")[-1].split(".")[0]
        alarms = [
            (resource, f"{used_key} {node.get(used_key)} vs {limit_key} {node.get(limit_key)}")
            for resource, flag, used_key, limit_key in (
                ("memory", "mem_alarm", "mem_used", "mem_limit"),
                ("disk", "disk_free_alarm", "disk_free", "disk_free_limit"),
            )
            if node.get(flag) is True
        ]
        for resource, numbers in alarms:
            flag = "mem_alarm" if resource == "memory" else "disk_free_alarm"
            findings.append(
                Finding(
                    kind="rabbitmq_alarm",
                    subject=f"rabbitmq:{name}",
                    role="cause",
                    title=f"RabbitMQ node {name} has raised its {resource} alarm ({flag}: true, {numbers}), so the "
                    "cluster blocks every publishing connection until the alarm clears",
                    weight=90,
                    evidence=[document.quote(name, fallback=f"{name}: {flag} true")],
                    workload=short,
                    recommendations=[
                        rec(
                            "high",
                            f"Free {resource} on {name} ("
                            + (
                                "drain queues without consumers, add consumers"
                                if resource == "memory"
                                else "expand or clean its data volume"
                            )
                            + "); raise the limit only with headroom",
                        )
                    ],
                    affected=[short],
                )
            )
        if node.get("running") is False:
            findings.append(
                Finding(
                    kind="rabbitmq_node_down",
                    subject=f"rabbitmq:{name}",
                    role="cause",
                    title=f"RabbitMQ node {name} is not running (running: false in the management API)",
                    weight=84,
                    evidence=[document.quote(name, fallback=f"{name}: running false")],
                    workload=short,
                    recommendations=[rec("high", f"Find why {name} stopped (its pod's logs and events)")],
                    affected=[short],
                )
            )
        partitions = node.get("partitions")
        if isinstance(partitions, list) and partitions:
            findings.append(
                Finding(
                    kind="rabbitmq_partition",
                    subject="rabbitmq:cluster",
                    role="cause",
                    title=f"RabbitMQ cluster is partitioned: {name} cannot see {', '.join(map(str, partitions))}",
                    weight=88,
                    evidence=[document.quote(name, fallback=f"{name}: partitions {partitions}")],
                    recommendations=[
                        rec(
                            "high", "Heal the partition: restart the minority nodes per the partition handling strategy"
                        )
                    ],
                )
            )
    return findings


# --- Kafka -------------------------------------------------------------------------------------------------

_KAFKA_PARTITION = re.compile(
    r"Topic:\s*(?P<topic>\S+)\s+Partition:\s*(?P<partition>\d+)\s+Leader:\s*(?P<leader>-?\d+|none)\s+Replicas:\s*(?P<replicas>[\d,]+)\s+Isr:\s*(?P<isr>[\d,]*)"
)
_MIN_ISR = re.compile(r"Topic:\s*(?P<topic>\S+).*min\.insync\.replicas=(?P<min>\d+)")


@dataclass
class _TopicState:
    under: int = 0
    offline: int = 0
    replicas: int = 0
    smallest_isr: int = 99
    missing: set[str] | None = None
    cite: str = ""


def _kafka(obs: Observations) -> list[Finding]:
    topics: dict[str, _TopicState] = {}
    min_isr: dict[str, int] = {}
    for label, line in _text_lines(obs):
        if "Topic:" not in line:
            continue
        setting = _MIN_ISR.search(line)
        if setting:
            min_isr[setting.group("topic")] = int(setting.group("min"))
        match = _KAFKA_PARTITION.search(line)
        if not match:
            continue
        replicas = [r for r in match.group("replicas").split(",") if r]
        isr = [r for r in match.group("isr").split(",") if r]
        state = topics.setdefault(match.group("topic"), _TopicState(missing=set()))
        state.replicas = max(state.replicas, len(replicas))
        if match.group("leader") in ("-1", "none"):
            state.offline += 1
        if len(isr) < len(replicas):
            state.under += 1
            state.smallest_isr = min(state.smallest_isr, len(isr))
            assert state.missing is not None
            state.missing |= set(replicas) - set(isr)
            if not state.cite:
                state.cite = f"{label} {excerpt(line.strip())}"
    findings: list[Finding] = []
    for topic, state in sorted(topics.items(), key=lambda item: (-item[1].under, item[0])):
        if not state.under or topic.startswith("__"):
            continue
        brokers = ", ".join(sorted(state.missing or set()))
        floor = min_isr.get(topic)
        below = floor is not None and state.smallest_isr < floor
        title = (
            f"Kafka topic {topic} has {state.under} under-replicated partition(s): brokers {brokers} are out of the in-sync replicas (ISR)"
            + (
                f", so the ISR ({state.smallest_isr}) is below min.insync.replicas={floor} and producers with acks=all are refused (NotEnoughReplicas)"
                if below
                else ""
            )
        )
        findings.append(
            Finding(
                kind="kafka_under_replicated",
                subject=f"kafka:{topic}",
                role="cause",
                title=title,
                weight=88 if below else 80,
                evidence=[state.cite],
                workload=topic,
                recommendations=[
                    rec(
                        "high",
                        f"Bring brokers {brokers} back (their pods/logs: disk, crash, scheduling) so they rejoin the ISR of {topic}",
                    ),
                ],
                affected=[topic],
                related=[f"broker-{b}" for b in sorted(state.missing or set())],
            )
        )
        break  # the most affected topic; the others have the same cause
    return findings


# --- Redis / Sentinel --------------------------------------------------------------------------------------

_REDIS = (
    (
        re.compile(r"master_link_status:down"),
        "redis_replica_link_down",
        "a Redis replica has lost its link to the master (master_link_status:down)",
    ),
    (
        re.compile(r"[+-]odown master (?P<name>\S+)"),
        "redis_master_down",
        "Sentinel considers master {name} objectively down (+odown)",
    ),
    (
        re.compile(r"-failover-abort-no-good-(?:slave|replica)\s+master (?P<name>\S+)"),
        "redis_failover_failed",
        "Sentinel cannot fail over master {name}: no good replica to promote (-failover-abort-no-good-slave)",
    ),
    (
        re.compile(r"NOQUORUM|-noquorum|not enough (?:sentinels|quorum)", re.I),
        "redis_no_quorum",
        "Redis Sentinel has no quorum, so no failover can be authorised",
    ),
    (
        re.compile(r"READONLY You can't write against a read only replica"),
        "redis_readonly",
        "clients write to a Redis replica (READONLY): they still point at the old master after a failover",
    ),
)


_REDIS_INFO = re.compile(r"^\s*(master_host|master_port|master_link_status|role):(\S+)\s*$")


_REDIS_HOST = re.compile(r"redis-cli\b.*?(?:-h|--host)\s+(\S+)|exec\s+(?:-\S+\s+)*([\w.-]+)\s.*--\s*redis-cli")
_REPLICA_FIELD = re.compile(
    r"^\s*(slave_priority|replica_priority|master_link_down_since_seconds|master_link_status):(\S+)\s*$"
)
# Sentinel skips a replica that has been disconnected from the master for longer than ten times
# down-after-milliseconds plus the time the master has been down: a replica whose link went down long (ten
# minutes) before the others' did, or an hour ago when it is the only one, holds data too old to promote.
_STALE_LINK_SECONDS = 600


def _replica_reasons(obs: Observations) -> list[tuple[str, str]]:
    """Why Sentinel finds no replica to promote, from each replica's INFO replication: priority 0 (never promoted)
    or a link to the master down for too long (its data is too old)."""
    priority: list[tuple[str, str]] = []
    down: list[tuple[str, int, str]] = []
    docs = [(t.label, t.command, t.lines) for t in obs.texts] + [(d.label, d.command, d.lines) for d in obs.logs]
    for label, command, lines in docs:
        first = _REDIS_HOST.search(command)
        host = (first.group(1) or first.group(2)).split(".")[0] if first else "a replica"
        for line in lines:
            named = _REDIS_HOST.search(line)
            if named:
                host = (named.group(1) or named.group(2)).split(".")[0]
                continue
            field = _REPLICA_FIELD.match(line)
            if field is None:
                continue
            key, value = field.groups()
            cite = f"{label} {line.strip()}"
            if key in ("slave_priority", "replica_priority") and value == "0":
                priority.append((f"{host} has {key}:0, so Sentinel never promotes it", cite))
            elif key == "master_link_down_since_seconds" and value.isdigit():
                down.append((host, int(value), cite))
    reasons = list(priority)
    baseline = min((seconds for _, seconds, _ in down), default=0) if len(down) > 1 else 3000
    for host, seconds, cite in down:
        if seconds > baseline + _STALE_LINK_SECONDS:
            reasons.append(
                (
                    f"{host} has been disconnected from the master for {seconds}s (master_link_down_since_seconds), "
                    "too long for Sentinel to consider its data recent enough",
                    cite,
                )
            )
    return reasons


def _redis(obs: Observations, ctx: AnalysisContext | None = None) -> list[Finding]:
    found: dict[str, Finding] = {}
    info: dict[str, str] = {}  # INFO replication fields (redis-cli prints them as key:value lines)
    for label, line in _text_lines(obs):
        field = _REDIS_INFO.match(line)
        if field:
            info.setdefault(field.group(1), field.group(2))
        if "master" not in line and "QUORUM" not in line.upper() and "READONLY" not in line:
            continue
        for pattern, kind, template in _REDIS:
            match = pattern.search(line)
            if not match or kind in found:
                continue
            title = (
                template.format(**{k: v for k, v in match.groupdict().items() if v}) if "{" in template else template
            )
            if "{" in title:
                continue
            found[kind] = Finding(
                kind=kind,
                subject=f"redis:{kind}",
                role="cause",
                title=title[:1].upper() + title[1:],
                weight=82,
                evidence=[f"{label} {excerpt(line.strip())}"],
                recommendations=[
                    rec(
                        "high",
                        "Check the Redis master and replicas (INFO replication, SENTINEL masters) and point clients at the current master",
                    )
                ],
            )
    failover = found.get("redis_failover_failed")
    reasons = _replica_reasons(obs) if failover is not None else []
    if failover is not None and reasons:
        failover.title += ": " + "; ".join(reason for reason, _ in reasons)
        failover.evidence += [cite for _, cite in reasons]
        failover.weight = 88
    readonly = found.get("redis_readonly")
    client = _log_source(readonly.evidence[0], obs, ctx) if readonly is not None and ctx is not None else None
    if readonly is not None and client:
        readonly.title = f"{client}: {readonly.title}"
        readonly.workload = client
        readonly.affected = [client]
    if readonly is not None and info.get("master_host"):
        # the replica's own INFO names the master it follows and whether its link to it is up
        master = info["master_host"] + (f":{info['master_port']}" if info.get("master_port") else "")
        link = f", master_link_status:{info['master_link_status']}" if info.get("master_link_status") else ""
        readonly.title += f"; the replica written to has role:{info.get('role', 'slave')}, master_host {master}{link}"
        link_down = found.pop("redis_replica_link_down", None)
        if link_down is not None:
            readonly.evidence += link_down.evidence
    return list(found.values())


def _log_source(evidence: str, obs: Observations, ctx: AnalysisContext) -> str | None:
    """The client whose log printed the evidence line (its pod, or the workload its attachment name or the context's
    service names). Not the subject the question guesses: a trace or a shared paste holds several services' lines,
    and the one that printed the error is for the trace reading to name."""
    for doc in obs.logs:
        if evidence.startswith(f"{doc.label} "):
            source = doc_source(doc, ctx)
            own = source is not None and (doc.pod or source.lower() in doc.label.lower() or source == ctx.service)
            return workload_of(source) if source and own else None
    return None


# --- Kafka Connect ----------------------------------------------------------------------------------------

_CAUSE_LINE = re.compile(r"Caused by: (.+)")


def _connect_tasks(document: DocumentFact) -> list[Finding]:
    """Kafka Connect's REST status (``GET /connectors/<name>/status``, ``?expand=status``): a connector or task in
    state FAILED, named with its worker and the innermost ``Caused by`` of its trace. A RUNNING connector can
    hold a FAILED task, so workers and pods that are up say nothing about it."""
    findings: list[Finding] = []
    for status in _walk_dicts(document.data):
        connector, tasks = status.get("connector"), status.get("tasks")
        if not isinstance(connector, dict) or not isinstance(tasks, list) or not status.get("name"):
            continue
        name = str(status["name"])
        failed = [t for t in [connector, *tasks] if isinstance(t, dict) and str(t.get("state", "")).upper() == "FAILED"]
        if not failed:
            continue
        first = failed[0]
        what = f"task {first['id']}" if "id" in first else "the connector itself"
        trace = str(first.get("trace") or "")
        lines = [line.strip() for line in trace.splitlines() if line.strip() and not line.strip().startswith("at ")]
        causes = [i for i, line in enumerate(lines) if _CAUSE_LINE.match(line)]
        at = causes[-1] if causes else 0
        reason = lines[at].removeprefix("Caused by: ") if lines else ""
        if reason.endswith(":") and at + 1 < len(lines):  # "SQLException: Exception chain:" then the chain
            reason += " " + lines[at + 1]
        state = str(connector.get("state", "?"))
        title = (
            f"Kafka Connect connector {name}: {what} is FAILED (worker {first.get('worker_id', '?')})"
            + (f" while the connector reports {state}" if state.upper() != "FAILED" else "")
            + (f": {reason[:300]}" if reason else "")
        )
        findings.append(
            Finding(
                kind="kafka_connect_task_failed",
                subject=f"connector:{name}",
                role="cause",
                title=title,
                weight=86,
                evidence=[document.quote("FAILED", fallback=f"{name}: {what} FAILED")],
                workload=name,
                recommendations=[
                    rec(
                        "high",
                        f"Fix what the trace names, then restart it: POST /connectors/{name}/tasks/<id>/restart "
                        "(a failed task does not restart on its own)",
                    )
                ],
                affected=[name],
            )
        )
    return findings


# --- PostgreSQL replication --------------------------------------------------------------------------------


def _replication(document: DocumentFact) -> list[Finding]:
    rows = [r for r in _walk_dicts(document.data) if "replay_lag" in r or "replay_lsn" in r or "replication_lag" in r]
    findings: list[Finding] = []
    for row in rows:
        lag = row.get("replay_lag") or row.get("replication_lag")
        state = str(row.get("state", "streaming"))
        seconds = _seconds(lag)
        if state != "streaming" or (seconds is not None and seconds >= 30):
            name = str(row.get("application_name") or row.get("client_addr") or "a standby")
            findings.append(
                Finding(
                    kind="postgres_replication_lag",
                    subject=f"postgres:{name}",
                    role="cause",
                    title=f"PostgreSQL standby {name} lags the primary (replay_lag {lag}, state {state})",
                    weight=80,
                    evidence=[document.quote(name, fallback=f"{name}: replay_lag {lag}, state {state}")],
                    workload=name,
                    recommendations=[
                        rec(
                            "high",
                            f"Find what slows replay on {name} (I/O, long queries on the standby, network) and check WAL retention",
                        )
                    ],
                )
            )
    return findings[:2]


def _seconds(value: Any) -> float | None:
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        match = re.match(r"(?:(\d+) days? )?(\d+):(\d+):(\d+(?:\.\d+)?)", value)
        if match:
            days, hours, minutes, seconds = match.groups()
            return int(days or 0) * 86400 + int(hours) * 3600 + int(minutes) * 60 + float(seconds)
    return None


def _walk_dicts(data: Any, depth: int = 0) -> Iterator[dict[str, Any]]:
    if depth > 8:
        return
    if isinstance(data, dict):
        yield data
        for value in data.values():
            yield from _walk_dicts(value, depth + 1)
    elif isinstance(data, list):
        for item in data:
            yield from _walk_dicts(item, depth + 1)
