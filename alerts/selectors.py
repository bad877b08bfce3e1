"""What the web app shows about a team's inbound alert webhooks: each provider's URL, state and proof, and the
deliveries received lately."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.urls import reverse

from alerts.models import AlertDelivery
from alerts.providers import PROVIDERS, Provider
from incidentfox_web.api.formats import iso_z
from teamconfig.selectors import effective_config_for_team
from tenancy.models import Node

LABELS: dict[Provider, str] = {"alertmanager": "Alertmanager", "pagerduty": "PagerDuty", "incidentio": "incident.io"}
PROOFS: dict[Provider, str] = {
    "alertmanager": "Authorization: Bearer <integrations.alertmanager.bearer_token>",
    "pagerduty": "X-PagerDuty-Signature signed with integrations.pagerduty.webhook_secret",
    "incidentio": "Standard Webhooks headers signed with integrations.incidentio.webhook_secret (whsec_…)",
}


@dataclass(frozen=True)
class InboundEndpoint:
    provider: Provider
    label: str
    path: str  # absolute path; the page makes it a full URL for the request's host
    enabled: bool
    auto_investigate: bool
    proof: str


def inbound_endpoints(team: Node) -> list[InboundEndpoint]:
    """One row per provider, from the team's effective config (secrets are never read here)."""
    integrations = effective_config_for_team(team).get("integrations") or {}
    rows = []
    for provider in PROVIDERS:
        entry = integrations.get(provider)
        settings: dict[str, object] = entry if isinstance(entry, dict) else {}
        rows.append(
            InboundEndpoint(
                provider=provider,
                label=LABELS[provider],
                path=reverse(f"integrations-{provider}", kwargs={"org_id": team.org.org_id, "team_id": team.node_id}),
                enabled=settings.get("enabled") is True,
                auto_investigate=settings.get("auto_investigate", True) is not False,
                proof=PROOFS[provider],
            )
        )
    return rows


def alert_deliveries_for_team(team: Node, *, provider: str | None = None) -> QuerySet[AlertDelivery]:
    """The team's logged deliveries, newest first (served by the team, -received_at index)."""
    rows = AlertDelivery.objects.filter(team=team)
    if provider is not None:
        rows = rows.filter(provider=provider)
    return rows.order_by("-received_at", "-id")


def recent_alert_deliveries(team: Node, limit: int) -> list[AlertDelivery]:
    """The team's latest deliveries, newest first (one indexed query)."""
    return list(alert_deliveries_for_team(team)[:limit])


def alert_delivery_body(delivery: AlertDelivery) -> dict[str, Any]:
    """A delivery as ``GET /integrations/deliveries`` shows it: names, fingerprints and outcomes, no payload."""
    return {
        "received_at": iso_z(delivery.received_at),
        "provider": delivery.provider,
        "request_id": delivery.request_id,
        "status_code": delivery.status_code,
        "error": delivery.error or None,
        "received": delivery.received,
        "started": delivery.started,
        "alerts": list(delivery.outcomes),
    }
