"""Datadog connector through the official ``datadog-api-client``: metric queries, monitors, events and logs.

Settings (``tools.datadog``): ``api_key`` and ``app_key`` (secrets, sent only as the ``DD-API-KEY`` and
``DD-APPLICATION-KEY`` headers), ``site`` (``datadoghq.com``; the API lives at ``https://api.<site>``) or
``base_url`` (an explicit API URL, e.g. a regional proxy). The client's host is set through its public
``Configuration`` only after the caller's egress policy has vetted the URL (``Egress.pin``), so it connects to
the vetted address and TLS checks the original name.

Tools: ``query_datadog_metrics`` (``GET /api/v1/query``), ``get_datadog_monitors`` (``GET /api/v1/monitor``,
monitors in Alert/Warn/No Data), ``list_datadog_events`` (``GET /api/v1/events``, deploys become changes). The
client is also a :class:`~engine.connectors.loki.LogSource` (``POST /api/v2/logs/events/search``), so the log
tools (``search_logs``, the log_analysis_agent's) read Datadog logs exactly as they read Loki's.

A 429 is retried after ``X-RateLimit-Reset`` seconds when that is short, else it is a clear failure; 401/403
name Datadog and the key that was refused, never its value. The connection check validates the API key
(``GET /api/v1/validate``, which takes that key alone) and counts monitors with the application key
(``GET /api/v1/monitor/search?per_page=1``).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import urlsplit

from datadog_api_client import ApiClient, Configuration
from datadog_api_client.exceptions import ApiException, ApiTypeError, ApiValueError
from datadog_api_client.v1.api.authentication_api import AuthenticationApi
from datadog_api_client.v1.api.events_api import EventsApi
from datadog_api_client.v1.api.metrics_api import MetricsApi
from datadog_api_client.v1.api.monitors_api import MonitorsApi
from datadog_api_client.v2.api.logs_api import LogsApi
from datadog_api_client.v2.model.logs_list_request import LogsListRequest
from datadog_api_client.v2.model.logs_list_request_page import LogsListRequestPage
from datadog_api_client.v2.model.logs_query_filter import LogsQueryFilter
from datadog_api_client.v2.model.logs_sort import LogsSort
from urllib3.exceptions import HTTPError as Urllib3Error

from engine.analyzers.changes import ChangeKind
from engine.analyzers.metrics import MetricKind
from engine.connectors import ToolFailure
from engine.connectors.http import current_egress, egress_refusal, optional_setting, required_setting, timeout_from
from engine.connectors.loki import ERROR_WORDS, MAX_LINES, LogRecord, starts_with_level
from engine.connectors.params import iso, to_epoch, window
from engine.facts import AlertFact, ChangeFact, Observations, SeriesFact
from engine.registry import ToolResult, connector, probe, tool

SOURCE = "Datadog"
SITE = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$")
LOG_PAGE = 1000  # the logs search API's largest page
MAX_LOG_PAGES = 10  # a server answering short pages cannot keep one search going
MAX_RETRIES = 2
MAX_WAIT = 10.0  # seconds: a rate limit resetting later than this is reported, not waited out
MAX_EVENTS = 1000
ALERTING = {"Alert": "firing", "Warn": "pending", "No Data": "firing"}
T = TypeVar("T")


def api_url(settings: Mapping[str, Any]) -> str:
    """``base_url`` when given, else ``https://api.<site>``; a site that is not a host name is refused."""
    base = optional_setting(settings, "base_url")
    if base:
        return base.rstrip("/")
    site = str(settings.get("site") or "datadoghq.com").strip().lower()
    if not SITE.match(site):
        raise ToolFailure("Datadog site must be a host name such as datadoghq.eu", unreachable=True)
    return f"https://api.{site}"


