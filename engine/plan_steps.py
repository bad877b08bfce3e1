"""The pieces every playbook shares: a plan step and what a playbook is given."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from engine.analysis_context import AnalysisContext
from engine.models import InvestigationRequest
from engine.registry import ToolResult


@dataclass
class Step:
    title: str
    tool: str
    params: dict[str, Any]
    follow_up: Callable[[ToolResult], list[Step]] | None = None


@dataclass
class PlanContext:
    request: InvestigationRequest
    tools: list[str]
    settings: dict[str, dict[str, Any]] = field(default_factory=dict)
    analysis: AnalysisContext | None = None  # the run's window, incident start and memo of computed results


Playbook = Callable[[PlanContext], list[Step]]
