"""A broker whose own storage failed, named upstream of the client errors it causes.

A Kafka broker that hits ``No space left on device`` marks its log directory failed (``LogDirFailureChannel``),
stops serving the replicas on it and, when every log dir failed, shuts down. The partitions it replicated shrink
their ISR, and below ``min.insync.replicas`` producers with ``acks=all`` get ``NotEnoughReplicas``: the producers'
errors are the symptom, the broker's disk the cause.

RabbitMQ blocks publishers (``connection.blocked``, "low on disk/memory") while a resource alarm is set; what
fills the disk or memory is usually a queue that only grows because nothing consumes it
(``rabbitmqctl list_queues name messages consumers``).
"""
# ruff: noqa: E501  (user-facing messages read better unwrapped)

from __future__ import annotations

import re
from collections.abc import Iterator

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import rec
from engine.analyzers.log_signatures import doc_source
from engine.facts import LogDoc, Observations
from engine.findings import Finding, workload_of
from engine.parsers.common import excerpt

_ENOSPC = re.compile(r"No space left on device|ENOSPC|DiskFull", re.IGNORECASE)
_KAFKA_LOG_DIR = re.compile(
    r"LogDirFailureChannel|kafka\.log\.LogManager|ReplicaManager broker=\d+|all log dirs in \S+ have failed"
    r"|Stopping serving (?:logs|replicas) in dir|KafkaStorageException",
)
_DIR = re.compile(r"(?:log dirs? in|in dir|in the failed log directory|dir=)\s*(?P<dir>/[\w./-]+?)(?=[\s,.)\]]|$)")
_BROKER_ID = re.compile(r"broker(?:\.id)?[= ](?P<id>\d+)\b|Broker (?P<id2>\d+) stopped", re.IGNORECASE)
_SHUTDOWN = re.compile(
    r"Shutdown broker because all log dirs|shutting down broker|KafkaServer id=\d+\] shut(?:ting)? down"
)
_REFUSED_PRODUCE = re.compile(
    r"NotEnoughReplicas(?:AfterAppend)?(?:Exception)?|NOT_ENOUGH_REPLICAS|fewer in-sync replicas than required|not enough in-sync replicas",
    re.IGNORECASE,
)


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    return _kafka_log_dirs(obs, ctx)


