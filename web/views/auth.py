"""Sign in (SSO button and, when enabled, the local password form), sign out, and the landing redirect."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.views import LoginView
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, resolve_url
from django.urls import reverse
from django.views.decorators.http import require_POST

from web.access import access_of, member_required

SELECTED_TEAM_KEY = "web_team_id"
# Switching team keeps you on the same kind of page.
SWITCHABLE_PAGES = {
    "dashboard": "web:dashboard",
    "history": "web:history",
    "new": "web:investigation_new",
    "config": "web:config",
}


class SignInView(LoginView):
    template_name = "web/login.html"
    redirect_authenticated_user = True

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not settings.LOCAL_LOGIN_ENABLED:
            raise Http404("Local login is switched off")
        return super().post(request, *args, **kwargs)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        next_url = self.get_redirect_url()
        sso_url = reverse("oidc_authentication_init")
        context.update(
            sso_enabled=settings.OIDC_ENABLED,
            sso_url=f"{sso_url}?{urlencode({'next': next_url})}" if next_url else sso_url,
            local_login_enabled=settings.LOCAL_LOGIN_ENABLED,
        )
        return context


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    """End the session; with RP-initiated logout configured, also end the identity provider's session."""
    id_token = request.session.get("oidc_id_token")
    logout(request)
    login_url = request.build_absolute_uri(resolve_url(settings.LOGIN_URL))
    if settings.OIDC_ENABLED and settings.OIDC_OP_LOGOUT_ENDPOINT and id_token:
        query = urlencode(
            {"id_token_hint": id_token, "post_logout_redirect_uri": login_url, "client_id": settings.OIDC_RP_CLIENT_ID}
        )
        return HttpResponseRedirect(f"{settings.OIDC_OP_LOGOUT_ENDPOINT}?{query}")
    return redirect(settings.LOGOUT_REDIRECT_URL)


@member_required
def home(request: HttpRequest) -> HttpResponse:
    """The last team used in this session, else the first team."""
    access = access_of(request)
    selected = request.session.get(SELECTED_TEAM_KEY)
    team = access.team(selected) if isinstance(selected, str) else None
    return redirect("web:dashboard", team_id=(team or access.teams[0]).node_id)


@member_required
def switch_team(request: HttpRequest) -> HttpResponse:
    """The team switcher's form target (works without JavaScript): open the chosen team's page."""
    access = access_of(request)
    team = access.team(request.GET.get("team", ""))
    if team is None:
        raise Http404("No such team")
    page = SWITCHABLE_PAGES.get(request.GET.get("page", ""), "web:dashboard")
    return redirect(page, team_id=team.node_id)
