"""Deterministic mode's use of a team's MCP tools: call the ones an agent names, cite what they returned.

The rule-based engine cannot know what an arbitrary MCP tool does, so it calls only the tools an agent names
exactly in ``enable_extra_tools`` (``runbooks.lookup``; a ``runbooks.*`` wildcard offers tools to the model but
calls none) — for the planner, those its enabled delegates name. Each argument is filled by name from the request:
its context (``service``, ``namespace``, ``environment``, ``severity``, ``time_window``, ``hint``, extra context
keys), ``related_alert`` as ``alert``, and the question as ``query``, ``question``, ``message``, ``q`` or ``text``.
A required argument the request cannot give fails that step, naming the argument. What the tools returned is
cited on the root cause (``[tool:<server>.<tool>]``), as the knowledge base's passages are.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from engine.agents import BUILTIN_AGENTS
from engine.connectors.mcp import McpTool, McpToolbox, is_mcp_tool_name
from engine.models import InvestigationRequest, Report
from engine.plan_steps import Step

MAX_MCP_EVIDENCE = 3
EXCERPT_CHARS = 300
QUESTION_ARGUMENTS = ("query", "question", "message", "q", "text")
CONTEXT_FIELDS = ("service", "environment", "namespace", "severity", "related_alert", "time_window", "hint")
_JSON_TYPES: Mapping[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
}


def named_mcp_tools(request: InvestigationRequest) -> list[str]:
    """The MCP tools the running agent (or the planner's enabled delegates) name exactly, in order, once each."""
    agents = [request.agent]
    if request.agent == "planner":
        agents = [name for name in (*BUILTIN_AGENTS, *request.agents) if name != "planner"]
    named: list[str] = []
    for agent in agents:
        settings = request.agents.get(agent)
        if settings is None or not settings.enabled:
            continue
        named += [t for t in settings.enable_extra_tools if is_mcp_tool_name(t) and not t.endswith(".*")]
    return list(dict.fromkeys(named))


def mcp_steps(request: InvestigationRequest, toolbox: McpToolbox) -> list[Step]:
    """One step per named tool. A tool its server does not list (or a server that could not be listed) still gets
    its step, which fails saying why, so a named tool never silently goes uncalled."""
    values = request_values(request)
    steps: list[Step] = []
    for name in named_mcp_tools(request):
        server, _, tool_name = name.partition(".")
        tool = toolbox.find(name)
        steps.append(
            Step(f"Asking MCP server {server} ({tool_name})", name, arguments_for(tool, values) if tool else {})
        )
    return steps


def request_values(request: InvestigationRequest) -> dict[str, Any]:
    """What a tool's arguments can be filled from, by argument name."""
    ctx = request.context
    values: dict[str, Any] = {
        key: value for key, value in (ctx.model_extra or {}).items() if isinstance(value, str | int | float | bool)
    }
    for key in CONTEXT_FIELDS:
        value = getattr(ctx, key)
        if value:
            values[key] = value
    if ctx.related_alert:
        values.setdefault("alert", ctx.related_alert)
    for key in QUESTION_ARGUMENTS:
        values.setdefault(key, request.message)
    return values


def arguments_for(tool: McpTool, values: Mapping[str, Any]) -> dict[str, Any]:
    """The tool's declared arguments that ``values`` has, with a type the schema accepts."""
    properties = tool.input_schema.get("properties")
    if not isinstance(properties, Mapping):
        return {}
    arguments: dict[str, Any] = {}
    for name, schema in properties.items():
        if name not in values:
            continue
        declared = schema.get("type") if isinstance(schema, Mapping) else None
        accepted = _JSON_TYPES.get(declared) if isinstance(declared, str) else None
        value = values[name]
        if accepted is None or (isinstance(value, accepted) and not (isinstance(value, bool) and bool not in accepted)):
            arguments[name] = value
    return arguments


def missing_arguments(tool: McpTool, arguments: Mapping[str, Any]) -> list[str]:
    required = tool.input_schema.get("required")
    if not isinstance(required, list):
        return []
    return [str(name) for name in required if name not in arguments]


def cite_mcp_outputs(report: Report, outputs: Sequence[tuple[str, str]]) -> Report:
    """``report`` with what the MCP tools returned cited on its root cause."""
    lines = [f"[tool:{tool}] returned: {_excerpt(text)}" for tool, text in outputs if text.strip()]
    if not lines:
        return report
    root = report.root_cause.model_copy(update={"evidence": [*report.root_cause.evidence, *lines[:MAX_MCP_EVIDENCE]]})
    return report.model_copy(update={"root_cause": root})


def _excerpt(text: str) -> str:
    flat = re.sub(r"\s+", " ", text).strip()
    return flat if len(flat) <= EXCERPT_CHARS else flat[: EXCERPT_CHARS - 1] + "…"