def _kafka_log_dirs(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    findings: list[Finding] = []
    clients = _clients(obs, ctx, _REFUSED_PRODUCE)
    for doc in obs.logs:
        lines = doc.lines[:20000]
        full = next((line for line in lines if _ENOSPC.search(line)), None)
        failed = [line for line in lines if _KAFKA_LOG_DIR.search(line)]
        if full is None or not failed:
            continue
        broker = _broker_name(doc, ctx, failed)
        directory = next((m.group("dir") for line in failed if (m := _DIR.search(line))), None)
        shutdown = next((line for line in failed if _SHUTDOWN.search(line)), None)
        where = f"log directory {directory}" if directory else "log directory"
        then = "shut down because all its log dirs failed" if shutdown else "stopped serving the replicas on it"
        others = [(client, cite) for client, cite in clients if client != workload_of(broker)]
        effect = (
            "; the partitions it replicated lose it from their ISR, and a partition whose ISR falls below min.insync.replicas rejects acks=all writes (NotEnoughReplicas"
            + f", as {', '.join(client for client, _ in others[:3])} logs)"
            if others
            else "; the partitions it replicated lose it from their ISR (under-replicated), and a partition whose ISR falls below min.insync.replicas rejects acks=all writes"
        )
        evidence = [f"{doc.label} {excerpt(full.strip())}", f"{doc.label} {excerpt((shutdown or failed[0]).strip())}"]
        evidence += [cite for _, cite in others[:1]]
        topics = _topics_without(obs, _broker_id(broker, failed))
        if topics:
            listed = (
                f"topic {topics[0]} lists it among its"
                if len(topics) == 1
                else f"topics {', '.join(topics[:3])} list it among their"
            )
            effect = f"; {listed} replicas but not in the ISR" + effect.removeprefix(
                "; the partitions it replicated lose it from their ISR"
            )
        findings.append(
            Finding(
                kind="kafka_broker_disk_full",
                subject=f"kafka:{broker}",
                role="cause",
                title=f"Kafka broker {broker}'s {where} is full (No space left on device): the broker marked it failed and {then}{effect}",
                weight=94,
                evidence=list(dict.fromkeys(evidence)),
                workload=workload_of(broker),
                recommendations=[
                    rec(
                        "high",
                        f"Free or grow {broker}'s log volume (expand the PVC, lower retention.ms/retention.bytes of the largest topics), then restart the broker so its replicas rejoin the ISR",
                    ),
                    rec(
                        "medium",
                        "Alert on the brokers' log-dir free space (kubelet_volume_stats_available_bytes) well before it reaches zero",
                    ),
                ],
                affected=[broker],
                related=[client for client, _ in others],
            )
        )
    return findings[:2]


def _broker_name(doc: LogDoc, ctx: AnalysisContext, failed: list[str]) -> str:
    source = doc_source(doc, ctx)
    if source and "kafka" in source.lower():
        return source
    broker_id = next((m.group("id") or m.group("id2") for line in failed if (m := _BROKER_ID.search(line))), None)
    if broker_id is not None:
        return f"broker {broker_id}"
    return source or "a broker"


_PARTITION_ROW = re.compile(
    r"Topic:\s*(?P<topic>\S+)\s+Partition:\s*\d+\s+Leader:\s*\S+\s+Replicas:\s*(?P<replicas>[\d,]+)\s+Isr:\s*(?P<isr>[\d,]*)"
)


def _broker_id(broker: str, failed: list[str]) -> str | None:
    logged = next((m.group("id") or m.group("id2") for line in failed if (m := _BROKER_ID.search(line))), None)
    ordinal = re.search(
        r"-(\d+)$", broker
    )  # a StatefulSet's pod ordinal is the broker id by default (Strimzi, Bitnami)
    return logged or (ordinal.group(1) if ordinal else None)


def _topics_without(obs: Observations, broker_id: str | None) -> list[str]:
    """Topics with a partition that lists the broker among its replicas but not in its ISR (kafka-topics --describe)."""
    if broker_id is None:
        return []
    topics: list[str] = []
    sources: list[list[str]] = [text.lines for text in obs.texts] + [doc.lines for doc in obs.logs]
    for lines in sources:
        for line in lines[:20000]:
            row = _PARTITION_ROW.search(line)
            if row and broker_id in row.group("replicas").split(",") and broker_id not in row.group("isr").split(","):
                topics += [row.group("topic")] if row.group("topic") not in topics else []
    return topics


def _clients(obs: Observations, ctx: AnalysisContext, pattern: re.Pattern[str]) -> list[tuple[str, str]]:
    """The workloads whose logs show ``pattern`` (the broker refusing or blocking them), with the first such line."""
    found: list[tuple[str, str]] = []
    for doc, line in _first_lines(obs.logs, pattern):
        source = doc_source(doc, ctx)
        if source and workload_of(source) not in {client for client, _ in found}:
            found.append((workload_of(source), f"{doc.label} {excerpt(line.strip())}"))
    return found


def _first_lines(docs: list[LogDoc], pattern: re.Pattern[str]) -> Iterator[tuple[LogDoc, str]]:
    for doc in docs:
        line = next((line for line in doc.lines[:20000] if pattern.search(line)), None)
        if line is not None:
            yield doc, line


_BLOCKED = re.compile(
    r"connection (?:is )?blocked|blocked by (?:the )?broker|connection\.blocked|ConnectionBlocked|reason: low on (?:disk|memory)",
    re.IGNORECASE,
)


def blocked_publishers(obs: Observations, ctx: AnalysisContext) -> list[tuple[str, str]]:
    """The workloads whose logs show RabbitMQ blocking their connection (a resource alarm), with that line."""
    return _clients(obs, ctx, _BLOCKED)


_BOX = re.compile(r"[│┃|]")


def idle_queue_backlog(lines: list[tuple[str, str]], minimum: int = 10000) -> tuple[str, int, str] | None:
    """The queue with the largest backlog and no consumer, from ``rabbitmqctl list_queues`` in any formatter
    (tab-separated, pretty_table boxes, plain columns): (name, messages, evidence)."""
    header: list[str] = []
    best: tuple[str, int, str] | None = None
    for label, line in lines:
        cells = [cell for cell in (c.strip() for c in re.split(r"[│┃|\t]| {2,}", line.strip())) if cell]
        if len(cells) == 1 and " " in cells[0] and not _BOX.search(line):
            cells = cells[0].split()
        lowered = [cell.lower() for cell in cells]
        if "name" in lowered and "messages" in lowered and "consumers" in lowered:
            header = lowered
            continue
        if not header or len(cells) != len(header):
            continue
        row = dict(zip(header, cells, strict=True))
        messages, consumers = row.get("messages", ""), row.get("consumers", "")
        if (
            messages.isdigit()
            and consumers == "0"
            and int(messages) >= minimum
            and (best is None or int(messages) > best[1])
        ):
            best = (row["name"], int(messages), f"{label} {excerpt(line.strip())}")
    return best
