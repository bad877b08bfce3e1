"""The branded error pages: the site's layout with navigation, so a dead end has ways out.

The 404 shows the signed-in person's team navigation. The 500 must never fail itself: the error may be the
database, so it reads neither the session nor the user (both are database rows) and renders its template without
context processors; its navigation is the team named in the failing URL, else links that need no team.
"""

from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse, HttpResponseServerError
from django.shortcuts import render
from django.template.loader import get_template
from django.urls import Resolver404, resolve

from incidentfox_web.api.errors import json_error_response
from web.access import web_access
from web.views.auth import SELECTED_TEAM_KEY

logger = logging.getLogger(__name__)

# What the 500 answers if even its template cannot be rendered: plain HTML with the same ways out.
PLAIN_500 = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Something went wrong · IncidentFox</title><link rel="stylesheet" href="/static/web/app.css"></head>
<body><header class="site-header"><a class="brand" href="/">IncidentFox</a>
<nav aria-label="Main"><ul class="nav"><li><a href="/">Your dashboard</a></li><li><a href="/login/">Sign in</a></li>
<li><a href="/api/docs/">API docs</a></li></ul></nav></header>
<main id="main"><section class="narrow error-page"><h1>Something went wrong on our side</h1>
<p>The error was logged. Running investigations are not affected; try again in a moment.</p>
<p><a href="/">Back to your dashboard</a></p></section></main></body></html>
"""


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """``handler404``: the team navigation of the last team used (else the first), when the person has one."""
    access = web_access(request) if request.user.is_authenticated else None
    team = None
    if access is not None and access.teams:
        selected = request.session.get(SELECTED_TEAM_KEY)
        team = (access.team(selected) if isinstance(selected, str) else None) or access.teams[0]
    context = {"teams": access.teams if access is not None else [], "current_team": team, "nav": ""}
    return render(request, "404.html", context, status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    """``handler500``: the branded page (the JSON error under ``/api/``), never a second failure."""
    try:
        if request.path.startswith("/api/"):
            return json_error_response(request, "server_error", "Internal server error", 500)
        html = get_template("500.html").render({"team_id": _team_in_path(request)})
    except Exception:  # the page that reports a failure must not become one
        logger.exception("The 500 page could not be rendered; answered the plain one")
        return HttpResponseServerError(PLAIN_500)
    return HttpResponseServerError(html)


def _team_in_path(request: HttpRequest) -> str | None:
    """The team id of a team page's URL (``/teams/<team_id>/…``): known without reading the database."""
    match = request.resolver_match
    if match is None:
        try:
            match = resolve(request.path_info)
        except Resolver404:
            return None
    team_id = match.kwargs.get("team_id")
    return team_id if isinstance(team_id, str) else None
