"""``investigate``: run an agent's plan step by step, then analyze, rank and report."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from engine.agents import BUILTIN_AGENTS, MCP_BY_DEFAULT, agent_tools, resolve_agent
from engine.analysis_context import AnalysisContext, parse_window
from engine.analysis_tools import RunData
from engine.analyzers import run_analyzers
from engine.connectors import ToolFailure
from engine.connectors.http import Egress, using_egress
from engine.connectors.mcp import McpOffer, McpToolbox, integration_names, is_mcp_tool_name, server_settings
from engine.errors import EngineError
from engine.facts import Observations
from engine.focus import Focus, resolve_focus
from engine.incident_time import incident_start
from engine.knowledge import KNOWLEDGE_SOURCE, KnowledgeRetriever, consult_knowledge
from engine.llm import LlmSettings, llm_settings
from engine.logs.index import LogIndex
from engine.masking import SecretMasker
from engine.mcp_plan import cite_mcp_outputs, mcp_steps, missing_arguments
from engine.models import (
    OUTPUT_EXCERPT_LIMIT,
    AgentSettings,
    InvestigationRequest,
    MetricSeries,
    Progress,
    Report,
    ToolCall,
)
from engine.parsers.detect import SkipAttachment, parse_attachment
from engine.pasted import pasted_output
from engine.plan import PLAYBOOKS
from engine.plan_steps import PlanContext, Step
from engine.plan_telemetry import planner_extras
from engine.question import Question, parse_question, with_alert_documents
from engine.ranking import rank
from engine.registry import DEMO_SOURCE, TOOL_CATALOG, ToolResult, connector_factory, implementation, provider_for
from engine.report import answer, note_skipped
from engine.run_memo import MadeCall, call_key
from engine.series import metric_series

SOURCE_NAMES = {
    "kubernetes": "Kubernetes",
    "prometheus": "Prometheus",
    "loki": "Loki",
    "elasticsearch": "Elasticsearch",
    "aws": "AWS",
    "cloudwatch": "CloudWatch",
    "github": "GitHub",
    "grafana": "Grafana",
    "datadog": "Datadog",
    "coralogix": "Coralogix",
    "sentry": "Sentry",
    "demo": "the demo data source",
}


class _Run:
    def __init__(
        self,
        request: InvestigationRequest,
        on_progress: Callable[[Progress], None] | None,
        on_tool_call: Callable[[ToolCall], None] | None,
        should_cancel: Callable[[], bool] | None,
        knowledge: KnowledgeRetriever | None = None,
        egress: Egress | None = None,
    ) -> None:
        self.request = request
        self.knowledge = knowledge  # the team's knowledge base (kb_retrieve), when the caller has one
        self.egress = egress
        self.masker = SecretMasker(request.secrets)
        self.on_progress = on_progress
        self.on_tool_call = on_tool_call
        self.should_cancel = should_cancel
        self.calls: list[ToolCall] = []
        self.tools_used: list[str] = []
        self.obs = Observations()
        self.skipped: list[dict[str, str]] = []
        self.connectors: dict[str, Any] = {}
        self.down: dict[str, str] = {}  # source -> failure message
        self.completed = 0
        self.made: dict[str, MadeCall] = {}  # each distinct call (tool and parameters) this run made, by call_key
        self.ctx = analysis_context(request)  # one per run: it carries the run's memo of computed anomalies
        self.mcp = McpToolbox(server_settings(request.mcp_servers), egress=egress)  # lists each server once a run
        self.mcp_outputs: list[tuple[str, str]] = []  # (tool, text) of each MCP call that succeeded

    def checkpoint(self, title: str, remaining: int) -> None:
        self.check_stop()
        if self.on_progress is not None:
            total = self.completed + max(remaining, 1)
            self.on_progress(Progress(current_step=title, steps_completed=self.completed, steps_total=total))

    def check_stop(self) -> None:
        """Raise if the investigation was cancelled or is past its deadline."""
        if self.should_cancel is not None and self.should_cancel():
            raise EngineError("cancelled", "Investigation was cancelled", tools_used=self.tools_used)
        deadline = self.request.deadline
        if deadline is not None and datetime.now(UTC) >= deadline:
            raise EngineError("timeout", "Investigation exceeded its deadline", tools_used=self.tools_used)

    def absorb(self, result: ToolResult) -> None:
        """Keep a tool's observations for the analyzers."""
        self.obs.extend(result.observations)

    def record(
        self,
        tool: str,
        params: dict[str, Any],
        started: datetime,
        clock: float,
        ok: bool,
        error: str | None,
        output: str,
        series: list[MetricSeries] | None = None,
    ) -> None:
        if tool not in self.tools_used:
            self.tools_used.append(tool)
        mask = self.masker
        call = ToolCall(
            seq=len(self.calls) + 1,
            tool=tool,
            params=mask.data(params),
            started_at=started,
            duration_ms=int((time.perf_counter() - clock) * 1000),
            ok=ok,
            error=mask.text(error) if error is not None else None,
            output_excerpt=mask.text(output)[:OUTPUT_EXCERPT_LIMIT],
            series=[item.model_copy(update={"title": mask.text(item.title)}) for item in series or []],
        )
        self.calls.append(call)
        if self.on_tool_call is not None:
            self.on_tool_call(call)

    def read_attachments(self) -> None:
        pasted = pasted_output(self.request.message)
        attachments = [*self.request.context.attachments, *([pasted] if pasted else [])]
        for index, attachment in enumerate(attachments):
            self.checkpoint(f"Reading attachment {attachment.name}", len(attachments) - index + 1)
            started, clock = datetime.now(UTC), time.perf_counter()
            try:
                parsed = parse_attachment(attachment)
            except SkipAttachment as skip:
                self.skipped.append({"name": attachment.name, "reason": skip.reason})
                self.record("read_attachment", {"name": attachment.name}, started, clock, False, skip.reason, "")
            else:
                self.obs.extend(parsed.observations)
                self.record(
                    "read_attachment",
                    {"name": attachment.name},
                    started,
                    clock,
                    True,
                    None,
                    _summarize(parsed.kind, parsed.observations),
                )
            self.completed += 1

    def run_steps(self, steps: list[Step]) -> None:
        queue = list(steps)
        budget = max(self.request.max_steps - self.completed, 0)
        while queue and budget > 0:
            step = queue.pop(0)
            source = _source_of(step.tool)
            if source in self.down or self.earlier(step.tool, step.params) is not None:
                continue  # an identical call already ran: its observations and follow-ups are in already
            self.checkpoint(step.title, len(queue) + 1)
            result = self.call(step.tool, step.params)
            self.completed += 1
            budget -= 1
            if result is not None:
                self.absorb(result)
                if step.follow_up is not None:
                    queue.extend(step.follow_up(result))

    def earlier(self, tool: str, params: dict[str, Any]) -> MadeCall | None:
        """The identical call (same tool, same parameters) this run already made, if any."""
        return self.made.get(call_key(tool, params))

    def call(self, tool: str, params: dict[str, Any], *, from_model: bool = False) -> ToolResult | None:
        """Run a tool and log the call; a failure is logged and gives None.

        A call identical to one this run already made is not made again: the first outcome is returned and
        nothing new is logged (a run's answers do not change within it, and a repeat would list it twice).

        ``from_model``: the parameters came from a language model, so a value the tool cannot use (a ValueError,
        TypeError or KeyError from reading it) is that call's failure, reported back, not a failed investigation.
        """
        key = call_key(tool, params)
        made = self.made.get(key)
        if made is not None:
            return made.result
        if is_mcp_tool_name(tool):
            result = self.call_mcp(tool, params)
        else:
            result = self._make_call(tool, params, from_model=from_model)
        last = self.calls[-1]
        self.made[key] = MadeCall(seq=last.seq, result=result, error=last.error)
        return result

    def _make_call(self, tool: str, params: dict[str, Any], *, from_model: bool) -> ToolResult | None:
        spec = implementation(tool)
        started, clock = datetime.now(UTC), time.perf_counter()
        if spec is None:
            self.record(tool, params, started, clock, False, f"Tool {tool} is not available", "")
            return None
        try:
            client = self._connector(spec.source) if spec.source else RunData(self.obs, self.ctx)
            result = spec.func(client, params)
        except ToolFailure as failure:
            if failure.unreachable and spec.source:
                self.down[spec.source] = failure.message
            self.record(tool, params, started, clock, False, failure.message, "")
            return None
        except (ValueError, TypeError, KeyError) as exc:
            if not from_model:
                raise
            message = f"Invalid parameters for {tool} ({type(exc).__name__}: {str(exc)[:200]})"
            self.record(tool, params, started, clock, False, message, "")
            return None
        if self.masker:  # what the tool returned may echo a credential; nothing after this sees it
            result = replace(result, text=self.masker.text(result.text))
        charted = result.charted if result.charted is not None else result.observations.series
        series = metric_series(charted, self.ctx)
        self.record(tool, params, started, clock, True, None, result.text, series)
        return result

    def call_mcp(self, tool: str, params: dict[str, Any]) -> ToolResult | None:
        """Call one of the team's MCP tools; its failure (refused, timed out, an error result) is that step's."""
        started, clock = datetime.now(UTC), time.perf_counter()
        listed = self.mcp.find(tool)
        missing = missing_arguments(listed, params) if listed is not None else []
        try:
            if missing:
                raise ToolFailure(f"{tool} needs {', '.join(missing)}, which this investigation does not give")
            text = self.mcp.call(tool, params, seconds_left=self.seconds_left())
        except ToolFailure as failure:
            self.record(tool, params, started, clock, False, failure.message, "")
            return None
        text = self.masker.text(text) if self.masker else text
        self.record(tool, params, started, clock, True, None, text)
        self.mcp_outputs.append((tool, text))
        return ToolResult(text=text)

    def seconds_left(self) -> float | None:
        deadline = self.request.deadline
        return None if deadline is None else (deadline - datetime.now(UTC)).total_seconds()

    def mcp_offer(self) -> McpOffer:
        """The team's MCP tools for this run; the servers are asked only when an agent in play may use them."""
        integrations = integration_names(self.request.mcp_servers)
        return self.mcp.offer(integrations) if _may_use_mcp(self.request) else McpOffer(integrations=integrations)

    def _connector(self, source: str) -> Any:
        if source == KNOWLEDGE_SOURCE:
            if self.knowledge is None:
                raise ToolFailure("No knowledge base is connected", unreachable=True)
            return self.knowledge
        if source not in self.connectors:
            sources = self.request.enabled_sources()
            provider = provider_for(source, sources)
            if provider == DEMO_SOURCE:
                from engine.demo import demo_client

                self.connectors[source] = demo_client(source, sources[DEMO_SOURCE], self.request)
                return self.connectors[source]
            factory = connector_factory(provider) if provider else None
            if factory is None or provider is None:
                raise ToolFailure(f"No connector for {SOURCE_NAMES.get(source, source)}", unreachable=True)
            settings = sources[provider]
            if provider == "cloudwatch" and "aws" in sources:
                settings = {**settings, "aws": sources["aws"]}  # cloudwatch uses the aws credentials
            with using_egress(self.egress):
                self.connectors[source] = factory(settings)
        return self.connectors[source]

    def mask_report(self, report: Report) -> Report:
        """The report with every known secret masked (evidence quotes what the tools returned)."""
        if not self.masker:
            return report
        return Report.model_validate(self.masker.data(report.model_dump()))


