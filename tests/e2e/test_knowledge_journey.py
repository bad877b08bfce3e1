"""A real browser: an engineer teaches the team's runbook on the Knowledge page, searches it and says it helped,
runs an investigation that lists the runbook among its matches, writes the postmortem in the editor and saves it
to the knowledge base. Screenshots go to ``test-artifacts/e2e/``."""

from __future__ import annotations

import re

import pytest

from knowledge.models import KnowledgeDocument, KnowledgeFeedback
from tests.e2e.test_browser_journey import launch, sign_in
from tests.e2e.test_browser_journey import sso_org as sso_org  # the fixture, re-exported for this module

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

CHECKOUT_RUNBOOK = """# Checkout errors after a deploy

## Meaning
The checkout service answers 5xx after a release; most often the new version cannot reach its payment provider.

## Mitigation
- Roll back checkout to the previous release
- Check the payment provider's status page
"""


def test_an_engineer_teaches_a_runbook_sees_it_matched_and_saves_a_postmortem(
    sso_org, task_worker, page, screenshot, live_server
):
    base = live_server.url
    sign_in(page, base)

    page.get_by_role("link", name="Knowledge", exact=True).click()
    page.get_by_role("heading", name=re.compile("^Knowledge")).wait_for()
    form = page.locator("form[enctype='multipart/form-data']")
    form.get_by_label("Service").fill("checkout")
    form.get_by_label("Tags").fill("checkout, deploy")
    form.get_by_label("Markdown").fill(CHECKOUT_RUNBOOK)
    form.get_by_role("button", name="Save document").click()
    page.get_by_role("heading", name="Checkout errors after a deploy").wait_for()
    assert page.get_by_text("Roll back checkout to the previous release").first.is_visible()
    screenshot("01-runbook-saved")

    page.get_by_role("link", name="Knowledge", exact=True).click()
    page.get_by_label("Question, alert name or symptom").fill("checkout 5xx after release")
    page.get_by_role("button", name="Search").click()
    page.locator("#kb-results").get_by_role("link", name="Checkout errors after a deploy").wait_for()
    page.get_by_role("button", name="Helpful", exact=True).click()
    page.get_by_text("ranks higher").wait_for()
    assert KnowledgeFeedback.objects.get().helpful is True
    screenshot("02-search-feedback")

    launch(page, "checkout errors are up since the deploy")
    page.locator("#status-card .badge", has_text="Completed").wait_for(timeout=60_000)
    matches = page.locator("#kb-matches")
    matches.get_by_role("link", name="Checkout errors after a deploy").wait_for()
    screenshot("03-runbook-matches")

    matches.get_by_role("link", name="Write postmortem").click()
    editor = page.get_by_label("Postmortem (Markdown)")
    editor.wait_for()
    draft = editor.input_value()
    assert "## Root cause" in draft
    assert "## Action items" in draft
    screenshot("04-postmortem-editor")
    editor.fill(
        draft.replace("_For the people who handled the incident", "Rolled back in 6 minutes. _For the people", 1)
    )
    page.get_by_role("button", name="Save to knowledge base").click()
    page.wait_for_url(re.compile(r"/teams/team-platform/knowledge/kb_[A-Za-z0-9]+$"))
    saved = KnowledgeDocument.objects.get(doc_type="postmortem")
    assert "Rolled back in 6 minutes." in saved.content
    assert saved.service == "checkout"
    screenshot("05-postmortem-saved")
