"""The tool registry: every tool name, the data source it needs, and (when implemented) the callable.

``TOOL_CATALOG`` is the complete, static list config validation checks against. Implementations are added by
connector modules with :func:`tool`; :func:`load_connectors` imports them on first use so ``import engine``
stays cheap.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from engine.facts import Observations, SeriesFact

# Tool name -> data-source key (team-config tool name) it needs; None = always available.
_CATALOG: dict[str, str | None] = {
    "think": None,
    "read_attachment": None,
    # Kubernetes
    "list_pods": "kubernetes",
    "describe_pod": "kubernetes",
    "get_pod_logs": "kubernetes",
    "get_pod_events": "kubernetes",
    "describe_deployment": "kubernetes",
    "get_deployment_history": "kubernetes",
    "describe_service": "kubernetes",
    "get_pod_resource_usage": "kubernetes",
    "describe_node": "kubernetes",
    "list_events": "kubernetes",
    # Metrics
    "query_prometheus": "prometheus",
    "query_prometheus_range": "prometheus",
    "get_prometheus_alerts": "prometheus",
    "grafana_query": "grafana",
    "query_datadog_metrics": "datadog",
    "get_datadog_monitors": "datadog",
    "list_datadog_events": "datadog",
    # Logs
    "search_logs": "loki",
    "get_logs_around_timestamp": "loki",
    # AWS
    "get_cloudwatch_logs": "cloudwatch",
    "query_cloudwatch_insights": "cloudwatch",
    "get_cloudwatch_metrics": "cloudwatch",
    "describe_ec2_instance": "aws",
    "get_rds_instance_status": "aws",
    "describe_lambda_function": "aws",
    "list_ecs_tasks": "aws",
    # Error tracking
    "list_sentry_issues": "sentry",
    "get_sentry_issue_events": "sentry",
    # Code
    "search_github_code": "github",
    "read_github_file": "github",
    "list_recent_commits": "github",
    "list_pull_requests": "github",
    "list_deployments": "github",
    # Analysis over attachments and already-fetched data
    "detect_anomalies": None,
    "get_log_statistics": "loki",  # these three read the team's log source (engine/connectors/log_analysis.py)
    "search_logs_by_pattern": "loki",
    "extract_log_signatures": "loki",
    # The team's knowledge base, through the retriever the caller passes in (engine/knowledge.py)
    "kb_retrieve": "knowledge",
}

TOOL_CATALOG: Mapping[str, str | None] = MappingProxyType(_CATALOG)
# Tools the runner itself carries out (no registered implementation).
RUNNER_TOOLS = frozenset({"think", "read_attachment"})

# Modules that register tool implementations; a new data source adds its module here.
CONNECTOR_MODULES: tuple[str, ...] = (
    "engine.connectors.kubernetes",
    "engine.connectors.prometheus",
    "engine.connectors.grafana",
    "engine.connectors.loki",
    "engine.connectors.log_analysis",
    "engine.connectors.elasticsearch",
    "engine.connectors.aws",
    "engine.connectors.datadog",
    "engine.connectors.coralogix",
    "engine.connectors.sentry",
    "engine.connectors.github",
    "engine.analysis_tools",  # tools over already-fetched data (detect_anomalies)
    "engine.knowledge",  # kb_retrieve over the caller's knowledge base
)

# Other data sources that can serve a source's tools through the same client interface, each with the setting it
# needs to do so (None: any configuration of it serves). The demo source serves every source (engine/demo).
ALTERNATIVE_PROVIDERS: Mapping[str, tuple[tuple[str, str | None], ...]] = MappingProxyType(
    {
        "loki": (
            ("elasticsearch", None),
            ("grafana", "logs_datasource"),
            ("datadog", None),
            ("coralogix", None),
            ("cloudwatch", "log_groups"),
        )
    }
)
DEMO_SOURCE = "demo"


def provider_for(source: str, enabled_sources: Mapping[str, Any]) -> str | None:
    """The enabled data source that serves ``source``'s tools: itself, an alternative, or the demo."""
    if source in enabled_sources:
        return source
    for candidate, needs in ALTERNATIVE_PROVIDERS.get(source, ()):
        settings = enabled_sources.get(candidate)
        if settings is not None and (needs is None or (isinstance(settings, Mapping) and settings.get(needs))):
            return candidate
    return DEMO_SOURCE if DEMO_SOURCE in enabled_sources else None