def _source_of(tool: str) -> str | None:
    return TOOL_CATALOG.get(tool)


def _summarize(kind: str, obs: Observations) -> str:
    counts = {
        "pods": len(obs.pods),
        "events": len(obs.events),
        "nodes": len(obs.nodes),
        "workloads": len(obs.workloads),
        "services": len(obs.services),
        "claims": len(obs.claims),
        "usage": len(obs.usage),
        "log_lines": sum(len(doc.lines) for doc in obs.logs),
    }
    return f"{kind}: " + json.dumps({k: v for k, v in counts.items() if v}, sort_keys=True)


def analysis_context(
    request: InvestigationRequest,
    *,
    question: Question | None = None,
    logs: LogIndex | None = None,
    focus: Focus | None = None,
) -> AnalysisContext:
    """The window and focus the analyzers (and the charted onsets) use for this request."""
    return AnalysisContext(
        now=request.reference_now(),
        window=parse_window(request.context.time_window),
        service=request.context.service,
        namespace=request.context.namespace,
        anchor=incident_start(request),
        question=question,
        logs=logs,
        focus=focus,
    )


def investigate(
    request: InvestigationRequest,
    *,
    on_progress: Callable[[Progress], None] | None = None,
    on_tool_call: Callable[[ToolCall], None] | None = None,
    should_cancel: Callable[[], bool] | None = None,
    knowledge: KnowledgeRetriever | None = None,
    egress: Egress | None = None,
) -> Report:
    """Run one investigation; raises :class:`EngineError` on typed failures.

    Deterministic mode unless the request carries LLM settings (``engine.llm``): then a model reviews the
    deterministic draft, may call more tools, and writes the report. ``egress`` supplies the transport for every
    call to a URL in the team's settings (data sources, the LLM ``base_url``); None connects directly.
    """
    resolve_agent(request.agent, request.agents)
    agent_settings = request.agents.get(request.agent)
    llm = llm_settings(request.llm, model_override=agent_settings.model if agent_settings else None)
    run = _Run(request, on_progress, on_tool_call, should_cancel, knowledge=knowledge, egress=egress)
    try:
        return _investigate(run, llm)
    except EngineError:
        raise
    except Exception as exc:  # a bug must not leak internals; the caller records a typed failure
        raise EngineError(
            "internal_error",
            f"Investigation failed unexpectedly ({type(exc).__name__})",
            tools_used=run.tools_used,
        ) from exc


