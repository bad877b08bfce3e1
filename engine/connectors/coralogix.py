"""Coralogix connector: logs through the DataPrime query API (``POST /api/v1/dataprime/query``) over HTTPS.

Settings (``tools.coralogix``): ``api_key`` (secret, sent as ``Authorization: Bearer``), ``domain`` (the
account's Coralogix domain, ``eu2.coralogix.com``; the API is ``https://api.<domain>``), ``default_application``
and ``default_subsystem`` (label filters every query gets). ``base_url`` replaces the derived API URL.

The client is a :class:`~engine.connectors.loki.LogSource`, so the log tools (``search_logs``, the
log_analysis_agent's) read Coralogix logs exactly as they read Loki's. The answer is newline-delimited JSON: a
``queryId`` line, then ``result`` lines whose ``results`` carry ``metadata`` (timestamp, severity), ``labels``
(applicationname, subsystemname) and ``userData`` (the log's own JSON, as a string); an ``error`` line fails.
The connection check runs one minimal DataPrime query, ``source logs | <label filters> | count``, over the last
15 minutes.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterable, Mapping
from typing import Any

import httpx

from engine.connectors import ToolFailure
from engine.connectors.http import build_client, fetch, optional_setting, reason, required_setting
from engine.connectors.loki import MAX_LINES, LogRecord, starts_with_level
from engine.connectors.params import iso, to_epoch
from engine.registry import connector, probe

SOURCE = "Coralogix"
DOMAIN = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$")
MESSAGE_KEYS = ("message", "msg", "log", "text", "error")
CHECK_MINUTES = 15  # the connection check counts the logs of this last stretch


class CoralogixClient:
    def __init__(self, http: httpx.Client, *, application: str | None = None, subsystem: str | None = None) -> None:
        self.http = http
        self.application = application
        self.subsystem = subsystem

    def filters(self, service: str | None = None) -> list[str]:
        """``source logs`` and the label filters: the configured application, the service (else the configured
        subsystem) as the subsystem."""
        steps = ["source logs"]
        if self.application:
            steps.append(f"filter $l.applicationname == {_literal(self.application)}")
        subsystem = service or self.subsystem
        if subsystem:
            steps.append(f"filter $l.subsystemname == {_literal(subsystem)}")
        return steps

    def dataprime(self, text: str | None, service: str | None, errors: bool, limit: int) -> str:
        """The DataPrime query: label filters (the service is the subsystem), failing severities, free text."""
        steps = self.filters(service)
        if errors:
            steps.append("filter $m.severity == ERROR || $m.severity == CRITICAL")
        if text:
            steps.append(f"wildfind {_literal(text)}")
        steps += ["orderby $m.timestamp desc", f"limit {limit}"]
        return " | ".join(steps)

    def query(self, query: str, start: float, end: float) -> list[Mapping[str, Any]]:
        """Run a DataPrime query over the window; the answer's ``result`` lines (an ``error`` line fails)."""
        body = {
            "query": query,
            "metadata": {
                "tier": "TIER_FREQUENT_SEARCH",
                "syntax": "QUERY_SYNTAX_DATAPRIME",
                "startDate": iso(start),
                "endDate": iso(end),
                "defaultSource": "logs",
            },
        }
        answer = fetch(self.http, "POST", "/api/v1/dataprime/query", source=SOURCE, json=body)
        if answer.status >= 300:
            raise ToolFailure(_failure(answer.status, reason(answer)), unreachable=answer.status == 401)
        return list(_ndjson(answer.content))

    def search(
        self, *, text: str | None, service: str | None, start: float, end: float, limit: int, errors: bool = False
    ) -> list[LogRecord]:
        wanted = min(limit, MAX_LINES)
        lines = self.query(self.dataprime(text, service, errors, wanted), start, end)
        records = [r for line in lines for r in _records(line)]
        records.sort(key=lambda r: -r.timestamp)
        return records[:wanted]

    def count(self, start: float, end: float) -> int:
        """How many logs the configured labels hold in the window (DataPrime ``count``, answered as ``_count``)."""
        lines = self.query(" | ".join([*self.filters(), "count"]), start, end)
        for line in lines:
            result = line.get("result")
            for item in (result.get("results") or []) if isinstance(result, dict) else []:
                found = _counted(item.get("userData") if isinstance(item, dict) else None)
                if found is not None:
                    return found
        return 0


