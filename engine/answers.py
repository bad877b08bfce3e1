"""Answers to questions that are not "why is it broken": a log search, an error summary, a health check.

Same result shape as a root-cause report: ``summary`` is the answer, ``root_cause`` says what the main problem
is (or that there is none), the evidence quotes the lines.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from engine.analyzers.certificates import healthy_certificates
from engine.facts import LogDoc, Observations
from engine.focus import Focus
from engine.logs.index import LogIndex
from engine.logs.reader import exception_of
from engine.logs.signatures import match_signatures
from engine.logs.templates import level_of, mask
from engine.models import Recommendation, Report, RootCause, TimelineEvent
from engine.parsers.common import excerpt, parse_timestamp
from engine.question import Question, search_qualifier
from engine.ranking import Scored

MAX_QUOTED = 5
MAX_GROUPS = 5


def _docs(obs: Observations, focus: Focus, words: frozenset[str] = frozenset()) -> list[LogDoc]:
    """The subject's logs when they can be told apart, else every log read."""
    if focus:
        mine = [doc for doc in obs.logs if doc.pod and any(doc.pod.startswith(name) for name in focus.names)]
        if mine:
            return mine
    # a log saved as "<pod>.log" ("kubectl logs billing-7d6c… > billing-7d6c….log") is that pod's: a name the
    # question says picks it out of the others
    named = [doc for doc in obs.logs if any(_file_is_of(doc.label, word) for word in words)]
    if named and len(named) < len(obs.logs):
        return named
    return list(obs.logs)


def _file_is_of(label: str, word: str) -> bool:
    match = re.match(r"^\[attachment:(?:.*/)?([a-z0-9]+(?:-[a-z0-9]+)*)\.log\]$", label)
    return match is not None and (match.group(1) == word or match.group(1).startswith(f"{word}-"))


# Line stamps that are not ISO-8601: nginx's error log (2026/11/06 20:34:11), the common/combined access log
# ([06/Nov/2026:20:31:01 +0000]) and klog/glog (W1106 20:55:00.118201, no year).
_SLASHED = re.compile(r"^(\d{4})/(\d{2})/(\d{2})[ T](\d{2}):(\d{2}):(\d{2})")
_CLF = re.compile(r"\[(\d{2})/([A-Z][a-z]{2})/(\d{4}):(\d{2}):(\d{2}):(\d{2}) ([+-]\d{4})\]")
_KLOG = re.compile(r"^[IWEF](\d{2})(\d{2}) (\d{2}):(\d{2}):(\d{2})\.\d+\s")
# JSON loggers' epoch times: pino "time":1796902812555 (milliseconds), zap/structlog "ts":1796902812.55 (seconds)
_EPOCH = re.compile(r"\"(?:time|ts|timestamp|@timestamp)\"\s*:\s*(?:(?P<ms>\d{13})|(?P<s>\d{10}(?:\.\d+)?))\b")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


# nginx appends the request's context to every error-log message (", client: …, server: …, request: …, upstream: …,
# host: …"): one error for different clients and paths is one group.
_NGINX_CONTEXT = re.compile(r",\s+client: .*$")


def _line_time(line: str, year: int) -> datetime | None:
    when = parse_timestamp(line[:64])
    if when is not None:
        return when
    try:
        slashed = _SLASHED.match(line)
        if slashed:
            yr, month, day, hour, minute, second = (int(g) for g in slashed.groups())
            return datetime(yr, month, day, hour, minute, second, tzinfo=UTC)
        clf = _CLF.search(line[:200])
        if clf and clf.group(2) in _MONTHS:
            d, mon, y, hh, mm, ss, zone = clf.groups()
            stamp = datetime(int(y), _MONTHS.index(mon) + 1, int(d), int(hh), int(mm), int(ss))
            sign = -1 if zone[0] == "-" else 1
            offset = timedelta(hours=int(zone[1:3]), minutes=int(zone[3:5])) * sign
            return stamp.replace(tzinfo=UTC) - offset
        klog = _KLOG.match(line)
        if klog:
            month, day, hour, minute, second = (int(g) for g in klog.groups())
            return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
        epoch = _EPOCH.search(line[:300]) if line.startswith("{") else None
        if epoch:
            seconds = int(epoch.group("ms")) / 1000 if epoch.group("ms") else float(epoch.group("s"))
            return datetime.fromtimestamp(seconds, UTC)
    except ValueError:
        return None
    return None