def _investigate(run: _Run, llm: LlmSettings | None) -> Report:
    request = run.request
    sources = request.enabled_sources()
    tools = _effective_tools(request, run.mcp_offer())
    run.read_attachments()
    plan_settings = sources
    if DEMO_SOURCE in sources:
        from engine.demo import demo_plan_settings  # the demo stands in for every source

        plan_settings = demo_plan_settings(sources)
    plan = PlanContext(request=request, tools=tools, settings=plan_settings, analysis=run.ctx)
    for playbook in PLAYBOOKS:
        run.run_steps(playbook(plan))
    run.run_steps(mcp_steps(request, run.mcp))
    run.checkpoint("Analyzing findings", 1)
    if run.obs.is_empty() and run.down:
        source = sorted(run.down)[0]
        raise EngineError(
            "data_source_unavailable",
            f"Unable to connect to {SOURCE_NAMES.get(source, source)}",
            tools_used=run.tools_used,
        )
    question = with_alert_documents(
        parse_question(request),
        [d.data for d in run.obs.documents],
        [a.content for a in request.context.attachments],
    )
    focus = resolve_focus(question, run.obs)
    logs = LogIndex.build(run.obs.logs)
    ctx = replace(run.ctx, question=question, logs=logs, focus=focus)  # the run's memo and incident time stay
    findings = run_analyzers(run.obs, ctx)
    scored = rank(findings, service=request.context.service, message=request.message, focus=focus)
    report = answer(question, scored, run.obs, ctx, focus)
    if run.knowledge is not None:  # runbooks and postmortems that explain the finding (engine/knowledge.py)
        report = consult_knowledge(run, report)
    report = cite_mcp_outputs(report, run.mcp_outputs)
    report.tools_used = list(run.tools_used)
    report.tool_calls = list(run.calls)
    report.skipped_attachments = list(run.skipped)
    note_skipped(report, run.skipped)
    report = run.mask_report(report)
    if llm is not None:
        from engine.llm.review import review_with_llm  # imports pydantic-ai only when a team uses LLM mode

        report = run.mask_report(review_with_llm(run, report, tools, llm))
    report.demo_data = "demo" in sources
    if report.demo_data and "(demo data)" not in report.summary:
        report.summary = f"{report.summary.rstrip()} (demo data)"
    if run.on_progress is not None:
        run.on_progress(Progress(current_step="Done", steps_completed=run.completed + 1, steps_total=run.completed + 1))
    return report


