"""Each investigation as one Slack message in the team's ``slack_channel``, posted when it starts and updated in
place (``chat.update`` with the stored ``ts``) as it progresses and when it finishes.

Everything here runs in tasks queued after commit, so Slack being slow, rate-limited or down never touches the
investigation: slack_sdk's retry handlers take connection errors, 5xx and ``429`` + ``Retry-After``; what still
fails is logged and kept on the row (``last_error``). The API base URL is the operator's ``SLACK_API_BASE_URL``
(Slack's own in production; tests point it at a loopback server), never a tenant-chosen URL.
"""

from __future__ import annotations

import logging
import re
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from investigations.models import Investigation, Status
from teamconfig.secrets import SecretUnavailable
from teamconfig.selectors import SlackTarget, slack_target_for_team
from webhooks.models import SlackMessage

logger = logging.getLogger("incidentfox.slack")

PROGRESS_EVERY = timedelta(seconds=5)  # at most one progress update per run this often
RETRIES = 2
TIMEOUT_SECONDS = 10
HIGH_SEVERITIES = frozenset({"critical", "high", "page", "p1", "sev1"})
ALERT_SOURCES = frozenset({"alertmanager", "pagerduty", "incidentio"})
TERMINAL = frozenset({Status.COMPLETED, Status.FAILED, Status.CANCELLED})
MAX_QUESTION = 500
TOP_RECOMMENDATIONS = 3


def slack_client(token: str) -> WebClient:
    return WebClient(
        token=token,
        base_url=settings.SLACK_API_BASE_URL,
        timeout=TIMEOUT_SECONDS,
        retry_handlers=[
            ConnectionErrorRetryHandler(max_retry_count=RETRIES),
            RateLimitErrorRetryHandler(max_retry_count=RETRIES),
            ServerErrorRetryHandler(max_retry_count=RETRIES),
        ],
    )


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _mention(group: str) -> str:
    """A user-group id (``S…``) or ``@here``/``@channel`` becomes a real mention; a handle stays as written."""
    if re.fullmatch(r"S[A-Z0-9]{6,}", group):
        return f"<!subteam^{group}>"
    if group.lstrip("@") in ("here", "channel"):
        return f"<!{group.lstrip('@')}>"
    return _escape(group)


def _high_severity_alert(investigation: Investigation) -> bool:
    severity = str((investigation.context or {}).get("severity", "")).lower()
    return investigation.trigger_source in ALERT_SOURCES and severity in HIGH_SEVERITIES


def message_text(investigation: Investigation, target: SlackTarget) -> str:
    """The message for the investigation's current state (Slack mrkdwn, user text escaped)."""
    link = f"<{settings.PUBLIC_BASE_URL}/investigations/{investigation.id}|{investigation.id}>"
    question = _escape(investigation.message[:MAX_QUESTION])
    lines = []
    if target.group_to_ping and _high_severity_alert(investigation):
        lines.append(_mention(target.group_to_ping))
    status = investigation.status
    if status == Status.COMPLETED:
        result = investigation.result or {}
        lines.append(f":white_check_mark: *Investigation complete* ({link}): {question}")
        root = result.get("root_cause") or {}
        if root:
            description = _escape(str(root.get("description", "")))
            lines.append(f"*Root cause* ({root.get('confidence', 0)}% confidence): {description}")
        else:
            lines.append(_escape(result.get("summary", "No root cause identified.")))
        top = [r for r in result.get("recommendations", []) if isinstance(r, dict)][:TOP_RECOMMENDATIONS]
        if top:
            lines.append("*Top recommendations:*")
            lines += [f"• {_escape(str(r.get('action', '')))}" for r in top]
    elif status == Status.FAILED:
        lines.append(f":x: *Investigation failed* ({link}): {question}")
        lines.append(_escape(investigation.error_message or investigation.error_code or "unknown error"))
    elif status == Status.CANCELLED:
        lines.append(f":no_entry_sign: *Investigation cancelled* ({link}): {question}")
    else:
        lines.append(f":mag: *Investigating* ({link}): {question}")
        if investigation.progress_step:
            total = max(investigation.steps_total, investigation.steps_completed)
            step = _escape(investigation.progress_step)
            lines.append(f"Step {investigation.steps_completed}/{total}: {step}" if total else step)
    return "\n".join(lines)


def slack_sync(*, investigation_id: str) -> None:
    """Post the investigation's message, or update it in place, to show its current state. Never raises for Slack
    or configuration problems: they are logged and kept on the row."""
    investigation = Investigation.objects.select_related("team").filter(pk=investigation_id).first()
    if investigation is None:
        return
    try:
        target = slack_target_for_team(investigation.team)
    except SecretUnavailable as exc:
        logger.warning("Slack bot token of team %s cannot be read (%s)", investigation.team.node_id, exc)
        return
    if target is None:
        return
    with transaction.atomic():
        row, _ = SlackMessage.objects.select_for_update().get_or_create(
            investigation=investigation, defaults={"channel": target.channel, "updated_at": timezone.now()}
        )
        if row.final:
            return
        investigation.refresh_from_db()
        _send(row, investigation, target)


def _send(row: SlackMessage, investigation: Investigation, target: SlackTarget) -> None:
    client = slack_client(target.bot_token)
    text = message_text(investigation, target)
    try:
        if row.ts:
            client.chat_update(channel=row.channel, ts=row.ts, text=text)
        else:
            response = client.chat_postMessage(channel=row.channel, text=text, unfurl_links=False)
            row.ts, row.channel = str(response["ts"]), str(response.get("channel") or row.channel)
        row.final = investigation.status in TERMINAL
        row.last_error = ""
    except SlackApiError as exc:
        row.last_error = str(exc.response.get("error", "slack_error"))[:200]
        logger.warning("Slack refused the message of %s: %s", investigation.id, row.last_error)
    except (SlackClientError, OSError) as exc:
        row.last_error = type(exc).__name__[:200]
        logger.warning("Slack could not be reached for %s (%s)", investigation.id, row.last_error)
    row.updated_at = timezone.now()
    row.save()


def progress_update_due(*, investigation_id: str) -> bool:
    """Claims the next progress update of a posted, unfinished message (at most one per ``PROGRESS_EVERY``)."""
    now = timezone.now()
    claimed = SlackMessage.objects.filter(
        investigation_id=investigation_id, final=False, updated_at__lt=now - PROGRESS_EVERY
    ).exclude(ts="")
    return claimed.update(updated_at=now) == 1
