"""The only module that talks to the engine. Everything crossing this line is plain data (dicts, lists, str).

The engine package is imported lazily so the web app and its URLconf load even while the engine is being
rebuilt; ``settings.INVESTIGATIONS_ENGINE_FUNCTION`` (a dotted path, default ``engine.investigate``) exists so
real-process tests can slow a run down to kill or cancel it mid-way.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.utils.module_loading import import_string

from incidentfox_web.egress import TenantEgress


@dataclass(frozen=True)
class AgentDescription:
    name: str
    description: str
    enabled: bool
    builtin: bool
    tools: list[str]


@dataclass(frozen=True)
class ToolCallRecord:
    seq: int
    tool: str
    params: dict[str, Any]
    started_at: datetime
    duration_ms: int
    ok: bool
    error: str
    output_excerpt: str
    # Metric series for charts: [{"title", "service", "kind", "unit", "points": [[ts, value]], "onset"}].
    series: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class EngineOutcome:
    result: dict[str, Any]
    tools_used: list[str]
    demo_data: bool
    written_by: str = ""  # LLM mode: provider and model; "" for the deterministic engine
    llm_usage: dict[str, int] | None = None  # LLM mode: requests, input_tokens, output_tokens


@dataclass
class EngineFailure(Exception):
    """The engine's typed failure, as plain data: ``code`` is one of the engine's error codes."""

    code: str
    message: str
    tools_used: list[str] = field(default_factory=list)
    draft: dict[str, Any] | None = None  # llm_unavailable: the deterministic draft the model could not review

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


@dataclass(frozen=True)
class EngineRun:
    agent: str
    message: str
    context: dict[str, Any]
    attachments: list[dict[str, Any]]
    data_sources: dict[str, dict[str, Any]]
    agents: dict[str, dict[str, Any]]
    llm: dict[str, Any] | None
    deadline: datetime
    max_steps: int
    secrets: list[str] = field(default_factory=list, repr=False)  # resolved values: masked in all tool output
    mcp_servers: list[Any] = field(default_factory=list, repr=False)  # integration names and {name, url, auth}


ProgressCallback = Callable[[str, int, int], None]
ToolCallCallback = Callable[[ToolCallRecord], None]
# The team's knowledge base: (query, service, top_k) → passages as plain dicts with the keys of
# ``engine.KnowledgePassage`` (document_id, title, passage, score, heading, service, type, tags, remediation, date).
KnowledgeCallback = Callable[[str, str | None, int], list[dict[str, Any]]]


@dataclass(frozen=True)
class WrittenText:
    markdown: str
    written_by: str


def describe_team_agents(
    agents: Mapping[str, Mapping[str, Any]],
    data_sources: Mapping[str, Mapping[str, Any]],
    mcp_servers: Sequence[Any] = (),
) -> list[AgentDescription]:
    """Built-in agents plus the team's custom ones, each with the tools it can call now (API.md §4.5).

    With ``mcp_servers`` (secrets resolved), each MCP server is asked for its tools now, through the egress policy
    and with a short deadline; a server that does not answer lists none."""
    from engine import AgentSettings, describe_agents
    from engine.connectors.mcp import McpToolbox, integration_names, server_settings

    servers = _mcp_servers(mcp_servers)
    offer = McpToolbox(server_settings(servers), egress=TenantEgress()).offer(integration_names(servers))
    infos = describe_agents(
        {name: AgentSettings.model_validate(dict(value)) for name, value in agents.items()}, data_sources, offer
    )
    return [
        AgentDescription(
            name=info.name,
            description=info.description,
            enabled=info.enabled,
            builtin=info.builtin,
            tools=list(info.tools),
        )
        for info in infos
    ]


def _mcp_servers(items: Sequence[Any]) -> list[Any]:
    from engine.models import McpServerSettings

    return [item if isinstance(item, str) else McpServerSettings.model_validate(item) for item in items]


def run_engine(
    run: EngineRun,
    *,
    on_progress: ProgressCallback,
    on_tool_call: ToolCallCallback,
    should_cancel: Callable[[], bool],
    knowledge: KnowledgeCallback | None = None,
) -> EngineOutcome:
    """Run one investigation to its report; raises ``EngineFailure`` for every typed or unexpected failure."""
    from engine import (
        AgentSettings,
        Attachment,
        EngineError,
        InvestigationContext,
        InvestigationRequest,
        KnowledgePassage,
        Progress,
        ToolCall,
    )

    investigate = import_string(getattr(settings, "INVESTIGATIONS_ENGINE_FUNCTION", "engine.investigate"))
    request = InvestigationRequest(
        agent=run.agent,
        message=run.message,
        context=InvestigationContext(
            **run.context,
            attachments=[Attachment(**item) for item in run.attachments],
        ),
        data_sources=run.data_sources,
        agents={name: AgentSettings.model_validate(value) for name, value in run.agents.items()},
        deadline=run.deadline,
        max_steps=run.max_steps,
        llm=run.llm,
        secrets=run.secrets,
        mcp_servers=_mcp_servers(run.mcp_servers),
    )

    def progress(update: Progress) -> None:
        on_progress(update.current_step, update.steps_completed, update.steps_total)

    def tool_call(call: ToolCall) -> None:
        on_tool_call(
            ToolCallRecord(
                seq=call.seq,
                tool=call.tool,
                params=dict(call.params),
                started_at=call.started_at,
                duration_ms=call.duration_ms,
                ok=call.ok,
                error=call.error or "",
                output_excerpt=call.output_excerpt,
                series=[item.model_dump(mode="json") for item in call.series],
            )
        )

    def retrieve(query: str, service: str | None, top_k: int) -> list[KnowledgePassage]:
        assert knowledge is not None
        return [KnowledgePassage.model_validate(item) for item in knowledge(query, service, top_k)]

    # ``knowledge`` only when the team has a knowledge base, so stand-in engine functions need not know it.
    extra = {"knowledge": retrieve} if knowledge is not None else {}
    try:
        report = investigate(
            request,
            on_progress=progress,
            on_tool_call=tool_call,
            should_cancel=should_cancel,
            egress=TenantEgress(),
            **extra,
        )
    except EngineError as exc:
        raise EngineFailure(
            code=exc.code, message=exc.message, tools_used=list(exc.tools_used), draft=getattr(exc, "draft", None)
        ) from exc
    return EngineOutcome(
        result=report.api_result(),
        tools_used=list(report.tools_used),
        demo_data=bool(report.demo_data),
        written_by=report.written_by or "",
        llm_usage=dict(report.llm_usage) if report.llm_usage else None,
    )


def write_with_team_model(llm: Mapping[str, Any] | None, *, instructions: str, prompt: str) -> WrittenText | None:
    """The team's model rewrites ``prompt`` as Markdown; None in deterministic mode. Raises ``EngineFailure``
    (``llm_unavailable``) when the provider fails."""
    from engine import EngineError
    from engine.llm.writer import write_markdown

    try:
        written = write_markdown(llm, instructions=instructions, prompt=prompt)
    except EngineError as exc:
        raise EngineFailure(code=exc.code, message=exc.message) from exc
    return WrittenText(markdown=written.markdown, written_by=written.written_by) if written is not None else None


def tool_source(tool: str) -> str:
    """The data source a tool reads (its catalog entry), for metrics labels: ``analysis`` for tools that read
    no source, ``other`` for tools outside the catalog (a team's MCP tools), so the label's values stay bounded."""
    from engine import TOOL_CATALOG

    if tool not in TOOL_CATALOG:
        return "other"
    return TOOL_CATALOG[tool] or "analysis"
