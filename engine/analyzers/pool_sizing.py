"""A database connection pool smaller than the threads that use it.

Every request thread of a process checks a connection out of the process's pool. With fewer connections than
threads (Rails ``database.yml`` ``pool: 5`` under Puma with 16 threads; a HikariCP ``maximumPoolSize`` below
Tomcat's ``threads.max``), threads queue for a connection under load and time out ("could not obtain a connection
from the pool", "Connection is not available, request timed out") while the database itself is idle. The Rails
guides tell to size ``pool`` from ``RAILS_MAX_THREADS`` for that reason.
"""
# ruff: noqa: E501  (user-facing messages read better unwrapped)

from __future__ import annotations

import re
from collections.abc import Iterator

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import rec
from engine.analyzers.log_signatures import doc_source
from engine.facts import Observations
from engine.findings import Finding, workload_of
from engine.parsers.common import excerpt

_POOL_LINE = re.compile(
    r"^\s*(?:pool|pool_size|maximumPoolSize|maximum-pool-size|max_pool_size|maxPoolSize)\s*[:=]\s*\"?(?P<n>\d+)\"?\s*$"
    r"|\b(?:maximumPoolSize|maximum-pool-size)[=: ]+(?P<n2>\d+)\b"
)
_POOL_ENV = re.compile(
    r"^(?:\w+_)?(?:DB_POOL(?:_SIZE)?|DATABASE_POOL(?:_SIZE)?|POOL_SIZE|HIKARI_MAXIMUM_POOL_SIZE|MAXIMUM_POOL_SIZE)$"
)
_THREAD_LINE = re.compile(
    r"\bMax threads:\s*(?P<n>\d+)|\bserver\.tomcat\.threads\.max\s*[:=]\s*(?P<n2>\d+)|--threads[= ](?P<n3>\d+)"
)
_THREAD_ENV = re.compile(
    r"^(?:RAILS_MAX_THREADS|PUMA_MAX_THREADS|MAX_THREADS|SERVER_TOMCAT_THREADS_MAX|GUNICORN_THREADS)$"
)
_ENV_NAME = re.compile(r"^\s*-?\s*name:\s*\"?(?P<name>[A-Z][A-Z0-9_]*)\"?\s*$")
_ENV_VALUE = re.compile(r"^\s*value:\s*[\"']?(?P<value>\d+)[\"']?\s*$")
_ENV_PAIR = re.compile(r"\b(?P<name>[A-Z][A-Z0-9_]*)=(?P<value>\d+)\b")
_POOL_WAIT = re.compile(
    r"could not obtain (?:a )?connection from (?:the )?pool|Connection is not available, request timed out"
    r"|QueuePool limit of size \d+ overflow \d+ reached|timeout acquiring (?:a )?connection|ConnectionTimeoutError",
    re.IGNORECASE,
)


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    waiting = next(
        ((doc, line) for doc in obs.logs for line in doc.lines[:20000] if _POOL_WAIT.search(line)),
        None,
    )
    if waiting is None:
        return []
    pools: list[tuple[int, str, str]] = []  # size, what set it, evidence
    threads: list[tuple[int, str, str]] = []
    for label, lines in _texts(obs):
        env: str | None = None
        for line in lines:
            cite = f"{label} {excerpt(line.strip())}"
            pool = _POOL_LINE.search(line)
            if pool:
                pools.append((int(pool.group("n") or pool.group("n2")), pool.group(0).strip(), cite))
            thread = _THREAD_LINE.search(line)
            if thread:
                threads.append(
                    (int(thread.group("n") or thread.group("n2") or thread.group("n3")), thread.group(0).strip(), cite)
                )
            for pair in _ENV_PAIR.finditer(line):
                _env(pair.group("name"), int(pair.group("value")), cite, pools, threads)
            named = _ENV_NAME.match(line)
            value = _ENV_VALUE.match(line)
            if value and env:
                _env(env, int(value.group("value")), cite, pools, threads)
            env = named.group("name") if named else None
    if not pools or not threads:
        return []
    smallest = min(pools)
    most = max(threads)
    if smallest[0] >= most[0]:
        return []
    doc, line = waiting
    source = doc_source(doc, ctx)
    owner = workload_of(source) if source else None
    return [
        Finding(
            kind="db_pool_smaller_than_threads",
            subject=f"{owner or 'app'}:db_pool_smaller_than_threads",
            role="cause",
            title=(
                f"{owner + ': ' if owner else ''}the database connection pool size is {smallest[0]} ({smallest[1]}) but each process runs {most[0]} threads ({most[1]}), "
                "so under load threads wait for a connection and time out while the database is idle"
            ),
            weight=90,
            evidence=list(dict.fromkeys([f"{doc.label} {excerpt(line.strip())}", smallest[2], most[2]])),
            workload=owner,
            recommendations=[
                rec(
                    "high",
                    f"Size the pool to the threads per process (at least {most[0]}; Rails: pool: <%= ENV.fetch('RAILS_MAX_THREADS') %>), keeping processes x pool within the database's max_connections",
                )
            ],
            affected=[owner] if owner else [],
        )
    ]


def _env(
    name: str, value: int, cite: str, pools: list[tuple[int, str, str]], threads: list[tuple[int, str, str]]
) -> None:
    if _POOL_ENV.match(name):
        pools.append((value, f"{name}={value}", cite))
    elif _THREAD_ENV.match(name):
        threads.append((value, f"{name}={value}", cite))


def _texts(obs: Observations) -> Iterator[tuple[str, list[str]]]:
    for text in obs.texts:
        yield text.label, text.lines[:5000]
    for doc in obs.logs:
        yield doc.label, doc.lines[:5000]
    for document in obs.documents:
        yield document.label, document.lines[:5000]
