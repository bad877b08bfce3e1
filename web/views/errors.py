"""The branded 404: the site's layout with the signed-in person's navigation, so a dead end has ways out."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from web.access import web_access
from web.views.auth import SELECTED_TEAM_KEY


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """``handler404``: the team navigation of the last team used (else the first), when the person has one."""
    access = web_access(request) if request.user.is_authenticated else None
    team = None
    if access is not None and access.teams:
        selected = request.session.get(SELECTED_TEAM_KEY)
        team = (access.team(selected) if isinstance(selected, str) else None) or access.teams[0]
    context = {"teams": access.teams if access is not None else [], "current_team": team, "nav": ""}
    return render(request, "404.html", context, status=404)
