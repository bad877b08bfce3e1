"""Tools around the cluster, read from what they print: message brokers and datastores (RabbitMQ status,
Kafka topic descriptions, Redis/Sentinel INFO, PostgreSQL replication), tracing backends (Jaeger and Tempo
JSON: which span dominates a slow request and which service owns it).
"""
# ruff: noqa: E501  (user-facing messages read better unwrapped)

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
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
        findings += _traces(document)
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
    """The client whose log printed the evidence line (its pod, or the workload its attachment name names)."""
    for doc in obs.logs:
        if evidence.startswith(f"{doc.label} "):
            source = doc_source(doc, ctx)
            return workload_of(source) if source else None
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


# --- Traces (Jaeger, Tempo/OTLP) ---------------------------------------------------------------------------


@dataclass
class _Span:
    span_id: str
    parent: str | None
    name: str
    service: str
    start: float  # seconds
    duration: float  # seconds
    peer: str | None = None  # for a client span: the service it calls (peer.service, server.address, URL host)
    follows: str | None = None  # the span this one FOLLOWS_FROM (a message consumed after its producer)
    tags: dict[str, str] = field(default_factory=dict)


def _traces(document: DocumentFact) -> list[Finding]:
    spans = (
        list(_jaeger_spans(document.data))
        or list(_otlp_spans(document.data))
        or list(_tempo_search_spans(document.data))
    )
    if not spans:
        return []
    queued = _queue_wait(document, spans) or _error_origin(document, spans)
    if queued:
        return queued
    children: dict[str, float] = {}
    for span in spans:
        if span.parent:
            children[span.parent] = children.get(span.parent, 0.0) + span.duration
    roots = [span for span in spans if not span.parent or span.parent not in {s.span_id for s in spans}]
    total = sum(span.duration for span in roots) or max(span.duration for span in spans)
    for span in spans:  # a client call nobody answered in this trace: its time is spent waiting on the peer
        if span.peer and span.span_id not in children:
            span.service = span.peer
    own_by_service: dict[str, float] = {}
    spans_by_service: dict[str, list[tuple[float, _Span]]] = {}
    for span in spans:
        own = max(span.duration - children.get(span.span_id, 0.0), 0.0)
        own_by_service[span.service] = own_by_service.get(span.service, 0.0) + own
        spans_by_service.setdefault(span.service, []).append((own, span))
    if total <= 0 or not own_by_service:
        return []
    service = max(own_by_service, key=lambda name: (own_by_service[name], name))
    own = own_by_service[service]
    ranked = sorted(spans_by_service[service], key=lambda item: (-item[0], item[1].name))
    top = ranked[0][1]
    calls = sum(1 for _, span in spans_by_service[service] if span.name == top.name)
    repeated = f", called {calls} times: retried" if calls > 1 else ""
    notable = [f"{key}={value}" for key, value in top.tags.items() if key in _NOTABLE_TAGS]
    if top.peer and top.peer != service:
        notable.insert(0, f"calling {top.peer}")
    if notable:
        repeated += "; " + ", ".join(notable[:3])
    share = min(own / total, 1.0)
    return [
        Finding(
            kind="trace_dominant_span",
            subject=f"service:{service}",
            role="cause",
            title=f"{service}: the slow requests spend most of their time in service {service}, in span '{top.name}'"
            f" ({own * 1000:.0f} ms of {total * 1000:.0f} ms, {share:.0%}{repeated})",
            weight=84 if share >= 0.5 else 70,
            evidence=[document.quote(top.name, fallback=f"span {top.name} ({service}): {own * 1000:.0f} ms")],
            workload=service,
            recommendations=[
                rec(
                    "high",
                    f"Look at what '{top.name}' waits on in {service} (its queries, downstream calls, retries, locks, pool) during the slow period",
                ),
            ],
            affected=[service],
        )
    ]


_NOTABLE_TAGS = ("cache", "cache.hit", "cache.result", "error", "http.status_code", "retry", "retries", "db.system")
_BACKLOG_KEY = re.compile(r"messages_ready|backlog|queue\.(?:depth|size|length)|consumer_lag|lag$", re.IGNORECASE)


