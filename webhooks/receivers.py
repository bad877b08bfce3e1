"""Subscribing to investigations' terminal-state event (fired after commit, once per state change)."""

from __future__ import annotations

import logging
from typing import Any

from investigations.models import Investigation
from tenancy.models import Node
from webhooks.delivery import webhook_endpoints_enable_below, webhook_event_queue

logger = logging.getLogger("incidentfox.webhooks")


def on_investigation_finished(sender: Any, *, event: dict[str, Any], **kwargs: Any) -> None:
    """Queue the event for the investigation's team; a failure here must not break the investigation's finish."""
    try:
        # The payload names the team by node id, unique only within an org: find it through the investigation.
        team_pk = Investigation.objects.filter(pk=event["investigation_id"]).values_list("team_id", flat=True).first()
        if team_pk is None:
            return
        team = Node.objects.select_related("org").get(pk=team_pk)
        webhook_event_queue(team=team, event=event)
    except Exception:
        logger.exception("could not queue the webhook for investigation %s", event.get("investigation_id"))


def on_config_changed(sender: Any, *, node: Node, changed_fields: list[str], **kwargs: Any) -> None:
    """Saving the webhook URL again (any ``webhooks.*`` field) re-enables the endpoints it governs."""
    if any(field.startswith("webhooks") for field in changed_fields):
        webhook_endpoints_enable_below(node=node)