def _counted(user_data: Any) -> int | None:
    try:
        document = json.loads(str(user_data or ""))
    except ValueError:
        return None
    value = document.get("_count") if isinstance(document, dict) else None
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _literal(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _failure(status: int, why: str) -> str:
    if status == 401:
        return f"{SOURCE} refused the API key (401 Unauthorized)"
    if status == 403:
        return f"{SOURCE} API key lacks the DataQuerying permissions (403 Forbidden)"
    if status == 429:
        return f"{SOURCE} rate limit reached (429)"
    return f"{SOURCE} returned {status} {why}".rstrip()


def _ndjson(content: bytes) -> Iterable[Mapping[str, Any]]:
    for raw in content.splitlines():
        if not raw.strip():
            continue
        try:
            line = json.loads(raw)
        except ValueError:
            raise ToolFailure(f"{SOURCE} returned a line that is not JSON") from None
        if isinstance(line, dict):
            error = line.get("error")
            if error is not None:
                message = error.get("message") if isinstance(error, dict) else error
                raise ToolFailure(f"{SOURCE} could not run the query: {str(message)[:200]}")
            yield line


def _pairs(items: Any) -> dict[str, str]:
    return {
        str(item.get("key")): str(item.get("value"))
        for item in items or []
        if isinstance(item, dict) and item.get("key") is not None
    }


def _records(line: Mapping[str, Any]) -> list[LogRecord]:
    result = line.get("result")
    if not isinstance(result, dict):
        return []
    records: list[LogRecord] = []
    for item in result.get("results") or []:
        metadata, labels = _pairs(item.get("metadata")), _pairs(item.get("labels"))
        stamp = metadata.get("timestamp")
        if not stamp:
            continue
        try:
            ts = to_epoch(stamp)
        except ToolFailure:
            continue
        message = _message(item.get("userData"))
        severity = metadata.get("severity", "")
        if severity and not starts_with_level(message, severity):
            message = f"{severity.upper()} {message}"
        service = labels.get("subsystemname") or labels.get("applicationname") or ""
        records.append(LogRecord(ts, service, message, labels))
    return records


def _message(user_data: Any) -> str:
    """The log's message: a message-like field of its JSON, else the JSON (or text) as sent."""
    text = str(user_data or "")
    try:
        document = json.loads(text)
    except ValueError:
        return text
    if isinstance(document, dict):
        for key in MESSAGE_KEYS:
            if isinstance(document.get(key), str):
                return str(document[key])
    return text


def api_url(settings: Mapping[str, Any]) -> str:
    base = optional_setting(settings, "base_url")
    if base:
        return base.rstrip("/")
    domain = required_setting(settings, "domain", source=SOURCE).strip().lower()
    if not DOMAIN.match(domain):
        raise ToolFailure("Coralogix domain must be a host name such as eu2.coralogix.com", unreachable=True)
    return f"https://api.{domain}"


@connector("coralogix")
def connect(settings: Mapping[str, Any]) -> CoralogixClient:
    api_key = required_setting(settings, "api_key", source=SOURCE)
    http = build_client(settings, base_url=api_url(settings), headers={"Authorization": f"Bearer {api_key}"})
    return CoralogixClient(
        http,
        application=optional_setting(settings, "default_application"),
        subsystem=optional_setting(settings, "default_subsystem"),
    )


@probe("coralogix")
def check_coralogix(client: CoralogixClient) -> str:
    """A minimal DataPrime query runs: the logs of the configured application/subsystem in the last minutes."""
    end = time.time()
    counted = client.count(end - CHECK_MINUTES * 60, end)
    labels = [f"application {client.application}"] if client.application else []
    labels += [f"subsystem {client.subsystem}"] if client.subsystem else []
    scope = f" of {' and '.join(labels)}" if labels else ""
    return f"{SOURCE} answered: DataPrime query ran; {counted:,} logs{scope} in the last {CHECK_MINUTES} minutes"