def _queue_wait(document: DocumentFact, spans: list[_Span]) -> list[Finding]:
    """A message that waits in its queue: the gap between the producer span's end and the FOLLOWS_FROM consumer
    span's start (OpenTelemetry messaging: publish → receive) longer than all the work done on it."""
    by_id = {span.span_id: span for span in spans}
    worst: tuple[float, _Span, _Span] | None = None
    for span in spans:
        producer = by_id.get(span.follows or "")
        if producer is None:
            continue
        gap = span.start - (producer.start + producer.duration)
        if worst is None or gap > worst[0]:
            worst = (gap, producer, span)
    if worst is None:
        return []
    gap, producer, consumer = worst
    work = sum(s.duration for s in spans if s.parent is None or s.parent not in by_id)
    if gap < 1.0 or gap < work:
        return []
    queue = (
        producer.tags.get("messaging.destination.name") or producer.tags.get("messaging.destination") or producer.name
    )
    backlog = next(((k, v) for k, v in {**consumer.tags, **producer.tags}.items() if _BACKLOG_KEY.search(k)), None)
    settings = ", ".join(f"{k} {v}" for k, v in consumer.tags.items() if k in ("replicas", "prefetch", "concurrency"))
    detail = f"; {backlog[0]} is {backlog[1]}: a backlog the consumer cannot keep up with" if backlog else ""
    detail += f" ({settings})" if settings else ""
    return [
        Finding(
            kind="trace_queue_wait",
            subject=f"service:{consumer.service}",
            role="cause",
            title=f"{consumer.service}: the message on {queue} waits {gap:.1f} s in the queue before consumer {consumer.service} picks it up, while the work itself takes {work * 1000:.0f} ms{detail}",
            weight=86,
            evidence=[document.quote(consumer.name, fallback=f"span {consumer.name} ({consumer.service})")],
            workload=consumer.service,
            recommendations=[
                rec(
                    "high",
                    f"Scale the consumers of {queue} ({consumer.service}: more replicas or a higher prefetch/concurrency) until the queue drains, and alert on its depth",
                ),
            ],
            affected=[consumer.service, producer.service],
        )
    ]


def _failed(span: _Span) -> bool:
    return span.tags.get("error") in ("true", "True") or span.tags.get("otel.status_code") == "ERROR"


def _error_origin(document: DocumentFact, spans: list[_Span]) -> list[Finding]:
    """In a failed trace, the error starts in the deepest failed span whose children did not fail: its service
    is the one failing, its exception or status description says why (the callers only pass the error on)."""
    failed = [span for span in spans if _failed(span)]
    ids = {span.span_id for span in spans}
    if not any(not span.parent or span.parent not in ids for span in failed):
        return []  # the request itself succeeded: an error inside it (retried, handled) is not why it failed
    parents_of_failed = {span.parent for span in failed}
    origins = [span for span in failed if span.span_id not in parents_of_failed]
    origin = next(
        (s for s in origins if s.tags.get("exception.message") or s.tags.get("otel.status_description")), None
    )
    if origin is None:
        return []
    kind = origin.tags.get("exception.type")
    message = origin.tags.get("exception.message") or origin.tags.get("otel.status_description") or ""
    if re.search(r"deadline exceeded|timed? ?out|timeout", f"{kind} {message}", re.IGNORECASE):
        return []  # a timeout is the slowness of what it waited on: the dominant-span analysis names that
    if origin.peer:  # a client span that failed: the service it called is where the error comes from
        origin.service = origin.peer
    callers = sorted({s.service for s in failed if s.service != origin.service})
    passed = f"; {', '.join(callers)} only pass the error on" if callers else ""
    return [
        Finding(
            kind="trace_error_origin",
            subject=f"service:{origin.service}",
            role="cause",
            title=f"{origin.service}: the failing requests fail in service {origin.service}, span '{origin.name}': {kind + ': ' if kind else ''}{message[:200]}{passed}",
            weight=88,
            evidence=[document.quote(message[:60], fallback=f"span {origin.name} ({origin.service}): {message}")],
            workload=origin.service,
            recommendations=[rec("high", f"Fix what {origin.service} reports in '{origin.name}': {message[:120]}")],
            affected=[origin.service, *callers],
        )
    ]


def _jaeger_tags(span: dict[str, Any], process: dict[str, Any]) -> dict[str, str]:
    tags = {str(_d(t).get("key")): str(_d(t).get("value")) for t in _l(process.get("tags"))}
    tags |= {str(_d(t).get("key")): str(_d(t).get("value")) for t in _l(span.get("tags"))}
    return tags


