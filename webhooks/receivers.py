"""Subscribing to investigations' terminal-state event (fired after commit, once per state change)."""

from __future__ import annotations

import logging
from typing import Any

from teamconfig.selectors import slack_configured_for_team
from tenancy.models import Node
from webhooks.delivery import webhook_endpoints_enable_below, webhook_event_queue
from webhooks.slack import progress_update_due
from webhooks.tasks import sync_slack_message

logger = logging.getLogger("incidentfox.webhooks")


def on_investigation_finished(sender: Any, *, event: dict[str, Any], **kwargs: Any) -> None:
    """Queue the webhook and the Slack update for the investigation's team; a failure here must not break the
    investigation's finish."""
    investigation_id = str(event.get("investigation_id", ""))
    try:
        # The payload names the team by node id, unique only within an org: find it through the investigation.
        team = Node.objects.select_related("org").filter(investigations__pk=investigation_id).first()
        if team is None:
            return
        webhook_event_queue(team=team, event=event)
    except Exception:
        logger.exception("could not queue the webhook for investigation %s", investigation_id)
        return
    _queue_slack_sync(team, investigation_id)


def on_investigation_started(sender: Any, *, investigation_id: str, **kwargs: Any) -> None:
    try:
        team = Node.objects.filter(investigations__pk=investigation_id).first()
    except Exception:
        logger.exception("could not find the team of investigation %s", investigation_id)
        return
    if team is not None:
        _queue_slack_sync(team, investigation_id)


def on_investigation_progressed(sender: Any, *, investigation_id: str, **kwargs: Any) -> None:
    if progress_update_due(investigation_id=investigation_id):  # only runs whose message is already posted
        sync_slack_message.enqueue(investigation_id)


def _queue_slack_sync(team: Node, investigation_id: str) -> None:
    """The Slack message shows the run's state from a task, queued only for teams that post to Slack."""
    try:
        if slack_configured_for_team(team):
            sync_slack_message.enqueue(investigation_id)
    except Exception:
        logger.exception("could not queue the Slack update for investigation %s", investigation_id)


def on_config_changed(sender: Any, *, node: Node, changed_fields: list[str], **kwargs: Any) -> None:
    """Saving the webhook URL again (any ``webhooks.*`` field) re-enables the endpoints it governs."""
    if any(field.startswith("webhooks") for field in changed_fields):
        webhook_endpoints_enable_below(node=node)
