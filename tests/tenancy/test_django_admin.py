"""The Django admin for org admins: scoped to their org, one-time token display, revoke action."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from tenancy.models import ApiToken, Membership, Node, NodeType, Role, TokenKind
from tenancy.services import api_token_issue
from tests.conftest import SYSTEM


@pytest.fixture
def admin_client(org, team):
    user = get_user_model().objects.create_user("alice", "alice@acme.com", "pw-0123456789", is_staff=True)
    root = Node.objects.get(org=org, node_type=NodeType.ORG)
    Membership.objects.create(user=user, node=root, role=Role.ORG_ADMIN)
    client = Client()
    client.force_login(user)
    return client


def test_an_org_admin_sees_only_tokens_of_their_own_org(admin_client, member, outsider):
    page = admin_client.get("/admin/tenancy/apitoken/").content.decode()
    assert member.token.split(".")[0] in page
    assert outsider.token.split(".")[0] not in page


def test_another_orgs_token_page_is_not_reachable(admin_client, outsider):
    token = ApiToken.objects.get(token_id=outsider.token.split(".")[0])
    response = admin_client.get(f"/admin/tenancy/apitoken/{token.pk}/change/")
    assert response.status_code == 302  # the admin redirects a missing object to the index
    assert outsider.token.split(".")[1] not in response.content.decode()


def test_issuing_a_token_redirects_to_a_page_that_shows_the_secret_once_with_its_expiry(admin_client, org, team):
    response = admin_client.post(
        "/admin/tenancy/apitoken/add/",
        {"org": org.pk, "kind": TokenKind.TEAM, "team": team.pk, "label": "from-admin", "expires_in_days": "30"},
    )
    token = ApiToken.objects.get(label="from-admin")
    assert response.status_code == 302  # post/redirect/get: reloading the result never re-submits the form
    assert response["Location"] == f"/admin/tenancy/apitoken/issued/{token.token_id}/"
    session = admin_client.session
    page = admin_client.get(response["Location"])
    assert "no-store" in page["Cache-Control"]
    html = page.content.decode()
    plaintext = re.search(r'id="issued-token"[^>]*value="([^"]+)"', html).group(1)
    assert plaintext.startswith(token.token_id + ".")
    secret = plaintext.split(".")[1]
    assert all(secret not in str(value) for value in session.values())  # only sealed while in the session
    assert token.expires_at is not None
    assert token.expires_at.strftime("%Y-%m-%d") in html
    assert "never" not in html
    again = admin_client.get(response["Location"]).content.decode()
    assert secret not in again
    assert "already been shown" in again
    assert ApiToken.objects.filter(label="from-admin").count() == 1
    follow_up = admin_client.get("/admin/tenancy/apitoken/")
    assert secret not in follow_up.content.decode()
    assert secret not in str(follow_up.cookies)


def test_the_token_form_offers_only_teams_never_the_org_root(admin_client, org, team):
    html = admin_client.get("/admin/tenancy/apitoken/add/").content.decode()
    options = re.search(r'<select name="team"[^>]*>(.*?)</select>', html, re.DOTALL).group(1)
    root = Node.objects.get(org=org, node_type=NodeType.ORG)
    assert f'value="{team.pk}"' in options
    assert f'value="{root.pk}"' not in options


def test_the_admin_refuses_a_team_token_without_a_team(admin_client, org):
    response = admin_client.post("/admin/tenancy/apitoken/add/", {"org": org.pk, "kind": TokenKind.TEAM, "label": "x"})
    assert response.status_code == 200
    assert "Team tokens need a team node." in response.content.decode()
    assert not ApiToken.objects.filter(label="x").exists()


def test_revoking_from_the_admin_list_takes_effect_at_once(
    admin_client, member, team, django_capture_on_commit_callbacks
):
    assert member.get("/auth/me").status_code == 200
    token = ApiToken.objects.get(token_id=member.token.split(".")[0])
    with django_capture_on_commit_callbacks(execute=True):
        selected = {"action": "revoke_tokens", "_selected_action": [token.pk]}
        asked = admin_client.post("/admin/tenancy/apitoken/", selected)
        assert "Revoke 1 token?" in asked.content.decode()
        assert member.get("/auth/me").status_code == 200  # nothing is revoked until the admin confirms
        response = admin_client.post(
            "/admin/tenancy/apitoken/",
            {"action": "revoke_tokens", "_selected_action": [token.pk], "confirmed": "yes"},
            follow=True,
        )
    assert "Revoked 1 token(s)." in response.content.decode()
    assert member.get("/auth/me").status_code == 401


def test_a_staff_user_without_an_org_admin_membership_sees_no_tenancy_models(org):
    user = get_user_model().objects.create_user("bob", "bob@acme.com", "pw-0123456789", is_staff=True)
    client = Client()
    client.force_login(user)
    assert client.get("/admin/tenancy/apitoken/").status_code == 403


def test_tokens_issued_elsewhere_are_listed_with_scopes_and_status(admin_client, team):
    issued = api_token_issue(org=team.org, kind=TokenKind.TEAM, team=team, read_only=True, meta=SYSTEM)
    page = admin_client.get("/admin/tenancy/apitoken/").content.decode()
    assert issued.token.token_id in page
    assert "team:read" in page
    assert "active" in page


def test_the_admin_is_titled_incidentfox_and_names_api_tokens_properly(admin_client):
    html = admin_client.get("/admin/").content.decode()
    assert "IncidentFox administration" in html
    assert "Django administration" not in html
    assert "API tokens" in html
