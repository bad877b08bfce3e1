"""Failing calls in logs: "connection refused to payments-db:5432" -> (caller, target, mechanism).

Shared by the dependency analyzer (which joins them with the target's state), the metrics analyzer (who calls
whom) and the planner (whose state to check next); it depends on none of them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from engine.analyzers.names import normalize_service
from engine.facts import Observations
from engine.findings import workload_of
from engine.parsers.common import parse_timestamp


@dataclass(frozen=True)
class LogLine:
    timestamp: float
    service: str
    message: str
    source_tool: str = ""


@dataclass(frozen=True)
class DependencySignal:
    """Callers failing to talk to one target, aggregated over log lines."""

    caller: str
    target: str
    mechanism: str
    count: int
    first_seen: float
    sample: str
    source_tool: str


_HOST = r"(?P<host>[A-Za-z0-9][A-Za-z0-9._-]*[A-Za-z0-9])(?::(?P<port>\d{2,5}))?"

# Order matters: the first matching pattern decides the mechanism.
_SIGNATURES: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "pool_exhausted",
        re.compile(
            r"(?i)(?:connection is not available|pool (?:is )?exhausted|timeout waiting for (?:a )?"
            r"connection|could not obtain (?:a )?connection|QueuePool limit)"
            r"(?:.*?(?:to|for|pool|host)[ =:\"']+" + _HOST + r")?"
        ),
    ),
    (
        "too_many_connections",
        re.compile(
            r"(?i)(?:too many (?:clients|connections)|remaining connection slots are reserved)"
            r"(?:.*?(?:to|host|server)[ =:\"']+" + _HOST + r")?"
        ),
    ),
    (
        "dns",
        re.compile(
            r"(?i)(?:getaddrinfo (?:ENOTFOUND|EAI_AGAIN) |no such host.*?lookup |"
            r"could not translate host name \"?|Name or service not known.*?)" + _HOST
        ),
    ),
    (
        "connection_refused",
        re.compile(r"(?i)connection refused.{0,80}?running on host \"?" + _HOST),  # libpq
    ),
    (
        "connection_refused",
        re.compile(
            r"(?i)(?:dial tcp |connect ECONNREFUSED |connection to |connecting to |"
            r"could not connect to (?:server )?(?:at )?\"?|failed to connect to |host=|upstream )"
            + _HOST
            + r".{0,80}?(?:connection refused|refused)"
        ),
    ),
    (
        "connection_refused",
        re.compile(
            r"(?i)(?:connection refused|ECONNREFUSED).{0,40}?(?:to|connecting to|host|upstream)[ =:\"']+" + _HOST
        ),
    ),
    (
        "timeout",
        re.compile(
            r"(?i)(?:dial tcp |connect to |connection to |request to |calling |upstream |host=|GET |POST )"
            r"(?:https?://)?" + _HOST + r"\S*.{0,80}?(?:timed? ?out|timeout|deadline exceeded|i/o timeout)"
        ),
    ),
    (
        "timeout",
        re.compile(
            r"(?i)(?:timed? ?out|timeout|deadline exceeded)[^\n]{0,40}?"
            r"(?:to|connecting to|calling|host|upstream)[ =:\"']+(?:https?://)?" + _HOST
        ),
    ),
    (
        "connection_reset",
        re.compile(r"(?i)(?:connection reset by peer|ECONNRESET).{0,40}?(?:to|host|upstream)[ =:\"']+" + _HOST),
    ),
    (
        # "payments-gw: upstream returned 503: no healthy upstream": the name before the colon is the dependency
        "unavailable",
        re.compile(
            r"(?i)(?:^|[\s\"'=])" + _HOST + r":\s+(?:upstream\s+)?(?:returned|responded(?: with)?|answered|got)\s+"
            r"(?:503|service unavailable|UNAVAILABLE)"
        ),
    ),
    (
        "unavailable",
        re.compile(
            r"(?i)(?:upstream |calling |request to |from )(?:https?://)?"
            + _HOST
            + r"\S*.{0,60}?(?:503|service unavailable|UNAVAILABLE)"
        ),
    ),
    (
        "server_error",
        re.compile(
            r"(?i)(?:upstream |calling |request to |from )(?:https?://)?"
            + _HOST
            + r"\S*.{0,40}?(?:returned|responded|status|got) (?:with )?5\d\d\b"
        ),
    ),
)

_NOT_A_HOST = {"the", "server", "database", "host", "a", "localhost", "to", "for", "pool"}
_NOT_A_HOST |= {"returned", "responded", "err", "error"}  # "upstream returned 503": a verb, not the upstream


def parse_dependency_error(message: str) -> tuple[str, str | None] | None:
    """``(mechanism, target or None)`` when a log line says a call to a dependency failed."""
    for mechanism, pattern in _SIGNATURES:
        m = pattern.search(message)
        if m is None:
            continue
        host = m.groupdict().get("host")
        target = normalize_target(host) if host and host.lower() not in _NOT_A_HOST else None
        return mechanism, target
    return None


_IP = re.compile(r"^\d{1,3}(?:\.\d{1,3}){3}$")
_INTERNAL_SUFFIXES = (".svc", ".cluster.local", ".internal", ".amazonaws.com", ".local", ".consul", ".lan")


def normalize_target(host: str) -> str:
    """``payments-db.abc.rds.amazonaws.com`` -> ``payments-db``; ``postgres.shop.svc`` -> ``postgres``."""
    h = host.strip().strip("\"'").lower().rstrip(".")
    if _IP.match(h):
        return h
    labels = h.split(".")
    if len(labels) <= 2 or h.endswith(_INTERNAL_SUFFIXES):
        return labels[0]
    return h  # an external host: its first label ("api") names nothing


def extract_signals(
    lines: Iterable[LogLine], *, default_target: str | None = None, aliases: dict[str, str] | None = None
) -> list[DependencySignal]:
    """Aggregate failing-call lines per (caller, target, mechanism), most frequent first.

    ``aliases`` maps IPs or hostnames to component names (e.g. a Service's cluster IP to its name). Lines
    with a mechanism but no recognisable host are attributed to ``default_target`` when one is given.
    """
    table: dict[tuple[str, str, str], list[LogLine]] = {}
    for line in lines:
        parsed = parse_dependency_error(line.message)
        if parsed is None:
            continue
        mechanism, target = parsed
        if target is not None and aliases:
            target = aliases.get(target, target)
        target = target or default_target
        if target is None or normalize_service(target) == normalize_service(line.service):
            continue
        table.setdefault((line.service, target, mechanism), []).append(line)
    signals = [
        DependencySignal(
            caller=caller,
            target=target,
            mechanism=mechanism,
            count=len(items),
            first_seen=min(i.timestamp for i in items),
            sample=min(items, key=lambda i: i.timestamp).message[:300],
            source_tool=items[0].source_tool,
        )
        for (caller, target, mechanism), items in table.items()
    ]
    signals.sort(key=lambda s: (-s.count, s.first_seen))
    return signals


def log_lines(obs: Observations) -> list[LogLine]:
    lines: list[LogLine] = []
    for doc in obs.logs:
        service = workload_of(doc.pod) if doc.pod else ""
        if not service:
            continue
        for raw in doc.lines:
            when = parse_timestamp(raw[:40])
            if when is not None:
                lines.append(LogLine(when.timestamp(), service, raw, doc.label))
    return lines


def log_signals(obs: Observations, default_target: str | None = None) -> list[DependencySignal]:
    return extract_signals(log_lines(obs), default_target=default_target)


def log_call_graph(obs: Observations) -> dict[str, list[str]]:
    """caller -> callees, as far as the logs show who calls whom."""
    graph: dict[str, list[str]] = {}
    for signal in log_signals(obs):
        graph.setdefault(signal.caller, []).append(signal.target)
    return graph
