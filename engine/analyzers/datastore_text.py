"""Broker and database state as their own CLIs print it in text: RabbitMQ alarms (``rabbitmq-diagnostics
status``/``alarms`` and the server log), and ``psql`` result tables (``pg_stat_replication`` lag,
``pg_stat_activity`` connection holders when the server refuses new clients).

The JSON forms are read by ``datastores``; these are the same facts printed for a terminal.
"""
# ruff: noqa: E501  (user-facing messages read better unwrapped)

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from engine.analysis_context import AnalysisContext
from engine.analyzers.broker_storage import blocked_publishers, idle_queue_backlog
from engine.analyzers.common import rec
from engine.analyzers.log_signatures import doc_source
from engine.facts import Observations
from engine.findings import Finding, workload_of
from engine.parsers.common import excerpt

_RMQ_ALARM = re.compile(
    r"(?P<what>Free disk space|disk|Memory|memory)(?: resource limit)? alarm (?:set )?on node '?(?P<node>rabbit@[\w.-]+?)'?\.?$"
)
_PG_REFUSED = re.compile(
    r"too many clients already|remaining connection slots are reserved|too many connections for (?:role|database)"
)


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    lines = list(text_lines(obs))
    findings = _rabbitmq_alarms(lines, blocked_publishers(obs, ctx))
    tables = list(psql_tables(lines))
    findings += _replication_lag(tables)
    findings += _connection_holders(lines, tables, _refused_clients(obs, ctx))
    findings += _es_disk_watermarks(lines, _blocked_clients(obs, ctx))
    return findings


_ES_BLOCKED = re.compile(r"flood.stage|read.only.allow.delete|cluster_block_exception", re.IGNORECASE)


def _refused_clients(obs: Observations, ctx: AnalysisContext) -> list[str]:
    """The workloads whose logs show PostgreSQL refusing their connections (too many clients)."""
    clients: list[str] = []
    for doc in obs.logs:
        source = doc_source(doc, ctx) if any(_PG_REFUSED.search(line) for line in doc.lines[:20000]) else None
        if source and workload_of(source) not in clients:
            clients.append(workload_of(source))
    return clients


def _blocked_clients(obs: Observations, ctx: AnalysisContext) -> list[tuple[str, str]]:
    """The workloads whose logs show Elasticsearch refusing their writes with an index block, with that line."""
    clients: list[tuple[str, str]] = []
    for doc in obs.logs:
        line = next((line for line in doc.lines[:20000] if _ES_BLOCKED.search(line)), None)
        source = doc_source(doc, ctx) if line else None
        if line and source and workload_of(source) not in {c for c, _ in clients}:
            clients.append((workload_of(source), f"{doc.label} {excerpt(line.strip())}"))
    return clients


# Elasticsearch's default disk watermarks (cluster.routing.allocation.disk.watermark.*): past low no new shards go
# to the node, past high shards move off it, past flood stage its indices get a read_only_allow_delete block.
_WATERMARKS = (
    (95, "flood-stage", 90, "every index with a shard on it gets a read-only-allow-delete block, so writes fail"),
    (90, "high", 82, "Elasticsearch moves shards off it and allocates none to it"),
    (85, "low", 72, "no new shards are allocated to it"),
)
_ES_DISK_COLUMNS = ("disk.percent", "disk.used_percent", "dup")


