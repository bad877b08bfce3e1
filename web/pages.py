"""Rendering a full page with the layout's shared context: the user's teams, the current team and nav item."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from web.access import TeamChoice, access_of


def render_page(
    request: HttpRequest,
    template: str,
    context: dict[str, Any],
    *,
    team: TeamChoice | None,
    nav: str,
    status: int = 200,
) -> HttpResponse:
    """Render ``template``; when the request comes from htmx and names a partial, only that fragment."""
    if team is not None and request.session.get("web_team_id") != team.node_id:
        request.session["web_team_id"] = team.node_id  # written only on change: no session save per page view
    full = {
        "teams": access_of(request).teams,
        "current_team": team,
        "nav": nav,
        **context,
    }
    return TemplateResponse(request, template, full, status=status)
