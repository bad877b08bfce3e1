"""People signed in to the web app can browse the API with DRF's browsable renderer."""

from django.contrib.auth import get_user_model
from django.test import Client

from tenancy.models import Membership, Role


def test_a_signed_in_member_browses_the_api_as_html(team):
    user = get_user_model().objects.create_user("carol", "carol@acme.com", "pw-0123456789")
    Membership.objects.create(user=user, node=team, role=Role.OPERATOR)
    client = Client()
    client.force_login(user)
    response = client.get("/api/v1/auth/me", HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert "team-platform" in response.content.decode()


def test_a_session_user_without_memberships_is_not_authenticated_for_the_api(db):
    user = get_user_model().objects.create_user("dave", "dave@acme.com", "pw-0123456789")
    client = Client()
    client.force_login(user)
    assert client.get("/api/v1/auth/me").status_code == 401


def test_unsafe_methods_from_a_session_need_the_csrf_token(org, team):
    user = get_user_model().objects.create_user("erin", "erin@acme.com", "pw-0123456789", is_staff=True)
    root = org.nodes.get(node_type="org")
    Membership.objects.create(user=user, node=root, role=Role.ORG_ADMIN)
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    response = client.post("/api/v1/admin/teams", {"team_id": "t-x", "name": "X"}, content_type="application/json")
    assert response.status_code == 403
