"""KEDA's Kafka scaler capped at the topic's partition count.

A consumer group gives each partition to one consumer; extra consumers sit idle. KEDA's Kafka scaler therefore
never asks for more replicas than the topic has partitions unless the trigger sets ``allowIdleConsumers: "true"``
(keda.sh/docs/latest/scalers/apache-kafka/). A ScaledObject whose maxReplicaCount is above the partition count
stops at the partition count, however large the lag: more throughput needs more partitions or faster consumers.
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

_KAFKA_TRIGGER = re.compile(r"\btype[\"']?\s*[:=]\s*[\"']?kafka\b")
_MAX = re.compile(r"maxReplicaCount[\"']?\s*[:=]\s*[\"']?(?P<max>\d+)")
_TOPIC = re.compile(r"\btopic[\"']?\s*[:=]\s*[\"']?(?P<topic>[\w.-]+)")
_IDLE = re.compile(r"allowIdleConsumers[\"']?\s*[:=]\s*[\"']?true", re.IGNORECASE)
_PARTITION_COUNT = re.compile(r"Topic:\s*(?P<topic>[\w.-]+)\s+.*?PartitionCount:\s*(?P<count>\d+)")
_HPA_ROW = re.compile(
    r"^(?P<hpa>keda-hpa-[\w.-]+)\s+\S+/(?P<target>[\w.-]+)\s+.*?\s(?P<min>\d+)\s+(?P<max>\d+)\s+(?P<replicas>\d+)\s+\S+\s*$"
)


def _group_members(lines: list[tuple[str, str]], topic: str) -> tuple[set[str], set[str], str] | None:
    """The partitions of ``topic`` and the consumer clients holding them, from ``kafka-consumer-groups --describe``."""
    header: list[str] = []
    partitions: set[str] = set()
    clients: set[str] = set()
    cite = ""
    for label, line in lines:
        cells = line.split()
        if "PARTITION" in cells and "TOPIC" in cells:
            header = cells
            continue
        if header and len(cells) == len(header):
            row = dict(zip(header, cells, strict=True))
            if row.get("TOPIC") == topic and row.get("CLIENT-ID", "-") != "-":
                partitions.add(row["PARTITION"])
                clients.add(row["CLIENT-ID"])
                cite = cite or f"{label} {excerpt(line.strip())}"
    return (partitions, clients, cite) if partitions else None


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    del ctx
    lines = list(text_lines(obs)) + [(d.label, ln) for d in obs.documents for ln in d.lines]
    if not any(_KAFKA_TRIGGER.search(line) for _, line in lines) or any(_IDLE.search(line) for _, line in lines):
        return []
    maximum = next(
        (
            (int(m.group("max")), f"{label} {excerpt(line.strip())}")
            for label, line in lines
            if (m := _MAX.search(line))
        ),
        None,
    )
    topic = next((m.group("topic") for _, line in lines if (m := _TOPIC.search(line))), None)
    counted = next(
        (
            (int(m.group("count")), f"{label} {excerpt(line.strip())}")
            for label, line in lines
            if (m := _PARTITION_COUNT.search(line)) and m.group("topic") == topic
        ),
        None,
    )
    row = next(
        ((m, f"{label} {excerpt(line.strip())}") for label, line in lines if (m := _HPA_ROW.match(line.strip()))), None
    )
    group = _group_members(lines, topic) if topic else None
    if counted is None and group:
        counted = (len(group[0]), group[2])
    if maximum is None or counted is None or (row is None and not group):
        return []
    partitions = counted[0]
    replicas = int(row[0].group("replicas")) if row else len(group[1]) if group else 0
    if not (replicas == partitions < maximum[0]):
        return []
    target = row[0].group("target") if row else workload_of(sorted(group[1])[0]) if group else ""
    cited = row[1] if row else group[2] if group else ""
    return [
        Finding(
            kind="keda_kafka_partition_cap",
            subject=f"scaledobject/{target}",
            role="cause",
            title=(
                f"{target} stays at {replicas} replicas because topic {topic} has {partitions} partitions: KEDA's Kafka scaler does not scale "
                f"beyond the partition count (one consumer per partition; allowIdleConsumers is not set), so maxReplicaCount {maximum[0]} is never reached "
                f"and the lag can only shrink with more partitions or faster consumers"
            ),
            weight=92,
            evidence=list(dict.fromkeys([counted[1], cited, maximum[1]])),
            workload=target,
            recommendations=[
                rec(
                    "high",
                    f"Add partitions to {topic} (consumer keys permitting) or make each consumer faster (batching, concurrency within the pod)",
                ),
                rec("low", 'allowIdleConsumers: "true" only adds idle consumers; it does not consume faster'),
            ],
            affected=[target],
            related=[topic] if topic else [],
        )
    ]