def _in_time(line: str, question: Question) -> bool:
    if question.since is None and question.until is None:
        return True
    anchor = question.since or question.until
    when = _line_time(line, anchor.year if anchor else 1970)
    if when is None:
        return question.since is None  # an undated line cannot be shown to be inside a time filter
    if question.since is not None and when < question.since:
        return False
    return not (question.until is not None and when > question.until)


def _where(focus: Focus) -> str:
    return f" of {focus.label}" if focus.label else ""


def _period(question: Question) -> str:
    if question.since is None:
        return ""
    return f" since {question.since.strftime('%Y-%m-%d %H:%M')} UTC"


_STATUS_CLASS = re.compile(r"^([1-5])xx$")


def _contains(lowered: str, term: str) -> bool:
    """The term in the line; a status class ("5xx") is any status of that class printed as a number (502, 504)."""
    status = _STATUS_CLASS.match(term)
    if status:
        return re.search(rf"(?<![\w.:/-]){status.group(1)}\d\d(?![\w.:/-])", lowered) is not None
    if term.isdigit():  # a status or code: 429 is not part of 4290 or req_a4291
        return re.search(rf"(?<![\w.]){term}(?![\w.])", lowered) is not None
    if term in lowered:
        return True
    # a timeout is printed as "timeout", "timed out" or "time out" ("upstream timed out", "i/o timeout")
    if _TIMEOUT_WORD.search(term):
        pattern = r"\s+".join(re.escape(w) for w in term.split())
        pattern = pattern.replace("timeouts", "timeout").replace("timeout", r"time(?:d)?[ -]?outs?")
        return re.search(pattern, lowered) is not None
    return False


_TIMEOUT_WORD = re.compile(r"\btimeouts?\b")


def _search_hits(terms: list[str], obs: Observations, focus: Focus, question: Question) -> list[tuple[str, str]]:
    hits: list[tuple[str, str]] = []
    for doc in _docs(obs, focus, question.words):
        for line in doc.lines:
            lowered = line.lower()
            if any(_contains(lowered, term) for term in terms) and _in_time(line, question):
                hits.append((doc.label, line.strip()))
    return hits


def log_search(question: Question, obs: Observations, focus: Focus) -> Report:
    terms = [t.lower() for t in question.terms]
    hits = _search_hits(terms, obs, focus, question)
    if not hits and any(re.search(r"(?:[a-z]{3}|\d{3}|\dxx)s$", t) for t in terms):
        # "count the timeouts", "how many 502s": a plural asked for is its singular printed
        hits = _search_hits([re.sub(r"(?<=[a-z]{3}|\d{3}|\dxx)s$", "", t) for t in terms], obs, focus, question)
    qualifier = search_qualifier(question.message, question.terms[0]) if len(question.terms) == 1 else None
    narrowed = [hit for hit in hits if qualifier and qualifier in hit[1].lower()]
    if narrowed:  # "a 502 back from adyen": the lines that name that upstream, when some do
        hits = narrowed
    shown = " or ".join(f"'{t}'" for t in question.terms)
    if not hits:
        return Report(
            summary=f"No log line{_where(focus)} contains {shown}{_period(question)}.",
            root_cause=RootCause(description=f"Log search for {shown}: no matching lines", confidence=60, evidence=[]),
        )
    times = [t for t in (parse_timestamp(line[:64]) for _, line in hits) if t is not None]
    span = ""
    if times:
        first, last = min(times), max(times)
        span = f", at {_clock(first)}" if first == last else f", from {_clock(first)} to {_clock(last)}"
    quoted = "; ".join(f"'{_clip(line)}'" for _, line in hits[:MAX_QUOTED])
    more = f" (and {len(hits) - MAX_QUOTED} more)" if len(hits) > MAX_QUOTED else ""
    count = f"{len(hits)} line{'s' if len(hits) != 1 else ''}"
    where = f"{_where(focus)}{_period(question)}{span}"
    return Report(
        summary=f"Found {count} containing {shown} in the logs{where}{_upstreams(hits)}: {quoted}{more}.",
        root_cause=RootCause(
            description=f"Log search for {shown}: {len(hits)} matching line{'s' if len(hits) != 1 else ''}",
            confidence=90,
            evidence=[f"{label} {excerpt(line)}" for label, line in hits[:MAX_QUOTED]],
        ),
        timeline=[TimelineEvent(timestamp=t, event=_clip(line, 200)) for t, (_, line) in _dated(hits)][:25],
    )