def _may_use_mcp(request: InvestigationRequest) -> bool:
    """Whether the running agent (or one the planner delegates to) gets MCP tools: by default, or by naming them."""
    names = [request.agent] if request.agent != "planner" else [*BUILTIN_AGENTS, *request.agents]
    for name in names:
        settings = request.agents.get(name, AgentSettings())
        if name == "planner" or not settings.enabled:
            continue
        if name == MCP_BY_DEFAULT or any(is_mcp_tool_name(tool) for tool in settings.enable_extra_tools):
            return True
    return False


def _effective_tools(request: InvestigationRequest, mcp: McpOffer) -> list[str]:
    """The tools the agent may call; the planner gets the union of its enabled delegates' tools."""
    names = agent_tools(request.agent, request.agents, request.data_sources, mcp)
    if request.agent != "planner":
        return names
    delegated: list[str] = []
    for name in names:
        if name in BUILTIN_AGENTS or name in request.agents:
            for tool in agent_tools(name, request.agents, request.data_sources, mcp):
                if tool not in delegated:
                    delegated.append(tool)
    # The planner asks the Kubernetes specialist for the wider sweep (events, nodes, deployments) when it can.
    if "list_pods" in delegated:
        delegated += [t for t in ("list_events", "describe_deployment", "describe_node") if t not in delegated]
    delegated += planner_extras(delegated, request.enabled_sources())
    return delegated