def site_of(settings: Mapping[str, Any]) -> str:
    """The site the settings point at, as a person would name it: ``datadoghq.eu``, or the ``base_url``'s host."""
    base = optional_setting(settings, "base_url")
    if base:
        return urlsplit(base).hostname or base
    return str(settings.get("site") or "datadoghq.com").strip().lower()


class DatadogClient:
    def __init__(
        self, api: ApiClient, *, site: str = "datadoghq.com", sleep: Callable[[float], None] = time.sleep
    ) -> None:
        self.api = api
        self.site = site
        self.authentication = AuthenticationApi(api)
        self.metrics = MetricsApi(api)
        self.monitors = MonitorsApi(api)
        self.events = EventsApi(api)
        self.logs = LogsApi(api)
        self.sleep = sleep

    def call(self, what: str, request: Callable[[], T]) -> T:
        """One API call, retried on 429 (after X-RateLimit-Reset) and 5xx; failures name Datadog and ``what``."""
        for attempt in range(MAX_RETRIES + 1):
            try:
                return request()
            except ApiException as exc:
                wait = _retry_wait(exc, attempt)
                if wait is None:
                    raise ToolFailure(_failure(exc, what), unreachable=exc.status == 401) from None
                self.sleep(wait)
            except Urllib3Error as exc:
                timed_out = "timeout" in type(exc).__name__.lower() or "timed out" in str(exc).lower()
                message = f"{SOURCE} did not answer in time" if timed_out else f"Unable to connect to {SOURCE}"
                raise ToolFailure(message, unreachable=True) from None
            except (ApiTypeError, ApiValueError):
                raise ToolFailure(f"{SOURCE} returned a response that does not match its API for {what}") from None
        raise AssertionError("unreachable")  # the loop returns or raises

    def search(
        self, *, text: str | None, service: str | None, start: float, end: float, limit: int, errors: bool = False
    ) -> list[LogRecord]:
        """Newest first, following the ``page[cursor]`` until ``limit`` lines or the window is exhausted."""
        query = log_query(text, service, errors)
        wanted = min(limit, MAX_LINES)
        records: list[LogRecord] = []
        cursor: str | None = None
        for _ in range(MAX_LOG_PAGES):
            page = LogsListRequestPage(limit=min(LOG_PAGE, wanted - len(records)))
            if cursor:
                page.cursor = cursor
            body = LogsListRequest(
                filter=LogsQueryFilter(query=query, _from=iso(start), to=iso(end)),
                page=page,
                sort=LogsSort.TIMESTAMP_DESCENDING,
            )
            answer = self.call("logs search", _bound(self.logs.list_logs, body=body)).to_dict()
            for item in answer.get("data") or []:
                record = _log_record(item.get("attributes") or {})
                if record is not None:
                    records.append(record)
            cursor = ((answer.get("meta") or {}).get("page") or {}).get("after")
            if not cursor or not answer.get("data") or len(records) >= wanted:
                break
        return records[:wanted]


def _bound(method: Callable[..., Any], **kwargs: Any) -> Callable[[], Any]:
    return lambda: method(**kwargs)


def log_query(text: str | None, service: str | None, errors: bool) -> str:
    """Datadog log search syntax: the service facet, failing lines by status or error words, then the text."""
    parts = [f"service:{_quote(service)}"] if service else []
    if errors:
        words = " OR ".join(f'"{word}"' for word in ERROR_WORDS)
        parts.append(f"(status:(error OR critical OR emergency OR alert) OR {words})")
    if text:
        parts.append(text)
    return " ".join(parts) or "*"


def _quote(value: str) -> str:
    return f'"{value}"' if re.search(r"[\s:()\"]", value) else value


def _log_record(attributes: Mapping[str, Any]) -> LogRecord | None:
    stamp = attributes.get("timestamp")
    if isinstance(stamp, datetime):
        ts = (stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)).timestamp()
    elif stamp is None:
        return None
    else:
        ts = to_epoch(stamp)
    message = str(attributes.get("message") or "")
    status = attributes.get("status")
    if isinstance(status, str) and status and not starts_with_level(message, status):
        message = f"{status.upper()} {message}"
    return LogRecord(ts, str(attributes.get("service") or ""), message)


