"""Shared fixtures: organisations, teams and the personas every authorization test uses.

Personas: ``org_admin`` (org-admin token of org A), ``member`` (team token of team A), ``read_only_member``,
``outsider`` (team token of another org's team). Each is an ``ApiCaller`` that sends its Bearer token.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import settings as hypothesis_settings

from ops.queues import TASK_QUEUES

# Property tests judge correctness, not speed: a slow example on a busy CI machine must not fail the run.
hypothesis_settings.register_profile("incidentfox", deadline=None)
hypothesis_settings.load_profile("incidentfox")

if TYPE_CHECKING:  # Django is imported lazily so the Django-free engine tests can run with ``-p no:django``.
    from django.test import Client

    from tenancy.audit import RequestMeta
    from tenancy.models import Node, Organization


@dataclass
class ApiCaller:
    """A test client that always sends one credential (or none) to /api/v1."""

    client: Client
    token: str | None
    team: Node | None = None

    def _headers(self, headers: dict[str, str] | None) -> dict[str, str]:
        merged = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        merged.update(headers or {})
        return merged

    def get(self, path: str, headers: dict[str, str] | None = None, **params: Any) -> Any:
        return self.client.get(f"/api/v1{path}", params, headers=self._headers(headers))

    def post(self, path: str, body: Any = None, headers: dict[str, str] | None = None) -> Any:
        data = "" if body is None else json.dumps(body)
        return self.client.post(f"/api/v1{path}", data, content_type="application/json", headers=self._headers(headers))

    def put(self, path: str, body: Any, headers: dict[str, str] | None = None) -> Any:
        return self.client.put(
            f"/api/v1{path}", json.dumps(body), content_type="application/json", headers=self._headers(headers)
        )

    def patch(self, path: str, body: Any, headers: dict[str, str] | None = None) -> Any:
        return self.client.patch(
            f"/api/v1{path}", json.dumps(body), content_type="application/json", headers=self._headers(headers)
        )


def __getattr__(name: str) -> RequestMeta:
    """``from tests.conftest import SYSTEM``: the system actor, built lazily (module ``__getattr__``)."""
    if name == "SYSTEM":
        from tenancy.audit import RequestMeta

        return RequestMeta.system()
    raise AttributeError(name)


def _django_settings(request: pytest.FixtureRequest) -> Any:
    """pytest-django's ``settings`` fixture, or None when the Django plugin is off (engine-only runs)."""
    if not request.config.pluginmanager.hasplugin("django"):
        return None
    return request.getfixturevalue("settings")


@pytest.fixture(autouse=True)
def _fresh_rate_limit_windows(request: pytest.FixtureRequest) -> None:
    """The database store rolls back with each test; the Redis store (CI's second run) is cleared explicitly."""
    settings = _django_settings(request)
    if settings is None:
        return
    if settings.RATE_LIMIT_STORE == "redis" and settings.REDIS_URL:
        import redis

        client = redis.Redis.from_url(settings.REDIS_URL)
        keys = list(client.scan_iter("ratelimit:*", count=1000))
        if keys:
            client.delete(*keys)


@pytest.fixture
def one_rate_window() -> Iterator[None]:
    """Run the test at the start of a fresh one-minute rate-limit window, the clock ticking, so requests that must
    share a window (counting up to a limit) never straddle a minute's edge however slow the machine is."""
    import time

    import time_machine

    with time_machine.travel((time.time() // 60 + 1) * 60 + 0.1, tick=True):
        yield


def _system() -> RequestMeta:
    from tenancy.audit import RequestMeta

    return RequestMeta.system()


@pytest.fixture(autouse=True)
def _test_settings(request: pytest.FixtureRequest) -> None:
    settings = _django_settings(request)
    if settings is None:
        return
    settings.ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
    # Data sources, LLMs and identity providers in tests are loopback servers; egress tests switch this off.
    settings.EGRESS_ALLOW_LOOPBACK = True
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend", "QUEUES": TASK_QUEUES}}
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def org(db: None) -> Organization:
    from tenancy.services import org_create

    return org_create(org_id="org-acme", name="Acme")


@pytest.fixture
def team(org: Organization) -> Node:
    from tenancy.models import NodeType
    from tenancy.services import node_create

    return node_create(org=org, node_id="team-platform", name="Platform", node_type=NodeType.TEAM, meta=_system())


@pytest.fixture
def other_team(org: Organization) -> Node:
    from tenancy.models import NodeType
    from tenancy.services import node_create

    return node_create(org=org, node_id="team-payments", name="Payments", node_type=NodeType.TEAM, meta=_system())


@pytest.fixture
def other_org(db: None) -> Organization:
    from tenancy.services import org_create

    return org_create(org_id="org-globex", name="Globex")


@pytest.fixture
def outsider_team(other_org: Organization) -> Node:
    from tenancy.models import NodeType
    from tenancy.services import node_create

    return node_create(org=other_org, node_id="team-platform", name="Platform", node_type=NodeType.TEAM, meta=_system())


@pytest.fixture
def member(team: Node) -> ApiCaller:
    from django.test import Client

    from tenancy.models import TokenKind
    from tenancy.services import api_token_issue

    issued = api_token_issue(org=team.org, kind=TokenKind.TEAM, team=team, label="member", meta=_system())
    return ApiCaller(Client(), issued.plaintext, team)


@pytest.fixture
def read_only_member(team: Node) -> ApiCaller:
    from django.test import Client

    from tenancy.models import TokenKind
    from tenancy.services import api_token_issue

    issued = api_token_issue(org=team.org, kind=TokenKind.TEAM, team=team, read_only=True, meta=_system())
    return ApiCaller(Client(), issued.plaintext, team)


@pytest.fixture
def other_member(other_team: Node) -> ApiCaller:
    from django.test import Client

    from tenancy.models import TokenKind
    from tenancy.services import api_token_issue

    issued = api_token_issue(org=other_team.org, kind=TokenKind.TEAM, team=other_team, meta=_system())
    return ApiCaller(Client(), issued.plaintext, other_team)


@pytest.fixture
def org_admin(org: Organization) -> ApiCaller:
    from django.test import Client

    from tenancy.models import TokenKind
    from tenancy.services import api_token_issue

    issued = api_token_issue(org=org, kind=TokenKind.ADMIN, label="admin", meta=_system())
    return ApiCaller(Client(), issued.plaintext)


@pytest.fixture
def outsider(outsider_team: Node) -> ApiCaller:
    from django.test import Client

    from tenancy.models import TokenKind
    from tenancy.services import api_token_issue

    issued = api_token_issue(org=outsider_team.org, kind=TokenKind.TEAM, team=outsider_team, meta=_system())
    return ApiCaller(Client(), issued.plaintext, outsider_team)


@pytest.fixture
def outsider_admin(other_org: Organization) -> ApiCaller:
    from django.test import Client

    from tenancy.models import TokenKind
    from tenancy.services import api_token_issue

    issued = api_token_issue(org=other_org, kind=TokenKind.ADMIN, meta=_system())
    return ApiCaller(Client(), issued.plaintext)


@pytest.fixture
def anonymous(db: None) -> ApiCaller:
    from django.test import Client

    return ApiCaller(Client(), None)