@dataclass
class ToolResult:
    """What a tool returns: text for the tool-call log and structured observations for the analyzers."""

    text: str
    observations: Observations = field(default_factory=Observations)
    data: Any = None
    charted: list[SeriesFact] | None = None  # series to chart on the tool call; None: observations.series


ToolFunc = Callable[[Any, dict[str, Any]], ToolResult]


@dataclass(frozen=True)
class ToolSpec:
    name: str
    source: str | None
    func: ToolFunc


_IMPLEMENTATIONS: dict[str, ToolSpec] = {}
_CONNECTOR_FACTORIES: dict[str, Callable[[Mapping[str, Any]], Any]] = {}


def connector(
    source: str,
) -> Callable[[Callable[[Mapping[str, Any]], Any]], Callable[[Mapping[str, Any]], Any]]:
    """Register the factory that builds a data source's client from its (secret-resolved) settings.

    The factory runs once per investigation, lazily, before the source's first tool call.
    """

    def register(factory: Callable[[Mapping[str, Any]], Any]) -> Callable[[Mapping[str, Any]], Any]:
        _CONNECTOR_FACTORIES[source] = factory
        return factory

    return register


def connector_factory(source: str) -> Callable[[Mapping[str, Any]], Any] | None:
    load_connectors()
    return _CONNECTOR_FACTORIES.get(source)


ProbeFunc = Callable[[Any], str]
_PROBES: dict[str, ProbeFunc] = {}


def probe(source: str) -> Callable[[ProbeFunc], ProbeFunc]:
    """Register a data source's connection check: ``func(connector)`` makes one or two cheap calls and returns what
    it found ("Prometheus 2.53.0, 1,204 metric names"), raising ``ToolFailure`` when the source does not answer."""

    def register(func: ProbeFunc) -> ProbeFunc:
        _PROBES[source] = func
        return func

    return register


def connection_probe(source: str) -> ProbeFunc | None:
    load_connectors()
    return _PROBES.get(source)


def tool(name: str) -> Callable[[ToolFunc], ToolFunc]:
    """Register ``func`` as the implementation of catalog tool ``name``.

    ``func(connector, params)`` receives the per-investigation connector of the tool's data source.
    """
    if name not in _CATALOG:
        raise ValueError(f"Tool {name!r} is not in TOOL_CATALOG")

    def register(func: ToolFunc) -> ToolFunc:
        _IMPLEMENTATIONS[name] = ToolSpec(name=name, source=_CATALOG[name], func=func)
        return func

    return register


def load_connectors() -> None:
    for module in CONNECTOR_MODULES:
        importlib.import_module(module)


def served_sources() -> list[str]:
    """Data sources whose settings the engine reads: those with a registered connector, and the demo source."""
    load_connectors()
    return [*_CONNECTOR_FACTORIES, DEMO_SOURCE]


def implementation(name: str) -> ToolSpec | None:
    load_connectors()
    return _IMPLEMENTATIONS.get(name)


def is_implemented(name: str) -> bool:
    return name in RUNNER_TOOLS or implementation(name) is not None


def tools_available(tools: list[str], enabled_sources: Mapping[str, Any]) -> list[str]:
    """Keep implemented tools whose data source is enabled (or that need none), in order, dropping repeats."""
    kept: list[str] = []
    for name in tools:
        if name in kept or not is_implemented(name):
            continue
        source = _CATALOG[name]
        if source is None or provider_for(source, enabled_sources) is not None:
            kept.append(name)
    return kept
