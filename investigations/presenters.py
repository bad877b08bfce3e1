"""Response bodies (API.md §4.1 to §4.3). The keys per status are exact: tests assert the sets."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone

from incidentfox_web.api.formats import iso_z
from investigations.models import Investigation, Status

LIST_MESSAGE_CHARS = 100


def poll_url(investigation_id: str) -> str:
    return f"/api/v1/agents/status/{investigation_id}"


def accepted_body(investigation: Investigation) -> dict[str, Any]:
    return {
        "investigation_id": investigation.id,
        "status": investigation.status,
        "poll_url": poll_url(investigation.id),
        "created_at": iso_z(investigation.created_at),
    }


# Every column ``status_body`` reads: the status poll loads only these (a deferred column read later would cost a
# query of its own; tests/investigations/test_status_poll_queries.py keeps the list complete).
STATUS_BODY_FIELDS = (
    "id",
    "status",
    "agent",
    "message",
    "trigger_source",
    "created_at",
    "started_at",
    "finished_at",
    "duration_ms",
    "progress_step",
    "steps_completed",
    "steps_total",
    "cancel_requested",
    "result",
    "tools_used",
    "error_code",
    "error_message",
)


def status_body(investigation: Investigation, *, now: datetime | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "investigation_id": investigation.id,
        "status": investigation.status,
        "agent": investigation.agent,
        "message": investigation.message,
        "trigger_source": investigation.trigger_source,
        "created_at": iso_z(investigation.created_at),
    }
    status = investigation.status
    if status == Status.RUNNING:
        started = investigation.started_at or investigation.created_at
        elapsed = ((now or timezone.now()) - started).total_seconds()
        body.update(
            started_at=iso_z(started),
            elapsed_seconds=max(0, int(elapsed)),
            progress={
                "current_step": investigation.progress_step or "Starting",
                "steps_completed": investigation.steps_completed,
                "steps_total": max(investigation.steps_total, investigation.steps_completed),
            },
            cancel_requested=investigation.cancel_requested,
        )
    elif status == Status.COMPLETED:
        body.update(
            result=investigation.result,
            tools_used=list(investigation.tools_used),
            started_at=iso_z(investigation.started_at),
            completed_at=iso_z(investigation.finished_at),
            duration_seconds=(investigation.duration_ms or 0) // 1000,
        )
    elif status == Status.FAILED:
        body.update(
            error={"code": investigation.error_code, "message": investigation.error_message},
            tools_used=list(investigation.tools_used),
            started_at=iso_z(investigation.started_at),
            failed_at=iso_z(investigation.finished_at),
        )
    elif status == Status.CANCELLED:
        body.update(
            tools_used=list(investigation.tools_used),
            started_at=iso_z(investigation.started_at),
            cancelled_at=iso_z(investigation.finished_at),
        )
    return body


def list_item(row: dict[str, Any]) -> dict[str, Any]:
    """``row`` comes from ``history_page_rows`` (a values() row with ``message_head``)."""
    head: str = row["message_head"]
    message = head[:LIST_MESSAGE_CHARS] + "..." if len(head) > LIST_MESSAGE_CHARS else head
    return {
        "investigation_id": row["id"],
        "status": row["status"],
        "agent": row["agent"],
        "message": message,
        "created_at": iso_z(row["created_at"]),
    }