# nginx's error log names the backend a failed proxied request went to: ``upstream: "http://10.8.5.61:9000/path"``
_UPSTREAM_FIELD = re.compile(r'\bupstream: "(?:\w+://)?(?P<upstream>[^"/\s]+)(?P<path>/[^"?\s]*)?')


def _upstreams(hits: list[tuple[str, str]]) -> str:
    """Which backend the matching proxy lines went to ("which upstream times out?"), counted, when they name one."""
    counts: dict[str, int] = {}
    for _, line in hits:
        match = _UPSTREAM_FIELD.search(line)
        if match:
            key = match.group("upstream") + (match.group("path") or "")
            counts[key] = counts.get(key, 0) + 1
    if not counts:
        return ""
    ranked = sorted(counts.items(), key=lambda kv: -kv[1])[:3]
    return ", upstream " + ", ".join(f"{name} ({n}x)" for name, n in ranked)


@dataclass
class _Group:
    title: str
    count: int = 0
    first: datetime | None = None
    last: datetime | None = None
    examples: list[str] = field(default_factory=list)
    severity: int = 0


def log_summary(question: Question, obs: Observations, focus: Focus, index: LogIndex) -> Report:
    groups: dict[str, _Group] = {}
    titles: dict[str, str] = {}  # masked line -> group key, so each distinct line is matched once
    year = (question.since or question.until or datetime(1970, 1, 1, tzinfo=UTC)).year
    for doc in _docs(obs, focus, question.words):
        for event in _error_events(doc, year):
            if not _when_inside(event.when, question):
                continue
            masked = mask(event.names)
            key = titles.get(masked)
            if key is None:
                matches = match_signatures(event.names)
                key = titles[masked] = (
                    matches[0].title()
                    if matches and matches[0].kind not in ("exception", "panic")
                    else _NGINX_CONTEXT.sub("", masked)
                )
            group = groups.setdefault(key, _Group(title=_clip(_readable(event.names), 320)))
            group.count += 1
            group.severity = max(group.severity, 2 if event.severity in ("error", "fatal") else 1)
            if event.when is not None:
                group.first = event.when if group.first is None or event.when < group.first else group.first
                group.last = event.when if group.last is None or event.when > group.last else group.last
            if len(group.examples) < 2:
                group.examples.append(f"{doc.label} {excerpt(event.names)}")
    errors = sorted(
        [g for g in groups.values() if g.severity == 2] or list(groups.values()),
        key=lambda g: (-g.count, g.first.isoformat() if g.first else ""),
    )
    if not errors:
        return Report(
            summary=f"No errors were logged{_where(focus)}{_period(question)}.",
            root_cause=RootCause(description="No errors in the logs read", confidence=60, evidence=[]),
        )
    total = sum(g.count for g in errors)
    parts = [f"{g.title} ({g.count}x{_seen(g)})" for g in errors[:MAX_GROUPS]]
    top = errors[0]
    who = f"{focus.label} logged" if focus.label else "The logs hold"
    counted = f"{total} error line{'s' if total != 1 else ''}"
    grouped = f"{len(errors)} group{'s' if len(errors) != 1 else ''}"
    # warnings said alongside the errors: "anything bad?" covers a warning that repeats (a conflict, a retry)
    warnings = sorted(
        [g for g in groups.values() if g.severity < 2] if errors[0].severity == 2 else [],
        key=lambda g: (-g.count, g.first.isoformat() if g.first else ""),
    )
    warned = ""
    if warnings:
        shown = "; ".join(f"{g.title} ({g.count}x{_seen(g)})" for g in warnings[: max(1, MAX_GROUPS - len(parts))])
        count = sum(g.count for g in warnings)
        warned = f" Also {count} warning line{'s' if count != 1 else ''}: {shown}."
    return Report(
        summary=f"{who} {counted}{_period(question)}, in {grouped}: " + "; ".join(parts) + "." + warned,
        root_cause=RootCause(
            description=f"Most frequent error{_period(question)}: {top.title} ({top.count}x)",
            confidence=70,
            evidence=[line for g in errors[:3] for line in g.examples[:1]],
        ),
        recommendations=[Recommendation(priority="medium", action=f"Start with the most frequent error: {top.title}")],
    )


