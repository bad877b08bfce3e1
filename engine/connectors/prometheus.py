"""Prometheus HTTP API connector: instant/range queries, alerts, rules and golden-signal discovery.

Discovery finds a service's request counter, status label and latency histogram from the metric names and
label values the server already has (``service``, ``job``, ``app``; ``code``/``status``/``status_code``;
``le``), so a team does not have to write PromQL for the common case.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import httpx

from engine.analyzers.metrics import MetricKind
from engine.connectors import ToolFailure
from engine.connectors.http import auth_header, build_client, request_json, required_setting
from engine.connectors.params import flag, iso, limit, to_epoch, window
from engine.connectors.prom_discovery import Sweep, SweepOptions, sweep
from engine.facts import AlertFact, Observations, SeriesFact
from engine.registry import ToolResult, connector, probe, tool

SOURCE = "Prometheus"
SERVICE_LABELS = ("service", "job", "app", "app_kubernetes_io_name", "service_name", "container")
STATUS_LABELS = ("code", "status", "status_code", "http_status", "response_code")
MAX_POINTS_PER_SERIES = 11_000  # the server refuses more
PARALLEL_QUERIES = 4
MAX_SERIES = 200

_COUNTER = re.compile(r"(?:^|_)(?:http_)?(?:server_)?requests?(?:_seconds)?_(?:total|count)$")
_HISTOGRAM = re.compile(r"(?:duration|latency)(?:_seconds|_ms|_milliseconds)?_bucket$")

ALL_SIGNALS: frozenset[MetricKind] = frozenset(
    {
        MetricKind.REQUEST_RATE,
        MetricKind.ERROR_RATIO,
        MetricKind.LATENCY_P50,
        MetricKind.LATENCY_P95,
        MetricKind.LATENCY_P99,
    }
)
LATENCY_QUANTILES = ((0.5, MetricKind.LATENCY_P50), (0.95, MetricKind.LATENCY_P95), (0.99, MetricKind.LATENCY_P99))
Labels = dict[str, str]
RangeSeries = tuple[Labels, list[tuple[float, float]]]


@dataclass(frozen=True)
class Discovery:
    """Where the golden signals live in this Prometheus: which metrics, and which label names the service."""

    label: str
    counter: str | None
    status_label: str | None
    histogram: str | None

    def selector(self, services: list[str] | None, extra: str = "") -> str:
        matchers = [extra] if extra else []
        if services:
            matchers.insert(0, f'{self.label}=~"{"|".join(re.escape(_escape(s)) for s in services)}"')
        return "{" + ",".join(matchers) + "}"


class PrometheusClient:
    """The Prometheus HTTP API at ``http``'s base URL plus ``prefix`` (a Grafana data source proxy, say);
    ``source`` names the server in error messages."""

    def __init__(self, http: httpx.Client, *, prefix: str = "", source: str = SOURCE) -> None:
        self.http = http
        self.prefix = prefix
        self.source = source
        self.settings: dict[str, Any] = {}  # the data source settings: discovery hints and budgets

    def _get(self, path: str, params: Any) -> Any:
        body = request_json(self.http, "GET", self.prefix + path, source=self.source, params=params)
        if not isinstance(body, dict) or body.get("status") != "success":
            error = body.get("error", "unknown error") if isinstance(body, dict) else "unexpected answer"
            raise ToolFailure(f"{self.source} query failed: {str(error)[:200]}")
        return body.get("data")

    def query(self, expr: str, at: float | None = None) -> list[tuple[Labels, float]]:
        params: dict[str, Any] = {"query": expr}
        if at is not None:
            params["time"] = f"{at:.3f}"
        data = self._get("/api/v1/query", params)
        if data.get("resultType") == "scalar":
            return [({}, float(data["result"][1]))]
        return [(dict(r.get("metric", {})), float(r["value"][1])) for r in data.get("result", [])]

    def query_range(
        self, expr: str, start: float, end: float, step: float, *, max_series: int = MAX_SERIES
    ) -> list[RangeSeries]:
        """A range query's series, at most ``max_series`` of them (a sweep's bucket query needs them all)."""
        step = max(step, (end - start) / MAX_POINTS_PER_SERIES, 0.001)
        params = {"query": expr, "start": f"{start:.3f}", "end": f"{end:.3f}", "step": f"{step:g}"}
        data = self._get("/api/v1/query_range", params)
        return [(dict(r.get("metric", {})), _points(r.get("values", []))) for r in data.get("result", [])[:max_series]]

    def alerts(self) -> list[dict[str, Any]]:
        data = self._get("/api/v1/alerts", None)
        return list(data.get("alerts", []))

    def rules(self, kind: str = "alert") -> list[dict[str, Any]]:
        data = self._get("/api/v1/rules", {"type": kind})
        return [rule for group in data.get("groups", []) for rule in group.get("rules", [])]

    def build_info(self) -> dict[str, Any]:
        """The server's version and build (``/api/v1/status/buildinfo``; some compatible servers lack it)."""
        data = self._get("/api/v1/status/buildinfo", None)
        return dict(data) if isinstance(data, dict) else {}

    def metric_names(self, start: float | None = None, end: float | None = None) -> list[str]:
        params = {"start": f"{start:.3f}", "end": f"{end:.3f}"} if start is not None and end is not None else None
        return [str(n) for n in self._get("/api/v1/label/__name__/values", params)]

    def series_of(self, matches: Sequence[str], start: float, end: float) -> list[Labels]:
        """Label sets of the series any of ``matches`` selects in ``[start, end]`` (one request)."""
        params = [("match[]", m) for m in matches] + [("start", f"{start:.3f}"), ("end", f"{end:.3f}")]
        return [dict(s) for s in self._get("/api/v1/series", params)]

    def metadata(self) -> dict[str, dict[str, str]]:
        """Type, help and unit per metric family, as the server's scrape targets declared them (may be empty)."""
        data = self._get("/api/v1/metadata", None) or {}
        return {str(name): dict(entries[0]) for name, entries in data.items() if entries}

    def sweep(self, start: float, end: float, step: float, options: SweepOptions) -> Sweep:
        """Every component's signals, discovered from what this server holds (``prom_discovery``)."""
        return sweep(self, start, end, step, options)

    def label_values(self, label: str, match: str | None = None) -> list[str]:
        params = {"match[]": match} if match else None
        return [str(v) for v in self._get(f"/api/v1/label/{label}/values", params)]

    def series(self, match: str, start: float | None = None, end: float | None = None) -> list[Labels]:
        params: dict[str, Any] = {"match[]": match}
        if start is not None and end is not None:
            params.update(start=f"{start:.3f}", end=f"{end:.3f}")
        return [dict(s) for s in self._get("/api/v1/series", params)]

    def discover(self) -> Discovery | None:
        """Find the request counter, its status label and the latency histogram, and the service label."""
        names = self.metric_names()
        counters = sorted((n for n in names if _COUNTER.search(n)), key=_preference)
        histograms = sorted((n for n in names if _HISTOGRAM.search(n)), key=_preference)
        for metric in [*counters, *histograms]:
            keys = {k for s in self.series(metric)[:5000] for k in s}
            label = next((k for k in SERVICE_LABELS if k in keys), None)
            if label is None:
                continue
            counter = next((c for c in counters if c == metric or label in self._keys(c)), None)
            histogram = next((h for h in histograms if h == metric or label in self._keys(h)), None)
            status = None
            if counter is not None:
                counter_keys = keys if counter == metric else self._keys(counter)
                status = next((k for k in STATUS_LABELS if k in counter_keys), None)
            return Discovery(label, counter, status, histogram)
        return None

    def _keys(self, metric: str) -> set[str]:
        return {k for s in self.series(metric)[:5000] for k in s}

    def services(self, found: Discovery) -> list[str]:
        metric = found.counter or found.histogram or ""
        return self.label_values(found.label, metric)

    def golden_signals(
        self,
        start: float,
        end: float,
        step: float,
        *,
        services: list[str] | None = None,
        rate_window: float | None = None,
        kinds: Collection[MetricKind] = ALL_SIGNALS,
    ) -> list[SeriesFact]:
        """Request rate, error ratio and p50/p95/p99 latency per service (all services when None).

        The error ratio is divided here, from the 5xx rate and the request rate fetched for the rate anyway: one
        PromQL ratio would make Prometheus evaluate the request rate twice more, and over a day of fifty services
        that is the costliest part of the sweep. Its ``metric`` is the equivalent PromQL, to paste into a console.
        """
        found = self.discover()
        if found is None:
            return []
        win = rate_window or max(4 * step, 4.0)
        w = f"{math.ceil(win)}s"  # PromQL durations are whole numbers with a unit ("230.4s" is refused)
        by = f"sum by ({found.label})"
        fetch: dict[str, str] = {}  # what to ask Prometheus for, by role
        ratio_expr = ""
        if found.counter:
            total = f"{by} (rate({found.counter}{found.selector(services)}[{w}]))"
            wants_ratio = MetricKind.ERROR_RATIO in kinds and found.status_label is not None
            if MetricKind.REQUEST_RATE in kinds or wants_ratio:
                fetch["total"] = total
            if wants_ratio:
                only_5xx = found.selector(services, f'{found.status_label}=~"5.."')
                fetch["errors"] = f"{by} (rate({found.counter}{only_5xx}[{w}]))"
                ratio_expr = f"({fetch['errors']} or ({total}) * 0) / {total}"
        if found.histogram:
            by_le = f"sum by ({found.label}, le) (rate({found.histogram}{found.selector(services)}[{w}]))"
            for q, kind in LATENCY_QUANTILES:
                if kind in kinds:
                    fetch[kind.value] = f"histogram_quantile({q}, {by_le})"
        # The queries are independent: ask for them at once, so the sweep takes as long as the slowest one rather
        # than their sum. Facts are built in a fixed order, keeping the output deterministic.
        with ThreadPoolExecutor(max_workers=max(1, min(PARALLEL_QUERIES, len(fetch)))) as pool:
            answered = pool.map(lambda expr: self.query_range(expr, start, end, step), fetch.values())
            answers = dict(zip(fetch, answered, strict=True))
        by_service = {role: _by_service(answer, found.label) for role, answer in answers.items()}
        produced: list[tuple[MetricKind, str, dict[str, list[tuple[float, float]]]]] = []
        if MetricKind.REQUEST_RATE in kinds and "total" in by_service:
            produced.append((MetricKind.REQUEST_RATE, fetch["total"], by_service["total"]))
        if ratio_expr:
            ratios = {
                name: _ratio(by_service["errors"].get(name, []), points) for name, points in by_service["total"].items()
            }
            produced.append((MetricKind.ERROR_RATIO, ratio_expr, ratios))
        produced += [
            (kind, fetch[kind.value], by_service[kind.value]) for _, kind in LATENCY_QUANTILES if kind.value in fetch
        ]
        return [
            SeriesFact(
                service=name,
                kind=kind.value,
                points=points,
                metric=expr,
                cite="[tool:query_prometheus_range]",
                smoothing_seconds=win,
            )
            for kind, expr, series in produced
            for name, points in series.items()
            if points
        ]


