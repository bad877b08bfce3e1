"""``review_with_llm``: the model reviews the deterministic draft, may call more tools, and writes the report."""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

from pydantic import BaseModel, Field

from engine.connectors.http import Egress, egress_refusal
from engine.connectors.mcp import McpTool, McpToolbox, is_mcp_tool_name
from engine.connectors.params import to_epoch
from engine.errors import EngineError
from engine.llm.agent_thread import AgentThread
from engine.llm.briefing import briefing, instructions
from engine.llm.evidence import evidence_problems
from engine.llm.providers import REQUEST_TIMEOUT_SECONDS, build_model
from engine.llm.redact import redact
from engine.llm.settings import LlmSettings
from engine.llm.tool_guide import describe_tool
from engine.models import (
    Hypothesis,
    InvestigationRequest,
    Recommendation,
    Report,
    RootCause,
    TimelineEvent,
    ToolCall,
)
from engine.registry import TOOL_CATALOG, ToolResult, implementation
from engine.run_memo import MadeCall

MAX_TOOL_OUTPUT_CHARS = 8000  # what one tool call hands back to the model
OUTPUT_RETRIES = 2  # a report that breaks the evidence rule is sent back this many times
EXTRA_MODEL_REQUESTS = 6  # model requests beyond one per budgeted tool call: the first look, the answer, slack
NOT_OFFERED = frozenset({"think", "read_attachment"})  # attachments are already read; thinking needs no tool


class _EngineSide(Exception):
    """A failure of the engine itself while it ran a tool for the model: not the provider's (``internal_error``)."""

    def __init__(self, original: Exception) -> None:
        super().__init__(str(original))
        self.original = original


class Run(Protocol):
    """What the review needs of the engine's run (``engine.runner._Run``)."""

    request: InvestigationRequest
    calls: list[ToolCall]
    tools_used: list[str]
    down: dict[str, str]
    completed: int
    egress: Egress | None
    mcp: McpToolbox

    def call(self, tool: str, params: dict[str, Any], *, from_model: bool = False) -> ToolResult | None: ...
    def earlier(self, tool: str, params: dict[str, Any]) -> MadeCall | None: ...
    def checkpoint(self, title: str, remaining: int) -> None: ...
    def check_stop(self) -> None: ...
    def absorb(self, result: ToolResult) -> None: ...


class LlmReport(BaseModel):
    """The report the model returns (the §4.1 result plus the hypotheses it weighed)."""

    summary: str = Field(max_length=4000)
    root_cause: RootCause
    hypotheses: list[Hypothesis] = Field(default_factory=list, max_length=20)
    timeline: list[TimelineEvent] = Field(default_factory=list, max_length=100)
    affected_systems: list[str] = Field(default_factory=list, max_length=50)
    recommendations: list[Recommendation] = Field(default_factory=list, max_length=20)


