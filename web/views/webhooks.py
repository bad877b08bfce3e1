"""Webhooks in both directions. Outbound: the URL, the signing secret (shown once, right after rotation), test
sends, deliveries. Inbound: each alert integration's URL (for pasting into Alertmanager, PagerDuty or incident.io)
with a form that switches it on and sets its secret, and the alert deliveries received lately and their outcome.

The secret is rendered into the rotation's own response only: never put in the session or ``messages``.
Team admins change the URL and rotate the secret (as they edit config); operators may send test events.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_http_methods

from alerts.selectors import LABELS, inbound_endpoints, recent_alert_deliveries
from teamconfig.errors import ConfigError
from teamconfig.selectors import effective_config_for_team
from teamconfig.services import ConfigApplied, config_update
from tenancy.models import Node
from web.access import TeamChoice, access_of, member_required, request_meta, team_or_404
from web.pages import render_page
from webhooks.delivery import configured_url, webhook_endpoint_enable, webhook_test_send
from webhooks.models import WebhookEndpoint
from webhooks.selectors import deliveries_for_team
from webhooks.signing import webhook_secret_rotate

RECENT_DELIVERIES = 25


INTEGRATION_SECRET = {"alertmanager": "bearer_token", "pagerduty": "webhook_secret", "incidentio": "webhook_secret"}
INTEGRATION_CHOICE = {
    "pagerduty": ("urgency_filter", "Investigate", [("all", "every urgency"), ("high", "high urgency only")]),
    "incidentio": (
        "severity_threshold",
        "Lowest severity investigated",
        [("low", "low"), ("medium", "medium"), ("high", "high")],
    ),
}


class IntegrationForm(forms.Form):
    """Switch one inbound alert integration on or off and set its secret, without editing JSON."""

    enabled = forms.BooleanField(label="On", required=False)
    auto_investigate = forms.BooleanField(
        label="Start an investigation for each firing alert",
        required=False,
        help_text="Off: alerts are accepted and logged, but start nothing.",
    )
    secret = forms.CharField(
        label="Secret",
        required=False,
        max_length=500,
        strip=True,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="Stored encrypted. Leave empty to keep the current one.",
    )
    choice = forms.ChoiceField(required=False)

    def __init__(self, data: Any, *, provider: str, initial: dict[str, Any]) -> None:
        super().__init__(data, prefix=provider, initial=initial)
        self.provider = provider
        if provider in INTEGRATION_CHOICE:
            _, label, choices = INTEGRATION_CHOICE[provider]
            self.fields["choice"].label = label
            field = self.fields["choice"]
            assert isinstance(field, forms.ChoiceField)
            field.choices = choices
        else:
            del self.fields["choice"]

    def patch(self) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "enabled": self.cleaned_data["enabled"],
            "auto_investigate": self.cleaned_data["auto_investigate"],
        }
        if self.cleaned_data["secret"]:
            entry[INTEGRATION_SECRET[self.provider]] = {"secret": self.cleaned_data["secret"]}
        if self.provider in INTEGRATION_CHOICE and self.cleaned_data.get("choice"):
            entry[INTEGRATION_CHOICE[self.provider][0]] = self.cleaned_data["choice"]
        return {"integrations": {self.provider: entry}}


def integration_forms(team: Node, data: Any = None, provider: str | None = None) -> dict[str, IntegrationForm]:
    """One form per provider, filled from the effective config (the bound one for ``provider`` on a POST)."""
    integrations = effective_config_for_team(team).get("integrations") or {}
    forms_by_provider = {}
    for name in INTEGRATION_SECRET:
        entry = integrations.get(name) if isinstance(integrations.get(name), dict) else {}
        assert isinstance(entry, dict)
        initial = {"enabled": entry.get("enabled") is True, "auto_investigate": entry.get("auto_investigate", True)}
        if name in INTEGRATION_CHOICE:
            initial["choice"] = entry.get(INTEGRATION_CHOICE[name][0]) or INTEGRATION_CHOICE[name][2][0][0]
        bound = data if name == provider else None
        forms_by_provider[name] = IntegrationForm(bound, provider=name, initial=initial)
    return forms_by_provider


class WebhookUrlForm(forms.Form):
    url = forms.URLField(
        label="investigation_complete URL",
        required=False,
        max_length=2048,
        assume_scheme="https",
        help_text="Leave empty to switch webhooks off for this team (also switches off an inherited URL).",
    )


def _page(
    request: HttpRequest,
    team: Node,
    choice: TeamChoice,
    *,
    form: WebhookUrlForm | None = None,
    integrations: dict[str, IntegrationForm] | None = None,
    status: int = 200,
    **extra: Any,
) -> HttpResponse:
    url = configured_url(team)
    forms_by_provider = (integrations or integration_forms(team)) if choice.can_administer else {}
    endpoint = WebhookEndpoint.objects.filter(team=team).first()
    context = {
        "team": team,
        "url": url,
        "endpoint": endpoint,
        "deliveries": list(deliveries_for_team(team)[:RECENT_DELIVERIES]),
        "form": (form or WebhookUrlForm(initial={"url": url or ""})) if choice.can_administer else None,
        "can_test": choice.can_operate,
        "can_rotate": choice.can_administer,
        "inbound": [
            (endpoint, request.build_absolute_uri(endpoint.path), forms_by_provider.get(endpoint.provider))
            for endpoint in inbound_endpoints(team)
        ],
        "alert_deliveries": recent_alert_deliveries(team, RECENT_DELIVERIES),
        **extra,
    }
    return render_page(request, "web/webhooks.html", context, team=choice, nav="webhooks", status=status)


@member_required
@require_http_methods(["GET", "POST"])
def webhooks_settings(request: HttpRequest, team_id: str) -> HttpResponse:
    team, choice = team_or_404(request, team_id)
    if request.method == "GET":
        saved = request.GET.get("saved")
        labels: dict[str, str] = {str(name): label for name, label in LABELS.items()}
        notice = f"{labels[saved]} settings saved." if saved in labels else None
        return _page(request, team, choice, notice=notice)
    action = request.POST.get("action")
    if action == "test":
        if not choice.can_operate:
            raise PermissionDenied("Viewers cannot send test events")
        url = configured_url(team)
        if url is None:
            return _page(
                request, team, choice, status=400, test_error="No investigation_complete webhook URL configured"
            )
        return _page(request, team, choice, test=webhook_test_send(team=team, url=url))
    if not choice.can_administer:
        raise PermissionDenied("Only team admins can change webhook settings")
    if action == "rotate":
        revealed = webhook_secret_rotate(team=team, meta=request_meta(request))
        response = _page(request, team, choice, revealed=revealed)
        response["Cache-Control"] = "no-store"
        return response
    if action == "integration":
        provider = request.POST.get("provider", "")
        if provider not in INTEGRATION_SECRET:
            return _page(request, team, choice, status=400, test_error="Unknown integration")
        bound = integration_forms(team, request.POST, provider)
        integration = bound[provider]
        if not integration.is_valid():
            return _page(request, team, choice, integrations=bound, status=400)
        try:
            outcome = config_update(
                node=team,
                patch=integration.patch(),
                meta=request_meta(request),
                admin=access_of(request).principal.is_admin,
            )
        except ConfigError as exc:
            integration.add_error(None, exc.message)
            return _page(request, team, choice, integrations=bound, status=400)
        if isinstance(outcome, ConfigApplied):
            return redirect(f"{request.path}?saved={provider}#inbound-{provider}")
        return _page(request, team, choice, notice="Your change was submitted for approval by an org admin.")
    if action == "url":
        form = WebhookUrlForm(request.POST)
        if not form.is_valid():
            return _page(request, team, choice, form=form, status=400)
        try:
            outcome = config_update(
                node=team,
                patch={"webhooks": {"investigation_complete": form.cleaned_data["url"]}},
                meta=request_meta(request),
                admin=access_of(request).principal.is_admin,
            )
        except ConfigError as exc:
            form.add_error("url", exc.message)
            return _page(request, team, choice, form=form, status=400)
        if isinstance(outcome, ConfigApplied):
            webhook_endpoint_enable(team=team)  # re-saving the URL re-enables a disabled endpoint
            return _page(request, team, choice, notice=f"Saved as config version {outcome.version}.")
        return _page(request, team, choice, notice="Your change was submitted for approval by an org admin.")
    return _page(request, team, choice, status=400, test_error="Unknown action")
