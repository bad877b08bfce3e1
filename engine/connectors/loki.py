"""Loki connector: LogQL ``query_range`` for search_logs and get_logs_around_timestamp.

Both log backends (this one and Elasticsearch) return :class:`LogRecord` lists through the same two tool
functions, so analyzers see one shape: a ``LogDoc`` per service whose lines start with an ISO timestamp.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx

from engine.connectors import ToolFailure
from engine.connectors.http import auth_header, build_client, request_json, required_setting
from engine.connectors.params import flag, iso, limit, to_epoch, window
from engine.facts import LogDoc, Observations
from engine.registry import ToolResult, connector, probe, tool

SOURCE = "Loki"
PAGE = 1000
MAX_LINES = 5000
SERVICE_LABELS = ("service", "app", "service_name", "job", "container")


@dataclass(frozen=True)
class LogRecord:
    timestamp: float
    service: str
    message: str
    labels: Mapping[str, str] = field(default_factory=dict)


# Words that mark a failing line, for "show me the errors" searches across backends.
ERROR_WORDS = (
    "error",
    "fail",
    "refused",
    "timeout",
    "timed out",
    "unavailable",
    "exception",
    "fatal",
    "panic",
    "exhausted",
    "not available",
    "reset by peer",
)


def starts_with_level(message: str, level: str) -> bool:
    """Whether a line already opens with its level (``ERROR ...``, ``[error] ...``), so it is not added twice."""
    return re.match(rf"\W*{re.escape(level)}\b", message, re.IGNORECASE) is not None


class LogSource(Protocol):
    def search(
        self, *, text: str | None, service: str | None, start: float, end: float, limit: int, errors: bool = False
    ) -> list[LogRecord]: ...


class LokiClient:
    def __init__(
        self,
        http: httpx.Client,
        *,
        service_label: str = "app",
        page_size: int = PAGE,
        prefix: str = "",
        source: str = SOURCE,
    ) -> None:
        self.http = http
        self.service_label = service_label
        self.page_size = page_size
        self.prefix = prefix  # a path in front of Loki's API, e.g. Grafana's data source proxy
        self.source = source  # how failures name it

    def logql(self, text: str | None, service: str | None, errors: bool = False) -> str:
        if text and text.lstrip().startswith("{"):
            return text
        selector = f'{{{self.service_label}="{_escape(service)}"}}' if service else f'{{{self.service_label}=~".+"}}'
        if errors:
            words = "|".join(ERROR_WORDS)
            selector += f" |~ `(?i)({words})`"
        return f"{selector} |= `{text.replace('`', '')}`" if text else selector

    def query_range(self, query: str, start: float, end: float, max_lines: int) -> list[LogRecord]:
        """Newest first, paging backwards until ``max_lines`` or the window is exhausted."""
        records: list[LogRecord] = []
        end_ns = int(end * 1e9)
        start_ns = int(start * 1e9)
        seen: set[tuple[int, str]] = set()
        while len(records) < max_lines and end_ns > start_ns:
            page = min(self.page_size, max_lines - len(records))
            params = {
                "query": query,
                "start": str(start_ns),
                "end": str(end_ns),
                "limit": str(page),
                "direction": "backward",
            }
            path = f"{self.prefix}/loki/api/v1/query_range"
            body = request_json(self.http, "GET", path, source=self.source, params=params)
            data = body.get("data", {}) if isinstance(body, dict) else {}
            if data.get("resultType") not in (None, "streams"):
                raise ToolFailure(f"{self.source} returned {data.get('resultType')} instead of log lines")
            batch: list[tuple[int, LogRecord]] = []
            for stream in data.get("result", []):
                labels = dict(stream.get("stream", {}))
                service = next((labels[k] for k in (self.service_label, *SERVICE_LABELS) if k in labels), "")
                for ts, line in stream.get("values", []):
                    key = (int(ts), line)
                    if key in seen:
                        continue
                    seen.add(key)
                    batch.append((int(ts), LogRecord(int(ts) / 1e9, service, line, labels)))
            if not batch:
                break
            batch.sort(key=lambda item: -item[0])
            records.extend(r for _, r in batch)
            if len(batch) < page:
                break
            end_ns = batch[-1][0]  # Loki's end is exclusive; equal timestamps are de-duplicated above
        records.sort(key=lambda r: -r.timestamp)
        return records[:max_lines]

    def labels(self) -> list[str]:
        """The label names of recent streams (``/loki/api/v1/labels``)."""
        body = request_json(self.http, "GET", f"{self.prefix}/loki/api/v1/labels", source=self.source)
        data = body.get("data") if isinstance(body, dict) else None
        return [str(name) for name in data] if isinstance(data, list) else []

    def build_info(self) -> dict[str, Any]:
        body = request_json(self.http, "GET", f"{self.prefix}/loki/api/v1/status/buildinfo", source=self.source)
        return dict(body) if isinstance(body, dict) else {}

    def search(
        self, *, text: str | None, service: str | None, start: float, end: float, limit: int, errors: bool = False
    ) -> list[LogRecord]:
        return self.query_range(self.logql(text, service, errors), start, end, limit)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


@connector("loki")
def connect(settings: Mapping[str, Any]) -> LokiClient:
    url = required_setting(settings, "url", source="Loki")
    http = build_client(settings, base_url=url, headers=auth_header(settings.get("auth")))
    return LokiClient(http, service_label=str(settings.get("service_label", "app")))


@probe("loki")
def check_loki(client: LokiClient) -> str:
    """The query API answers (its label names), and the version when the server says it."""
    labels = client.labels()
    try:
        version = client.build_info().get("version")
    except ToolFailure:
        version = None
    shown = f" {str(version)[:40]}" if version else ""
    return f"{client.source}{shown} answered: {len(labels):,} labels on recent streams"


def records_to_result(records: Sequence[LogRecord], tool_name: str) -> ToolResult:
    """One LogDoc per service, oldest line first, each line ``<ISO time> <message>``."""
    by_service: dict[str, list[LogRecord]] = {}
    for r in records:
        by_service.setdefault(r.service or "unknown", []).append(r)
    obs = Observations()
    text_lines: list[str] = []
    for service in sorted(by_service):
        ordered = sorted(by_service[service], key=lambda r: r.timestamp)
        lines = [f"{iso(r.timestamp)} {_one_line(r.message)}" for r in ordered]
        obs.logs.append(LogDoc(label=f"[tool:{tool_name}]", lines=lines, pod=service))
        text_lines.extend(f"{service} {line}" for line in lines)
    text = "\n".join(text_lines) if text_lines else "no matching log lines"
    return ToolResult(text=text, observations=obs, data=list(records))


def _one_line(message: str) -> str:
    return re.sub(r"\s*\n\s*", " | ", message.strip())


def search_logs_tool(source: LogSource, params: Mapping[str, Any], tool_name: str = "search_logs") -> ToolResult:
    start, end = window(params)
    text = params.get("query")
    service = params.get("service")
    records = source.search(
        text=str(text) if text else None,
        service=str(service) if service else None,
        start=start,
        end=end,
        limit=limit(params, default=500, maximum=MAX_LINES),
        errors=flag(params, "errors"),
    )
    return records_to_result(records, tool_name)


def logs_around_tool(source: LogSource, params: Mapping[str, Any]) -> ToolResult:
    if "timestamp" not in params:
        raise ToolFailure("get_logs_around_timestamp needs a timestamp")
    at = to_epoch(params["timestamp"])
    span = float(params.get("window_seconds", 300))
    around = {**params, "start": at - span, "end": at + span}
    return search_logs_tool(source, around, "get_logs_around_timestamp")


@tool("search_logs")
def search_logs(client: LogSource, params: dict[str, Any]) -> ToolResult:
    return search_logs_tool(client, params)


@tool("get_logs_around_timestamp")
def get_logs_around_timestamp(client: LogSource, params: dict[str, Any]) -> ToolResult:
    return logs_around_tool(client, params)