def review_with_llm(run: Run, draft: Report, tools: Sequence[str], settings: LlmSettings) -> Report:
    """The final report written by the model; ``EngineError("llm_unavailable")`` if the provider fails."""
    from pydantic_ai import Agent, ModelRetry, RunContext, Tool
    from pydantic_ai.usage import UsageLimits

    request = run.request
    budget = max(request.max_steps - run.completed, 0)
    offered = [name for name in tools if name not in NOT_OFFERED and implementation(name) is not None]
    mcp_tools = [tool for tool in (run.mcp.find(name) for name in tools if is_mcp_tool_name(name)) if tool]
    bridge: AgentThread[Any] = AgentThread()
    attachments = {a.name for a in request.context.attachments}

    def tool_for(name: str) -> Tool[None]:
        async def call(params: dict[str, Any]) -> str:
            return await bridge.call_tool(name, params)

        # Every implemented tool has a guide entry (tests/engine/llm/test_tool_guide.py).
        return Tool(call, takes_ctx=False, name=name, description=describe_tool(name, fallback=name))

    def mcp_tool_for(tool: McpTool, model_name: str) -> Tool[None]:
        async def call(**arguments: Any) -> str:
            return await bridge.call_tool(tool.qualified, arguments)

        description = f"{tool.description}\n(MCP tool {tool.qualified} of the team: cite it as [tool:{tool.qualified}])"
        schema = tool.input_schema if tool.input_schema.get("type") == "object" else {"type": "object"}
        return Tool.from_schema(call, name=model_name, description=description.strip(), json_schema=schema)

    agent_settings = request.agents.get(request.agent)
    agent = Agent(
        build_model(
            settings,
            timeout=_seconds_left(request),
            transport=run.egress.async_transport() if run.egress is not None else None,
        ),
        output_type=LlmReport,
        instructions=instructions(agent_settings.prompt if agent_settings else None),
        # Past the budget, a call is answered "no budget left".
        tools=[
            *(tool_for(name) for name in offered),
            *(mcp_tool_for(tool, name) for name, tool in model_names(mcp_tools, taken=offered).items()),
        ],
        retries={"tools": 1, "output": OUTPUT_RETRIES},
    )

    @agent.output_validator
    def follows_the_evidence_rule(ctx: RunContext[None], report: LlmReport) -> LlmReport:
        lines = [*report.root_cause.evidence, *(line for h in report.hypotheses for line in h.evidence)]
        problems = evidence_problems(lines, tools_used=run.tools_used, attachments=attachments)
        if problems:
            raise ModelRetry(
                "Some evidence lines break the evidence rule; fix or drop them:\n- " + "\n- ".join(problems)
            )
        return report

    spent = 0

    def execute(name: str, params: dict[str, Any]) -> str:
        try:
            return run_tool(name, params)
        except EngineError:
            raise
        except Exception as exc:
            raise _EngineSide(exc) from exc

    def run_tool(name: str, params: dict[str, Any]) -> str:
        nonlocal spent
        if spent >= budget:
            return "No tool calls are left in this investigation's step budget: write the final report now."
        source = TOOL_CATALOG.get(name)
        if source is not None and source in run.down:  # already failed to connect in this investigation
            return f"{name} is unavailable in this investigation: {run.down[source]}"
        if request.now is not None and not is_mcp_tool_name(name) and not {"end", "now"} & params.keys():
            params = {**params, "now": request.now.isoformat()}  # windows end at the request's reference time
        earlier = run.earlier(name, params)
        if earlier is not None:  # not made again: the model gets the first answer, its budget is not spent
            note = f"You already made this call (tool call #{earlier.seq}); its result again"
            if earlier.result is None:
                return redact(f"{note}: the call failed: {earlier.error}")
            return _cut(redact(f"{note}:\n{earlier.result.text}"))
        run.checkpoint(f"The team's model calls {name}", 2)  # this call, then its write-up: no jump to the budget
        spent += 1
        run.completed += 1
        result = run.call(name, params, from_model=True)
        if result is None:
            return redact(f"The call failed: {run.calls[-1].error}") if run.calls else "The call failed."
        run.absorb(result)
        return _cut(redact(result.text))

    last_check = 0.0

    def tick() -> None:
        nonlocal last_check
        if time.monotonic() - last_check >= 1.0:  # should_cancel may read a database row
            last_check = time.monotonic()
            run.check_stop()

    run.checkpoint(f"Reviewing the findings with {settings.label}", 1)
    prompt = redact(briefing(request, draft, run.calls))
    limits = UsageLimits(request_limit=budget + EXTRA_MODEL_REQUESTS + OUTPUT_RETRIES)
    try:
        result = bridge.run(lambda: agent.run(prompt, usage_limits=limits), execute, tick)
    except EngineError:
        raise
    except _EngineSide as side:
        raise side.original from None  # the runner reports it as internal_error, like any engine bug
    except Exception as exc:
        raise EngineError(
            "llm_unavailable",
            _failure_message(settings, exc),
            tools_used=run.tools_used,
            draft=draft.api_result(),
        ) from exc
    written: LlmReport = result.output
    return draft.model_copy(
        update={
            "summary": written.summary,
            "root_cause": written.root_cause,
            "hypotheses": written.hypotheses,
            "timeline": sorted(written.timeline, key=lambda event: to_epoch(event.timestamp)),
            "affected_systems": written.affected_systems,
            "recommendations": written.recommendations,
            "tools_used": list(run.tools_used),
            "tool_calls": list(run.calls),
            "written_by": settings.label,
            "llm_usage": _usage(result.usage),
        }
    )


def model_names(tools: Sequence[McpTool], *, taken: Sequence[str]) -> dict[str, McpTool]:
    """A function name for each MCP tool the vendors accept (``[A-Za-z0-9_-]{1,64}``): ``<server>__<tool>``;
    a tool whose name would collide with another's is not offered."""
    names: dict[str, McpTool] = {}
    for tool in tools:
        name = re.sub(r"[^A-Za-z0-9_-]", "_", f"{tool.server}__{tool.name}")[:64]
        if name not in names and name not in taken:
            names[name] = tool
    return names


def _cut(text: str) -> str:
    return text if len(text) <= MAX_TOOL_OUTPUT_CHARS else text[:MAX_TOOL_OUTPUT_CHARS] + "\n(output cut)"


def _usage(usage: Any) -> dict[str, int]:
    """What the run cost in the provider's units, for the team's own accounting."""
    return {
        "requests": int(usage.requests),
        "input_tokens": int(usage.input_tokens or 0),
        "output_tokens": int(usage.output_tokens or 0),
    }


def _seconds_left(request: InvestigationRequest) -> float:
    if request.deadline is None:
        return REQUEST_TIMEOUT_SECONDS
    return (request.deadline - datetime.now(UTC)).total_seconds()


def _failure_message(settings: LlmSettings, exc: Exception) -> str:
    """Why the provider failed, naming the provider and model — never its address, the key or the payload."""
    from pydantic_ai.exceptions import ModelAPIError, ModelHTTPError, UnexpectedModelBehavior, UsageLimitExceeded

    cause: BaseException | None = exc
    for _depth in range(8):  # the SDK wraps the egress transport's refusal in its own connection error
        if cause is None:
            break
        refusal = egress_refusal(cause)
        if refusal is not None:
            return f"{settings.label} base_url {refusal}"
        cause = cause.__cause__ or cause.__context__
    if isinstance(exc, ModelHTTPError):
        return f"{settings.label} failed after retries (HTTP {exc.status_code})"
    if isinstance(exc, UsageLimitExceeded):
        return f"{settings.label} did not finish within its request budget"
    if isinstance(exc, UnexpectedModelBehavior):
        return f"{settings.label} did not return a valid report after {OUTPUT_RETRIES + 1} attempts"
    if isinstance(exc, ModelAPIError):
        return f"{settings.label} could not be reached after retries ({type(exc).__name__})"
    return f"{settings.label} failed ({type(exc).__name__})"
