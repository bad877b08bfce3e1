"""``investigate``: run an agent's plan step by step, then analyze, rank and report."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from engine.agents import BUILTIN_AGENTS, agent_tools, resolve_agent
from engine.analysis_tools import RunData
from engine.analyzers import AnalysisContext, run_analyzers
from engine.connectors import ToolFailure
from engine.errors import EngineError
from engine.facts import Observations
from engine.incident_time import incident_start
from engine.llm import LlmSettings, llm_settings
from engine.models import OUTPUT_EXCERPT_LIMIT, InvestigationRequest, MetricSeries, Progress, Report, ToolCall
from engine.parsers.detect import SkipAttachment, parse_attachment
from engine.plan import PLAYBOOKS, PlanContext, Step
from engine.ranking import rank
from engine.registry import DEMO_SOURCE, ToolResult, connector_factory, implementation, provider_for
from engine.report import build_report
from engine.series import metric_series

DEFAULT_WINDOW = timedelta(hours=6)
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
    "demo": "the demo data source",
}


class _Run:
    def __init__(
        self,
        request: InvestigationRequest,
        on_progress: Callable[[Progress], None] | None,
        on_tool_call: Callable[[ToolCall], None] | None,
        should_cancel: Callable[[], bool] | None,
    ) -> None:
        self.request = request
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
        self.ctx = analysis_context(request)  # one per run: it carries the run's memo of computed anomalies

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
        call = ToolCall(
            seq=len(self.calls) + 1,
            tool=tool,
            params=params,
            started_at=started,
            duration_ms=int((time.perf_counter() - clock) * 1000),
            ok=ok,
            error=error,
            output_excerpt=output[:OUTPUT_EXCERPT_LIMIT],
            series=series or [],
        )
        self.calls.append(call)
        if self.on_tool_call is not None:
            self.on_tool_call(call)

    def read_attachments(self) -> None:
        attachments = self.request.context.attachments
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
            if source in self.down:
                continue
            self.checkpoint(step.title, len(queue) + 1)
            result = self.call(step.tool, step.params)
            self.completed += 1
            budget -= 1
            if result is not None:
                self.absorb(result)
                if step.follow_up is not None:
                    queue.extend(step.follow_up(result))

    def call(self, tool: str, params: dict[str, Any], *, from_model: bool = False) -> ToolResult | None:
        """Run a tool and log the call; a failure is logged and gives None.

        ``from_model``: the parameters came from a language model, so a value the tool cannot use (a ValueError,
        TypeError or KeyError from reading it) is that call's failure, reported back, not a failed investigation.
        """
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
        charted = result.charted if result.charted is not None else result.observations.series
        series = metric_series(charted, self.ctx)
        self.record(tool, params, started, clock, True, None, result.text, series)
        return result

    def _connector(self, source: str) -> Any:
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
            self.connectors[source] = factory(settings)
        return self.connectors[source]


def _source_of(tool: str) -> str | None:
    from engine.registry import TOOL_CATALOG

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


def _window(text: str | None) -> timedelta:
    match = re.fullmatch(r"([1-9]\d*)([mhd])", text or "")
    if not match:
        return DEFAULT_WINDOW
    amount, unit = int(match.group(1)), match.group(2)
    span = {"m": timedelta(minutes=amount), "h": timedelta(hours=amount), "d": timedelta(days=amount)}[unit]
    return max(span, timedelta(hours=1))


def analysis_context(request: InvestigationRequest) -> AnalysisContext:
    """The window and focus the analyzers (and the charted onsets) use for this request."""
    return AnalysisContext(
        now=request.reference_now(),
        window=_window(request.context.time_window),
        service=request.context.service,
        namespace=request.context.namespace,
        anchor=incident_start(request),
    )


def investigate(
    request: InvestigationRequest,
    *,
    on_progress: Callable[[Progress], None] | None = None,
    on_tool_call: Callable[[ToolCall], None] | None = None,
    should_cancel: Callable[[], bool] | None = None,
) -> Report:
    """Run one investigation; raises :class:`EngineError` on typed failures.

    Deterministic mode unless the request carries LLM settings (``engine.llm``): then a model reviews the
    deterministic draft, may call more tools, and writes the report.
    """
    resolve_agent(request.agent, request.agents)
    agent_settings = request.agents.get(request.agent)
    llm = llm_settings(request.llm, model_override=agent_settings.model if agent_settings else None)
    run = _Run(request, on_progress, on_tool_call, should_cancel)
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
    tools = _effective_tools(request)
    run.read_attachments()
    plan_settings = sources
    if DEMO_SOURCE in sources:
        from engine.demo import demo_plan_settings  # the demo stands in for every source

        plan_settings = demo_plan_settings(sources)
    plan = PlanContext(request=request, tools=tools, settings=plan_settings, analysis=run.ctx)
    for playbook in PLAYBOOKS:
        run.run_steps(playbook(plan))
    run.checkpoint("Analyzing findings", 1)
    if run.obs.is_empty():
        if run.down:
            source = sorted(run.down)[0]
            raise EngineError(
                "data_source_unavailable",
                f"Unable to connect to {SOURCE_NAMES.get(source, source)}",
                tools_used=run.tools_used,
            )
        if run.skipped and len(run.skipped) == len(request.context.attachments):
            first = run.skipped[0]
            raise EngineError(
                "invalid_attachment",
                f"Attachment '{first['name']}' could not be read: {first['reason']}",
                tools_used=run.tools_used,
            )
    ctx = run.ctx
    findings = run_analyzers(run.obs, ctx)
    scored = rank(findings, service=request.context.service, message=request.message)
    report = build_report(scored, run.obs, ctx)
    report.tools_used = list(run.tools_used)
    report.tool_calls = list(run.calls)
    report.skipped_attachments = list(run.skipped)
    if llm is not None:
        from engine.llm.review import review_with_llm  # imports pydantic-ai only when a team uses LLM mode

        report = review_with_llm(run, report, tools, llm)
    report.demo_data = "demo" in sources
    if report.demo_data and "(demo data)" not in report.summary:
        report.summary = f"{report.summary.rstrip()} (demo data)"
    if run.on_progress is not None:
        run.on_progress(Progress(current_step="Done", steps_completed=run.completed + 1, steps_total=run.completed + 1))
    return report


def _effective_tools(request: InvestigationRequest) -> list[str]:
    """The tools the agent may call; the planner gets the union of its enabled delegates' tools."""
    names = agent_tools(request.agent, request.agents, request.data_sources)
    if request.agent != "planner":
        return names
    delegated: list[str] = []
    for name in names:
        if name in BUILTIN_AGENTS or name in request.agents:
            for tool in agent_tools(name, request.agents, request.data_sources):
                if tool not in delegated:
                    delegated.append(tool)
    # The planner asks the Kubernetes specialist for the wider sweep (events, nodes, deployments) when it can.
    if "list_pods" in delegated:
        delegated += [t for t in ("list_events", "describe_deployment", "describe_node") if t not in delegated]
    from engine.plan_telemetry import planner_extras

    delegated += planner_extras(delegated, request.enabled_sources())
    return delegated
