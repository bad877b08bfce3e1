"""The investigation page, its HTMX status card, launching and cancelling."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from investigations.models import Investigation, InvestigationAttachments, InvestigationStep, Status, TriggerSource
from ops.queues import TASK_QUEUES
from tests.web.conftest import make_investigation
from web.forms import ATTACHMENT_MAX_BYTES

COMPLETED_RESULT = {
    "summary": "Connection pool exhaustion on payments-db raised payments-api p99 latency",
    "root_cause": {
        "description": "v2.14.0 stopped releasing connections on a retry path",
        "confidence": 92,
        "evidence": [
            "[tool:get_cloudwatch_metrics] DatabaseConnections flat at its maximum (20) from 14:31Z",
            "[attachment:app.log] 14:31:07Z ERROR HikariPool-1 - Connection is not available",
        ],
    },
    "timeline": [{"timestamp": "2024-01-15T14:29:00Z", "event": "payments-api v2.14.0 deployed"}],
    "affected_systems": ["payments-api", "payments-db"],
    "recommendations": [{"priority": "high", "action": "Roll back payments-api to v2.13.2"}],
}


def htmx(client, url):
    return client.get(url, headers={"HX-Request": "true"})


def test_a_running_card_polls_itself_and_shows_progress_step_and_elapsed_time(web_member, team):
    run = make_investigation(
        team, status=Status.RUNNING, steps_completed=3, steps_total=7, progress_step="Querying CloudWatch metrics"
    )
    html = htmx(web_member, f"/investigations/{run.pk}/card").content.decode()
    assert f'hx-get="/investigations/{run.pk}/card"' in html
    assert 'hx-trigger="every 2s"' in html
    assert 'hx-swap="outerHTML"' in html
    assert '<progress id="progress" max="7" value="3">' in html
    assert "3 of 7 steps" in html
    assert "Querying CloudWatch metrics" in html
    assert re.search(r"Elapsed: 1[5-9] s", html)
    assert "<html" not in html  # the card alone, not the page


@pytest.mark.parametrize("status", [Status.COMPLETED, Status.FAILED, Status.CANCELLED])
def test_a_terminal_card_has_no_trigger_so_polling_stops(web_member, team, status):
    run = make_investigation(team, status=status, result=COMPLETED_RESULT if status == Status.COMPLETED else None)
    html = htmx(web_member, f"/investigations/{run.pk}/card").content.decode()
    card = html.split('<div id="result"')[0]
    assert "hx-trigger" not in card
    assert "hx-get" not in card
    assert "Cancel investigation" not in card


def test_the_poll_that_sees_completion_fills_in_the_result_out_of_band(web_member, team):
    run = make_investigation(team, status=Status.COMPLETED, result=COMPLETED_RESULT)
    html = htmx(web_member, f"/investigations/{run.pk}/card").content.decode()
    assert '<div id="result" hx-swap-oob="true">' in html
    assert "v2.14.0 stopped releasing connections" in html


def test_the_completed_page_reads_like_an_incident_write_up(web_member, team):
    run = make_investigation(team, status=Status.COMPLETED, result=COMPLETED_RESULT)
    InvestigationStep.objects.create(
        investigation=run,
        seq=1,
        tool="get_cloudwatch_metrics",
        params={"metric": "DatabaseConnections"},
        started_at=run.started_at,
        duration_ms=120,
        ok=True,
        output_excerpt="DatabaseConnections max 20",
    )
    html = web_member.get(f"/investigations/{run.pk}").content.decode()
    for text in (
        "What is going on",
        "Connection pool exhaustion",
        "Root cause",
        "High confidence",
        "Timeline",
        "payments-api v2.14.0 deployed",
        "Affected systems",
        "payments-db",
        "Recommended actions",
        "Roll back payments-api",
        "Tool calls",
        "DatabaseConnections max 20",
        "Report written by the deterministic engine.",
    ):
        assert text in html, text
    assert '<meter id="confidence-meter" min="0" max="100" low="50" high="80" optimum="100" value="92">' in html
    assert '<a href="#call-1-1" class="evidence-link">get_cloudwatch_metrics</a>' in html
    assert 'id="call-1-1"' in html
    assert '<span class="tag">attachment</span> app.log' in html


def test_the_completed_page_shows_the_alternatives_the_engine_also_considered(web_member, team):
    result = {
        **COMPLETED_RESULT,
        "hypotheses": [
            {
                "description": "v2.14.0 stopped releasing connections on a retry path",
                "confidence": 92,
                "status": "supported",
                "subject": "deployment/payments-api",
                "evidence": ["[attachment:app.log] 14:31:07Z ERROR HikariPool-1 - Connection is not available"],
            },
            {
                "description": "payments-db is overloaded by a slow query",
                "confidence": 34,
                "status": "inconclusive",
                "subject": "db:payments-db",
                "evidence": ["[attachment:pg.log] LOG:  duration: 1200.512 ms  statement: SELECT"],
            },
            {
                "description": "payments-api is killed for exceeding its memory limit",
                "confidence": 5,
                "status": "refuted",
                "subject": "pod/payments-api-7d9f8b6c5d-x2x7q",
                "evidence": [],
            },
        ],
    }
    run = make_investigation(team, status=Status.COMPLETED, result=result)
    html = web_member.get(f"/investigations/{run.pk}").content.decode()
    section = html.split('id="alternatives-heading"', 1)[1].split("</section>", 1)[0]
    assert "Also considered" in section
    assert "payments-db is overloaded by a slow query" in section
    assert "34%" in section
    assert "pg.log" in section
    assert "duration: 1200.512 ms" in section
    assert "ruled out" in section
    assert "exceeding its memory limit" in section
    assert "stopped releasing connections" not in section  # the root cause is not repeated as an alternative


def test_a_result_without_hypotheses_shows_no_alternatives_section(web_member, team):
    run = make_investigation(team, status=Status.COMPLETED, result=COMPLETED_RESULT)
    html = web_member.get(f"/investigations/{run.pk}").content.decode()
    assert "Also considered" not in html


def test_a_failed_run_shows_its_error(web_member, team):
    run = make_investigation(
        team, status=Status.FAILED, error_code="timeout", error_message="exceeded its 300 s timeout"
    )
    html = web_member.get(f"/investigations/{run.pk}").content.decode()
    assert "Failed (timeout): exceeded its 300 s timeout" in html


def test_cancelling_a_pending_run_without_javascript_redirects_to_its_page(web_member, team):
    run = make_investigation(team, status=Status.PENDING)
    response = web_member.post(f"/investigations/{run.pk}/cancel")
    assert response.status_code == 302
    assert response["Location"] == f"/investigations/{run.pk}"
    run.refresh_from_db()
    assert run.status == Status.CANCELLED


def test_cancelling_a_running_run_with_htmx_returns_the_card_marked_cancelling(web_member, team):
    run = make_investigation(team, status=Status.RUNNING, steps_completed=1, steps_total=3)
    response = web_member.post(f"/investigations/{run.pk}/cancel", headers={"HX-Request": "true"})
    html = response.content.decode()
    assert 'id="status-card"' in html
    assert "cancelling" in html
    assert "hx-trigger" in html  # still running until the worker stops, so it keeps polling
    run.refresh_from_db()
    assert run.cancel_requested is True


def test_the_new_investigation_form_lists_each_agent_with_its_description(web_member, team):
    html = web_member.get(f"/teams/{team.node_id}/investigations/new").content.decode()
    assert 'value="planner"' in html
    assert 'value="k8s_agent"' in html
    assert "At most 4 MiB each, 16 MiB in total" in html
    assert 'enctype="multipart/form-data"' in html


@pytest.fixture
def queued_only(settings):
    """Keep started runs pending: nothing executes them in these page tests."""
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend", "QUEUES": TASK_QUEUES}}


def test_launching_stores_context_and_attachments_and_opens_the_investigation(web_member, team, queued_only):
    upload = SimpleUploadedFile("app.log", b"14:31:07Z ERROR HikariPool-1 - Connection is not available")
    response = web_member.post(
        f"/teams/{team.node_id}/investigations/new",
        {
            "agent": "planner",
            "message": "checkout returns 502",
            "service": "checkout",
            "environment": "prod",
            "time_window": "1h",
            "paste_name": "pods.txt",
            "paste_source": "kubectl get pods",
            "paste_content": "checkout-1 0/1 CrashLoopBackOff",
            "uploads": [upload],
        },
    )
    run = Investigation.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/investigations/{run.pk}"
    assert run.team == team
    assert run.trigger_source == TriggerSource.WEB
    assert run.context == {"service": "checkout", "environment": "prod", "time_window": "1h"}
    items = InvestigationAttachments.objects.get(investigation=run).items
    assert [item["name"] for item in items] == ["pods.txt", "app.log"]
    assert items[0]["source"] == "kubectl get pods"
    assert run.requested_by == "member@acme.test"


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"message": "   "}, "Describe the incident."),
        ({"time_window": "31d"}, "at most 30d"),
        ({"agent": "db_agent"}, "Select a valid choice"),
        ({"paste_content": "x" * (ATTACHMENT_MAX_BYTES + 1)}, "Pasted output is larger than 4 MiB"),
    ],
)
def test_invalid_launch_input_is_shown_next_to_the_field(web_member, team, queued_only, fields, error):
    data = {"agent": "planner", "message": "checkout returns 502", **fields}
    response = web_member.post(f"/teams/{team.node_id}/investigations/new", data)
    assert response.status_code == 200
    assert error in response.content.decode()
    assert not Investigation.objects.exists()


def test_an_oversized_upload_is_refused_with_the_limit_shown(web_member, team, queued_only):
    big = SimpleUploadedFile("big.log", b"a" * (ATTACHMENT_MAX_BYTES + 1))
    response = web_member.post(
        f"/teams/{team.node_id}/investigations/new", {"agent": "planner", "message": "m", "uploads": [big]}
    )
    assert "big.log is larger than 4 MiB" in response.content.decode()
    assert not Investigation.objects.exists()


def test_a_binary_upload_is_refused(web_member, team, queued_only):
    binary = SimpleUploadedFile("core.bin", b"\xff\xfe\x00\x01")
    response = web_member.post(
        f"/teams/{team.node_id}/investigations/new", {"agent": "planner", "message": "m", "uploads": [binary]}
    )
    assert "core.bin is not a UTF-8 text file" in response.content.decode()


def test_a_run_nobody_picked_up_says_no_worker_seems_to_be_running(web_member, team):
    fresh = make_investigation(team, status=Status.PENDING)
    stale = make_investigation(team, status=Status.PENDING, created_at=timezone.now() - timedelta(seconds=45))
    assert "No worker seems to be running" not in htmx(web_member, f"/investigations/{fresh.pk}/card").content.decode()
    assert "No worker seems to be running" in htmx(web_member, f"/investigations/{stale.pk}/card").content.decode()


def test_run_without_the_model_starts_the_same_question_again_and_viewers_cannot(web_member, web_viewer, team):
    failed = make_investigation(
        team,
        status=Status.FAILED,
        message="checkout errors since the deploy",
        error_code="llm_unavailable",
        context={"service": "checkout"},
    )
    assert web_viewer.post(f"/investigations/{failed.pk}/rerun", {"without_llm": "1"}).status_code == 403
    response = web_member.post(f"/investigations/{failed.pk}/rerun", {"without_llm": "1"})
    rerun = Investigation.objects.exclude(pk=failed.pk).get(message="checkout errors since the deploy")
    assert response["Location"] == f"/investigations/{rerun.pk}"
    assert rerun.without_llm
    assert rerun.context == {"service": "checkout"}
    assert rerun.trigger_source == TriggerSource.WEB


def _call(run, seq, tool, params, output="", ok=True):
    return InvestigationStep.objects.create(
        investigation=run,
        seq=seq,
        tool=tool,
        params=params,
        started_at=run.started_at,
        duration_ms=40,
        ok=ok,
        output_excerpt=output,
    )


def test_a_stored_run_that_repeated_a_call_lists_it_once_with_its_count(web_member, team):
    run = make_investigation(team, status=Status.COMPLETED, result=COMPLETED_RESULT)
    for seq in (1, 3, 4):
        _call(run, seq, "get_cloudwatch_metrics", {"metric": "DatabaseConnections"}, "DatabaseConnections max 20")
    _call(run, 2, "search_logs", {"errors": True}, "HikariPool-1 - Connection is not available")
    html = web_member.get(f"/investigations/{run.pk}").content.decode()
    calls = html.split('id="calls-heading"')[1]
    assert calls.count("<code>get_cloudwatch_metrics</code>") == 1
    assert calls.count("<code>search_logs</code>") == 1
    assert "same call ×3" in calls
    assert 'id="call-1-1"' in calls
    assert 'id="call-1-3"' not in calls
    assert '<a href="#call-1-1" class="evidence-link">get_cloudwatch_metrics</a>' in html  # the link still lands


def test_the_live_step_list_shows_a_repeated_call_once(web_member, team):
    run = make_investigation(team, status=Status.RUNNING, steps_completed=3, steps_total=5, attempt=1)
    _call(run, 1, "list_pods", {"namespace": "shop"})
    _call(run, 2, "list_pods", {"namespace": "shop"})
    _call(run, 3, "list_pods", {"namespace": "prod"})
    html = htmx(web_member, f"/investigations/{run.pk}/card").content.decode()
    assert html.count("<code>list_pods</code>") == 2
    assert "same call ×2" in html