def _retry_wait(exc: ApiException, attempt: int) -> float | None:
    """Seconds to wait before retrying, or None when the failure is final."""
    if attempt >= MAX_RETRIES:
        return None
    if exc.status == 429:
        reset = _header(exc, "X-RateLimit-Reset")
        try:
            wait = float(reset) if reset is not None else 1.0
        except ValueError:
            wait = 1.0
        return wait if wait <= MAX_WAIT else None  # a later reset is reported, not waited out
    if exc.status is not None and exc.status >= 500:
        return 0.5 * float(2**attempt)
    return None


def _header(exc: ApiException, name: str) -> str | None:
    for key, value in (exc.headers or {}).items():
        if str(key).lower() == name.lower():
            return str(value)
    return None


def _failure(exc: ApiException, what: str) -> str:
    status = exc.status or 0
    if status == 401:
        return f"{SOURCE} refused the API key (401 Unauthorized) for {what}"
    if status == 403:
        return f"{SOURCE} refused the API or application key (403 Forbidden) for {what}"
    if status == 429:
        reset = _header(exc, "X-RateLimit-Reset")
        later = f"; the limit resets in {reset} s" if reset else ""
        return f"{SOURCE} rate limit reached (429) for {what}{later}"
    return f"{SOURCE} returned {status} {exc.reason or ''} for {what}".rstrip()


def _configuration(settings: Mapping[str, Any]) -> tuple[Configuration, str | None]:
    api_key = required_setting(settings, "api_key", source=SOURCE)
    app_key = required_setting(settings, "app_key", source=SOURCE)
    url = api_url(settings)
    tls_name: str | None = None
    egress = current_egress()
    if egress is not None:
        try:
            url, tls_name = egress.pin(url)
        except Exception as exc:
            refusal = egress_refusal(exc)
            if refusal is None:
                raise
            raise ToolFailure(f"{SOURCE} URL {refusal}", unreachable=True) from None
    configuration = Configuration(host=url, api_key={"apiKeyAuth": api_key, "appKeyAuth": app_key})
    if tls_name:
        configuration.assert_hostname = tls_name
    timeout = timeout_from(settings)
    configuration.request_timeout = (min(timeout, 5.0), timeout)
    configuration.enable_retry = False  # retries are ours: bounded waits and clear messages
    return configuration, tls_name


@connector("datadog")
def connect(settings: Mapping[str, Any]) -> DatadogClient:
    configuration, tls_name = _configuration(settings)
    api = ApiClient(configuration)
    if tls_name:
        # Connecting to the vetted address, TLS must still present (SNI) and verify the real name. The client's
        # Configuration has assert_hostname only; urllib3's pool options carry the SNI name to every connection.
        api.rest_client.pool_manager.connection_pool_kw["server_hostname"] = tls_name
    return DatadogClient(api, site=site_of(settings))


@probe("datadog")
def check_datadog(client: DatadogClient) -> str:
    """The API key is valid (``GET /api/v1/validate``) for the site, and the application key reads monitors (one
    search result, whose metadata counts them all)."""
    answer = client.call("the API key check", client.authentication.validate).to_dict()
    if answer.get("valid") is not True:
        raise ToolFailure(f"{SOURCE} did not confirm the API key for {client.site}", unreachable=True)
    try:
        found = client.call("monitors", lambda: client.monitors.search_monitors(per_page=1)).to_dict()
    except ToolFailure as exc:
        raise ToolFailure(f"{SOURCE} API key valid for {client.site}, but {exc.message}", unreachable=False) from None
    total = (found.get("metadata") or {}).get("total_count")
    readable = f"{total:,} monitors readable" if isinstance(total, int) else "monitors readable"
    return f"{SOURCE} answered: API key valid for {client.site}; {readable}"