def health_check(question: Question, obs: Observations, focus: Focus, scored: list[Scored]) -> Report | None:
    """The verdict when nothing is wrong with the subject; None when a problem was found (the RCA answers)."""
    problems = [s for s in scored if s.finding.weight >= 50 and (not focus or focus.covers(s.finding))]
    if problems:
        return None
    subject = focus.label or question.named or (f"namespace {question.namespace}" if question.namespace else "it")
    pods = [p for p in obs.pods if not focus or p.name in focus.names]
    ready = [p for p in pods if p.phase in ("Running", None) and all(c.ready is not False for c in p.containers)]
    facts: list[str] = []
    evidence = [p.cites.get("row", "") for p in pods[:3]]
    restarted = [(p, sum(c.restart_count for c in p.containers)) for p in pods]
    restarted = [(p, count) for p, count in restarted if count > 0]
    if pods:
        facts.append(f"{len(ready)} of {len(pods)} pods Running and Ready" + ("" if restarted else ", no restarts"))
    if restarted and not re.search(r"\brestart", question.message, re.IGNORECASE):
        facts.append("; ".join(f"{p.name} restarted {count} times" for p, count in restarted[:3]))
    elif restarted:
        names = ", ".join(f"{p.name} restarted {count} times" for p, count in restarted[:3])
        evidence = [p.cites.get("row", "") for p, _ in restarted[:3]] + evidence
        return Report(
            summary=f"{subject[:1].upper() + subject[1:]}: {names}; the pods are up now, so the restarts are the "
            "thing to explain (kubectl logs --previous and the container's Last State give the reason).",
            root_cause=RootCause(
                description=f"{names} (now {len(ready)} of {len(pods)} pods Running and Ready): the container exited "
                "or was killed and the kubelet restarted it",
                confidence=55,
                evidence=[e for e in evidence if e][:5],
            ),
            recommendations=[
                Recommendation(
                    priority="medium",
                    action=f"Read why {restarted[0][0].name} restarted: kubectl logs {restarted[0][0].name} --previous "
                    "and kubectl describe pod (Last State: reason and exit code, OOMKilled, liveness probe events)",
                )
            ],
        )
    for fact, cite in [*_healthy_objects(obs), *healthy_certificates(obs)]:
        facts.append(fact)
        evidence.append(cite)
    if obs.logs:
        facts.append("no errors in the logs read")
    return Report(
        summary=f"{subject[:1].upper() + subject[1:]} looks healthy: "
        + ("; ".join(facts) if facts else "no failure was found")
        + ".",
        root_cause=RootCause(
            description=f"No problem found: {subject} is healthy in the data provided",
            confidence=70 if len(facts) > 1 else 45,
            evidence=[e for e in evidence if e][:5],
        ),
        recommendations=[
            Recommendation(
                priority="low",
                action=f"Nothing to fix in {subject}; if users still report a problem, look at what is in front of it "
                "or what it calls (ingress, Service endpoints, dependencies) over the time they report it",
            )
        ],
    )


