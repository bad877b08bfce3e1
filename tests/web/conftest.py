"""Web personas (signed-in browser users) and investigation rows for the web app tests.

``web_member`` operates team A, ``web_viewer`` only views it, ``web_team_admin`` administers it,
``web_org_admin`` administers the whole org, ``web_other_team`` is a member of team B of the same org and
``web_outsider`` belongs to another org. Each is a Django test ``Client`` already signed in.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from investigations.models import Investigation, Status
from tenancy.models import Membership, Node, NodeType, Organization, Role

LOCAL_BACKEND = "incidentfox_web.oidc.LocalLoginBackend"


def signed_in_client(node: Node, role: str, username: str, *, enforce_csrf: bool = False) -> Client:
    user = get_user_model().objects.create_user(username=username, email=f"{username}@acme.test", password="pw-123456!")
    Membership.objects.create(user=user, node=node, role=role)
    client = Client(enforce_csrf_checks=enforce_csrf)
    client.force_login(user, backend=LOCAL_BACKEND)
    client.user = user
    return client


def make_investigation(team: Node, *, status: str = Status.PENDING, message: str = "payments latency", **fields: Any):
    now = timezone.now()
    values: dict[str, Any] = {
        "org": team.org,
        "team": team,
        "agent": "planner",
        "message": message,
        "status": status,
        "requested_by": "test",
        "timeout_seconds": 300,
        "max_turns": 25,
        "created_at": now,
        "deadline_at": now + timedelta(seconds=300),
    }
    if status != Status.PENDING:
        values["started_at"] = now - timedelta(seconds=15)
    if status in (Status.COMPLETED, Status.FAILED, Status.CANCELLED):
        values["finished_at"] = now
    values.update(fields)
    return Investigation.objects.create(**values)


@pytest.fixture
def root(org: Organization) -> Node:
    return Node.objects.get(org=org, node_type=NodeType.ORG)


@pytest.fixture
def web_member(team: Node) -> Client:
    return signed_in_client(team, Role.OPERATOR, "member")


@pytest.fixture
def web_viewer(team: Node) -> Client:
    return signed_in_client(team, Role.VIEWER, "viewer")


@pytest.fixture
def web_team_admin(team: Node) -> Client:
    return signed_in_client(team, Role.ADMIN, "teamadmin")


@pytest.fixture
def web_org_admin(root: Node, team: Node) -> Client:
    return signed_in_client(root, Role.ORG_ADMIN, "orgadmin")


@pytest.fixture
def web_other_team(other_team: Node) -> Client:
    return signed_in_client(other_team, Role.OPERATOR, "otherteam")


@pytest.fixture
def web_outsider(outsider_team: Node) -> Client:
    return signed_in_client(outsider_team, Role.ADMIN, "outsider")
