"""PostgreSQL's lock queue: a session idle in transaction holds a table lock, a DDL waits for it, all else waits
for the DDL.

``ALTER TABLE`` (a migration) needs an AccessExclusiveLock; it waits behind any open transaction that touched the
table, even one that only read it and now sits ``idle in transaction`` (an SQL editor left open, a client that
never commits). Every later query on the table, reads included, queues behind the waiting DDL, so the application
stalls. ``pg_stat_activity`` (``state``, ``wait_event_type = Lock``) and ``pg_blocking_pids`` show the chain
(postgresql.org/docs/current/explicit-locking.html, /monitoring-stats.html#MONITORING-PG-STAT-ACTIVITY-VIEW).
"""
# ruff: noqa: E501  (user-facing messages read better unwrapped)

from __future__ import annotations

import re

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import rec
from engine.analyzers.datastore_text import Table, psql_tables, text_lines
from engine.facts import Observations
from engine.findings import Finding
from engine.parsers.common import excerpt

_DDL = re.compile(
    r"^\s*(?:ALTER|CREATE\s+(?:UNIQUE\s+)?INDEX|DROP|TRUNCATE|REINDEX|VACUUM\s+FULL|CLUSTER|LOCK)\b", re.I
)
_IDLE_TX = re.compile(r"^idle in transaction")


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    del ctx
    tables = list(psql_tables(list(text_lines(obs))))
    blocked_by = _blocked_by(tables)
    for table in tables:
        if "state" not in table.header or "pid" not in table.header:
            continue
        rows = [(dict(zip(table.header, cells, strict=False)), line) for cells, line in table.rows]
        waiting = [
            (row, line) for row, line in rows if row.get("wait_event_type") == "Lock" or row.get("waiting") == "t"
        ]
        idle = [(row, line) for row, line in rows if _IDLE_TX.match(row.get("state", ""))]
        if not waiting or not idle:
            continue
        holders = [(row, line) for row, line in idle if any(row["pid"] in pids for pids in blocked_by.values())]
        holder, holder_line = (holders or idle)[0]
        ddl = next(((row, line) for row, line in waiting if _DDL.match(row.get("query", ""))), None)
        return [_finding(table, holder, holder_line, ddl, waiting)]
    return []


def _blocked_by(tables: list[Table]) -> dict[str, set[str]]:
    """pid -> the pids ``pg_blocking_pids`` says block it."""
    found: dict[str, set[str]] = {}
    for table in tables:
        column = next((c for c in table.header if "block" in c), None)
        if column is None or "pid" not in table.header:
            continue
        for cells, _ in table.rows:
            row = dict(zip(table.header, cells, strict=False))
            pids = set(re.findall(r"\d+", row.get(column, "")))
            if pids:
                found[row["pid"]] = pids
    return found


def _finding(
    table: Table,
    holder: dict[str, str],
    holder_line: str,
    ddl: tuple[dict[str, str], str] | None,
    waiting: list[tuple[dict[str, str], str]],
) -> Finding:
    pid = holder["pid"]
    who = ", ".join(v for v in (holder.get("usename"), holder.get("application_name"), holder.get("client_addr")) if v)
    age = next((holder[c] for c in ("xact_age", "age", "xact_start", "duration") if holder.get(c)), "")
    since = f" for {age.split('.')[0]}" if age else ""
    apps = sorted(
        {row.get("application_name", "") for row, _ in waiting if row.get("application_name")}
        - {holder.get("application_name", "")}
    )
    queued = [row for row, _ in waiting if ddl is None or row is not ddl[0]]
    if ddl is not None:
        statement = ddl[0].get("query", "").strip()
        chain = (
            f"the DDL '{statement}' ({ddl[0].get('application_name') or ddl[0].get('usename')}) needs an AccessExclusiveLock and waits for it, "
            f"and every later query on the table queues behind the DDL ({len(queued)} sessions waiting on Lock)"
        )
    else:
        chain = f"{len(waiting)} sessions wait on Lock behind it"
    evidence = [f"{table.label} {excerpt(holder_line.strip())}"] + (
        [f"{table.label} {excerpt(ddl[1].strip())}"] if ddl else []
    )
    return Finding(
        kind="postgres_idle_in_transaction_lock",
        subject=f"postgres:{pid}",
        role="cause",
        title=f"PostgreSQL session {pid} ({who}) is idle in transaction{since} and holds a lock on the table, so {chain}",
        weight=92,
        evidence=evidence,
        workload=apps[0] if apps else None,
        recommendations=[
            rec("high", f"End session {pid} (SELECT pg_terminate_backend({pid})) so the waiting statements proceed"),
            rec(
                "medium",
                "Set idle_in_transaction_session_timeout for interactive roles and a lock_timeout for migrations so a DDL fails fast instead of queueing every query",
            ),
        ],
        affected=apps,
        related=apps,
    )
