"""Helpers for the Agent API tests: starting runs through the service and reading exact key sets."""

from __future__ import annotations

from typing import Any

import pytest

from investigations.models import Investigation
from investigations.services import investigation_start
from tenancy.audit import RequestMeta
from tenancy.models import Node

COMMON_KEYS = {"investigation_id", "status", "agent", "message", "trigger_source", "created_at"}
STATUS_KEYS = {
    "pending": COMMON_KEYS,
    "running": COMMON_KEYS | {"started_at", "elapsed_seconds", "progress", "cancel_requested"},
    "completed": COMMON_KEYS | {"result", "tools_used", "started_at", "completed_at", "duration_seconds"},
    "failed": COMMON_KEYS | {"error", "tools_used", "started_at", "failed_at"},
    "cancelled": COMMON_KEYS | {"tools_used", "started_at", "cancelled_at"},
}
RESULT_KEYS = {"summary", "root_cause", "timeline", "affected_systems", "recommendations", "hypotheses"}


def start(team: Node, message: str = "Investigate high latency in payments", **kwargs: Any) -> Investigation:
    """A pending run stored through the service (its task is queued on commit, which plain ``db`` tests skip)."""
    options: dict[str, Any] = {
        "agent": "planner",
        "context": {},
        "attachments": [],
        "timeout_seconds": None,
        "max_turns": None,
        "meta": RequestMeta(actor="test"),
    }
    options.update(kwargs)
    return investigation_start(team=team, message=message, **options).investigation


@pytest.fixture
def run_body() -> dict[str, Any]:
    return {"agent_name": "planner", "message": "Investigate high latency in payments", "async": True}
