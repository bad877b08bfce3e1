"""The project's routes plus pages that fail, for the 500 tests (``pytest.mark.urls("tests.web.failing_urls")``)."""

from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.urls import path

from incidentfox_web.urls import handler404, handler500
from incidentfox_web.urls import urlpatterns as project_urlpatterns


def team_page_whose_database_is_gone(request: HttpRequest, team_id: str) -> HttpResponse:
    with connection.cursor() as cursor:  # fails when the test has taken the database away
        cursor.execute("SELECT 1")
    raise RuntimeError(f"the page of {team_id} failed")


def api_route_that_fails(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("an API route outside the framework failed")


urlpatterns = [
    path("teams/<slug:team_id>/broken", team_page_whose_database_is_gone),
    path("api/v1/broken", api_route_that_fails),
    path("broken", api_route_that_fails),
    *project_urlpatterns,
]

__all__ = ["handler404", "handler500", "urlpatterns"]
