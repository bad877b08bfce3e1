"""Built-in agents, custom agents from team config, and the tools each may call (API.md §4.1, §4.5)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from pydantic import BaseModel

from engine.connectors.mcp import McpOffer, is_mcp_tool_name
from engine.errors import EngineError
from engine.models import AgentSettings
from engine.registry import TOOL_CATALOG, tools_available

ALWAYS_TOOLS: tuple[str, ...] = ("think", "read_attachment")
# The general investigator gets every MCP tool by default; other agents get those named in enable_extra_tools.
MCP_BY_DEFAULT = "investigation_agent"
NO_MCP = McpOffer()


@dataclass(frozen=True)
class AgentSpec:
    name: str
    description: str
    default_tools: tuple[str, ...]


_BUILTINS = (
    AgentSpec("planner", "Plans the investigation and delegates to specialist agents", ()),
    AgentSpec(
        "investigation_agent",
        "General investigator across every enabled data source",
        (
            "get_pod_logs",
            "get_cloudwatch_metrics",
            "query_prometheus",
            "search_logs_by_pattern",
            "search_github_code",
            "get_datadog_monitors",
            "list_datadog_events",
            "list_sentry_issues",
        ),
    ),
    AgentSpec(
        "k8s_agent",
        "Kubernetes specialist: pods, deployments, events and container logs",
        ("list_pods", "describe_pod", "get_pod_logs", "get_pod_events", "get_deployment_history"),
    ),
    AgentSpec(
        "aws_agent",
        "AWS specialist: EC2, RDS, ECS and CloudWatch logs",
        ("describe_ec2_instance", "get_rds_instance_status", "list_ecs_tasks", "get_cloudwatch_logs"),
    ),
    AgentSpec(
        "metrics_agent",
        "Metrics specialist: Prometheus, CloudWatch, Grafana and Datadog queries with anomaly detection",
        (
            "query_prometheus",
            "get_cloudwatch_metrics",
            "grafana_query",
            "query_datadog_metrics",
            "get_datadog_monitors",
            "detect_anomalies",
        ),
    ),
    AgentSpec(
        "log_analysis_agent",
        "Log specialist: groups log lines into patterns and finds failure signatures",
        ("get_log_statistics", "search_logs_by_pattern", "extract_log_signatures"),
    ),
    AgentSpec(
        "coding_agent",
        "Code specialist: searches and reads the repository and recent pull requests",
        ("search_github_code", "read_github_file", "list_pull_requests"),
    ),
)

BUILTIN_AGENTS: Mapping[str, AgentSpec] = MappingProxyType({spec.name: spec for spec in _BUILTINS})


class AgentInfo(BaseModel):
    name: str
    description: str
    enabled: bool
    builtin: bool
    tools: list[str]


def _is_custom(name: str, settings: AgentSettings) -> bool:
    return name not in BUILTIN_AGENTS and bool(settings.prompt)


def agent_tools(
    name: str,
    agents: Mapping[str, AgentSettings],
    data_sources: Mapping[str, Mapping[str, Any]],
    mcp: McpOffer = NO_MCP,
) -> list[str]:
    """think + read_attachment + defaults - disabled + extra, filtered by enabled data sources; then MCP tools.

    A string item of ``mcp_servers`` (a built-in integration) adds that data source's tools to every agent's
    defaults. MCP tools (``<server>.<tool>``) come last: every listed one for ``investigation_agent`` unless
    disabled, and for any agent those its ``enable_extra_tools`` names (``<server>.<tool>`` or ``<server>.*``).
    """
    enabled_sources = _enabled_sources(data_sources)
    settings = agents.get(name, AgentSettings())
    if name == "planner":
        delegates = [info for info in _agent_names(agents) if info != "planner" and _enabled(info, agents)]
        return [*ALWAYS_TOOLS, *delegates]
    spec = BUILTIN_AGENTS.get(name)
    integrated = [tool for tool, source in TOOL_CATALOG.items() if source is not None and source in mcp.integrations]
    candidates = (*(spec.default_tools if spec else ()), *integrated)
    defaults = [tool for tool in candidates if tool not in settings.disable_default_tools]
    extras = [tool for tool in settings.enable_extra_tools if not is_mcp_tool_name(tool)]
    return [*tools_available([*ALWAYS_TOOLS, *defaults, *extras], enabled_sources), *_mcp_tools(name, settings, mcp)]


def _mcp_tools(name: str, settings: AgentSettings, mcp: McpOffer) -> list[str]:
    wanted = [tool for tool in settings.enable_extra_tools if is_mcp_tool_name(tool)]
    dropped = [tool for tool in settings.disable_default_tools if is_mcp_tool_name(tool)]
    return [
        tool
        for tool in mcp.tools
        if any(_matches(pattern, tool) for pattern in wanted)
        or (name == MCP_BY_DEFAULT and not any(_matches(pattern, tool) for pattern in dropped))
    ]


def _matches(pattern: str, tool: str) -> bool:
    """``runbooks.lookup`` names one tool; ``runbooks.*`` every tool of the server."""
    return pattern == tool or (pattern.endswith(".*") and tool.startswith(pattern[:-1]))


def describe_agents(
    agents: Mapping[str, AgentSettings], data_sources: Mapping[str, Mapping[str, Any]], mcp: McpOffer = NO_MCP
) -> list[AgentInfo]:
    """Built-ins in documented order, then custom agents by name (API.md §4.5)."""
    infos: list[AgentInfo] = []
    for name in _agent_names(agents):
        settings = agents.get(name, AgentSettings())
        spec = BUILTIN_AGENTS.get(name)
        description = settings.description or (spec.description if spec else "Custom agent")
        infos.append(
            AgentInfo(
                name=name,
                description=description,
                enabled=_enabled(name, agents),
                builtin=spec is not None,
                tools=agent_tools(name, agents, data_sources, mcp),
            )
        )
    return infos


def resolve_agent(name: str, agents: Mapping[str, AgentSettings]) -> AgentSettings:
    """The settings to run ``name`` with; unknown or disabled agents are an ``invalid_request``."""
    if name not in _agent_names(agents):
        raise EngineError("invalid_request", f"Unknown agent '{name}'")
    if not _enabled(name, agents):
        raise EngineError("invalid_request", f"Agent '{name}' is disabled for this team")
    return agents.get(name, AgentSettings())


def _agent_names(agents: Mapping[str, AgentSettings]) -> list[str]:
    custom = sorted(name for name, settings in agents.items() if _is_custom(name, settings))
    return [*BUILTIN_AGENTS, *custom]


def _enabled(name: str, agents: Mapping[str, AgentSettings]) -> bool:
    settings = agents.get(name)
    return settings.enabled if settings is not None else True


def _enabled_sources(data_sources: Mapping[str, Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    return {
        key: value
        for key, value in data_sources.items()
        if isinstance(value, Mapping) and value.get("enabled", True) is not False
    }
