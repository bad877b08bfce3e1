"""Reads of the delivery log (team-scoped) and its wire shape."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from incidentfox_web.api.formats import iso_z
from tenancy.models import Node
from webhooks.models import WebhookDelivery


def deliveries_for_team(
    team: Node, *, investigation_id: str | None = None, outcome: str | None = None
) -> QuerySet[WebhookDelivery]:
    """Attempts of the team's events, newest first."""
    rows = WebhookDelivery.objects.filter(team=team).select_related("message")
    if investigation_id is not None:
        rows = rows.filter(message__investigation_id=investigation_id)
    if outcome is not None:
        rows = rows.filter(outcome=outcome)
    return rows.order_by("-attempted_at", "-id")


def delivery_body(delivery: WebhookDelivery) -> dict[str, Any]:
    message = delivery.message
    return {
        "delivery_id": delivery.delivery_id,
        "webhook_id": message.webhook_id,
        "event": message.event,
        "investigation_id": message.investigation_id or None,
        "url": message.url,
        "attempt": delivery.attempt,
        "attempted_at": iso_z(delivery.attempted_at),
        "outcome": delivery.outcome,
        "response_status": delivery.response_status,
        "error": delivery.error or None,
        "duration_ms": delivery.duration_ms,
        "next_attempt_at": iso_z(delivery.next_attempt_at),
    }