def _jaeger_spans(data: Any) -> Iterator[_Span]:
    for trace in _l(_d(data).get("data")) if isinstance(data, dict) else []:
        trace = _d(trace)
        processes = {k: _d(v) for k, v in _d(trace.get("processes")).items()}
        for span in _l(trace.get("spans")):
            span = _d(span)
            references = [_d(r) for r in _l(span.get("references"))]
            parent = next((str(r.get("spanID")) for r in references if r.get("refType") == "CHILD_OF"), None)
            follows = next((str(r.get("spanID")) for r in references if r.get("refType") == "FOLLOWS_FROM"), None)
            process = processes.get(str(span.get("processID")), {})
            tags = _jaeger_tags(span, process)
            url = re.match(r"https?://([^/:]+)", tags.get("http.url") or tags.get("url.full") or "")
            client = tags.get("span.kind") in ("client", "producer")
            peer = (
                (tags.get("peer.service") or tags.get("server.address") or (url.group(1) if url else None))
                if client
                else None
            )
            for log in _l(span.get("logs")):  # span events: an exception's type and message
                for f in _l(_d(log).get("fields")):
                    if str(_d(f).get("key", "")).startswith("exception."):
                        tags.setdefault(str(_d(f).get("key")), str(_d(f).get("value")))
            yield _Span(
                str(span.get("spanID")),
                parent,
                str(span.get("operationName", "?")),
                str(process.get("serviceName", span.get("processID", "?"))),
                float(span.get("startTime", 0)) / 1e6,
                float(span.get("duration", 0)) / 1e6,
                peer,
                follows,
                tags,
            )


def _attribute(attributes: Any, key: str) -> str | None:
    for attribute in _l(attributes):
        attribute = _d(attribute)
        if attribute.get("key") == key:
            value = _d(attribute.get("value"))
            return str(value.get("stringValue") or next(iter(value.values()), "")) if value else None
    return None


_PEER_KEYS = ("peer.service", "server.address", "net.peer.name", "http.host", "rpc.service")


def _peer(attributes: Any) -> str | None:
    for key in _PEER_KEYS:
        value = _attribute(attributes, key)
        if value:
            return value.split(":")[0]
    url = _attribute(attributes, "url.full") or _attribute(attributes, "http.url")
    match = re.match(r"https?://([^/:]+)", url or "")
    return match.group(1) if match else None


def _otlp_spans(data: Any) -> Iterator[_Span]:
    batches = _l(_d(data).get("batches")) or _l(_d(data).get("resourceSpans")) if isinstance(data, dict) else []
    for batch in batches:
        batch = _d(batch)
        service = _attribute(_d(batch.get("resource")).get("attributes"), "service.name") or "?"
        for scope in [*_l(batch.get("scopeSpans")), *_l(batch.get("instrumentationLibrarySpans"))]:
            for span in _l(_d(scope).get("spans")):
                span = _d(span)
                start, end = int(span.get("startTimeUnixNano", 0) or 0), int(span.get("endTimeUnixNano", 0) or 0)
                tags = _otlp_tags(span)
                yield _Span(
                    str(span.get("spanId")),
                    str(span.get("parentSpanId")) if span.get("parentSpanId") else None,
                    str(span.get("name", "?")),
                    service,
                    start / 1e9,
                    max(end - start, 0) / 1e9,
                    _peer(span.get("attributes")) if "CLIENT" in str(span.get("kind", "")) else None,
                    None,
                    tags,
                )


def _otlp_tags(span: dict[str, Any]) -> dict[str, str]:
    """An OTLP span's attributes, its error status (STATUS_CODE_ERROR / 2) and its exception event, as tags."""
    tags: dict[str, str] = {}
    for attribute in _l(span.get("attributes")):
        attribute = _d(attribute)
        value = _d(attribute.get("value"))
        if attribute.get("key") and value:
            tags[str(attribute["key"])] = str(next(iter(value.values())))
    status = _d(span.get("status"))
    if status.get("code") in (2, "2", "STATUS_CODE_ERROR"):
        tags["otel.status_code"] = "ERROR"
        if status.get("message"):
            tags["otel.status_description"] = str(status["message"])
    for event in _l(span.get("events")):
        for attribute in _l(_d(event).get("attributes")):
            attribute = _d(attribute)
            if str(attribute.get("key", "")).startswith("exception."):
                value = _d(attribute.get("value"))
                tags.setdefault(str(attribute["key"]), str(next(iter(value.values()), "")))
    return tags


def _tempo_search_spans(data: Any) -> Iterator[_Span]:
    for trace in _l(_d(data).get("traces")) if isinstance(data, dict) else []:
        trace = _d(trace)
        root = str(trace.get("rootServiceName", "?"))
        total = float(trace.get("durationMs", 0) or 0) / 1000
        root_id = f"root-{trace.get('traceID')}"
        yield _Span(root_id, None, str(trace.get("rootTraceName", "?")), root, 0.0, total)
        for span_set in _l(trace.get("spanSets")) or ([trace.get("spanSet")] if trace.get("spanSet") else []):
            for span in _l(_d(span_set).get("spans")):
                span = _d(span)
                service = _attribute(span.get("attributes"), "service.name") or root
                yield _Span(
                    str(span.get("spanID")),
                    root_id,
                    str(span.get("name", "?")),
                    service,
                    0.0,
                    int(span.get("durationNanos", 0) or 0) / 1e9,
                )
        return  # the first (slowest-listed) trace is the example
