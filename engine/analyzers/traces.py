"""Traces from the tracing backends people paste (Jaeger trace JSON, Tempo/OTLP trace-by-id and search results,
Zipkin v2 span lists): which span dominates a slow request and which service owns it, where a failed request's
error starts, and how long a message waits in its queue.
"""
# ruff: noqa: E501  (user-facing messages read better unwrapped)

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import rec
from engine.facts import DocumentFact, Observations
from engine.findings import Finding


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    findings: list[Finding] = []
    for document in obs.documents:
        findings += _traces(document)
    for finding in findings:
        if finding.kind == "trace_dominant_span":
            finding.title, finding.evidence = _index_detail(finding.title, finding.evidence, obs)
    return findings


_FILTER = re.compile(
    r"\bfrom\s+(?:\w+\.)?(?P<table>\w+)(?:\s+(?:as\s+)?(?!where\b)\w+)?\s+where\s+(?:\w+\.)?(?P<column>\w+)\s*(?:=|\bin\s*\()",
    re.IGNORECASE,
)
_INDEX = re.compile(
    r'^\s*"(?P<name>[\w.-]+)"[^(]*?\b(?:btree|hash|gin|gist|brin)\s*\((?P<columns>[^)]*)\)', re.IGNORECASE
)


def _index_detail(title: str, evidence: list[str], obs: Observations) -> tuple[str, list[str]]:
    """A slow span's query filters a table on a column no index of that table starts with (``\\d table`` printed
    its indexes): PostgreSQL/MySQL scan the whole table for it; ``pg_stat_user_tables`` counts those sequential
    scans, and a migration that dropped the index says when it started."""
    query = _FILTER.search(title)
    if query is None:
        return title, evidence
    table, column = query.group("table"), query.group("column")
    sources = [(t.label, t.lines) for t in obs.texts] + [(d.label, d.lines) for d in obs.logs]
    indexes: list[tuple[str, list[str], str]] = []
    scans = dropped = ""
    for label, lines in sources:
        described = False
        for line in lines[:5000]:
            if re.search(rf'Table "(?:\w+\.)?{re.escape(table)}"', line):
                described = True
            elif described and line.strip().startswith("Table "):
                described = False
            index = _INDEX.match(line) if described else None
            if index:
                columns = [c.strip().split()[0] for c in index.group("columns").split(",") if c.strip()]
                indexes.append((index.group("name"), columns, f"{label} {line.strip()}"))
            cells = [c.strip() for c in line.split("|")]
            if len(cells) >= 4 and cells[0] == table and all(c.isdigit() for c in cells[1:4]) and not scans:
                scans = f"{label} {line.strip()}"
            if (
                not dropped
                and re.search(r"\bdrop\b", line, re.IGNORECASE)
                and re.search(rf"\b{re.escape(table)}_\w*{re.escape(column)}\w*", line)
            ):
                dropped = f"{label} {line.strip()}"
    if not indexes or any(columns and columns[0] == column for _, columns, _ in indexes):
        return title, evidence
    having = ", ".join(f"{name} ({', '.join(columns)})" for name, columns, _ in indexes)
    detail = f"; table {table} has no index on {column} (its indexes: {having}), so each such query is a sequential scan of {table}"
    if scans:
        row = [c.strip() for c in scans.split("] ", 1)[-1].split("|")]
        detail += f" (pg_stat_user_tables row: {' | '.join(row[:4])}, live tuples, seq_scan, idx_scan)"
    if dropped:
        name = re.search(rf"\b{re.escape(table)}_\w*{re.escape(column)}\w*", dropped)
        detail += f"; the index {name.group(0) if name else 'on ' + column} was dropped by a recent change"
    cites = [indexes[0][2], *([scans] if scans else []), *([dropped] if dropped else [])]
    if title.endswith(")"):
        return title[:-1] + detail + ")", evidence + cites
    return title + detail, evidence + cites


