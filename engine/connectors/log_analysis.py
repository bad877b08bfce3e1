"""The log_analysis_agent's tools: search and summarise logs from the team's log source.

They read through the same :class:`~engine.connectors.loki.LogSource` interface as ``search_logs`` (Loki,
Elasticsearch, Grafana's logs data source or the demo), and hand the lines on as ``LogDoc`` observations, so the
log analyzers read them exactly as they read an attached log file. The summaries use the attachment reader's
line templates (``engine.logs.templates``) and failure signatures (``engine.logs.signatures``).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from engine.connectors import ToolFailure
from engine.connectors.loki import MAX_LINES, LogRecord, LogSource, records_to_result
from engine.connectors.params import flag, limit, window
from engine.logs.signatures import match_signatures
from engine.logs.templates import build_templates, level_of
from engine.registry import ToolResult, tool

MAX_PATTERN = 500
TOP = 10


def _fetch(source: LogSource, params: Mapping[str, Any], *, errors: bool = False) -> list[LogRecord]:
    start, end = window(params)
    service = params.get("service")
    text = params.get("query")
    return source.search(
        text=str(text) if text else None,
        service=str(service) if service else None,
        start=start,
        end=end,
        limit=limit(params, default=500, maximum=MAX_LINES),
        errors=errors or flag(params, "errors"),
    )


def _with_text(result: ToolResult, text: str) -> ToolResult:
    return ToolResult(text=text, observations=result.observations, data=result.data)


@tool("search_logs_by_pattern")
def search_logs_by_pattern(source: LogSource, params: dict[str, Any]) -> ToolResult:
    """Lines in the window matching a regular expression (case-insensitive), oldest first per service."""
    pattern = str(params.get("pattern") or "").strip()
    if not pattern:
        raise ToolFailure("search_logs_by_pattern needs a pattern")
    if len(pattern) > MAX_PATTERN:
        raise ToolFailure(f"search_logs_by_pattern's pattern is longer than {MAX_PATTERN} characters")
    try:
        compiled = re.compile(pattern, re.IGNORECASE)
    except re.error as exc:
        raise ToolFailure(f"search_logs_by_pattern's pattern is not a valid regular expression ({exc})") from None
    fetched = _fetch(source, {key: value for key, value in params.items() if key != "query"})
    matched = [record for record in fetched if compiled.search(record.message)]
    result = records_to_result(matched, "search_logs_by_pattern")
    return _with_text(result, f"{len(matched)} of {len(fetched)} lines match /{pattern}/\n{result.text}")


def _statistics(records: Sequence[LogRecord]) -> str:
    if not records:
        return "no log lines in the window"
    messages = [record.message for record in records]
    levels = Counter(level_of(message) for message in messages)
    services = Counter(record.service or "unknown" for record in records)
    templates, seen = build_templates(messages)
    lines = [
        f"{seen} lines from {len(services)} services: "
        + ", ".join(f"{name} {count}" for name, count in services.most_common(TOP)),
        "by level: " + ", ".join(f"{level} {count}" for level, count in sorted(levels.items())),
        f"{len(templates)} distinct line patterns; the most telling:",
    ]
    lines += [f"  {t.count:>6}x [{t.severity}] {t.pattern}" for t in templates[:TOP]]
    return "\n".join(lines)


@tool("get_log_statistics")
def get_log_statistics(source: LogSource, params: dict[str, Any]) -> ToolResult:
    """Counts by service and level, and the most telling line patterns, over the window's lines."""
    records = _fetch(source, params)
    return _with_text(records_to_result(records, "get_log_statistics"), _statistics(records))


@tool("extract_log_signatures")
def extract_log_signatures(source: LogSource, params: dict[str, Any]) -> ToolResult:
    """Known failure signatures (connection refused, OOM, pool exhausted ...) in the window's failing lines."""
    records = _fetch(source, params, errors=not flag(params, "all_lines"))
    found: Counter[tuple[str, str, str]] = Counter()
    for record in records:
        for match in match_signatures(record.message):
            found[(match.signature.role, match.kind, match.title())] += 1
    lines = [f"{count:>6}x {role:<7} {kind}: {title}" for (role, kind, title), count in found.most_common(TOP * 2)]
    summary = f"{sum(found.values())} signature matches in {len(records)} lines"
    text = "\n".join([summary, *lines]) if lines else f"no known failure signature in {len(records)} lines"
    return _with_text(records_to_result(records, "extract_log_signatures"), text)
