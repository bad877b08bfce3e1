"""Who the signed-in user is, which teams they may open, and the one tenancy lookup every web view uses.

Another org's or another team's object is a 404 (its existence stays hidden); a 403 means "your team, but not
your role". Views that HTMX calls answer an anonymous request with ``HX-Redirect`` to the login page, never
with a 302 that htmx would follow and swap a login page into the page.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.db.models import Model, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render, resolve_url

from incidentfox_web.api.middleware import client_ip
from incidentfox_web.oidc import is_htmx, reauthenticate_htmx
from tenancy.audit import RequestMeta
from tenancy.models import ROLE_RANK, Node, NodeType, Role
from tenancy.principal import Principal
from tenancy.selectors import principal_for_user, team_roles_for_user

View = Callable[..., HttpResponse]


@dataclass(frozen=True)
class TeamChoice:
    node_id: str
    name: str
    role: str

    @property
    def role_label(self) -> str:
        return Role(self.role).label

    @property
    def can_operate(self) -> bool:
        return ROLE_RANK[Role(self.role)] >= ROLE_RANK[Role.OPERATOR]

    @property
    def can_administer(self) -> bool:
        return ROLE_RANK[Role(self.role)] >= ROLE_RANK[Role.ADMIN]


@dataclass(frozen=True)
class WebAccess:
    principal: Principal
    teams: list[TeamChoice]

    def team(self, node_id: str) -> TeamChoice | None:
        return next((t for t in self.teams if t.node_id == node_id), None)


def web_access(request: HttpRequest) -> WebAccess | None:
    """The signed-in user's principal and teams (cached on the request); None without any membership."""
    cached: WebAccess | None = getattr(request, "_web_access", None)
    if cached is not None:
        return cached
    principal = principal_for_user(request.user)
    if principal is None:
        return None
    roles = team_roles_for_user(request.user, principal.org)
    names = dict(
        Node.objects.filter(org=principal.org, node_type=NodeType.TEAM, node_id__in=list(roles)).values_list(
            "node_id", "name"
        )
    )
    teams = sorted(
        (TeamChoice(node_id=n, name=names.get(n, n), role=r) for n, r in roles.items()),
        key=lambda t: (t.name.lower(), t.node_id),
    )
    access = WebAccess(principal=principal, teams=teams)
    request._web_access = access  # type: ignore[attr-defined]
    return access


def member_required(view: View) -> View:
    """Signed in and a member of at least one team. HTMX requests from an expired session re-authenticate."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            if is_htmx(request):
                return reauthenticate_htmx(request, resolve_url(settings.LOGIN_URL))
            return redirect_to_login(request.get_full_path())
        if web_access(request) is None:
            return render(request, "web/no_team.html", status=403)
        return view(request, *args, **kwargs)

    return wrapper


def access_of(request: HttpRequest) -> WebAccess:
    access = web_access(request)
    assert access is not None, "views using access_of() are wrapped in member_required"
    return access


def team_or_404(request: HttpRequest, team_id: str) -> tuple[Node, TeamChoice]:
    access = access_of(request)
    choice = access.team(team_id)
    if choice is None:
        raise Http404("No such team")
    node = Node.objects.select_related("org").get(org=access.principal.org, node_id=team_id)
    return node, choice


def get_for_principal_or_404[M: Model](queryset: QuerySet[M], principal: Principal, **lookup: Any) -> M:
    """One object of the principal's org and teams, else 404. For models with ``org`` and ``team`` keys."""
    obj = queryset.filter(org=principal.org, team__node_id__in=principal.team_ids, **lookup).first()
    if obj is None:
        raise Http404("Not found")
    return obj


def request_meta(request: HttpRequest) -> RequestMeta:
    access = access_of(request)
    return RequestMeta(
        actor=access.principal.actor,
        request_id=getattr(request, "request_id", "") or "",
        ip_address=client_ip(request, settings.TRUSTED_PROXY_COUNT),
    )
