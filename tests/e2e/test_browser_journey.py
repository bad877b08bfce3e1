"""A real browser against the live server and a real OpenID Connect provider on loopback.

Sign in with SSO, land on the team dashboard, launch an investigation against the demo environment, watch the
card progress to completed without a reload (and stop polling), read the root cause, find it in history by
text search, cancel a running one, sign out. Screenshots of each page go to ``test-artifacts/e2e/``.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from investigations.models import Investigation, Status
from teamconfig.services import config_update
from tenancy.audit import RequestMeta
from tenancy.models import Membership, NodeType, Organization
from tenancy.services import node_create, org_create
from tests.e2e.conftest import ACCOUNTS, CLIENT_ID

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.django_db(transaction=True)]
ALICE = ACCOUNTS["alice"]


@pytest.fixture
def sso_org(e2e_settings: Any, oidc_provider: Any) -> Organization:
    meta = RequestMeta.system()
    org = org_create(org_id="org-acme", name="Acme")
    Organization.objects.filter(pk=org.pk).update(
        oidc_issuer=oidc_provider.issuer, oidc_client_id=CLIENT_ID, allowed_email_domains=["acme.test"]
    )
    team = node_create(org=org, node_id="team-platform", name="Platform", node_type=NodeType.TEAM, meta=meta)
    config_update(node=team, patch={"tools": {"demo": {"enabled": True}}}, meta=meta, admin=True)
    return org


def sign_in(page: Any, base_url: str) -> None:
    page.goto(f"{base_url}/")
    page.get_by_role("link", name="Sign in with your company account").click()
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill(ALICE["password"])
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/teams/team-platform/$"))


def launch(page: Any, message: str) -> str:
    page.get_by_role("link", name="New investigation").first.click()
    page.get_by_label("Message").fill(message)
    page.get_by_label("Service").fill("checkout")
    page.get_by_role("button", name="Start investigation").click()
    page.wait_for_url(re.compile(r"/investigations/inv_[A-Za-z0-9]+$"))
    return str(page.url.rsplit("/", 1)[1])


def test_an_engineer_signs_in_investigates_finds_history_cancels_and_signs_out(
    sso_org, task_worker, page, screenshot, live_server
):
    base = live_server.url
    page.goto(f"{base}/")
    page.wait_for_url(re.compile(r"/login/"))
    screenshot("01-login")

    sign_in(page, base)
    assert Membership.objects.get(user__oidc_identities__subject=ALICE["sub"]).source == "claims"
    assert page.get_by_role("heading", name="Platform").is_visible()
    screenshot("02-dashboard")

    # Launch against the demo environment and watch the card progress without any navigation.
    page.get_by_role("link", name="New investigation").first.click()
    page.get_by_text("Try an incident from the demo environment").click()
    screenshot("03-new-investigation")
    navigations: list[str] = []
    investigation_id = launch(page, "checkout errors are up since the deploy, zebra-7731")
    page.on("framenavigated", lambda frame: navigations.append(frame.url) if frame == page.main_frame else None)
    card = page.locator("#status-card")
    card.locator(".badge", has_text="Running").wait_for(timeout=20_000)
    assert card.locator("progress").is_visible()
    assert "Current step:" in card.inner_text()
    screenshot("04-running")
    card.locator(".badge", has_text="Completed").wait_for(timeout=60_000)
    assert navigations == []  # the card re-rendered itself; the page never reloaded

    root_cause = page.locator(".root-cause")
    root_cause.wait_for()
    investigation = Investigation.objects.get(pk=investigation_id)
    assert investigation.status == Status.COMPLETED
    assert investigation.result is not None
    assert root_cause.inner_text().strip() == investigation.result["root_cause"]["description"]
    assert page.locator("#confidence-meter").is_visible()
    screenshot("05-result")

    # Polling has stopped: no card request during 10 s after completion.
    polls: list[str] = []
    page.on("request", lambda req: polls.append(req.url) if req.url.endswith("/card") else None)
    page.wait_for_timeout(10_000)
    assert polls == []

    # Find it in history by text search (htmx swap, URL pushed, real links kept).
    page.get_by_role("link", name="History", exact=True).click()
    page.get_by_label("Search").fill("zebra-7731")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url(re.compile(r"q=zebra-7731"))
    results = page.locator("#history")
    results.get_by_text("1 investigation").wait_for()
    link = results.get_by_role("link", name=re.compile("zebra-7731"))
    assert link.get_attribute("href") == f"/investigations/{investigation_id}"
    screenshot("06-history")

    page.get_by_role("link", name="Config", exact=True).click()
    page.get_by_role("heading", name="Effective config").wait_for()
    screenshot("07-config")

    # Cancel a running one.
    task_worker.STEP_DELAY_SECONDS = 2.0
    running_id = launch(page, "checkout errors again, cancel me")
    card.locator(".badge", has_text="Running").wait_for(timeout=20_000)
    page.once("dialog", lambda dialog: dialog.accept())  # "Cancel this investigation?"
    page.get_by_role("button", name="Cancel investigation").click()
    card.get_by_text("cancelling").wait_for()
    card.locator(".badge", has_text="Cancelled").wait_for(timeout=30_000)
    assert Investigation.objects.get(pk=running_id).status == Status.CANCELLED
    cancelled = card.get_by_text(re.compile(r"Cancelled by alice@acme\.test"))
    assert cancelled.is_visible()
    assert re.search(r"UTC$", cancelled.locator("time").get_attribute("title") or "")  # and when, on hover
    screenshot("08-cancelled")

    # Sign out of the app and of the identity provider.
    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("button", name="Yes, sign me out").click()
    page.wait_for_url(re.compile(r"/login/"))
    screenshot("09-signed-out")
    page.goto(f"{base}/teams/team-platform/")
    page.wait_for_url(re.compile(r"/login/\?next="))
