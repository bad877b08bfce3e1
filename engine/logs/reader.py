"""Read a log the way a person does: skip the noise, find the line that says why it failed.

A person reading a crashed container's output looks at the end (what it printed right before it died), at
error-level lines, at exceptions with their message (the innermost ``Caused by:`` says the most), at shell and
runtime errors that have no level at all (``line 23: syntax error``, ``exec: "x": not found``), and at what is
new compared with the start of the log. Stack frames, config dumps (``max_connections=200``) and progress chatter
are not the reason. :func:`decisive_lines` scores lines on those grounds and returns the best, verbatim.
"""
# ruff: noqa: E501  (patterns and messages read better unwrapped)

from __future__ import annotations

import re
from dataclasses import dataclass

from engine.logs.templates import Template, level_of
from engine.parsers.command_line import is_command_line, is_query_message

TAIL = 80  # a crashed container's last lines: where the reason is printed
_FRAME = re.compile(
    r"^\s*(?:at [\w$.<>/]+\(|at [\w$.]+ \(|File \"[^\"]+\", line \d+|\.\.\. \d+ more|goroutine \d+ \[|[\w/.-]+\.go:\d+ \+0x"
    r"|\w+\.py:\d+:? in |#\d+ 0x[0-9a-f]+|^\s+\^+\s*$|Traceback \(most recent call last\)|^\s*[\w/.-]+\(\S*\)$"
    r"|^\s*from [\w/.@-]+:\d+:in )"
)
_SPECIFIC = re.compile(
    r"refused|denied|forbidden|not found|no such|expired|unknown|syntax|timed? ?out|no space|out of memory|must be|got \d|"
    r"[\w.]+(?:Error|Exception):|\b[45]\d\d\b|:\d{2,5}\b",
    re.IGNORECASE,
)
_TIMESTAMP = re.compile(
    r"^\W*\d{2,4}[-/]\d{2}[-/]\d{2}[T ]?[\d:.,]*\s*(?:Z|UTC|[+-]\d{2}:?\d{2})?\s*|\b\d{2}:\d{2}:\d{2}(?:[.,]\d+)?"
)
# key=value, "Exit Code:    137", "max_connections: 200" and nothing else: a setting printed, not an event
_CONFIG_DUMP = re.compile(r"^\s*[\w.\-\[\]]+(?: [A-Za-z][\w-]*){0,3}\s*[=:]\s*[^\s=:]+\s*$")
_EXCEPTION = re.compile(
    r"(?:^|\s|Caused by: )((?:[a-z_][\w$]*\.)*[A-Z][\w$]*(?:Error|Exception|Failure|Fault)):\s*(\S.{2,})"
    # the last line of a Python traceback names the exception class qualified by its module, whatever its name
    r"|^\s*((?:[a-z_][\w]*\.){2,}[A-Z]\w*):\s*(\S.{2,})"
    # Ruby: "path:12:in `method': message (ArgumentError)"
    r"|:\d+:in `[^']+': (?P<rmsg>.{3,}?) \((?P<rcls>[A-Z]\w*(?:::[A-Z]\w*)*)\)\s*$"
)
_CAUSED_BY = re.compile(r"^\s*Caused by: ")
_BARE_CAUSED_BY = re.compile(r"^\s*Caused by:\s*$")
# Messages that carry the reason though they carry no level (shells, runtimes, servers' startup checks).
_REASON = re.compile(
    r"syntax error|unexpected (?:token|end of file|EOF)|command not found|not found|No such file or directory"
    r"|Permission denied|permission denied|cannot|can't|could not|couldn't|unable to|failed to|failed|refused"
    r"|invalid|unknown (?:directive|option|flag|variable|host|command)|unrecognized|not allowed|denied|forbidden"
    r"|expired|timed? ?out|deadline exceeded|no route to host|unreachable|does not exist|doesn't exist|missing"
    r"|required|must be|is not set|exceeded|out of memory|too many|no space|killed|panic|fatal|abort|segmentation"
    r"|exit(?:ed)? (?:code|status|with)|\[emerg\]|\[crit\]|\[alert\]|FATAL:|ERROR:|SEVERE",
    re.IGNORECASE,
)
# Lines that announce the exit without saying why ("giving up", "exiting", "Fatal errors found in configuration"):
# a person reads past them to the specific error printed just before.
_WRAP_UP = re.compile(
    r"\b(?:giving up|exiting|shutting down|shut down|aborting|stopping|terminating|exit(?:ed)? (?:with )?(?:code|status)|"
    r"failed with exit code|errors? found in (?:the )?configuration|cannot start without|will not start|startup failed|"
    r"application run failed|unable to start|failed to start|failed to boot)\b",
    re.IGNORECASE,
)
# Pointers to somewhere else ("dmesg(1) may have more information", "see the log for details"): never the reason.
_POINTER = re.compile(
    r"\b(?:may have more information|for more (?:details|information)|see [\w./()-]+ for details)\b", re.I
)
_CHATTER = re.compile(
    r"\b(?:retrying|retry \d|will retry|backing off|attempt \d+ of|waiting for|health ?check(?:ing)?|GET /health|GET /ready"
    r"|GET /metrics|liveness|readiness)\b",
    re.IGNORECASE,
)