# -- metrics ---------------------------------------------------------------------------------------------------
_KIND_WORDS: tuple[tuple[str, MetricKind], ...] = (
    ("error", MetricKind.ERROR_RATIO),
    ("5xx", MetricKind.ERROR_RATIO),
    ("duration", MetricKind.LATENCY_P99),
    ("latency", MetricKind.LATENCY_P99),
    ("hits", MetricKind.REQUEST_RATE),
    ("requests", MetricKind.REQUEST_RATE),
    ("cpu", MetricKind.CPU),
    ("mem", MetricKind.MEMORY),
    ("connections", MetricKind.CONNECTIONS),
    ("restart", MetricKind.RESTARTS),
)


def metric_kind(metric: str) -> MetricKind:
    name = metric.lower()
    return next((kind for word, kind in _KIND_WORDS if word in name), MetricKind.GENERIC)


def _tag(tags: list[str], key: str) -> str | None:
    return next((value for tag in tags for k, _, value in [tag.partition(":")] if k == key and value), None)


def _service_of(tags: list[str], scope: str, fallback: str | None) -> str:
    for tag in [*tags, *scope.split(",")]:
        key, _, value = tag.strip().partition(":")
        if key == "service" and value:
            return value
    return fallback or ""


@tool("query_datadog_metrics")
def query_datadog_metrics(client: DatadogClient, params: dict[str, Any]) -> ToolResult:
    """Time series for a Datadog metric query over the window, each series a SeriesFact for the detectors."""
    query = str(params.get("query") or "").strip()
    if not query:
        raise ToolFailure("query_datadog_metrics needs a query, e.g. avg:trace.http.request.errors{service:web}")
    start, end = window(params)
    answer = client.call(
        "metrics query", lambda: client.metrics.query_metrics(_from=int(start), to=int(end), query=query)
    ).to_dict()
    if answer.get("status") == "error":
        raise ToolFailure(f"{SOURCE} could not run the metrics query: {str(answer.get('error', ''))[:200]}")
    obs = Observations()
    lines: list[str] = []
    for series in answer.get("series") or []:
        points = [(ts / 1000.0, float(v)) for ts, v in series.get("pointlist") or [] if v is not None]
        if not points:
            continue
        metric = str(series.get("metric") or series.get("expression") or query)
        service = _service_of(list(series.get("tag_set") or []), str(series.get("scope") or ""), params.get("service"))
        kind = str(params.get("kind") or metric_kind(metric).value)
        interval = float(series.get("interval") or 0)
        obs.series.append(
            SeriesFact(
                service=service or metric,
                kind=kind,
                points=sorted(points),
                metric=str(series.get("expression") or query),
                cite="[tool:query_datadog_metrics]",
                smoothing_seconds=interval,
            )
        )
        values = [v for _, v in points]
        lines.append(
            f"{series.get('scope') or '*'} {metric}: {len(values)} points, min {min(values):.4g}, "
            f"max {max(values):.4g}, last {values[-1]:.4g} at {iso(points[-1][0])}"
        )
    return ToolResult(text="\n".join(lines) or f"no datapoints for {query}", observations=obs)


# -- monitors --------------------------------------------------------------------------------------------------
MONITOR_QUERY = re.compile(r"^\s*\w+\([^)]*\):(?P<query>.+?)\s*(?:[<>]=?|==)\s*-?[\d.]+\s*$")


def monitor_metric_query(monitor_query: str) -> str | None:
    """The metric query inside a metric monitor's ``avg(last_5m):<query> > 0.05`` (None for other monitors)."""
    found = MONITOR_QUERY.match(monitor_query)
    return found.group("query").strip() if found else None


