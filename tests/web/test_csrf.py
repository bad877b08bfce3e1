"""CSRF protection on every form of the web app, and the token htmx sends with its own requests."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from investigations.models import Status
from ops.queues import TASK_QUEUES
from tenancy.models import Role
from tests.web.conftest import make_investigation, signed_in_client


@pytest.fixture
def strict_admin(team):
    return signed_in_client(team, Role.ADMIN, "strict", enforce_csrf=True)


def _posts(team, run_id):
    return [
        (f"/teams/{team.node_id}/investigations/new", {"agent": "planner", "message": "checkout 502"}),
        (f"/investigations/{run_id}/cancel", {}),
        (f"/teams/{team.node_id}/config", {"overrides": "{}"}),
        ("/logout/", {}),
    ]


def test_every_signed_in_form_refuses_a_post_without_the_csrf_token(strict_admin, team):
    run = make_investigation(team, status=Status.RUNNING)
    for url, data in _posts(team, run.pk):
        response = strict_admin.post(url, data)
        assert response.status_code == 403, url
    run.refresh_from_db()
    assert run.cancel_requested is False
    assert strict_admin.get(f"/teams/{team.node_id}/").status_code == 200  # still signed in: logout was refused


def test_every_signed_in_form_accepts_a_post_with_the_token_from_its_page(strict_admin, team, settings):
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend", "QUEUES": TASK_QUEUES}}
    run = make_investigation(team, status=Status.RUNNING)
    for url, data in _posts(team, run.pk):
        page = strict_admin.get(f"/teams/{team.node_id}/config").content.decode()
        found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        assert found is not None
        token = found.group(1)
        response = strict_admin.post(url, {**data, "csrfmiddlewaretoken": token})
        assert response.status_code in (200, 302), url


def test_the_login_form_refuses_a_post_without_the_csrf_token(db):
    get_user_model().objects.create_user(username="local", password="pw-123456!")
    client = Client(enforce_csrf_checks=True)
    assert client.post("/login/", {"username": "local", "password": "pw-123456!"}).status_code == 403


def test_htmx_requests_carry_the_csrf_token_from_the_body_and_pass_the_check(strict_admin, team):
    run = make_investigation(team, status=Status.RUNNING)
    page = strict_admin.get(f"/investigations/{run.pk}").content.decode()
    found = re.search(r'<body hx-headers=\'\{"X-CSRFToken": "([^"]+)"\}\'>', page)
    assert found is not None
    token = found.group(1)
    assert 'hx-post="/investigations/' in page
    response = strict_admin.post(
        f"/investigations/{run.pk}/cancel", headers={"HX-Request": "true", "X-CSRFToken": token}
    )
    assert response.status_code == 200
    run.refresh_from_db()
    assert run.cancel_requested is True


@pytest.mark.parametrize("page", ["", "investigations/new", "config"])
def test_each_page_with_a_post_form_renders_the_csrf_field_in_every_post_form(strict_admin, team, page):
    html = strict_admin.get(f"/teams/{team.node_id}/{page}").content.decode()
    forms = re.findall(r'<form[^>]*method="post".*?</form>', html, re.DOTALL)
    assert forms
    assert all('name="csrfmiddlewaretoken"' in form for form in forms)
