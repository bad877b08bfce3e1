"""What the model is told: its instructions, and a briefing of everything this investigation has gathered."""

from __future__ import annotations

import json
from collections.abc import Sequence

from engine.models import InvestigationRequest, Report, ToolCall

MAX_EXCERPT_CHARS = 1500  # per tool call in the briefing
MAX_BRIEFING_CHARS = 40_000
MAX_ATTACHMENT_CHARS = 2000

INSTRUCTIONS = """\
You are IncidentFox, an SRE investigating a production incident for the engineer on call.
A deterministic analysis has already run. You get its draft report and the output of every tool call it made.
Check the draft against that evidence, call tools to confirm or refute it or to fill gaps, then return the final
report through the final_result tool.

Rules:
- Evidence rule: every evidence line starts with [tool:<name>] for a tool that ran in THIS investigation, or
  [attachment:<name>] for an attachment of this request, then one space and an excerpt or a faithful paraphrase
  of what that source returned. Never cite general knowledge, other incidents, or anything you did not see.
- Name the cause, not the symptom: a crash loop is a symptom; the missing secret that makes it crash is a cause.
- confidence (0-100) states how strongly the evidence supports the root cause; with little evidence, say so and
  keep it low. Keep the draft's root cause when the evidence supports it.
- hypotheses: the causes you weighed, each supported, refuted or inconclusive, with its evidence.
- timeline: ISO 8601 UTC timestamps taken from the evidence, oldest first.
- recommendations: concrete next steps for the engineer, priority high, medium or low, most urgent first.
- Tool parameters go in one JSON object `params` (for example {"service": "checkout", "minutes": 60}); each tool's
  description lists the keys it reads. Times are ISO 8601 or unix seconds.
"""


def instructions(agent_prompt: str | None) -> str:
    if not agent_prompt:
        return INSTRUCTIONS
    return f"{INSTRUCTIONS}\nThe team's instructions for this agent:\n{agent_prompt.strip()}\n"


def briefing(request: InvestigationRequest, draft: Report, calls: Sequence[ToolCall]) -> str:
    """The user message: the question, its context, the draft report and the tool log, within a size cap."""
    context = request.context.model_dump(exclude={"attachments"}, exclude_none=True)
    parts = [
        f"Question from the engineer: {request.message}",
        f"Context: {json.dumps(context, default=str)}" if context else "Context: none given",
        "Draft report from the deterministic analysis:",
        json.dumps(
            {
                "summary": draft.summary,
                "root_cause": draft.root_cause.model_dump(),
                "hypotheses": [h.model_dump() for h in draft.hypotheses],
                "timeline": [e.model_dump(mode="json") for e in draft.timeline],
                "affected_systems": draft.affected_systems,
                "recommendations": [r.model_dump() for r in draft.recommendations],
            },
            indent=1,
        ),
    ]
    for attachment in request.context.attachments:
        excerpt = attachment.content[:MAX_ATTACHMENT_CHARS]
        parts.append(f"Attachment {attachment.name} (first {len(excerpt)} characters):\n{excerpt}")
    parts.append("Tool calls made so far:" if calls else "No tool calls were made so far.")
    text = "\n\n".join(parts)
    for call in calls:
        entry = tool_call_entry(call)
        if len(text) + len(entry) > MAX_BRIEFING_CHARS:
            text += "\n(further tool calls left out for length)"
            break
        text += "\n" + entry
    return text


def tool_call_entry(call: ToolCall) -> str:
    params = json.dumps(call.params, default=str, sort_keys=True)
    if not call.ok:
        return f"- [tool:{call.tool}] {params} failed: {call.error}"
    excerpt = call.output_excerpt[:MAX_EXCERPT_CHARS]
    more = " …" if len(call.output_excerpt) > MAX_EXCERPT_CHARS else ""
    return f"- [tool:{call.tool}] {params} returned:\n{excerpt}{more}"
