"""Dead ends answered properly: the branded 404 with a way back, the API's JSON 404 for unknown POSTs (not a CSRF
page), who started a run by token label, and the caller's name instead of an internal repr."""

from __future__ import annotations

import pytest
from django.db import OperationalError, connection
from django.template import TemplateDoesNotExist
from django.test import Client, RequestFactory

from investigations.models import Status
from tenancy.models import ApiToken
from tenancy.principal import Principal
from tests.web.conftest import make_investigation
from web.views import errors
from web.views.errors import server_error

pytestmark = pytest.mark.django_db


def test_an_unknown_page_is_the_branded_404_with_a_way_back(web_member):
    response = web_member.get("/teams/team-platform/no-such-page")
    assert response.status_code == 404
    html = response.content.decode()
    assert "<h1>Page not found</h1>" in html
    assert 'href="/"' in html
    assert "web/app.css" in html
    assert 'href="/teams/team-platform/history"' in html  # the team's navigation, not a bare page


def test_a_signed_out_visitor_gets_the_branded_404_without_team_navigation(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    html = response.content.decode()
    assert "<h1>Page not found</h1>" in html
    assert "/history" not in html


def test_an_unknown_api_post_with_a_session_cookie_is_the_json_404_not_a_csrf_page(web_member):
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.cookies = web_member.cookies
    response = csrf_client.post("/api/v1/no/such/route", {"x": 1}, content_type="application/json")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_a_run_started_with_a_token_names_the_tokens_label(web_member, team, member):
    token = ApiToken.objects.get(token_id=member.token.split(".")[0])
    run = make_investigation(team, status=Status.PENDING, requested_by=token.token_id)
    html = web_member.get(f"/investigations/{run.pk}").content.decode()
    assert f"token “member” ({token.token_id})" in html


def test_the_caller_reads_as_a_token_label_not_an_internal_repr(member):
    token = ApiToken.objects.get(token_id=member.token.split(".")[0])
    principal = Principal(kind="team_token", org=token.org, permissions=frozenset(), token=token)
    assert str(principal) == f"member ({token.token_id})"


def test_a_password_session_calling_auth_me_is_described_as_a_session_not_an_oidc_jwt(web_member):
    body = web_member.get("/api/v1/auth/me").json()
    assert body["auth_kind"] == "session"
    assert body["role"] == "user"
    assert body["teams"] == ["team-platform"]


def test_the_team_switcher_is_hidden_with_one_team_and_lists_each_team_once_with_several(
    web_member, web_org_admin, team, other_team
):
    single = web_member.get(f"/teams/{team.node_id}/").content.decode()
    assert 'id="team-switcher"' not in single
    assert '<span class="team-name">' in single
    several = web_org_admin.get(f"/teams/{team.node_id}/").content.decode()
    switcher = several.split('<select id="team-switcher"', 1)[1].split("</select>", 1)[0]
    assert "<span" not in switcher  # only options inside the select
    assert switcher.count("<option ") == switcher.count("</option>") >= 2
    assert f'<option value="{team.node_id}" selected>' in switcher


def _failing_client(web_client: Client | None = None) -> Client:
    client = Client(raise_request_exception=False)
    if web_client is not None:
        client.cookies = web_client.cookies
    return client


def _database_gone(execute, sql, params, many, context):
    raise OperationalError("server closed the connection unexpectedly")


@pytest.mark.urls("tests.web.failing_urls")
def test_a_failing_team_page_is_the_branded_500_with_that_teams_navigation(web_member, settings):
    settings.DEBUG = False
    response = _failing_client(web_member).get("/teams/team-platform/broken")
    assert response.status_code == 500
    html = response.content.decode()
    assert "<h1>Something went wrong on our side</h1>" in html
    assert "web/app.css" in html
    for link in ("/teams/team-platform/", "/teams/team-platform/history", "/teams/team-platform/config"):
        assert f'href="{link}"' in html, link
    assert "the page of team-platform failed" not in html  # nothing of the error reaches the page


@pytest.mark.urls("tests.web.failing_urls")
def test_the_500_page_still_renders_with_navigation_when_the_database_is_gone(settings):
    settings.DEBUG = False
    with connection.execute_wrapper(_database_gone):
        response = _failing_client().get("/teams/team-platform/broken")
    assert response.status_code == 500
    html = response.content.decode()
    assert "<h1>Something went wrong on our side</h1>" in html
    assert 'href="/teams/team-platform/history"' in html


@pytest.mark.urls("tests.web.failing_urls")
def test_rendering_the_500_page_reads_nothing_from_the_database(django_assert_num_queries):
    request = RequestFactory().get("/teams/team-platform/broken")
    with django_assert_num_queries(0):
        response = server_error(request)
    assert response.status_code == 500
    assert 'href="/teams/team-platform/webhooks"' in response.content.decode()


@pytest.mark.urls("tests.web.failing_urls")
def test_a_failure_outside_a_team_page_links_to_the_dashboard_and_sign_in(settings):
    settings.DEBUG = False
    html = _failing_client().get("/broken").content.decode()
    assert "<h1>Something went wrong on our side</h1>" in html
    assert 'href="/"' in html
    assert 'href="/login/"' in html
    assert "/history" not in html


def test_a_500_page_whose_template_fails_answers_the_plain_page_with_its_links(monkeypatch):
    def broken_template(name: str):
        raise TemplateDoesNotExist(name)

    monkeypatch.setattr(errors, "get_template", broken_template)
    response = server_error(RequestFactory().get("/teams/team-platform/history"))
    assert response.status_code == 500
    html = response.content.decode()
    assert "Something went wrong on our side" in html
    assert 'href="/login/"' in html


@pytest.mark.urls("tests.web.failing_urls")
def test_an_api_route_that_fails_outside_the_framework_answers_the_json_error(settings):
    settings.DEBUG = False
    response = _failing_client().get("/api/v1/broken")
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "server_error"