@tool("get_datadog_monitors")
def get_datadog_monitors(client: DatadogClient, params: dict[str, Any]) -> ToolResult:
    """Monitors in Alert, Warn or No Data (optionally only those tagged ``service:<service>``)."""
    service = str(params.get("service") or "").strip()
    kwargs: dict[str, Any] = {"group_states": "alert,warn,no data"}
    if service:
        kwargs["monitor_tags"] = f"service:{service}"
    monitors = client.call("monitors", lambda: client.monitors.list_monitors(**kwargs))
    obs = Observations()
    lines: list[str] = []
    queries: list[dict[str, str]] = []
    for monitor in (m.to_dict() for m in monitors):
        overall = str(monitor.get("overall_state") or "")
        if overall not in ALERTING:
            continue
        name = str(monitor.get("name") or f"monitor {monitor.get('id')}")
        tags = [str(t) for t in monitor.get("tags") or []]
        owner = _service_of(tags, "", service or None) or None
        since = monitor.get("overall_state_modified")
        active_at = since.astimezone(UTC) if isinstance(since, datetime) else None
        query = str(monitor.get("query") or "")
        when = f" since {iso(active_at.timestamp())}" if active_at else ""
        who = f" ({owner})" if owner else ""
        line = f"{overall} {name}{who}{when}: {query}".rstrip(": ")
        lines.append(line)
        obs.alerts.append(
            AlertFact(
                name=name,
                state=ALERTING[overall],
                service=owner,
                severity=f"P{monitor['priority']}" if monitor.get("priority") else None,
                active_at=active_at,
                summary=query,
                cite=f"[tool:get_datadog_monitors] {line}",
            )
        )
        metric_query = monitor_metric_query(query)
        if metric_query:
            queries.append({"query": metric_query, "service": owner or ""})
    return ToolResult(text="\n".join(lines) or "no monitor is alerting", observations=obs, data=queries)


# -- events ----------------------------------------------------------------------------------------------------
CHANGE_WORDS = re.compile(r"\b(deploy(?:ed|ment|ing)?|releas(?:e|ed|ing)|roll(?:ed)? ?out|rollback)\b", re.I)


def _is_change(event: Mapping[str, Any], tags: list[str]) -> bool:
    if any(tag.split(":", 1)[0] in {"deployment", "deploy", "release"} for tag in tags):
        return True
    if any(tag in {"event_type:deployment", "event_type:release"} for tag in tags):
        return True
    return bool(CHANGE_WORDS.search(f"{event.get('title') or ''} {event.get('source_type_name') or ''}"))


@tool("list_datadog_events")
def list_datadog_events(client: DatadogClient, params: dict[str, Any]) -> ToolResult:
    """Events in the window (optionally tagged ``service:<service>``); deploys and releases become changes."""
    start, end = window(params, default_minutes=6 * 60)
    service = str(params.get("service") or "").strip()
    kwargs: dict[str, Any] = {"start": int(start), "end": int(end), "unaggregated": True}
    if service:
        kwargs["tags"] = f"service:{service}"
    answer = client.call("events", lambda: client.events.list_events(**kwargs)).to_dict()
    obs = Observations()
    lines: list[str] = []
    for event in (answer.get("events") or [])[:MAX_EVENTS]:
        posted = event.get("date_happened")
        if not isinstance(posted, int | float):
            continue
        tags = [str(t) for t in event.get("tags") or []]
        title = str(event.get("title") or "").strip()
        owner = _service_of(tags, "", service or None)
        line = f"{iso(float(posted))} {title}" + (f" ({owner})" if owner else "")
        lines.append(line)
        if owner and _is_change(event, tags):
            obs.changes.append(
                ChangeFact(
                    timestamp=datetime.fromtimestamp(float(posted), UTC),
                    kind=ChangeKind.DEPLOY.value,
                    service=owner,
                    description=f"Datadog event: {title}",
                    ref=_tag(tags, "version") or _tag(tags, "release") or "",
                    cite=f"[tool:list_datadog_events] {line}",
                )
            )
    return ToolResult(text="\n".join(lines) or "no events in the window", observations=obs)
