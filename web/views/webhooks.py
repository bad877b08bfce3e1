"""Outbound webhook settings: the URL, the signing secret (shown once, right after rotation), test sends, deliveries;
and the inbound alert webhooks' URLs, for pasting into Alertmanager, PagerDuty or incident.io, with the alert
deliveries received lately and what became of each alert.

The secret is rendered into the rotation's own response only: never put in the session or ``messages``.
Team admins change the URL and rotate the secret (as they edit config); operators may send test events.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_http_methods

from alerts.selectors import inbound_endpoints, recent_alert_deliveries
from teamconfig.errors import ConfigError
from teamconfig.services import ConfigApplied, config_update
from tenancy.models import Node
from web.access import TeamChoice, access_of, member_required, request_meta, team_or_404
from web.pages import render_page
from webhooks.delivery import configured_url, webhook_endpoint_enable, webhook_test_send
from webhooks.models import WebhookEndpoint
from webhooks.selectors import deliveries_for_team
from webhooks.signing import webhook_secret_rotate

RECENT_DELIVERIES = 25


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
    status: int = 200,
    **extra: Any,
) -> HttpResponse:
    url = configured_url(team)
    endpoint = WebhookEndpoint.objects.filter(team=team).first()
    context = {
        "team": team,
        "url": url,
        "endpoint": endpoint,
        "deliveries": list(deliveries_for_team(team)[:RECENT_DELIVERIES]),
        "form": (form or WebhookUrlForm(initial={"url": url or ""})) if choice.can_administer else None,
        "can_test": choice.can_operate,
        "can_rotate": choice.can_administer,
        "inbound": [(endpoint, request.build_absolute_uri(endpoint.path)) for endpoint in inbound_endpoints(team)],
        "alert_deliveries": recent_alert_deliveries(team, RECENT_DELIVERIES),
        **extra,
    }
    return render_page(request, "web/webhooks.html", context, team=choice, nav="webhooks", status=status)


@member_required
@require_http_methods(["GET", "POST"])
def webhooks_settings(request: HttpRequest, team_id: str) -> HttpResponse:
    team, choice = team_or_404(request, team_id)
    if request.method == "GET":
        return _page(request, team, choice)
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
