"""The log specialist's plan: the window's failure signatures, then the shape of all its lines.

The planner reads every service's error logs in its telemetry sweep (``search_logs``); an agent holding the
log_analysis_agent's tools (the agent itself, or a custom one given them) reads the team's log source through
them instead, so its run stands on its own. Both tools hand the lines on as log documents, which the log
analyzers read exactly as they read an attached log file.
"""

from __future__ import annotations

from engine.connectors.params import iso
from engine.plan_steps import PlanContext, Step
from engine.plan_telemetry import sweep_window


def log_playbook(plan: PlanContext) -> list[Step]:
    if plan.request.agent == "planner":
        return []
    start, end = sweep_window(plan)
    params: dict[str, object] = {"start": iso(start), "end": iso(end), "limit": 2000}
    if plan.request.context.service:
        params["service"] = plan.request.context.service
    steps: list[Step] = []
    if "extract_log_signatures" in plan.tools:
        steps.append(Step("Finding failure signatures in the logs", "extract_log_signatures", dict(params)))
    if "get_log_statistics" in plan.tools:
        steps.append(Step("Summarising the logs by service, level and pattern", "get_log_statistics", dict(params)))
    return steps