def _es_disk_watermarks(lines: list[tuple[str, str]], clients: list[tuple[str, str]]) -> list[Finding]:
    """``_cat/allocation?v`` or ``_cat/nodes?v&h=name,disk.used_percent`` rows of nodes past a disk watermark."""
    findings: list[Finding] = []
    header: list[str] = []
    for label, line in lines:
        cells = line.split()
        if any(column in cells for column in _ES_DISK_COLUMNS) and ("node" in cells or "name" in cells):
            header = cells
            continue
        if not header or len(cells) != len(header):
            header = [] if not cells else header
            continue
        row = dict(zip(header, cells, strict=True))
        percent = next((row[c] for c in _ES_DISK_COLUMNS if c in row), "")
        node = row.get("node") or row.get("name") or "?"
        if not percent.replace(".", "", 1).isdigit():
            continue
        used = float(percent)
        blocked = [(client, cite) for client, cite in clients if client != node] if used >= 95 else []
        for threshold, name, weight, effect in _WATERMARKS:
            if used >= threshold:
                findings.append(
                    Finding(
                        kind="elasticsearch_disk_watermark",
                        subject=f"elasticsearch:{node}",
                        role="cause",
                        title=f"Elasticsearch node {node} has {percent}% of its disk used, past the {name} watermark "
                        f"({threshold}% by default): {effect}",
                        weight=weight + (2 if blocked else 0),
                        evidence=[f"{label} {excerpt(line.strip())}", *[cite for _, cite in blocked[:1]]],
                        workload=node,
                        recommendations=[
                            rec(
                                "high",
                                f"Free or add disk on {node} (delete old indices, add a data node); after a flood-stage "
                                "block, writes resume once usage falls below the high watermark",
                            )
                        ],
                        affected=[node],
                        related=[client for client, _ in blocked],
                    )
                )
                break
    return findings


def text_lines(obs: Observations) -> Iterator[tuple[str, str]]:
    for text in obs.texts:
        for line in text.lines:
            yield text.label, line
    for doc in obs.logs:
        for line in doc.lines[:20000]:
            yield doc.label, line


def _rabbitmq_alarms(lines: list[tuple[str, str]], blocked: list[tuple[str, str]]) -> list[Finding]:
    found: dict[tuple[str, str], Finding] = {}
    backlog = idle_queue_backlog(lines)
    for label, line in lines:
        match = _RMQ_ALARM.search(line.strip())
        if not match:
            continue
        resource = "disk" if "disk" in match.group("what").lower() else "memory"
        node = match.group("node")
        if (resource, node) in found:
            continue
        limit = "disk_free_limit" if resource == "disk" else "vm_memory_high_watermark"
        host = node.split("@")[-1].split(".")[0]
        clients = [(client, cite) for client, cite in blocked if client != workload_of(host)]
        fills = (
            f"; queue {backlog[0]} holds {backlog[1]} messages and has no consumer, so it only grows and fills the {resource}"
            if backlog
            else ""
        )
        found[(resource, node)] = Finding(
            kind="rabbitmq_alarm",
            subject=f"rabbitmq:{node}",
            role="cause",
            title=f"RabbitMQ node {node} has raised its {resource} alarm ({limit} reached), so it blocks every publishing connection until the alarm clears{fills}",
            weight=92 if backlog else 90,
            evidence=[
                f"{label} {excerpt(line.strip())}",
                *([backlog[2]] if backlog else []),
                *[cite for _, cite in clients[:1]],
            ],
            workload=workload_of(host),
            recommendations=[
                rec(
                    "high",
                    f"Free {resource} on {node} (drain queues without consumers, grow the volume) and add consumers; lower the limit only with headroom"
                    if not backlog
                    else f"Bring back a consumer for {backlog[0]} (or purge it / set a max-length or TTL policy) to free {resource} on {node}",
                )
            ],
            affected=[node],
            related=[client for client, _ in clients],  # the publishers it blocks
        )
    return list(found.values())


@dataclass
class Table:
    label: str
    header: list[str]
    rows: list[tuple[list[str], str]]  # cells, the raw line


def psql_tables(lines: list[tuple[str, str]]) -> Iterator[Table]:
    """psql's aligned output: a ``a | b`` header, a ``---+---`` rule, ``x | y`` rows, ``(n rows)``."""
    for index, (label, line) in enumerate(lines):
        if not re.fullmatch(r"\s*-+(?:\+-+)+\s*|\s*-{3,}\s*", line) or index == 0:
            continue
        header = [cell.strip() for cell in lines[index - 1][1].split("|")]
        if "+" not in line and (len(header) != 1 or " " in header[0]):
            continue  # a one-column psql result has a one-word header; other dashed rules are not psql
        rows: list[tuple[list[str], str]] = []
        for row_label, row in lines[index + 1 : index + 500]:
            if row_label != label or not row.strip() or row.strip().startswith("("):
                break
            rows.append(([cell.strip() for cell in row.split("|")], row))
        if rows and all(header):
            yield Table(label, header, rows)


