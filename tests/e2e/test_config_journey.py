"""A real browser on the config page's data sources and on the small things an engineer trips over.

A team admin tests Prometheus (a real server) and a Loki that is down from the page, saves one with a secret that
is never shown again and then removed from its form; then, in the same Chromium: the branded 404 and 500 with
navigation, the API's JSON 404 for an unknown POST, the favicon, the browsable API naming a session (no internal
repr), a run started with a token named by its label, ``kubectl logs deploy/checkout`` not inventing a service
called "deploy", and "Copy as Markdown". axe-core checks every page. Screenshots go to ``test-artifacts/e2e/``.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from django.contrib.auth import get_user_model

from investigations.models import Investigation
from teamconfig.selectors import engine_settings_for_team
from tenancy.audit import RequestMeta
from tenancy.models import Membership, Node, Role, TokenKind
from tenancy.services import api_token_issue
from tests.e2e.conftest import wait_until
from tests.e2e.test_browser_journey import sign_in
from tests.e2e.test_browser_journey import sso_org as sso_org  # the fixture, re-exported for this module
from tests.support.metrics_sim.prometheus import ToolMissing, empty
from tests.support.net import free_port
from tests.support.tools import skip_or_fail

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

LOKI_SECRET = "loki-e2e-topsecret-0123"


@pytest.fixture
def encryption_key(settings: Any) -> None:
    settings.CONFIG_ENCRYPTION_KEYS = {"1": "e2e-config-key-material-0123456789abcdef"}


@pytest.fixture
def prometheus_url() -> Any:
    try:
        with empty() as url:
            yield url
    except ToolMissing as exc:
        skip_or_fail(str(exc))


def _team() -> Node:
    return Node.objects.get(node_id="team-platform")


def test_a_team_admin_tests_data_sources_from_the_config_page_and_secrets_stay_hidden(
    sso_org, encryption_key, prometheus_url, page, screenshot, accessible, live_server
):
    base = live_server.url
    sign_in(page, base)
    alice = get_user_model().objects.get(email="alice@acme.test")
    Membership.objects.filter(user=alice).update(role=Role.ADMIN)
    page.get_by_role("link", name="Config", exact=True).click()
    page.get_by_role("heading", name="Data sources").wait_for()
    accessible(page)

    # Prometheus: typed, tested (nothing saved yet), connected to the real server.
    prometheus = page.locator("#source-prometheus")
    prometheus.locator("summary").click()
    prometheus.get_by_label("URL").fill(prometheus_url)
    prometheus.get_by_role("button", name="Test connection").click()
    result = page.locator("#source-prometheus .connection-check")
    result.wait_for()
    assert result.inner_text().startswith("Connected. Prometheus 2.")
    assert "metric names" in result.inner_text()
    assert page.locator("#source-prometheus").get_by_label("URL").input_value() == prometheus_url  # kept
    assert "prometheus" not in engine_settings_for_team(_team()).data_sources  # a test saves nothing
    screenshot("01-prometheus-connected")
    accessible(page)

    # Loki that is down: the clear error, and the typed secret is not put back into the page.
    loki = page.locator("#source-loki")
    loki.locator("summary").click()
    loki.get_by_label("URL").fill(f"http://127.0.0.1:{free_port()}")
    loki.get_by_label("Authorization (not set)").fill(LOKI_SECRET)
    loki.get_by_role("button", name="Test connection").click()
    failed = page.locator("#source-loki .connection-check")
    failed.wait_for()
    assert failed.inner_text().startswith("Connection failed. Unable to connect to Loki")
    assert LOKI_SECRET not in page.content()
    screenshot("02-loki-connection-failed")
    accessible(page)

    # Saved with its secret: the page says "set", never the value, and leaving it empty keeps it.
    loki = page.locator("#source-loki")
    loki.get_by_label("Enabled: investigations use Loki").check()
    loki.get_by_label("Authorization (not set)").fill(LOKI_SECRET)
    loki.get_by_role("button", name="Save Loki").click()
    page.get_by_text(re.compile(r"Saved as version \d+")).wait_for()
    loki = page.locator("#source-loki")
    assert loki.get_by_label("Authorization (set)").input_value() == ""
    assert LOKI_SECRET not in page.content()
    assert engine_settings_for_team(_team()).data_sources["loki"]["auth"] == LOKI_SECRET
    screenshot("03-loki-saved-secret-set")
    prometheus = page.locator("#source-prometheus")
    prometheus.locator("summary").click()
    prometheus.get_by_label("URL").fill(prometheus_url)
    prometheus.get_by_label("Enabled: investigations use Prometheus").check()
    prometheus.get_by_role("button", name="Save Prometheus").click()
    page.get_by_text(re.compile(r"Saved as version \d+")).wait_for()
    assert page.locator("#source-prometheus summary").inner_text().endswith("ENABLED")
    assert engine_settings_for_team(_team()).data_sources["prometheus"]["url"] == prometheus_url
    accessible(page)

    # The stored Loki secret is removed from its form: the checkbox, a save, and the page says "not set".
    loki = page.locator("#source-loki")
    loki.get_by_label("Remove the stored authorization").check()
    screenshot("04-loki-remove-secret-checked")
    loki.get_by_role("button", name="Save Loki").click()
    page.get_by_text(re.compile(r"Saved as version \d+.*tools\.loki\.auth")).wait_for()
    loki = page.locator("#source-loki")
    assert loki.get_by_label("Authorization (not set)").input_value() == ""
    assert loki.get_by_label("Remove the stored authorization").count() == 0
    assert "auth" not in engine_settings_for_team(_team()).data_sources["loki"]
    assert LOKI_SECRET not in page.content()
    screenshot("05-loki-secret-removed")
    accessible(page)


@pytest.mark.urls("tests.web.failing_urls")
def test_a_team_page_that_fails_is_the_branded_500_with_the_teams_navigation(
    sso_org, page, screenshot, accessible, live_server
):
    base = live_server.url
    sign_in(page, base)
    response = page.goto(f"{base}/teams/team-platform/broken")
    assert response is not None
    assert response.status == 500
    page.get_by_role("heading", name="Something went wrong on our side").wait_for()
    navigation = page.get_by_role("navigation", name="Main")
    assert navigation.get_by_role("link", name="History", exact=True).get_attribute("href") == (
        "/teams/team-platform/history"
    )
    assert "the page of team-platform failed" not in page.content()
    screenshot("01-branded-500")
    accessible(page)
    navigation.get_by_role("link", name="Dashboard", exact=True).click()  # a way out that works
    page.wait_for_url(f"{base}/teams/team-platform/")
    accessible(page)


def test_the_small_things_hold_in_a_real_browser(sso_org, task_worker, page, screenshot, accessible, live_server):
    base = live_server.url
    sign_in(page, base)

    # One team: no switcher, just its name. The favicon is served.
    assert page.locator("#team-switcher").count() == 0
    assert page.locator(".team-name").inner_text() == "Platform"
    icon = page.locator("link[rel=icon]").get_attribute("href")
    icon_response = page.request.get(f"{base}{icon}")
    assert icon_response.ok
    assert icon_response.headers["content-type"].startswith("image/svg+xml")

    # A page that does not exist: branded, with the navigation and a way back.
    page.goto(f"{base}/teams/team-platform/no-such-page")
    page.get_by_role("heading", name="Page not found").wait_for()
    assert page.get_by_role("link", name="History", exact=True).is_visible()
    screenshot("01-branded-404")
    accessible(page)

    # An unknown API POST with the session cookie: the JSON 404, not a CSRF page.
    answer = page.request.post(f"{base}/api/v1/no/such/route", data={"x": 1})
    assert answer.status == 404
    assert answer.json()["error"]["code"] == "not_found"

    # The browsable API names the session, not an internal repr.
    page.goto(f"{base}/api/v1/auth/me")
    body = page.content()
    assert "Principal(" not in body
    assert '"auth_kind": "session"' in page.locator("body").inner_text()
    screenshot("02-browsable-api-session")

    # A run started with a token shows the token's label; kubectl logs deploy/checkout is about checkout.
    issued = api_token_issue(
        org=sso_org, kind=TokenKind.TEAM, team=_team(), label="grafana-alerts", meta=RequestMeta.system()
    )
    started = httpx.post(
        f"{base}/api/v1/agents/run",
        headers={"Authorization": f"Bearer {issued.plaintext}"},
        json={
            "agent_name": "planner",
            "message": "kubectl logs deploy/checkout shows errors since the deploy",
            "async": True,
        },
        timeout=30,
    )
    assert started.status_code == 202, started.text
    run_id = started.json()["investigation_id"]
    wait_until(lambda: Investigation.objects.get(pk=run_id).is_terminal, timeout=60)
    page.goto(f"{base}/investigations/{run_id}")
    page.locator("#status-card .badge", has_text="Completed").wait_for()
    assert f"token “grafana-alerts” ({issued.token.token_id})" in page.locator("dl").first.inner_text()
    affected = page.locator("section[aria-labelledby=affected-heading] li").all_inner_texts()
    assert "deploy" not in affected
    assert "checkout" in affected
    result = Investigation.objects.get(pk=run_id).result
    assert result is not None
    assert result["affected_systems"].count("deploy") == 0

    # Copy as Markdown puts the report on the clipboard.
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)
    page.get_by_role("button", name="Copy as Markdown").click()
    wait_until(lambda: page.evaluate("navigator.clipboard.readText()").startswith("# "))
    copied = page.evaluate("navigator.clipboard.readText()")
    assert run_id in copied
    assert "Root cause" in copied
    screenshot("03-token-label-and-markdown")
    accessible(page)