def _by_service(answer: list[RangeSeries], label: str) -> dict[str, list[tuple[float, float]]]:
    """Series keyed by their service label value, in answer order; series without the label are dropped."""
    return {labels[label]: points for labels, points in answer if labels.get(label)}


def _ratio(errors: list[tuple[float, float]], totals: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """errors / total at each of the total's timestamps: 0 where there were no 5xx, none where there was no traffic
    (PromQL's ``(errors or total * 0) / total``, whose division by zero is NaN and dropped)."""
    error_at = dict(errors)
    return [(t, error_at.get(t, 0.0) / total) for t, total in totals if total > 0]


def _kinds(raw: Any) -> frozenset[MetricKind]:
    """``"request_rate,error_ratio,latency_p99"`` (or a list) as metric kinds; unknown names are an error."""
    names = raw.split(",") if isinstance(raw, str) else list(raw)
    try:
        return frozenset(MetricKind(str(n).strip()) for n in names if str(n).strip())
    except ValueError as exc:
        raise ToolFailure(f"Unknown signal in {raw!r}") from exc


def _points(values: list[list[Any]]) -> list[tuple[float, float]]:
    """``[[t, "v"], ...]`` as float pairs without NaN/Inf; map() keeps a 24 h x 15 s series cheap."""
    if not values:
        return []
    times, raw = zip(*values, strict=True)
    numbers = list(map(float, raw))
    points = list(zip(map(float, times), numbers, strict=True))
    if all(map(math.isfinite, numbers)):
        return points
    return [p for p in points if math.isfinite(p[1])]


def _preference(name: str) -> tuple[int, str]:
    return (0 if name.startswith("http_") else 1, name)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


@connector("prometheus")
def connect(settings: Mapping[str, Any]) -> PrometheusClient:
    url = required_setting(settings, "url", source=SOURCE)
    client = PrometheusClient(build_client(settings, base_url=url, headers=auth_header(settings.get("auth"))))
    client.settings = dict(settings)
    return client


@probe("prometheus")
def check_prometheus(client: PrometheusClient) -> str:
    """The query API answers (the metric names the discovery reads), and the version when the server says it."""
    names = client.metric_names()
    return f"{client.source}{version_of(client)} answered: {len(names):,} metric names"


def version_of(client: PrometheusClient) -> str:
    try:
        version = client.build_info().get("version")
    except ToolFailure:
        return ""
    return f" {str(version)[:40]}" if version else ""


def _step(params: Mapping[str, Any], start: float, end: float) -> float:
    if "step" in params:
        return max(float(params["step"]), 0.001)
    return max(15.0, (end - start) / 1000.0)


@tool("query_prometheus")
def query_prometheus(client: PrometheusClient, params: dict[str, Any]) -> ToolResult:
    """An instant query; with a window (``start``, ``end``, ``minutes``) or ``service`` a range query."""
    return query_result(client, params, "query_prometheus")


RANGE_KEYS = frozenset({"start", "end", "minutes", "service"})  # any of them asks for series, not one value


def query_result(client: PrometheusClient, params: Mapping[str, Any], tool_name: str) -> ToolResult:
    """An instant query; with a window (``start``, ``end``, ``minutes``) or ``service`` a range query."""
    if RANGE_KEYS & params.keys():
        return range_result(client, params, tool_name)
    expr = str(params.get("query", "")).strip()
    if not expr:
        raise ToolFailure(f"{tool_name} needs a query")
    at = to_epoch(params["time"]) if "time" in params else None
    rows = client.query(expr, at)[: limit(params, default=50, maximum=500)]
    text = "\n".join(f"{_fmt_labels(labels)} {value:g}" for labels, value in rows) or "no data"
    return ToolResult(text=text, data=rows)


@tool("query_prometheus_range")
def query_prometheus_range(client: PrometheusClient, params: dict[str, Any]) -> ToolResult:
    """A PromQL range query, or a service's golden signals when only ``service`` is given."""
    return range_result(client, params, "query_prometheus_range")


def range_result(client: PrometheusClient, params: Mapping[str, Any], tool_name: str) -> ToolResult:
    start, end = window(params)
    step = _step(params, start, end)
    obs = Observations()
    expr = str(params.get("query", "")).strip()
    service = str(params.get("service", "")).strip()
    if expr:
        result = client.query_range(expr, start, end, step)
        kind = str(params.get("kind", MetricKind.GENERIC.value))
        for labels, points in result:
            name = service or next((labels[k] for k in SERVICE_LABELS if k in labels), _fmt_labels(labels))
            obs.series.append(
                SeriesFact(service=name, kind=kind, points=points, metric=expr, cite=f"[tool:{tool_name}]")
            )
    elif service == "*" and flag(params, "discover"):
        options = SweepOptions.from_settings(client.settings, namespace=params.get("namespace") or None)
        found = client.sweep(start, end, step, options)
        obs.series.extend(replace(f, cite=f"[tool:{tool_name}]") for f in found.facts)
        obs.edges.extend(found.edges)
        return ToolResult(text=found.describe() + "\n" + summarize_series(obs.series), observations=obs)
    elif service:
        rate_window = float(params["rate_window"]) if "rate_window" in params else None
        wanted = None if service == "*" else [s.strip() for s in service.split(",") if s.strip()]
        kinds = _kinds(params.get("signals")) if params.get("signals") else ALL_SIGNALS
        facts = client.golden_signals(start, end, step, services=wanted, rate_window=rate_window, kinds=kinds)
        obs.series.extend(replace(f, cite=f"[tool:{tool_name}]") for f in facts)
    else:
        raise ToolFailure(f'{tool_name} needs a query or a service ("*" for all)')
    return ToolResult(text=summarize_series(obs.series) or "no data", observations=obs)


@tool("get_prometheus_alerts")
def get_prometheus_alerts(client: PrometheusClient, params: dict[str, Any]) -> ToolResult:
    obs = Observations()
    lines: list[str] = []
    for alert in client.alerts():
        labels = alert.get("labels", {})
        annotations = alert.get("annotations", {})
        name = labels.get("alertname", "unnamed")
        service = next((labels[k] for k in SERVICE_LABELS if k in labels), None)
        active_at = _parse_time(alert.get("activeAt"))
        summary = annotations.get("summary") or annotations.get("description") or ""
        when = f" since {iso(active_at.timestamp())}" if active_at else ""
        who = f" ({service})" if service else ""
        line = f"{alert.get('state', 'firing')} {name}{who}{when}: {summary}".rstrip(": ")
        lines.append(line)
        obs.alerts.append(
            AlertFact(
                name=name,
                state=str(alert.get("state", "firing")),
                service=service,
                severity=labels.get("severity"),
                active_at=active_at,
                summary=summary,
                cite=f"[tool:get_prometheus_alerts] {line}",
            )
        )
    return ToolResult(text="\n".join(lines) or "no active alerts", observations=obs)


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or value.startswith("0001-"):
        return None
    try:
        text = re.sub(r"(\.\d{6})\d+", r"\1", value.replace("Z", "+00:00"))
        return datetime.fromisoformat(text).astimezone(UTC)
    except ValueError:
        return None


def _fmt_labels(labels: Mapping[str, str]) -> str:
    name = labels.get("__name__", "")
    rest = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()) if k != "__name__")
    return f"{name}{{{rest}}}" if rest or not name else name


def summarize_series(series: list[SeriesFact]) -> str:
    lines = []
    for s in series:
        values = [v for _, v in s.points]
        if not values:
            continue
        lines.append(
            f"{s.service} {s.kind}: {len(values)} points {iso(s.points[0][0])}..{iso(s.points[-1][0])}, "
            f"min {min(values):.4g}, max {max(values):.4g}, last {values[-1]:.4g}"
        )
    return "\n".join(lines)
