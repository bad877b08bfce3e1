"""The event fired once per terminal state change, after commit, for webhooks and the UI (API.md §6.1).

Receivers get plain data: ``investigation_finished.connect(receiver)``, called as
``receiver(sender, event=..., **kwargs)``.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.dispatch import Signal

from incidentfox_web.api.formats import iso_z
from investigations.models import Investigation, Status

investigation_finished = Signal()
# Fired after commit when a run is queued (``investigation_id=``) and when its progress step changes in the worker
# (``investigation_id=``); receivers must not raise into the caller.
investigation_started = Signal()
investigation_progressed = Signal()


def finished_event(investigation: Investigation) -> dict[str, Any]:
    """The ``investigation_complete`` payload for a terminal investigation."""
    result = investigation.result or {}
    error = None
    summary = result.get("summary", "")
    root_cause = result.get("root_cause")
    recommendations = result.get("recommendations", [])
    if investigation.status == Status.FAILED:
        error = {"code": investigation.error_code, "message": investigation.error_message}
        summary, root_cause, recommendations = (
            f"Investigation failed: {investigation.error_message}",
            None,
            [],
        )
    elif investigation.status == Status.CANCELLED:
        summary, root_cause, recommendations = "Investigation cancelled", None, []
    return {
        "event": "investigation_complete",
        "investigation_id": investigation.id,
        "team_id": investigation.team.node_id,
        "status": investigation.status,
        "agent": investigation.agent,
        "summary": summary,
        "root_cause": root_cause,
        "recommendations": recommendations,
        "error": error,
        "completed_at": iso_z(investigation.finished_at),
        "url": f"{settings.PUBLIC_BASE_URL}/investigations/{investigation.id}",
    }
