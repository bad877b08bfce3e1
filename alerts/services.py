"""Inbound alerts → investigations (API.md §7): which team an endpoint names, and what each alert of a payload does.

Every alert is decided on its own: a payload can start some investigations and skip others, and each start commits
on its own, so one failing alert never loses the others. Duplicates are refused by the database's unique index on
active runs (``investigations.services.investigation_start``), so two deliveries of one alert racing each other
start one run.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import DatabaseError, transaction
from django.utils import timezone

from alerts.models import MAX_RECORDED_ALERTS, RETENTION, AlertDelivery
from alerts.providers import PROVIDERS, SEVERITY_RANK, Alert, Provider
from investigations.services import AgentDisabled, AlertAlreadyInvestigated, UnknownAgent, investigation_start
from ops.metrics import INBOUND_ALERTS
from teamconfig.readers import reads
from teamconfig.secrets import SecretUnavailable
from teamconfig.selectors import InboundIntegration, inbound_integration_for_team
from tenancy.audit import RequestMeta
from tenancy.models import Node, NodeType

logger = logging.getLogger("incidentfox.alerts")

MAX_ALERTS_PER_PAYLOAD = 20
WINDOW_MARGIN = timedelta(minutes=15)  # what led up to the alert is part of the investigation
ENGINE_DEFAULT_LOOKBACK = timedelta(hours=6)  # engine/runner.py DEFAULT_WINDOW (a test keeps the two equal)
MAX_WINDOW_MINUTES = 30 * 24 * 60  # context.time_window's limit
ALERT_AGENT = "planner"


@dataclass
class Receipt:
    """What became of each alert of one delivery, in order: one entry per alert with its ``fingerprint``,
    ``alert_name``, ``outcome`` ("started" or the skip reason of API.md §7) and ``investigation_id`` when there is
    one. The 202 body and the delivery log are both read from it."""

    received: int
    outcomes: list[dict[str, str]] = field(default_factory=list)

    def start(self, alert: Alert, investigation_id: str) -> None:
        self._note(alert, "started", investigation_id)

    def skip(self, alert: Alert, reason: str, investigation_id: str | None = None) -> None:
        self._note(alert, reason, investigation_id)

    def _note(self, alert: Alert, outcome: str, investigation_id: str | None) -> None:
        entry = {"fingerprint": alert.fingerprint, "alert_name": alert.name, "outcome": outcome}
        if investigation_id is not None:
            entry["investigation_id"] = investigation_id
        self.outcomes.append(entry)

    @property
    def started(self) -> list[dict[str, str]]:
        return [entry for entry in self.outcomes if entry["outcome"] == "started"]

    def body(self) -> dict[str, Any]:
        """``received``, the investigations started and the alerts skipped, each with its reason."""
        skipped = []
        for entry in self.outcomes:
            if entry["outcome"] != "started":
                item = {"fingerprint": entry["fingerprint"], "reason": entry["outcome"]}
                if "investigation_id" in entry:
                    item["investigation_id"] = entry["investigation_id"]
                skipped.append(item)
        investigations = [
            {"fingerprint": entry["fingerprint"], "investigation_id": entry["investigation_id"]}
            for entry in self.started
        ]
        return {"received": self.received, "investigations": investigations, "skipped": skipped}


@reads(*(f"integrations.{provider}" for provider in PROVIDERS))
def integration_for(org_id: str, team_id: str, provider: Provider) -> tuple[Node, InboundIntegration] | None:
    """The team and its enabled ``integrations.<provider>`` (secrets resolved, with the team's alert rules), or
    None: an unknown org or team, a group, or an integration that is absent, disabled or whose secret cannot be read
    all look the same."""
    team = (
        Node.objects.select_related("org").filter(org__org_id=org_id, node_id=team_id, node_type=NodeType.TEAM).first()
    )
    if team is None:
        return None
    try:
        integration = inbound_integration_for_team(team, provider)
    except SecretUnavailable as exc:
        logger.warning("The %s integration secret of %s/%s cannot be read (%s)", provider, org_id, team_id, exc)
        return None
    return (team, integration) if integration is not None else None


def _filtered(provider: Provider, settings: dict[str, Any], alert: Alert) -> bool:
    if provider == "pagerduty":
        return settings.get("urgency_filter") == "high" and alert.severity != "high"
    if provider == "incidentio":
        threshold = settings.get("severity_threshold")
        floor = SEVERITY_RANK.get(threshold, 0) if isinstance(threshold, str) else 0  # type: ignore[call-overload]
        return SEVERITY_RANK[alert.severity] < floor
    return False


def _disabled(disabled_names: list[str], alert: Alert) -> bool:
    return "*" in disabled_names or alert.name in disabled_names


def time_window_for(started_at: datetime | None, now: datetime) -> str | None:
    """A ``context.time_window`` reaching back to the alert's start plus ``WINDOW_MARGIN`` (the lead-up), in whole
    minutes, at most 30 days — only when that is longer than the engine's own look-back. A window is never
    narrowed: a cause (a deploy, a slow leak) often precedes the alert's start by hours. None otherwise."""
    if started_at is None:
        return None
    span = now - started_at + WINDOW_MARGIN
    if span <= ENGINE_DEFAULT_LOOKBACK:
        return None
    return f"{min(math.ceil(span.total_seconds() / 60), MAX_WINDOW_MINUTES)}m"


def _context(provider: Provider, alert: Alert, now: datetime) -> dict[str, Any]:
    """The run's ``context`` in the keys of API.md §4.1 (so the engine scopes its queries to the alert's service,
    namespace and time), plus the alert's name and the raw alert."""
    context: dict[str, Any] = {"source": provider, "related_alert": alert.fingerprint, "alert_name": alert.name}
    optional = {
        "service": alert.service,
        "namespace": alert.namespace,
        "hint": alert.hint,
        "time_window": time_window_for(alert.started_at, now),
    }
    context.update({key: value for key, value in optional.items() if value is not None})
    context["severity"] = alert.severity
    context["alert"] = alert.raw
    return context


def alerts_receive(
    *, team: Node, provider: Provider, integration: InboundIntegration, alerts: list[Alert], meta: RequestMeta
) -> Receipt:
    """Start one async ``planner`` investigation per alert that passes the team's rules; skip the rest."""
    receipt = Receipt(received=len(alerts))
    settings = integration.settings
    auto_investigate = settings.get("auto_investigate", True) is not False
    for index, alert in enumerate(alerts):
        if index >= MAX_ALERTS_PER_PAYLOAD:
            receipt.skip(alert, "limit")
        elif alert.skip is not None:
            receipt.skip(alert, alert.skip)
        elif _disabled(integration.alerts_disabled, alert):
            receipt.skip(alert, "disabled")
        elif not auto_investigate:
            receipt.skip(alert, "auto_investigate_off")
        elif _filtered(provider, settings, alert):
            receipt.skip(alert, "filtered")
        else:
            _start(team, provider, integration, alert, meta, receipt)
    for entry in receipt.outcomes:
        INBOUND_ALERTS.labels(provider=provider, outcome=entry["outcome"]).inc()
    return receipt


def _start(
    team: Node, provider: Provider, integration: InboundIntegration, alert: Alert, meta: RequestMeta, receipt: Receipt
) -> None:
    try:
        outcome = investigation_start(
            team=team,
            agent=ALERT_AGENT,
            message=alert.message,
            context=_context(provider, alert, timezone.now()),
            attachments=[],
            timeout_seconds=None,  # the agent's configured timeout
            max_turns=None,
            trigger_source=provider,
            meta=meta,
            alert_fingerprint=alert.fingerprint,
            team_agents=integration.agents,
        )
    except AlertAlreadyInvestigated as duplicate:
        receipt.skip(alert, "duplicate", duplicate.investigation_id)
    except (AgentDisabled, UnknownAgent):  # the team turned the planner off: alerts cannot start it either
        receipt.skip(alert, "disabled")
    else:
        receipt.start(alert, outcome.investigation.id)


def alert_delivery_record(
    *,
    team: Node,
    provider: Provider,
    status_code: int,
    request_id: str,
    receipt: Receipt | None = None,
    error: str = "",
) -> None:
    """Log one delivery that proved the team's secret: its receipt (202) or the error it was answered with.

    The log must never cost the delivery its answer: a failed write is logged and dropped, inside a savepoint so
    a surrounding transaction stays usable.
    """
    try:
        with transaction.atomic():
            AlertDelivery.objects.create(
                team=team,
                provider=provider,
                request_id=request_id[:128],
                status_code=status_code,
                error=error[:500],
                received=receipt.received if receipt else 0,
                started=len(receipt.started) if receipt else 0,
                outcomes=receipt.outcomes[:MAX_RECORDED_ALERTS] if receipt else [],
            )
    except DatabaseError as exc:
        logger.warning("Could not log the %s delivery to team %s (%s)", provider, team.pk, type(exc).__name__)


def alert_deliveries_prune(now: datetime | None = None) -> int:
    """Delete deliveries older than ``RETENTION``; run by the maintenance loop."""
    cutoff = (now or timezone.now()) - RETENTION
    deleted, _ = AlertDelivery.objects.filter(received_at__lt=cutoff).delete()
    return deleted
