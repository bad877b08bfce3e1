"""Tenancy and sign-in rules of the web pages: foreign objects are 404, HTMX never gets a login page swapped in."""

from __future__ import annotations

import time

import pytest
from django.contrib.auth import BACKEND_SESSION_KEY
from django.test import Client

from investigations.models import Status
from tests.web.conftest import make_investigation


@pytest.fixture
def team_a_run(team):
    return make_investigation(team, status=Status.RUNNING, steps_completed=1, steps_total=4)


@pytest.mark.parametrize("persona", ["web_other_team", "web_outsider"])
@pytest.mark.parametrize("suffix", ["", "/card"])
def test_a_user_of_another_team_gets_404_for_the_investigation_page_and_card(request, team_a_run, persona, suffix):
    client = request.getfixturevalue(persona)
    response = client.get(f"/investigations/{team_a_run.pk}{suffix}")
    assert response.status_code == 404
    assert team_a_run.message not in response.content.decode()


@pytest.mark.parametrize("persona", ["web_other_team", "web_outsider"])
def test_a_user_of_another_team_cannot_cancel_the_investigation(request, team_a_run, persona):
    client = request.getfixturevalue(persona)
    assert client.post(f"/investigations/{team_a_run.pk}/cancel").status_code == 404
    team_a_run.refresh_from_db()
    assert team_a_run.cancel_requested is False


@pytest.mark.parametrize("page", ["", "history", "config", "investigations/new"])
def test_team_pages_of_a_team_you_are_not_in_are_404(web_other_team, team, page):
    assert web_other_team.get(f"/teams/{team.node_id}/{page}").status_code == 404


@pytest.mark.parametrize("persona", ["web_member", "web_viewer", "web_org_admin"])
def test_members_and_org_admins_can_open_the_page_and_card(request, team_a_run, persona):
    client = request.getfixturevalue(persona)
    assert client.get(f"/investigations/{team_a_run.pk}").status_code == 200
    assert client.get(f"/investigations/{team_a_run.pk}/card", headers={"HX-Request": "true"}).status_code == 200


def test_an_unknown_investigation_id_is_404(web_member):
    assert web_member.get("/investigations/inv_doesnotexist").status_code == 404


def test_a_viewer_cannot_cancel_or_start_investigations(web_viewer, team, team_a_run):
    assert web_viewer.post(f"/investigations/{team_a_run.pk}/cancel").status_code == 403
    assert web_viewer.get(f"/teams/{team.node_id}/investigations/new").status_code == 403


def test_an_anonymous_page_request_is_redirected_to_the_login_page(db, team_a_run):
    response = Client().get(f"/investigations/{team_a_run.pk}")
    assert response.status_code == 302
    assert response["Location"].startswith(f"/login/?next=/investigations/{team_a_run.pk}")


def test_an_anonymous_card_poll_gets_hx_redirect_to_login_for_the_page_not_a_login_page(db, team_a_run):
    page = f"http://testserver/investigations/{team_a_run.pk}"
    response = Client().get(
        f"/investigations/{team_a_run.pk}/card", headers={"HX-Request": "true", "HX-Current-URL": page}
    )
    assert response.status_code == 200
    assert response["HX-Redirect"] == f"/login/?next=/investigations/{team_a_run.pk}"
    assert b"<form" not in response.content


def _sso_session(client: Client, *, expires_at: float) -> None:
    session = client.session
    session[BACKEND_SESSION_KEY] = "incidentfox_web.oidc.SsoBackend"
    session["oidc_id_token_expiration"] = expires_at
    session.save()


@pytest.fixture
def sso_settings(settings):
    settings.OIDC_ENABLED = True
    settings.OIDC_RP_CLIENT_ID = "incidentfox-web"
    settings.OIDC_OP_AUTHORIZATION_ENDPOINT = "https://idp.example/auth"
    return settings


def test_an_expired_sso_session_during_polling_triggers_reauthentication_instead_of_a_broken_card(
    sso_settings, web_member, team_a_run
):
    _sso_session(web_member, expires_at=time.time() - 1)
    page = f"http://testserver/investigations/{team_a_run.pk}"
    response = web_member.get(
        f"/investigations/{team_a_run.pk}/card", headers={"HX-Request": "true", "HX-Current-URL": page}
    )
    assert response.status_code == 200
    assert response["HX-Redirect"] == f"/oidc/authenticate/?next=/investigations/{team_a_run.pk}"
    assert b"status-card" not in response.content


def test_an_expired_sso_session_on_a_full_page_goes_to_the_provider_silently(sso_settings, web_member, team_a_run):
    _sso_session(web_member, expires_at=time.time() - 1)
    response = web_member.get(f"/investigations/{team_a_run.pk}")
    assert response.status_code == 302
    assert response["Location"].startswith("https://idp.example/auth?")
    assert "prompt=none" in response["Location"]
    assert "code_challenge_method=S256" in response["Location"]


def test_a_valid_sso_session_polls_normally(sso_settings, web_member, team_a_run):
    _sso_session(web_member, expires_at=time.time() + 600)
    response = web_member.get(f"/investigations/{team_a_run.pk}/card", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert b'id="status-card"' in response.content


def test_a_foreign_hx_current_url_is_not_used_as_the_return_address(db, team_a_run):
    response = Client().get(
        f"/investigations/{team_a_run.pk}/card",
        headers={"HX-Request": "true", "HX-Current-URL": "https://evil.example/phish"},
    )
    assert response["HX-Redirect"] == "/login/?next=/"


def test_a_signed_in_user_without_any_team_sees_an_explanation(db):
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user(username="lonely", password="pw-123456!")
    client = Client()
    client.force_login(user, backend="incidentfox_web.oidc.LocalLoginBackend")
    response = client.get("/")
    assert response.status_code == 403
    assert b"not in any team" in response.content


def test_a_form_post_on_an_expired_sso_session_is_not_processed_and_sends_the_person_to_sign_in_again(
    sso_settings, web_member, team_a_run
):
    _sso_session(web_member, expires_at=time.time() - 1)
    page = f"/investigations/{team_a_run.pk}"
    response = web_member.post(f"{page}/cancel", headers={"Referer": f"http://testserver{page}"})
    assert response.status_code == 302
    assert response["Location"] == f"/oidc/authenticate/?next={page}"
    team_a_run.refresh_from_db()
    assert team_a_run.cancel_requested is False  # the cancel was not carried out


def test_a_post_from_another_site_returns_to_the_posted_path_not_the_referer(sso_settings, web_member, team):
    _sso_session(web_member, expires_at=time.time() - 1)
    response = web_member.post(
        "/teams/switch", {"team": "team-platform"}, headers={"Referer": "https://evil.example/x"}
    )
    assert response["Location"] == "/oidc/authenticate/?next=/teams/switch"


def test_a_form_post_on_a_fresh_sso_session_goes_through(sso_settings, web_member, team_a_run):
    _sso_session(web_member, expires_at=time.time() + 600)
    response = web_member.post(f"/investigations/{team_a_run.pk}/cancel")
    assert not response.get("Location", "").startswith("/oidc/")
    team_a_run.refresh_from_db()
    assert team_a_run.cancel_requested is True


def test_signing_out_on_an_expired_sso_session_still_signs_out(sso_settings, web_member):
    _sso_session(web_member, expires_at=time.time() - 1)
    response = web_member.post("/logout/")
    assert response.status_code == 302
    assert not response["Location"].startswith("/oidc/")
    assert "_auth_user_id" not in web_member.session
