"""GET /agents/investigations (API.md §4.3), the sweeper, deadlines and terminal-state events."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from investigations.events import investigation_finished
from investigations.models import Investigation, Status, TeamInvestigationCount
from investigations.runner import investigation_claim, investigation_execute
from investigations.services import investigation_finish
from investigations.sweeper import investigations_sweep
from ops.queues import TASK_QUEUES
from tests.investigations.conftest import start

pytestmark = pytest.mark.django_db
T0 = datetime(2024, 1, 15, 14, 45, tzinfo=UTC)


def _make_history(team, count: int) -> list[Investigation]:
    runs = []
    for index in range(count):
        with time_machine.travel(T0 + timedelta(minutes=index), tick=False):
            runs.append(start(team, message=f"incident {index:03d}"))
    return runs


def test_history_lists_the_team_newest_first_with_exact_keys(member, team):
    runs = _make_history(team, 3)

    body = member.get("/agents/investigations", limit="2").json()

    assert set(body) == {"investigations", "pagination"}
    assert body["pagination"] == {"total": 3, "limit": 2, "offset": 0}
    assert [item["investigation_id"] for item in body["investigations"]] == [runs[2].id, runs[1].id]
    assert set(body["investigations"][0]) == {"investigation_id", "status", "agent", "message", "created_at"}
    assert body["investigations"][0]["created_at"] == "2024-01-15T14:47:00Z"


def test_the_history_total_stays_right_when_investigations_are_deleted(member, team, other_team):
    runs = _make_history(team, 4)
    start(other_team)
    runs[0].delete()
    Investigation.objects.filter(pk__in=[runs[1].pk, runs[2].pk]).delete()

    body = member.get("/agents/investigations").json()

    assert body["pagination"]["total"] == 1 == len(body["investigations"])
    assert TeamInvestigationCount.objects.get(team=other_team).total == 1


def test_history_breaks_created_at_ties_by_id_descending(member, team):
    with time_machine.travel(T0, tick=False):
        ids = [start(team).id for _ in range(4)]

    listed = [item["investigation_id"] for item in member.get("/agents/investigations").json()["investigations"]]

    assert listed == sorted(ids, reverse=True)


def test_history_cuts_long_messages_to_100_characters(member, team):
    start(team, message="m" * 150)
    start(team, message="n" * 100)

    messages = [item["message"] for item in member.get("/agents/investigations").json()["investigations"]]

    assert messages == ["n" * 100, "m" * 100 + "..."]


def test_history_filters_by_status_agent_time_and_text(member, team):
    runs = _make_history(team, 4)
    investigation_finish(investigation_id=runs[0].id, status=Status.CANCELLED)
    Investigation.objects.filter(pk=runs[1].id).update(agent="k8s_agent")

    def ids(**params: str) -> list[str]:
        return [
            item["investigation_id"] for item in member.get("/agents/investigations", **params).json()["investigations"]
        ]

    assert ids(status="cancelled") == [runs[0].id]
    assert ids(status="pending,cancelled") == [runs[3].id, runs[2].id, runs[1].id, runs[0].id]
    assert ids(agent="k8s_agent") == [runs[1].id]
    assert ids(since="2024-01-15T14:46:00Z", until="2024-01-15T14:48:00Z") == [runs[2].id, runs[1].id]
    assert ids(q="INCIDENT 003") == [runs[3].id]
    assert member.get("/agents/investigations", offset="3").json()["pagination"]["total"] == 4


@pytest.mark.parametrize(
    "params",
    [{"limit": "0"}, {"limit": "101"}, {"offset": "-1"}, {"status": "done"}, {"since": "yesterday"}, {"q": "x" * 201}],
)
def test_bad_history_filters_are_validation_errors(member, params):
    response = member.get("/agents/investigations", **params)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"


@pytest.mark.parametrize("rows", [1, 20])
def test_history_uses_a_constant_number_of_queries(member, team, rows, django_assert_max_num_queries):
    _make_history(team, rows)
    member.get("/agents/investigations")  # warm the token's last-use write out of the measured request

    with django_assert_max_num_queries(4):
        body = member.get("/agents/investigations", limit="20").json()

    assert len(body["investigations"]) == rows


def test_the_terminal_event_fires_once_after_commit(team, django_capture_on_commit_callbacks):
    events = []

    def receiver(sender, event, **kwargs):
        events.append(event)

    investigation_finished.connect(receiver)
    try:
        investigation = start(team)
        with django_capture_on_commit_callbacks(execute=True):
            assert investigation_finish(
                investigation_id=investigation.id, status=Status.FAILED, error_code="timeout", error_message="late"
            )
            assert not investigation_finish(investigation_id=investigation.id, status=Status.COMPLETED)
            assert events == []
    finally:
        investigation_finished.disconnect(receiver)

    assert len(events) == 1
    assert events[0]["status"] == "failed"
    assert events[0]["summary"] == "Investigation failed: late"
    assert events[0]["root_cause"] is None
    assert events[0]["team_id"] == team.node_id


def test_a_run_is_claimed_once_per_attempt(team):
    investigation = start(team)

    assert investigation_claim(investigation_id=investigation.id, attempt=1, worker_id="a")
    assert not investigation_claim(investigation_id=investigation.id, attempt=1, worker_id="b")


def test_the_worker_records_steps_and_completes_the_run(team):
    investigation = start(team, attachments=[{"name": "app.log", "source": None, "content": "ERROR boom\n"}])

    investigation_execute(investigation_id=investigation.id, attempt=1)

    investigation.refresh_from_db()
    assert investigation.status == Status.COMPLETED
    assert "read_attachment" in investigation.tools_used
    steps = list(investigation.steps.values_list("seq", "tool"))
    assert steps[0] == (1, "read_attachment")
    assert [seq for seq, _ in steps] == list(range(1, len(steps) + 1))


def test_a_duplicate_task_delivery_runs_nothing(team):
    investigation = start(team)
    investigation_execute(investigation_id=investigation.id, attempt=1)
    finished_at = Investigation.objects.get(pk=investigation.id).finished_at

    investigation_execute(investigation_id=investigation.id, attempt=1)

    assert Investigation.objects.get(pk=investigation.id).finished_at == finished_at


def test_a_cancel_requested_before_the_first_step_ends_the_run_cancelled(team):
    investigation = start(team)
    Investigation.objects.filter(pk=investigation.id).update(cancel_requested=True)

    investigation_execute(investigation_id=investigation.id, attempt=1)

    assert Investigation.objects.get(pk=investigation.id).status == Status.CANCELLED


def test_a_pending_run_past_its_deadline_is_swept_as_timeout(team):
    with time_machine.travel(T0, tick=False):
        investigation = start(team, timeout_seconds=30)
    with time_machine.travel(T0 + timedelta(seconds=31), tick=False):
        report = investigations_sweep()
        investigation_execute(investigation_id=investigation.id, attempt=1)

    investigation.refresh_from_db()
    assert report.timed_out == [investigation.id]
    assert (investigation.status, investigation.error_code) == (Status.FAILED, "timeout")
    assert investigation.error_message == "Investigation exceeded its 30 s timeout"
    assert investigation.started_at is None


def test_a_running_run_whose_worker_died_is_requeued_once_then_worker_lost(team, settings):
    settings.INVESTIGATIONS_LEASE_SECONDS = 10
    with time_machine.travel(T0, tick=False):
        investigation = start(team, timeout_seconds=300)
        investigation_claim(investigation_id=investigation.id, attempt=1, worker_id="dead-1")
    with time_machine.travel(T0 + timedelta(seconds=11), tick=False):
        first = investigations_sweep()
        assert investigation_claim(investigation_id=investigation.id, attempt=2, worker_id="dead-2")
    with time_machine.travel(T0 + timedelta(seconds=22), tick=False):
        second = investigations_sweep()

    investigation.refresh_from_db()
    assert first.requeued == [investigation.id]
    assert second.worker_lost == [investigation.id]
    assert (investigation.status, investigation.error_code) == (Status.FAILED, "worker_lost")


def test_a_stale_first_attempt_cannot_finish_a_requeued_run(team, settings):
    settings.INVESTIGATIONS_LEASE_SECONDS = 10
    with time_machine.travel(T0, tick=False):
        investigation = start(team)
        investigation_claim(investigation_id=investigation.id, attempt=1, worker_id="slow")
    with time_machine.travel(T0 + timedelta(seconds=11), tick=False):
        investigations_sweep()

    changed = investigation_finish(
        investigation_id=investigation.id, status=Status.COMPLETED, from_statuses=(Status.RUNNING,), attempt=1
    )

    assert not changed
    assert Investigation.objects.get(pk=investigation.id).status == Status.RUNNING


def test_anything_active_a_minute_after_its_deadline_is_an_internal_error(team):
    with time_machine.travel(T0, tick=False):
        investigation = start(team, timeout_seconds=60)
        investigation_claim(investigation_id=investigation.id, attempt=1, worker_id="w")
        Investigation.objects.filter(pk=investigation.id).update(attempt=2, lease_expires_at=T0 + timedelta(hours=1))
    with time_machine.travel(T0 + timedelta(seconds=121), tick=False):
        report = investigations_sweep()

    investigation.refresh_from_db()
    assert report.abandoned == [investigation.id]
    assert (investigation.status, investigation.error_code) == (Status.FAILED, "internal_error")


def test_sync_wait_marks_the_run_timed_out_at_its_deadline(member, transactional_db, settings):
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": TASK_QUEUES}
    }  # queued; no worker runs it here

    with time_machine.travel(datetime.now(UTC), tick=True) as traveller:
        jump = threading.Timer(0.5, traveller.shift, args=(timedelta(seconds=15),))
        jump.start()
        try:
            response = member.post("/agents/run", {"agent_name": "planner", "message": "x", "timeout": 10})
        finally:
            jump.cancel()

    body = response.json()
    assert response.status_code == 200
    assert body["status"] == "failed"
    assert body["error"] == {"code": "timeout", "message": "Investigation exceeded its 10 s timeout"}
    assert body["started_at"] is None