def _d(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _l(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


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
    caller: str | None = None  # set when the span is attributed to the untraced peer it waits on


def _traces(document: DocumentFact) -> list[Finding]:
    spans = (
        list(_jaeger_spans(document.data))
        or list(_otlp_spans(document.data))
        or list(_tempo_search_spans(document.data))
        or list(_zipkin_spans(document.data))
    )
    if not spans:
        return []
    queued = _queue_wait(document, spans) or _error_origin(document, spans)
    if queued:
        return queued
    spans, after = _request_path(spans)
    children: dict[str, float] = {}
    for span in spans:
        if span.parent:
            children[span.parent] = children.get(span.parent, 0.0) + span.duration
    roots = [span for span in spans if not span.parent or span.parent not in {s.span_id for s in spans}]
    total = sum(span.duration for span in roots) or max(span.duration for span in spans)
    for span in spans:  # a client call nobody answered in this trace: its time is spent waiting on the peer
        if span.peer and span.span_id not in children and span.peer != span.service:
            span.service, span.caller = span.peer, span.service
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
    by_operation: dict[str, list[tuple[float, _Span]]] = {}
    for item in spans_by_service[service]:
        by_operation.setdefault(item[1].name, []).append(item)
    operation = max(by_operation, key=lambda name: (sum(o for o, _ in by_operation[name]), name))
    top = max(by_operation[operation], key=lambda item: (item[0], item[1].span_id))[1]
    calls = len(by_operation[operation])
    repeated = f", called {calls} times: {_repetition(by_operation[operation])}" if calls > 1 else ""
    notable = [
        f"{key}={value}"
        for key, value in top.tags.items()
        if key in _NOTABLE_TAGS or (_TELLING_KEY.search(key) and len(value) <= 120)
    ][:4]
    statement = next((top.tags[key] for key in _STATEMENT_TAGS if top.tags.get(key)), None)
    if statement and statement not in top.name:
        notable.insert(0, f"'{statement[:160]}'")
    if top.peer and top.peer != service:
        notable.insert(0, f"calling {top.peer}")
    if notable:
        repeated += "; " + ", ".join(notable[:3])
    repeated += _repeated_children(top, spans) + _backend_warnings(document.data) + _gap_before_callee(top, spans)
    if after and after[0].duration > own:  # the trace looks dominated by it: say why it is not the answer
        repeated += (
            f"; the asynchronous work that follows the response ('{after[0].name}' in {after[0].service},"
            f" {after[0].duration * 1000:.0f} ms) does not delay the request"
        )
    share = min(own / total, 1.0)
    return [
        Finding(
            kind="trace_dominant_span",
            subject=f"service:{service}",
            role="cause",
            title=f"{service}: the slow requests spend most of their time in service {service}"
            f"{f' (called by {top.caller})' if top.caller else ''}, in span '{top.name}'"
            f" ({min(own, total) * 1000:.0f} ms of {total * 1000:.0f} ms, {share:.0%}{repeated})",
            weight=84 if share >= 0.5 else 70,
            evidence=[document.quote(top.name, fallback=f"span {top.name} ({service}): {own * 1000:.0f} ms")],
            workload=service,
            recommendations=[
                rec(
                    "high",
                    f"Look at what '{top.name}' waits on in {service} (its queries, downstream calls, retries, locks, pool) during the slow period",
                ),
            ],
            affected=[service, *([top.caller] if top.caller else [])],
        )
    ]


_STATEMENT_TAGS = ("db.statement", "db.query.text", "sql.query", "db.query")
_N_PLUS_ONE_CALLS = 10  # this many successful calls of one operation in one request is a loop, not retries


def _repetition(calls: list[tuple[float, _Span]]) -> str:
    """Why one request makes the same call many times: retries (it failed or timed out) or, for many successful
    short calls one after another, a loop that makes one call per item (the N+1 query pattern)."""
    if len(calls) >= _N_PLUS_ONE_CALLS and not any(_failed(span) for _, span in calls):
        each = sum(span.duration for _, span in calls) / len(calls)
        return f"one call per item ({each * 1000:.0f} ms each), an N+1 pattern to batch into one call"
    return "retried"


_REPEATED_CHILD_CALLS = 3


def _gap_before_callee(client: _Span, spans: list[_Span]) -> str:
    """A client span much longer than the callee's server span under it: the time is lost between the two (the
    callee's request queue or worker pool, a proxy, the caller's connection pool), not in the callee's work."""
    served = [s for s in spans if s.parent == client.span_id and s.service != client.service]
    if len(served) != 1 or client.duration <= 0:
        return ""
    callee = served[0]
    waited = client.duration - callee.duration
    if waited < 0.5 * client.duration or waited < 0.2:
        return ""
    return (
        f"; {callee.service} itself handles the call in {callee.duration * 1000:.0f} ms ('{callee.name}'), so"
        f" {waited * 1000:.0f} ms are lost between {client.service} and {callee.service} (the callee's request"
        " queue or worker pool, a proxy, or the caller's connection pool)"
    )


def _request_path(spans: list[_Span]) -> tuple[list[_Span], list[_Span]]:
    """The spans the request waits on, and the asynchronous ones (what FOLLOWS_FROM it, e.g. a message consumed
    after the response, and their children), which make the trace longer but not the request slower."""
    ids = {span.span_id for span in spans}
    asynchronous = {span.span_id for span in spans if span.follows and span.follows in ids and not span.parent}
    if not asynchronous:
        return spans, []
    changed = True
    while changed:
        changed = False
        for span in spans:
            if span.parent in asynchronous and span.span_id not in asynchronous:
                asynchronous.add(span.span_id)
                changed = True
    kept = [span for span in spans if span.span_id not in asynchronous]
    if not kept:
        return spans, []  # only the consumer side was pasted: that is what is asked about
    heads = sorted((s for s in spans if s.span_id in asynchronous and s.follows), key=lambda s: -s.duration)
    return kept, heads


def _repeated_children(parent: _Span, spans: list[_Span]) -> str:
    """The operation a span calls over and over (one query per item): ``; inside it, 5 calls of 'SELECT x' (...)``."""
    counts: dict[str, list[_Span]] = {}
    for span in spans:
        if span.parent == parent.span_id and span.name != parent.name:
            counts.setdefault(span.name, []).append(span)
    if not counts:
        return ""
    name = max(counts, key=lambda key: (len(counts[key]), key))
    calls = counts[name]
    if len(calls) < _REPEATED_CHILD_CALLS:
        return ""
    statement = next((calls[0].tags[key] for key in _STATEMENT_TAGS if calls[0].tags.get(key)), None)
    what = f" ('{statement[:160]}')" if statement and statement not in name else ""
    return f"; inside it, {len(calls)} calls of '{name}'{what} one after another"


def _backend_warnings(data: Any) -> str:
    """Jaeger's own warnings on the trace (spans collapsed or dropped, clock skew), which change how to read it."""
    warnings = [str(w) for trace in _l(_d(data).get("data")) for w in _l(_d(trace).get("warnings"))]
    return f"; Jaeger warns: {'; '.join(w[:200] for w in warnings[:2])}" if warnings else ""


_NOTABLE_TAGS = ("cache", "cache.hit", "cache.result", "error", "http.status_code", "retry", "retries", "db.system")
# attributes that say why a span waits: pools, locks, queues, retries, timeouts, sizes (custom or semantic-convention keys)
_TELLING_KEY = re.compile(
    r"pool|lock|wait|queue|retr|attempt|timeout|backoff|cache|rows|batch|size|count|pages|lag|throttl|rate.?limit",
    re.IGNORECASE,
)
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
    status = span.tags.get("http.status_code") or span.tags.get("http.response.status_code") or ""
    return (
        span.tags.get("error") in ("true", "True")
        or span.tags.get("otel.status_code") == "ERROR"
        or (status.isdigit() and int(status) >= 500)  # a server error is a failure even without error=true
    )


def _is_root(span: _Span, ids: set[str]) -> bool:
    """A span that opens the request: no parent in the trace, and not asynchronous work that FOLLOWS_FROM a span
    of it (a consumer or fire-and-forget call after the response: its failure is not the request's)."""
    return (not span.parent or span.parent not in ids) and not (span.follows and span.follows in ids)


def _error_origin(document: DocumentFact, spans: list[_Span]) -> list[Finding]:
    """In a failed trace, the error starts in the deepest failed span whose children did not fail: its service
    is the one failing, its exception or status description says why (the callers only pass the error on)."""
    failed = [span for span in spans if _failed(span)]
    ids = {span.span_id for span in spans}
    if not any(_is_root(span, ids) for span in failed):
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
    if _POOL_EXHAUSTED.search(message):
        return [_pool_exhausted(document, origin, message)]
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


# A client waiting for a free connection of its own pool (go-redis, HikariCP, Apache HttpClient, SQLAlchemy,
# database/sql): every pooled connection is busy, so the time is spent in the caller, not in the peer.
_POOL_EXHAUSTED = re.compile(
    r"connection pool timeout|pool timeout|pool exhausted|Connection is not available, request timed out"
    r"|Timeout waiting for connection from pool|QueuePool limit|timed out waiting for (?:a )?(?:free |idle )?connection",
    re.IGNORECASE,
)


def _pool_exhausted(document: DocumentFact, origin: _Span, message: str) -> Finding:
    peer = f" to {origin.peer}" if origin.peer and origin.peer != origin.service else ""
    size = next((f"{k}={v}" for k, v in origin.tags.items() if "pool" in k and ("size" in k or "max" in k)), "")
    waited = next((f"{k}={v}" for k, v in origin.tags.items() if "pool" in k and "wait" in k), "")
    shown = ", ".join(x for x in (size, waited) if x)
    return Finding(
        kind="trace_client_pool_exhausted",
        subject=f"service:{origin.service}",
        role="cause",
        title=f"{origin.service}: the failing requests fail in service {origin.service}, span '{origin.name}': its client connection pool{peer} is exhausted ({message[:160]}{'; ' + shown if shown else ''}): every pooled connection is busy, so calls wait for a free one and time out; find what holds the connections (slow commands or queries{peer}, a leak) before enlarging the pool",
        weight=89,
        evidence=[document.quote(message[:60], fallback=f"span {origin.name} ({origin.service}): {message}")],
        workload=origin.service,
        recommendations=[
            rec(
                "high",
                f"Find what keeps {origin.service}'s pooled connections{peer} busy (slow commands/queries, long transactions, leaks) and fix it; raise the pool size only if the peer has room",
            )
        ],
        affected=[origin.service],
    )


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
                (
                    tags.get("peer.service")
                    or tags.get("server.address")
                    or tags.get("net.peer.name")
                    or tags.get("peer.hostname")
                    or (url.group(1) if url else None)
                )
                if client
                else None
            )
            for log in _l(span.get("logs")):  # span events: an exception's type and message
                fields = {str(_d(f).get("key", "")): str(_d(f).get("value")) for f in _l(_d(log).get("fields"))}
                for key, value in fields.items():
                    if key.startswith("exception."):
                        tags.setdefault(key, value)
                if fields.get("event") == "error":  # OpenTracing's error log: message / error.object / error.kind
                    message = fields.get("message") or fields.get("error.object") or fields.get("stack", "")[:200]
                    if message:
                        tags.setdefault("exception.message", message)
                    if fields.get("error.kind"):
                        tags.setdefault("exception.type", fields["error.kind"])
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


def _otlp_batches(data: Any, depth: int = 0) -> list[Any]:
    """OTLP resource spans however they are wrapped: Tempo's ``batches`` (v1) or ``{"trace": {"resourceSpans"}}``
    (v2 API), Jaeger's API v3 ``{"result": {"resourceSpans"}}``, the collector's file exporter (one
    ``{"resourceSpans"}`` document a line, read as a list)."""
    if isinstance(data, list) and depth == 0:
        return [batch for item in data for batch in _otlp_batches(item, 1)]
    if not isinstance(data, dict) or depth > 2:
        return []
    direct = _l(data.get("batches")) or _l(data.get("resourceSpans"))
    if direct:
        return direct
    return [batch for key in ("trace", "result") for batch in _otlp_batches(data.get(key), depth + 1)]


def _otlp_spans(data: Any) -> Iterator[_Span]:
    for batch in _otlp_batches(data):
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
                    _peer(span.get("attributes")) if str(span.get("kind", "")) in _OTLP_CLIENT_KINDS else None,
                    None,
                    tags,
                )


