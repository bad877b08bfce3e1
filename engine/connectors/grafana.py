"""Grafana connector: PromQL through a Grafana Prometheus data source, LogQL through a Grafana Loki one.

Many teams reach their metrics only through Grafana (Grafana Cloud, or a Prometheus that is not exposed on its
own). ``grafana_query`` sends PromQL through Grafana's data source proxy
(``/api/datasources/proxy/uid/<uid>/api/v1/...``) with the team's service-account token, so everything the
Prometheus connector does — instant and range queries, golden-signal discovery for one service or all of them —
works the same through Grafana, and the planner sweeps a Grafana-only team's metrics as it would Prometheus'.

The data source is the call's ``datasource`` parameter, else the team's ``default_datasource``, else Grafana's
default Prometheus data source. Both settings are data source uids (what the proxy addresses). Looking up the
default needs a token allowed to list data sources (``datasources:read``); a token that may only query
(``datasources:query``, a Viewer) needs ``default_datasource`` set.

With ``logs_datasource`` (the uid of a Loki data source) Grafana also serves the log tools (``search_logs``,
``get_logs_around_timestamp``) when the team has no Loki or Elasticsearch of its own: the same LogQL through
``/api/datasources/proxy/uid/<uid>/loki/api/v1/query_range``. It is a setting rather than a lookup so that a
metrics-only Grafana never costs a team a failing log search.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import httpx

from engine.connectors import ToolFailure
from engine.connectors.http import auth_header, build_client, optional_setting, request_json, required_setting
from engine.connectors.loki import LogRecord, LokiClient
from engine.connectors.prometheus import PrometheusClient, query_result
from engine.registry import ToolResult, connector, probe, tool

SOURCE = "Grafana"
PROXY_PREFIX = "/api/datasources/proxy/uid/"
_UID = re.compile(r"^[A-Za-z0-9._-]{1,40}$")  # Grafana's uid alphabet and length


class GrafanaClient:
    def __init__(
        self,
        http: httpx.Client,
        *,
        default_datasource: str | None = None,
        logs_datasource: str | None = None,
        logs_service_label: str = "app",
    ) -> None:
        self.http = http
        self.default_datasource = default_datasource
        self.logs_datasource = logs_datasource
        self.logs_service_label = logs_service_label
        self._clients: dict[str, PrometheusClient] = {}
        self._loki: LokiClient | None = None

    def prometheus(self, datasource: str | None = None) -> PrometheusClient:
        """A Prometheus client for data source ``datasource`` (a uid), the default one when None."""
        uid = _checked_uid(datasource or self.default_datasource or self._default_prometheus_uid())
        if uid not in self._clients:
            self._clients[uid] = PrometheusClient(
                self.http, prefix=f"{PROXY_PREFIX}{uid}", source=f"{SOURCE} data source {uid}"
            )
        return self._clients[uid]

    def loki(self) -> LokiClient:
        """A Loki client for the ``logs_datasource`` data source."""
        if not self.logs_datasource:
            raise ToolFailure(f"{SOURCE} has no logs data source configured: set grafana.logs_datasource")
        if self._loki is None:
            uid = _checked_uid(self.logs_datasource)
            self._loki = LokiClient(
                self.http,
                service_label=self.logs_service_label,
                prefix=f"{PROXY_PREFIX}{uid}",
                source=f"{SOURCE} data source {uid}",
            )
        return self._loki

    def search(
        self, *, text: str | None, service: str | None, start: float, end: float, limit: int, errors: bool = False
    ) -> list[LogRecord]:
        """The log tools' interface (``loki.LogSource``), through the Loki data source."""
        return self.loki().search(text=text, service=service, start=start, end=end, limit=limit, errors=errors)

    def datasources(self) -> list[dict[str, Any]]:
        """The data sources the API key may see (``/api/datasources``)."""
        listed = request_json(self.http, "GET", "/api/datasources", source=SOURCE)
        if not isinstance(listed, list):
            raise ToolFailure(f"{SOURCE} returned an unexpected data source list")
        return [d for d in listed if isinstance(d, dict)]

    def health(self) -> dict[str, Any]:
        """The server's version and database state (``/api/health``, no key needed)."""
        body = request_json(self.http, "GET", "/api/health", source=SOURCE)
        return dict(body) if isinstance(body, dict) else {}

    def _default_prometheus_uid(self) -> str:
        listed = self.datasources()
        candidates = [d for d in listed if d.get("type") == "prometheus" and d.get("uid")]
        chosen = next((d for d in candidates if d.get("isDefault")), None)
        if chosen is None and len(candidates) == 1:
            chosen = candidates[0]
        if chosen is None:
            if not candidates:
                raise ToolFailure(f"{SOURCE} has no Prometheus data source")
            raise ToolFailure(
                f"{SOURCE} has {len(candidates)} Prometheus data sources and none is the default: "
                "set grafana.default_datasource to the uid of the one to query"
            )
        self.default_datasource = str(chosen["uid"])
        return self.default_datasource


@probe("grafana")
def check_grafana(client: GrafanaClient) -> str:
    """The API key lists the data sources (what the tools go through); the version from the health endpoint."""
    sources = client.datasources()
    try:
        version = client.health().get("version")
    except ToolFailure:
        version = None
    kinds: dict[str, int] = {}
    for source in sources:
        kind = str(source.get("type") or "other")
        kinds[kind] = kinds.get(kind, 0) + 1
    listed = ", ".join(f"{count} {kind}" for kind, count in sorted(kinds.items()))
    shown = f" {str(version)[:40]}" if version else ""
    return f"{SOURCE}{shown} answered: {len(sources)} data sources" + (f" ({listed})" if listed else "")


def _checked_uid(uid: str) -> str:
    if not _UID.match(uid):
        raise ToolFailure(f"{SOURCE} data source uid {uid[:60]!r} is not a uid (letters, digits, '.', '_', '-')")
    return uid


@connector("grafana")
def connect(settings: Mapping[str, Any]) -> GrafanaClient:
    url = required_setting(settings, "url", source=SOURCE)
    api_key = required_setting(settings, "api_key", source=SOURCE)
    return GrafanaClient(
        build_client(settings, base_url=url, headers=auth_header(api_key)),
        default_datasource=optional_setting(settings, "default_datasource"),
        logs_datasource=optional_setting(settings, "logs_datasource"),
        logs_service_label=optional_setting(settings, "logs_service_label") or "app",
    )


@tool("grafana_query")
def grafana_query(client: GrafanaClient, params: dict[str, Any]) -> ToolResult:
    """PromQL through a Grafana Prometheus data source: an instant ``query``; with a window or ``service`` a range
    query or a service's golden signals (``service: "*"`` for all), as ``query_prometheus`` does."""
    datasource = params.get("datasource")
    prometheus = client.prometheus(str(datasource) if datasource else None)
    return query_result(prometheus, params, "grafana_query")