def _interval_seconds(value: str) -> float | None:
    match = re.fullmatch(r"(?:(\d+) days? )?(\d+):(\d\d):(\d\d(?:\.\d+)?)", value.strip())
    if not match:
        return None
    days, hours, minutes, seconds = match.groups()
    return int(days or 0) * 86400 + int(hours) * 3600 + int(minutes) * 60 + float(seconds)


def _replication_lag(tables: list[Table]) -> list[Finding]:
    findings: list[Finding] = []
    for table in tables:
        lag_column = next((c for c in ("replay_lag", "write_lag", "flush_lag") if c in table.header), None)
        if not lag_column:
            continue
        for cells, line in table.rows:
            row = dict(zip(table.header, cells, strict=False))
            seconds = _interval_seconds(row.get(lag_column, ""))
            state = row.get("state", "streaming")
            if state == "streaming" and (seconds is None or seconds < 30):
                continue
            name = row.get("application_name") or row.get("client_addr") or "a standby"
            findings.append(
                Finding(
                    kind="postgres_replication_lag",
                    subject=f"postgres:{name}",
                    role="cause",
                    title=f"PostgreSQL standby {name} lags the primary ({lag_column} {row.get(lag_column)}, state {state}), so reads from it return stale data",
                    weight=82,
                    evidence=[f"{table.label} {excerpt(line.strip())}"],
                    workload=name,
                    recommendations=[
                        rec(
                            "high",
                            f"Find what slows replay on {name} (I/O, long queries on the standby, network) and route reads to the primary until it catches up",
                        )
                    ],
                    affected=[name],
                )
            )
    return findings[:2]


def _connection_holders(lines: list[tuple[str, str]], tables: list[Table], clients: list[str]) -> list[Finding]:
    refused = next(((label, line) for label, line in lines if _PG_REFUSED.search(line)), None)
    if refused is None:
        return []
    holders: list[tuple[int, str, str, str]] = []  # count, who, state, evidence
    limit: tuple[str, str] | None = None
    totals: dict[str, int] = {}  # who -> connections in every state
    for table in tables:
        if table.header == ["max_connections"] and table.rows:
            limit = (table.rows[0][0][0], f"{table.label} {excerpt(table.rows[0][1].strip())}")
        if "count" not in table.header:
            continue
        # the application (pg_stat_activity.application_name) is the client workload; the role is shared by many
        columns = [c for c in ("application_name", "usename", "client_addr", "datname") if c in table.header]
        for cells, line in table.rows:
            row = dict(zip(table.header, cells, strict=False))
            who = next((row[c] for c in columns if row.get(c)), "")
            if who and row.get("count", "").isdigit():
                holders.append((int(row["count"]), who, row.get("state", ""), f"{table.label} {excerpt(line.strip())}"))
                totals[who] = totals.get(who, 0) + int(row["count"])
    if not holders:
        return []
    count, who, state, cite = max(holders)
    role = next(
        (
            cells[table.header.index("usename")]
            for table in tables
            if "usename" in table.header and "application_name" in table.header
            for cells, _ in table.rows
            if who in cells and len(cells) == len(table.header) and cells[table.header.index("usename")] != who
        ),
        "",
    )
    of = f" of max_connections {limit[0]}" if limit else ""
    idle = f" {state}" if state else ""
    held = f"{count}{idle} connections" if totals[who] == count else f"{totals[who]} connections ({count}{idle})"
    named = f"{who} (role {role})" if role else who
    message = _PG_REFUSED.search(refused[1])
    return [
        Finding(
            kind="postgres_connections_exhausted",
            subject=f"postgres:{who}",
            role="cause",
            title=(
                f"PostgreSQL refuses new connections ({message.group(0) if message else 'too many clients'}): {named} holds {held}{of}"
            ),
            weight=88,
            evidence=[e for e in (f"{refused[0]} {excerpt(refused[1].strip())}", cite, limit[1] if limit else "") if e],
            workload=who,
            recommendations=[
                rec(
                    "high",
                    f"Cap {who}'s connection pool (or put PgBouncer in front) and close its{idle} connections; raise max_connections only with memory headroom",
                )
            ],
            affected=[who],
            related=[client for client in clients if client != who],  # the clients it refuses
        )
    ]
