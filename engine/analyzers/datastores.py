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
from engine.facts import DocumentFact, Observations
from engine.findings import Finding
from engine.parsers.common import excerpt


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    findings: list[Finding] = []
    for document in obs.documents:
        findings += _rabbitmq(document)
        findings += _replication(document)
    findings += _kafka(obs)
    findings += _redis(obs)
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
        "Sentinel cannot fail over master {name}: no replica is good enough to promote",
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


def _redis(obs: Observations) -> list[Finding]:
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
    readonly = found.get("redis_readonly")
    if readonly is not None and info.get("master_host"):
        # the replica's own INFO names the master it follows and whether its link to it is up
        master = info["master_host"] + (f":{info['master_port']}" if info.get("master_port") else "")
        link = f", master_link_status:{info['master_link_status']}" if info.get("master_link_status") else ""
        readonly.title += f"; the replica written to has role:{info.get('role', 'slave')}, master_host {master}{link}"
        link_down = found.pop("redis_replica_link_down", None)
        if link_down is not None:
            readonly.evidence += link_down.evidence
    return list(found.values())


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
