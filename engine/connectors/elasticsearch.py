"""Elasticsearch/OpenSearch connector: ``_search`` with a time range and a query string.

Serves the same log tools as Loki (search_logs, get_logs_around_timestamp) through the same
:class:`~engine.connectors.loki.LogSource` interface. Paging uses ``search_after`` on the sort keys.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import httpx

from engine.connectors import ToolFailure
from engine.connectors.http import build_client, request_json, required_setting
from engine.connectors.loki import ERROR_WORDS, MAX_LINES, LogRecord
from engine.connectors.params import iso, to_epoch
from engine.registry import connector, probe

SOURCE = "Elasticsearch"
PAGE = 500
SERVICE_FIELDS = ("service.name", "service", "kubernetes.labels.app", "kubernetes.container.name", "app")
MESSAGE_FIELDS = ("message", "log", "msg", "error.message")


class ElasticsearchClient:
    def __init__(self, http: httpx.Client, *, index_pattern: str = "logs-*", page_size: int = PAGE) -> None:
        self.http = http
        self.index_pattern = index_pattern
        self.page_size = page_size

    def _body(
        self, text: str | None, service: str | None, start: float, end: float, size: int, errors: bool = False
    ) -> dict[str, Any]:
        filters: list[dict[str, Any]] = [
            {"range": {"@timestamp": {"gte": iso(start), "lte": iso(end), "format": "strict_date_optional_time"}}}
        ]
        if service:
            filters.append(
                {
                    "bool": {
                        "should": [{"term": {f: service}} for f in SERVICE_FIELDS]
                        + [{"term": {f"{f}.keyword": service}} for f in SERVICE_FIELDS],
                        "minimum_should_match": 1,
                    }
                }
            )
        must: list[dict[str, Any]] = (
            [{"query_string": {"query": text, "default_operator": "AND"}}] if text else [{"match_all": {}}]
        )
        if errors:
            words = " OR ".join(f'"{w}"' for w in ERROR_WORDS)
            filters.append({"query_string": {"query": words, "fields": ["message", "log.level", "error.message"]}})
        return {
            "size": size,
            "sort": [{"@timestamp": {"order": "desc"}}, {"_doc": {"order": "desc"}}],
            "query": {"bool": {"must": must, "filter": filters}},
            "track_total_hits": False,
        }

    def info(self) -> dict[str, Any]:
        """The cluster's name and version (``GET /``)."""
        body = request_json(self.http, "GET", "/", source=SOURCE)
        return dict(body) if isinstance(body, dict) else {}

    def count(self) -> int:
        """Documents in the indices the log tools search (``GET /<index_pattern>/_count``)."""
        body = request_json(self.http, "GET", f"/{self.index_pattern}/_count", source=SOURCE)
        return int(body.get("count", 0)) if isinstance(body, dict) else 0

    def search(
        self, *, text: str | None, service: str | None, start: float, end: float, limit: int, errors: bool = False
    ) -> list[LogRecord]:
        wanted = min(limit, MAX_LINES)
        records: list[LogRecord] = []
        search_after: list[Any] | None = None
        while len(records) < wanted:
            body = self._body(text, service, start, end, min(self.page_size, wanted - len(records)), errors)
            if search_after is not None:
                body["search_after"] = search_after
            answer = request_json(self.http, "POST", f"/{self.index_pattern}/_search", source=SOURCE, json=body)
            hits = answer.get("hits", {}).get("hits", []) if isinstance(answer, dict) else []
            if isinstance(answer, dict) and answer.get("timed_out"):
                raise ToolFailure(f"{SOURCE} search timed out")
            for hit in hits:
                record = _record(hit.get("_source", {}))
                if record is not None:
                    records.append(record)
            if len(hits) < body["size"] or not hits[-1].get("sort"):
                break
            search_after = hits[-1]["sort"]
        return records[:wanted]


def _get(doc: Mapping[str, Any], dotted: str) -> Any:
    if dotted in doc:
        return doc[dotted]
    node: Any = doc
    for part in dotted.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def _record(doc: Mapping[str, Any]) -> LogRecord | None:
    raw_ts = _get(doc, "@timestamp")
    if raw_ts is None:
        return None
    if isinstance(raw_ts, int | float) and raw_ts > 1e11:
        raw_ts = raw_ts / 1000.0  # epoch_millis
    try:
        ts = to_epoch(raw_ts) if not isinstance(raw_ts, datetime) else raw_ts.timestamp()
    except ToolFailure:
        return None
    service = next((str(v) for f in SERVICE_FIELDS if isinstance(v := _get(doc, f), str)), "")
    message = next((str(v) for f in MESSAGE_FIELDS if isinstance(v := _get(doc, f), str)), "")
    level = _get(doc, "log.level") or _get(doc, "level")
    if isinstance(level, str) and level.upper() not in message[:12].upper():
        message = f"{level.upper()} {message}"
    return LogRecord(ts, service, message)


@connector("elasticsearch")
def connect(settings: Mapping[str, Any]) -> ElasticsearchClient:
    url = required_setting(settings, "url", source="Elasticsearch")
    api_key = settings.get("api_key")
    headers = {"Authorization": f"ApiKey {api_key}"} if api_key else {}
    http = build_client(settings, base_url=url, headers=headers)
    return ElasticsearchClient(http, index_pattern=str(settings.get("index_pattern") or "logs-*"))


@probe("elasticsearch")
def check_elasticsearch(client: ElasticsearchClient) -> str:
    """The index pattern the log tools search answers a count; the cluster's version when the key may read it."""
    documents = client.count()
    try:
        version = client.info().get("version", {}).get("number")
    except (ToolFailure, AttributeError):
        version = None
    shown = f" {str(version)[:40]}" if version else ""
    return f"{SOURCE}{shown} answered: {documents:,} documents in {client.index_pattern}"
