"""The real engine, preceded by paced steps so real-process tests can kill or cancel a run mid-way.

A run whose context holds ``paced_steps`` (count) and ``paced_seconds`` (pause per step) reports that many
progress steps first, checking cancellation and the deadline at each step boundary exactly as the engine does,
then hands over to ``engine.investigate``. Selected in worker subprocesses by ``worker_settings``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from engine import EngineError, InvestigationRequest, KnowledgeRetriever, Progress, Report, ToolCall
from engine import investigate as real_investigate


def investigate(
    request: InvestigationRequest,
    *,
    on_progress: Callable[[Progress], None] | None = None,
    on_tool_call: Callable[[ToolCall], None] | None = None,
    should_cancel: Callable[[], bool] | None = None,
    knowledge: KnowledgeRetriever | None = None,
    egress: Any = None,
) -> Report:
    extra = request.context.model_extra or {}
    steps = int(extra.get("paced_steps", 0))
    pause = float(extra.get("paced_seconds", 0))
    for step in range(steps):
        if should_cancel is not None and should_cancel():
            raise EngineError("cancelled", "Investigation was cancelled", tools_used=["think"] if step else [])
        if request.deadline is not None and datetime.now(UTC) >= request.deadline:
            raise EngineError("timeout", "Investigation exceeded its deadline", tools_used=["think"] if step else [])
        if on_progress is not None:
            on_progress(Progress(current_step=f"Paced step {step + 1}", steps_completed=step, steps_total=steps))
        time.sleep(pause)
    return real_investigate(
        request,
        on_progress=on_progress,
        on_tool_call=on_tool_call,
        should_cancel=should_cancel,
        knowledge=knowledge,
        egress=egress,
    )