def _healthy_objects(obs: Observations) -> list[tuple[str, str]]:
    """What the objects and tool documents read say about their own health, in their own terms."""
    found: list[tuple[str, str]] = []
    for resource in obs.resources:
        raw_status = resource.raw.get("status")
        status: dict[str, object] = raw_status if isinstance(raw_status, dict) else {}
        raw_conditions = status.get("conditions")
        conditions = [c for c in raw_conditions if isinstance(c, dict)] if isinstance(raw_conditions, list) else []
        ready = next((c for c in conditions if c.get("type") == "Ready"), None)
        if ready and ready.get("status") == "True" and resource.kind not in ("Pod", "Node"):
            renew = status.get("renewalTime")
            expires = status.get("notAfter")
            extra = f", renews automatically at {renew}" if renew else ""
            extra += f" (expires {expires})" if expires else ""
            found.append(
                (
                    f"{resource.kind} {resource.name} is Ready{extra}",
                    resource.quote("Ready", fallback=f"{resource.kind} {resource.name} Ready"),
                )
            )
    for document in obs.documents:
        data = document.data if isinstance(document.data, dict) else {}
        if "alarms" in data and not data.get("alarms") and not data.get("partitions"):
            nodes = data.get("running_nodes") or data.get("nodes") or []
            count = f", {len(nodes)} nodes running" if isinstance(nodes, list) and nodes else ""
            found.append(
                (
                    f"RabbitMQ reports no alarms and no partitions{count}",
                    document.quote("alarms", fallback="alarms: []"),
                )
            )
    return found


@dataclass(frozen=True)
class _ErrorEvent:
    names: str  # the line that says what the error is: the exception a traceback ends in, else the line itself
    when: datetime | None  # the line's own time, else the time of the last dated line before it
    severity: str


_MAX_BLOCK = 200  # continuation lines (a stack trace) read after one dated line


def _error_events(doc: LogDoc, year: int) -> list[_ErrorEvent]:
    """The doc's warnings and errors, one per event: a dated error line followed by undated continuation lines (a
    traceback, a Java stack with its ``Caused by``) is one event named by the innermost exception it prints
    (``KeyError: 'pt_BR'`` rather than ``Internal Server Error: /api/...``); an undated line takes the time of the
    dated line before it, so a time filter keeps or drops a stack trace with its headline."""
    events: list[_ErrorEvent] = []
    lines = doc.lines
    current: datetime | None = None
    index = 0
    while index < len(lines):
        line = lines[index].strip()
        index += 1
        if not line:
            continue
        when = _line_time(line, year)
        current = when or current
        severity = level_of(line)
        if severity == "info":
            continue
        if when is None:
            events.append(_ErrorEvent(line, current, severity))
            continue
        end, innermost = index, None
        while end < len(lines) and end - index < _MAX_BLOCK:
            following = lines[end].strip()
            if following and _line_time(following, year) is not None:
                break
            if following and exception_of(following) is not None:
                innermost = following.removeprefix("Caused by: ")
            end += 1
        if innermost is not None:
            events.append(_ErrorEvent(innermost, when, severity))
            index = end  # the trace's own lines are this event, not events of their own
            continue
        events.append(_ErrorEvent(line, when, severity))
    return events


def _readable(line: str) -> str:
    """A JSON log line as its message and error (pino/bunyan ``msg`` + ``err.type: err.message``); others as is."""
    if not line.startswith("{"):
        return line
    try:
        data = json.loads(line)
    except ValueError:
        return line
    if not isinstance(data, dict) or not isinstance(data.get("msg", data.get("message")), str):
        return line
    words = str(data.get("msg", data.get("message")))
    err = data.get("err") or data.get("error")
    if isinstance(err, dict) and err.get("message"):
        words += f": {err.get('type', 'Error')}: {err['message']}"
        url = err.get("config", {}).get("url") if isinstance(err.get("config"), dict) else None
        words += f" ({url})" if url else ""
    elif isinstance(err, str):
        words += f": {err}"
    return words


def _when_inside(when: datetime | None, question: Question) -> bool:
    if question.since is None and question.until is None:
        return True
    if when is None:
        return False  # an undated line cannot be shown to be inside a time filter
    if question.since is not None and when < question.since:
        return False
    return not (question.until is not None and when > question.until)


def _seen(group: _Group) -> str:
    if group.first is None or group.last is None:
        return ""
    if group.first == group.last:
        return f", at {_clock(group.first)}"
    return f", first {_clock(group.first)}, last {_clock(group.last)}"


def _clock(when: datetime) -> str:
    return when.strftime("%Y-%m-%d %H:%M:%S")


def _clip(line: str, limit: int = 180) -> str:
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


def _dated(hits: list[tuple[str, str]]) -> list[tuple[datetime, tuple[str, str]]]:
    found = [(parse_timestamp(line[:64]), (label, line)) for label, line in hits]
    return sorted(((t, h) for t, h in found if t is not None), key=lambda item: item[0])
