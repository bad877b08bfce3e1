"""The webhooks page lists the inbound alert webhooks: each provider's URL for this team, whether it is on, and the
proof it must send — never a secret."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tenancy.models import Node, Role
from tests.alerts.conftest import AM_TOKEN, PD_SECRET, configure, url
from tests.web.conftest import signed_in_client

PAGE = "/teams/team-platform/webhooks"


@pytest.fixture
def viewer(team: Node) -> Client:
    return signed_in_client(team, Role.VIEWER, "viewer")


@pytest.mark.django_db
def test_a_viewer_sees_each_providers_url_and_which_integrations_are_on(viewer: Client, team: Node) -> None:
    configure(
        team,
        {
            "integrations": {
                "alertmanager": {"enabled": True, "bearer_token": {"secret": AM_TOKEN}},
                "pagerduty": {"enabled": True, "auto_investigate": False, "webhook_secret": {"secret": PD_SECRET}},
            }
        },
    )

    page = viewer.get(PAGE).content.decode()

    for provider in ("alertmanager", "pagerduty", "incidentio"):
        assert f"http://testserver{url(provider)}" in page
    rows = {provider: _row(page, provider) for provider in ("alertmanager", "pagerduty", "incidentio")}
    assert ">On<" in rows["alertmanager"]
    assert "auto_investigate" not in rows["alertmanager"]
    assert ">On<" in rows["pagerduty"]
    assert "accepted and logged but start no investigation" in rows["pagerduty"]
    assert ">Off<" in rows["incidentio"]
    assert AM_TOKEN not in page
    assert PD_SECRET not in page


@pytest.mark.django_db
def test_the_listed_url_is_the_one_the_api_serves(viewer: Client, team: Node, client: Any) -> None:
    configure(team, {"integrations": {"alertmanager": {"enabled": True, "bearer_token": {"secret": AM_TOKEN}}}})
    row = _row(viewer.get(PAGE).content.decode(), "alertmanager")
    listed = row.split('id="inbound-alertmanager-url">', 1)[1].split("</code>", 1)[0]

    response = client.post(
        listed.removeprefix("http://testserver"),
        {"version": "4", "alerts": []},
        content_type="application/json",
        headers={"Authorization": f"Bearer {AM_TOKEN}"},
    )

    assert response.status_code == 202
    assert response.json() == {"received": 0, "investigations": [], "skipped": []}


def _row(page: str, provider: str) -> str:
    return page.split(f'id="inbound-{provider}"', 1)[1].split("</article>", 1)[0]