_OTLP_CLIENT_KINDS = ("SPAN_KIND_CLIENT", "CLIENT", "3")  # OTLP JSON may print the enum as its number


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


def _zipkin_spans(data: Any) -> Iterator[_Span]:
    """Zipkin v2 JSON (``/api/v2/trace/{id}``): a list of spans with ``id``/``parentId``, ``timestamp`` and
    ``duration`` in microseconds, ``localEndpoint.serviceName`` and, for a CLIENT span, the ``remoteEndpoint``."""
    spans = (
        [_d(span) for span in (data[0] if data and isinstance(data[0], list) else data)]
        if isinstance(data, list)
        else []
    )
    if not spans or not all("traceId" in span and "id" in span for span in spans):
        return
    for span in spans:
        tags = {str(k): str(v) for k, v in _d(span.get("tags")).items()}
        if "error" in tags:
            tags["otel.status_code"] = "ERROR"
            tags.setdefault("otel.status_description", tags["error"])
        client = span.get("kind") in ("CLIENT", "PRODUCER")
        remote = _d(span.get("remoteEndpoint"))
        peer = (remote.get("serviceName") or remote.get("ipv4")) if client else None
        if client and not peer:
            url = re.match(r"https?://([^/:]+)", tags.get("http.url") or tags.get("url.full") or "")
            peer = url.group(1) if url else None
        yield _Span(
            str(span["id"]),
            str(span["parentId"]) if span.get("parentId") else None,
            str(span.get("name", "?")),
            str(_d(span.get("localEndpoint")).get("serviceName") or "?"),
            float(span.get("timestamp", 0) or 0) / 1e6,
            float(span.get("duration", 0) or 0) / 1e6,
            str(peer) if peer else None,
            None,
            tags,
        )
