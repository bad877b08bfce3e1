"""Each investigation is one Slack message, posted when it starts and updated in place, through the real slack_sdk
client against a loopback server speaking the Slack Web API wire format."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from investigations.models import Investigation, Status
from tenancy.models import Node
from tests.conftest import ApiCaller
from tests.teamconfig.conftest import admin_write
from tests.webhooks.slack_server import FakeSlack, fake_slack
from webhooks.models import SlackMessage
from webhooks.slack import slack_sync

pytestmark = pytest.mark.django_db
TOKEN = "xoxb-test-bot-token"


@pytest.fixture
def slack(settings: Any) -> Iterator[FakeSlack]:
    settings.CONFIG_ENCRYPTION_KEYS = {"1": "slack-test-key-material-0123456789"}
    with fake_slack() as server:
        settings.SLACK_API_BASE_URL = server.url
        yield server


@pytest.fixture
def slack_team(team: Node, slack: FakeSlack) -> Node:
    admin_write(
        team,
        {
            "slack_channel": "#incidents",
            "slack_group_to_ping": "S0PLATFORM",
            "integrations": {"slack": {"enabled": True, "bot_token": {"secret": TOKEN}}},
        },
    )
    return team


def _investigation(team: Node, **fields: Any) -> Investigation:
    now = timezone.now()
    values: dict[str, Any] = {
        "org": team.org,
        "team": team,
        "agent": "planner",
        "message": "Checkout <errors> & timeouts",
        "timeout_seconds": 300,
        "max_turns": 25,
        "deadline_at": now + timedelta(minutes=5),
        **fields,
    }
    return Investigation.objects.create(**values)


@pytest.mark.django_db(transaction=True)
def test_a_run_started_through_the_api_posts_once_and_updates_that_message_when_it_finishes(
    member: ApiCaller, slack_team: Node, slack: FakeSlack
) -> None:
    response = member.post("/agents/run", {"agent_name": "planner", "message": "payments errors", "async": False})
    assert response.status_code == 200, response.content
    body = response.json()
    methods = [call.method for call in slack.calls]
    assert methods[0] == "chat.postMessage"
    assert set(methods[1:]) == {"chat.update"}
    first = slack.calls[0]
    assert (first.token, first.body["channel"]) == (TOKEN, "#incidents")
    assert "payments errors" in first.body["text"]
    assert f"/investigations/{body['investigation_id']}|" in first.body["text"]
    [(ts, final)] = slack.messages.items()
    assert all(call.body["ts"] == ts for call in slack.calls[1:])
    expected = ":white_check_mark: *Investigation complete*" if body["status"] == "completed" else ":x:"
    assert final.startswith(expected), final
    row = SlackMessage.objects.get(investigation_id=body["investigation_id"])
    assert (row.ts, row.final, row.last_error) == (ts, True, "")


def test_progress_and_failure_update_the_same_message_and_nothing_follows_the_final_state(
    slack_team: Node, slack: FakeSlack
) -> None:
    run = _investigation(slack_team)
    slack_sync(investigation_id=run.id)
    assert "&lt;errors&gt; &amp; timeouts" in slack.calls[0].body["text"], "user text is escaped for mrkdwn"
    Investigation.objects.filter(pk=run.pk).update(
        status=Status.RUNNING, progress_step="Sweeping metrics", steps_completed=2, steps_total=5
    )
    slack_sync(investigation_id=run.id)
    ts = SlackMessage.objects.get(investigation=run).ts
    assert slack.calls[1].method == "chat.update"
    assert "Step 2/5: Sweeping metrics" in slack.messages[ts]
    Investigation.objects.filter(pk=run.pk).update(
        status=Status.FAILED, error_code="timeout", error_message="Investigation exceeded its deadline"
    )
    slack_sync(investigation_id=run.id)
    assert slack.messages[ts].startswith(":x: *Investigation failed*")
    assert "exceeded its deadline" in slack.messages[ts]
    slack_sync(investigation_id=run.id)
    assert len(slack.calls) == 3


def test_a_completed_run_shows_root_cause_confidence_and_top_recommendations(
    slack_team: Node, slack: FakeSlack
) -> None:
    result = {
        "summary": "s",
        "root_cause": {"description": "Postgres connection pool exhausted", "confidence": 87},
        "recommendations": [{"priority": "high", "action": f"Action {n}"} for n in range(5)],
    }
    run = _investigation(slack_team, status=Status.COMPLETED, result=result)
    slack_sync(investigation_id=run.id)
    text = slack.calls[0].body["text"]
    assert "*Root cause* (87% confidence): Postgres connection pool exhausted" in text
    assert "• Action 2" in text
    assert "Action 3" not in text
    assert "<!subteam^" not in text, "only high-severity alerts ping the group"


def test_a_high_severity_alert_mentions_the_group_to_ping(slack_team: Node, slack: FakeSlack) -> None:
    run = _investigation(slack_team, trigger_source="alertmanager", context={"severity": "critical"})
    slack_sync(investigation_id=run.id)
    assert slack.calls[0].body["text"].startswith("<!subteam^S0PLATFORM>")


def test_channel_not_found_is_kept_on_the_row_and_never_raised(slack_team: Node, slack: FakeSlack) -> None:
    slack.script["chat.postMessage"] = [(200, {"ok": False, "error": "channel_not_found"}, {})]
    run = _investigation(slack_team)
    slack_sync(investigation_id=run.id)
    row = SlackMessage.objects.get(investigation=run)
    assert (row.ts, row.final, row.last_error) == ("", False, "channel_not_found")
    Investigation.objects.filter(pk=run.pk).update(status=Status.COMPLETED, result={"summary": "done"})
    slack_sync(investigation_id=run.id)
    assert [call.method for call in slack.calls] == ["chat.postMessage", "chat.postMessage"], "posts once it can"
    assert SlackMessage.objects.get(investigation=run).final


def test_a_rate_limit_is_waited_out_as_retry_after_says(slack_team: Node, slack: FakeSlack) -> None:
    slack.script["chat.postMessage"] = [(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "1"})]
    run = _investigation(slack_team)
    started = time.monotonic()
    slack_sync(investigation_id=run.id)
    assert time.monotonic() - started >= 1.0
    assert [call.method for call in slack.calls] == ["chat.postMessage", "chat.postMessage"]
    assert SlackMessage.objects.get(investigation=run).ts in slack.messages


@pytest.mark.django_db(transaction=True)
def test_slack_being_down_never_fails_the_investigation(
    member: ApiCaller, slack_team: Node, slack: FakeSlack, settings: Any
) -> None:
    settings.SLACK_API_BASE_URL = "http://127.0.0.1:9/api/"  # discard port: nothing listens
    response = member.post("/agents/run", {"agent_name": "planner", "message": "payments errors", "async": False})
    assert response.status_code == 200
    assert response.json()["status"] in ("completed", "failed")
    row = SlackMessage.objects.get(investigation_id=response.json()["investigation_id"])
    assert row.last_error
    assert row.ts == ""


def test_a_channel_without_the_slack_bot_is_refused(member: ApiCaller) -> None:
    response = member.put("/config/me", {"slack_channel": "#incidents"})
    assert response.status_code == 400
    assert response.json()["error"]["details"]["field"] == "slack_channel"


def test_the_bot_token_must_be_a_secret(member: ApiCaller) -> None:
    response = member.put("/config/me", {"integrations": {"slack": {"enabled": True, "bot_token": TOKEN}}})
    assert response.status_code == 400
    assert response.json()["error"]["details"]["field"] == "integrations.slack.bot_token"
