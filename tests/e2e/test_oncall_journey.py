"""A real browser, as the on-call engineer at 3 a.m. sees the app: the built-in engine's draft under a failed model
run, the steps while a run works, the alternatives it weighed, evidence that opens its tool call, a dashboard that
updates itself, history search by root cause and id, config errors in view, unknown keys refused, the admin's
one-time token page, and a 390 px phone without horizontal scroll. axe-core checks every page Chromium rendered.
Screenshots go to ``test-artifacts/e2e/``."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.auth import get_user_model

from investigations.models import Investigation
from investigations.services import investigation_start
from teamconfig.selectors import effective_config_for_team
from teamconfig.services import config_update
from tenancy.audit import RequestMeta
from tenancy.models import ApiToken, Membership, Node, NodeType, Role, TokenKind
from tests.e2e.conftest import horizontal_overflow, wait_until
from tests.e2e.test_browser_journey import launch, sign_in
from tests.e2e.test_browser_journey import sso_org as sso_org  # the fixture, re-exported for this module
from tests.engine.llm.model_standin import API_KEY, Fail, model_server

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def encryption_key(settings: Any) -> None:
    settings.CONFIG_ENCRYPTION_KEYS = {"1": "e2e-llm-key-material-0123456789abcdef"}


def _team() -> Node:
    return Node.objects.get(node_id="team-platform")


def test_the_model_fails_and_the_engineer_still_gets_the_draft_steps_alternatives_and_search(
    sso_org, encryption_key, task_worker, page, screenshot, accessible, live_server
):
    base = live_server.url
    sign_in(page, base)
    accessible(page)

    # The team's model is configured but its provider keeps failing.
    with model_server([Fail(503)] * 12) as model:
        llm = {"provider": "openai_compatible", "model": "gpt-incident", "base_url": f"{model.url}/v1"}
        config_update(
            node=_team(), patch={"llm": {**llm, "api_key": {"secret": API_KEY}}}, meta=RequestMeta.system(), admin=True
        )
        failed_id = launch(page, "checkout errors are up since the deploy, model down")
        card = page.locator("#status-card")
        card.locator(".badge", has_text="Failed").wait_for(timeout=60_000)
    assert Investigation.objects.get(pk=failed_id).error_code == "llm_unavailable"
    assert "llm_unavailable" in card.inner_text()  # the failure stays honest
    banner = page.get_by_text("Found by the built-in engine; the team's model could not review it.")
    banner.wait_for()
    draft_cause = page.locator(".root-cause")
    assert draft_cause.is_visible()
    assert draft_cause.inner_text().strip()
    assert page.get_by_role("button", name="Run again").is_visible()
    screenshot("01-llm-failure-draft")
    accessible(page)

    # Run without the model: the live card lists each step as it runs.
    task_worker.STEP_DELAY_SECONDS = 0.8
    page.get_by_role("button", name="Run without the model").click()
    page.wait_for_url(re.compile(r"/investigations/inv_[A-Za-z0-9]+$"))
    rerun_id = page.url.rsplit("/", 1)[1]
    assert rerun_id != failed_id
    steps = page.locator(".live-steps li")
    wait_until(lambda: steps.count() >= 3, timeout=40)
    first = steps.first.inner_text()
    assert re.search(r"\d+ ms · (ok|failed)", first), first
    screenshot("02-steps-while-running")
    accessible(page)
    task_worker.STEP_DELAY_SECONDS = 0.0
    page.locator("#status-card .badge", has_text="Completed").wait_for(timeout=60_000)
    rerun = Investigation.objects.get(pk=rerun_id)
    assert rerun.written_by == ""
    assert rerun.without_llm

    # The alternatives the engine weighed, each with a confidence.
    alternatives = page.locator("section.alternatives li")
    alternatives.first.wait_for()
    assert page.get_by_role("heading", name="Also considered").is_visible()
    assert re.search(r"\d+%", alternatives.first.inner_text())
    screenshot("03-alternatives")
    accessible(page)

    # An evidence link opens and highlights its tool call.
    link = page.locator("ul.evidence a.evidence-link").first
    anchor = link.get_attribute("href")
    link.click()
    target = page.locator(f"li{anchor}")
    wait_until(lambda: target.locator("details").evaluate("d => d.open"))
    assert "highlighted" in (target.get_attribute("class") or "")
    screenshot("04-evidence-opens-its-tool-call")

    # The dashboard updates itself: a run started elsewhere shows up without a reload, listed once.
    page.get_by_role("link", name="Dashboard", exact=True).click()
    page.get_by_role("heading", name="Recent investigations").wait_for()
    accessible(page)
    navigations: list[str] = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url) if frame == page.main_frame else None)
    task_worker.STEP_DELAY_SECONDS = 1.5
    started = investigation_start(
        team=_team(),
        agent="planner",
        message="payments latency from the API, zebra-dash",
        context={"service": "payments"},
        attachments=[],
        timeout_seconds=None,
        max_turns=None,
        meta=RequestMeta(actor="pager"),
    ).investigation
    page.locator("#dashboard-lists").get_by_text("zebra-dash").first.wait_for(timeout=20_000)
    assert navigations == []
    assert page.get_by_text("zebra-dash").count() == 1  # never in both In progress and Recent
    screenshot("05-dashboard-refreshed")
    task_worker.STEP_DELAY_SECONDS = 0.0
    wait_until(lambda: Investigation.objects.get(pk=started.pk).is_terminal, timeout=60)

    # History search by the root cause's words and by the id.
    root_cause = str((rerun.result or {})["root_cause"]["description"])
    words = " ".join(root_cause.split()[:3])
    page.get_by_role("link", name="History", exact=True).click()
    page.get_by_label("Search").fill(words)
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url(re.compile(r"q="))
    results = page.locator("#history")
    results.get_by_role("link").first.wait_for()
    links = results.get_by_role("link")
    hrefs = [links.nth(index).get_attribute("href") for index in range(links.count())]
    assert f"/investigations/{rerun_id}" in hrefs
    screenshot("06-history-by-root-cause")
    page.get_by_label("Search").fill(failed_id)
    page.get_by_role("button", name="Filter").click()
    results.get_by_text("1 investigation").wait_for()
    assert results.get_by_role("link", name=re.compile("model down")).get_attribute("href") == (
        f"/investigations/{failed_id}"
    )
    screenshot("07-history-by-id")
    accessible(page)

    # The remaining pages pass the same accessibility check: the postmortem editor, a document-less 404.
    for path in (f"/investigations/{rerun_id}/postmortem", "/teams/team-platform/no-such-page"):
        page.goto(f"{base}{path}")
        accessible(page)


def test_config_errors_in_view_unknown_keys_refused_webhook_forms_and_a_phone_without_sideways_scroll(
    sso_org, encryption_key, page, browser, screenshot, accessible, live_server
):
    base = live_server.url
    sign_in(page, base)
    alice = get_user_model().objects.get(email="alice@acme.test")
    Membership.objects.filter(user=alice).update(role=Role.ADMIN)
    # The Slack form's channel needs the team's Slack bot (a channel alone would post nowhere, so it is refused).
    config_update(
        node=_team(),
        patch={"integrations": {"slack": {"enabled": True, "bot_token": {"secret": "xoxb-e2e-bot"}}}},
        meta=RequestMeta.system(),
        admin=True,
    )

    page.get_by_role("link", name="Config", exact=True).click()
    editor = page.get_by_label("This team's overrides (JSON)")
    editor.fill('{"slack_channel": "#sre",')
    page.get_by_role("button", name="Save", exact=True).click()
    summary = page.locator("#error-summary")
    summary.wait_for()
    assert "Not valid JSON" in summary.inner_text()
    assert summary.evaluate("el => el === document.activeElement")
    assert summary.evaluate("el => { const r = el.getBoundingClientRect(); return r.top >= 0 && r.top < innerHeight }")
    assert summary.get_attribute("aria-live") == "assertive"
    assert editor.input_value() == '{"slack_channel": "#sre",'  # what was typed is kept
    screenshot("08-config-error-in-view")
    accessible(page)

    editor.fill('{"slack_chanel": "#sre"}')
    page.get_by_role("button", name="Save", exact=True).click()
    page.locator("#error-summary").wait_for()
    assert "slack_chanel" in summary.inner_text()
    assert "did you mean 'slack_channel'" in summary.inner_text()
    screenshot("09-unknown-key-refused")

    # The common settings have forms, and each save shows up in the version history with its diff.
    page.get_by_label("Slack channel").fill("#payments-oncall")
    page.get_by_role("button", name="Save Slack settings").click()
    page.get_by_text(re.compile(r"Saved as version \d+")).wait_for()
    history = page.locator("section[aria-labelledby=history-heading]")
    assert '"#payments-oncall"' in history.locator(".diff-new").first.inner_text()
    screenshot("09b-config-history-with-diff")
    accessible(page)

    # Switch the Alertmanager integration on with a form, not JSON.
    page.get_by_role("link", name="Webhooks", exact=True).click()
    page.get_by_role("heading", name="Inbound: alert webhooks").wait_for()
    assert page.get_by_role("heading", name="Outbound: investigation events").is_visible()
    alertmanager = page.locator("#inbound-alertmanager")
    assert alertmanager.get_by_role("button", name="Copy the Alertmanager URL").is_visible()
    alertmanager.get_by_label("Switch Alertmanager on").check()
    alertmanager.get_by_label("Secret").fill("am-bearer-token-0123456789")
    alertmanager.get_by_role("button", name="Save Alertmanager").click()
    page.get_by_text("Alertmanager settings saved.").wait_for()
    assert page.locator("#inbound-alertmanager .badge").inner_text() == "On"
    assert "am-bearer-token-0123456789" not in page.content()
    effective = effective_config_for_team(Node.objects.get(node_id="team-platform"))
    assert effective["integrations"]["alertmanager"]["enabled"] is True
    screenshot("10-webhooks-integration-form")
    accessible(page)

    signed_out = browser.new_context()
    try:
        login = signed_out.new_page()
        login.goto(f"{base}/login/")
        accessible(login)
    finally:
        signed_out.close()

    # The same engineer on a phone: collapsed nav, message box first, nothing wider than the screen.
    phone = browser.new_context(viewport=PHONE, storage_state=page.context.storage_state())
    mobile = phone.new_page()
    try:
        mobile.goto(f"{base}/teams/team-platform/")
        assert mobile.get_by_role("button", name="Menu").is_visible()
        assert not mobile.get_by_role("link", name="History", exact=True).is_visible()
        for path in (
            "/teams/team-platform/",
            "/teams/team-platform/investigations/new",
            "/teams/team-platform/history",
            "/teams/team-platform/config",
            "/teams/team-platform/webhooks",
            "/teams/team-platform/knowledge",
        ):
            mobile.goto(f"{base}{path}")
            assert horizontal_overflow(mobile) == 0, path
            accessible(mobile)
        mobile.goto(f"{base}/teams/team-platform/investigations/new")
        message_top = mobile.get_by_label("Message").bounding_box()["y"]
        agents_top = mobile.locator("fieldset.agents").bounding_box()["y"]
        assert message_top < agents_top
        Screenshot = type(screenshot)
        Screenshot(mobile, "phone")("11-390px-new-investigation")
        mobile.get_by_role("button", name="Menu").click()
        mobile.get_by_role("link", name="History", exact=True).wait_for()
        Screenshot(mobile, "phone")("12-390px-menu-open")
    finally:
        phone.close()


def test_an_org_admin_issues_a_token_that_is_shown_once_and_revokes_it_after_confirming(
    sso_org, page, screenshot, accessible, live_server
):
    base = live_server.url
    user = get_user_model().objects.create_user("root-admin", "root@acme.test", "admin-password-1", is_staff=True)
    root = Node.objects.get(org=sso_org, node_type=NodeType.ORG)
    Membership.objects.create(user=user, node=root, role=Role.ORG_ADMIN)
    page.goto(f"{base}/admin/login/")
    page.get_by_label("Username").fill("root-admin")
    page.get_by_label("Password").fill("admin-password-1")
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_load_state()
    page.goto(f"{base}/admin/")
    assert "Django" not in page.title()
    assert "IncidentFox admin" in page.title()
    assert page.get_by_role("link", name="IncidentFox administration").is_visible()  # the header, not Django's
    assert page.get_by_role("link", name="API tokens", exact=True).is_visible()  # not "Api tokens"
    accessible(page)
    page.goto(f"{base}/admin/tenancy/apitoken/add/")
    page.locator("#id_org").select_option(value=str(sso_org.pk))
    page.locator("#id_kind").select_option(value=TokenKind.TEAM.value)
    team_options = page.locator("#id_team option").all_inner_texts()
    assert not any(text.endswith("/org-acme") for text in team_options)  # the org root is not offered as a team
    page.locator("#id_team").select_option(value=str(_team().pk))
    page.locator("#id_label").fill("grafana-alerts")
    page.locator("#id_expires_in_days").fill("30")
    page.locator("input[name=_save]").click()
    page.wait_for_url(re.compile(r"/admin/tenancy/apitoken/issued/"))
    secret = page.get_by_label("Token").input_value()
    token = ApiToken.objects.get(label="grafana-alerts")
    assert secret.startswith(token.token_id + ".")
    expires = page.get_by_text(re.compile(r"^Expires:")).inner_text()
    assert "never" not in expires
    assert token.expires_at.strftime("%Y-%m-%d") in expires
    screenshot("13-token-shown-once")
    accessible(page)
    page.reload()
    page.get_by_text("already been shown").wait_for()
    assert secret.split(".")[1] not in page.content()
    assert ApiToken.objects.filter(label="grafana-alerts").count() == 1  # the reload issued nothing
    screenshot("14-token-page-after-reload")

    page.goto(f"{base}/admin/tenancy/apitoken/")
    page.get_by_role("row", name=re.compile("grafana-alerts")).get_by_role("checkbox").check()
    page.locator("select[name=action]").select_option("revoke_tokens")
    page.locator("button[name=index]").click()
    page.get_by_role("heading", name="Revoke 1 token?").wait_for()
    token.refresh_from_db()
    assert token.revoked_at is None  # nothing happens until confirmed
    screenshot("15-revoke-asks-first")
    page.get_by_role("button", name="Yes, revoke").click()
    page.get_by_text("Revoked 1 token(s).").wait_for()
    token.refresh_from_db()
    assert token.revoked_at is not None