# a diff's header (``--- a/x``, ``+++ b/x``, ``@@ -1,4 +1,5 @@``, ``diff --git``, helm-diff's ``x, y, Service (v1) has
# changed:``): its ``+``/``-`` lines are a change shown, not something a program printed when it failed
_DIFF_HEADER = re.compile(
    r"^(?:(?:---|\+\+\+) \S|@@ -\d|diff (?:--git|-u)\s|.*, [\w.-]+ \([\w./]+\) has (?:changed|been added|been removed):$)"
)
_TABLE_RULE = re.compile(r"^\s*-{3,}(?:\+-+)*\s*$")
_DIFF_LINE = re.compile(r"^\s*[+-](?:\s|$)")
_DIFF_COMMAND = re.compile(r"\b(?:diff|git\s+(?:show|log\s+-p))\b")


@dataclass(frozen=True)
class Candidate:
    line: str
    index: int
    score: float


def decisive_lines(lines: list[str], templates: list[Template] | None = None, limit: int = 2) -> list[Candidate]:
    """The lines that best say why this output ends in failure, best first (verbatim, stripped)."""
    counts = _template_counts(templates)
    start = max(0, len(lines) - TAIL)
    early = len(lines) * 0.3
    found: list[Candidate] = []
    causes = _after_bare_caused_by(lines, start)
    diff = _is_diff(lines)
    for index in range(len(lines) - 1, start - 1, -1):
        line = lines[index]
        stripped = line.strip()
        if len(stripped) < 6 or _FRAME.search(line) or _CONFIG_DUMP.match(stripped) or not _printed(line, diff):
            continue
        if index + 1 < len(lines) and _TABLE_RULE.match(lines[index + 1]):
            continue  # a table's header (psql's `lock_timeout` over `------`): column names, not a message
        score = line_score(stripped) + (6.5 if index in causes else 0.0)
        if score <= 0:
            continue
        position = (index - start + 1) / max(len(lines) - start, 1)
        score += 1.5 * position  # closer to the exit is closer to the reason
        repeats = counts.get(_mask_key(stripped), 1)
        if repeats == 1 and index > early:
            score += 1.0  # new at the end: not something it always prints
        elif repeats > 20:
            score -= 1.5
        if _CHATTER.search(stripped):
            score -= 2.5
        if _POINTER.search(stripped):
            score -= 5.0
        if _WRAP_UP.search(stripped) and not _SPECIFIC.search(_TIMESTAMP.sub("", stripped)):
            score -= 2.5
        found.append(Candidate(stripped, index, score))
    found.sort(key=lambda c: (-c.score, -c.index))
    picked: list[Candidate] = []
    for candidate in found:
        if all(_mask_key(candidate.line) != _mask_key(p.line) for p in picked):
            picked.append(candidate)
        if len(picked) >= limit:
            break
    return picked


def _is_diff(lines: list[str]) -> bool:
    """Whether these lines show a change (``git diff``, ``helm diff``, ``kubectl diff``) rather than a log."""
    return any(_DIFF_HEADER.match(ln) or (is_command_line(ln) and _DIFF_COMMAND.search(ln)) for ln in lines[:200])


def _printed(line: str, diff: bool) -> bool:
    """Whether a program printed this line about itself: not a command typed at a prompt, not a diff's ``+``/``-``
    line, not kubectl's answer about the query it was given (``Error from server (NotFound): ...``)."""
    if is_command_line(line) or is_query_message(line):
        return False
    return not (diff and _DIFF_LINE.match(line))


def _after_bare_caused_by(lines: list[str], start: int) -> set[int]:
    """The first line after a bare ``Caused by:`` (Rust's anyhow, ``0: ...`` numbered or not): the cause."""
    found: set[int] = set()
    for index in range(start, len(lines)):
        if _BARE_CAUSED_BY.match(lines[index]):
            following = next((i for i in range(index + 1, min(index + 4, len(lines))) if lines[i].strip()), None)
            if following is not None:
                found.add(following)
    return found


def line_score(line: str) -> float:
    """How much a line reads like the reason for a failure (0 = not at all)."""
    level = level_of(line)
    score = {"fatal": 5.0, "error": 4.0, "warn": 1.5}.get(level, 0.0)
    exception = _EXCEPTION.search(line)
    if exception:
        score = max(score, 4.0) + 1.5
        if _CAUSED_BY.match(line):
            score += 1.0  # the innermost cause says what actually failed
    if _REASON.search(line):
        score += 2.0 if score else 3.0
    if score and re.search(r"\b(?:INFO|DEBUG|TRACE)\b", line[:80]) and not exception:
        score -= 3.0
    return score


def exception_of(line: str) -> tuple[str, str] | None:
    """``("java.net.UnknownHostException", "db.svc")`` for a line that states an exception and its message."""
    match = _EXCEPTION.search(line)
    if not match:
        return None
    if match.group("rcls"):
        return match.group("rcls"), match.group("rmsg").strip()
    name, message = (match.group(1), match.group(2)) if match.group(1) else (match.group(3), match.group(4))
    return name, message.strip()


_KEY_MASK = re.compile(r"[0-9a-fA-F]*\d[0-9a-fA-F]*")


def _mask_key(line: str) -> str:
    return _KEY_MASK.sub("<*>", line[:400])


def _template_counts(templates: list[Template] | None) -> dict[str, int]:
    if not templates:
        return {}
    return {template.pattern[:400]: template.count for template in templates}
