"""POST /agents/run, GET /agents/status/{id}, POST .../cancel and GET /agents (API.md §4.1, §4.2, §4.4, §4.5)."""

from __future__ import annotations

import pytest

from investigations.models import Investigation, InvestigationAttachments, Status
from investigations.runner import investigation_claim
from investigations.services import investigation_finish
from tenancy.models import AuditEvent
from tests.investigations.conftest import RESULT_KEYS, STATUS_KEYS, start

pytestmark = pytest.mark.django_db


def test_async_run_answers_202_with_poll_url_and_location(member, run_body):
    response = member.post("/agents/run", run_body)

    assert response.status_code == 202
    body = response.json()
    assert set(body) == {"investigation_id", "status", "poll_url", "created_at"}
    assert body["status"] == "pending"
    assert body["poll_url"] == f"/api/v1/agents/status/{body['investigation_id']}"
    assert response["Location"] == body["poll_url"]
    assert body["created_at"].endswith("Z")
    assert AuditEvent.objects.filter(event_type="investigation.started", target=body["investigation_id"]).exists()


def test_async_run_is_executed_by_the_task_after_commit_and_polls_completed(
    member, run_body, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        investigation_id = member.post("/agents/run", run_body).json()["investigation_id"]

    body = member.get(f"/agents/status/{investigation_id}").json()

    assert body["status"] == "completed"
    assert set(body) == STATUS_KEYS["completed"]
    assert set(body["result"]) == RESULT_KEYS
    assert body["trigger_source"] == "api"
    assert isinstance(body["duration_seconds"], int)


def test_pending_status_has_exactly_the_common_keys(member, team):
    investigation = start(team)

    body = member.get(f"/agents/status/{investigation.id}").json()

    assert set(body) == STATUS_KEYS["pending"]
    assert body["message"] == "Investigate high latency in payments"


def test_running_status_shows_progress_and_cancel_flag(member, team):
    investigation = start(team)
    assert investigation_claim(investigation_id=investigation.id, attempt=1, worker_id="w1")
    Investigation.objects.filter(pk=investigation.id).update(
        progress_step="Querying CloudWatch metrics", steps_completed=3, steps_total=2
    )

    body = member.get(f"/agents/status/{investigation.id}/").json()

    assert set(body) == STATUS_KEYS["running"]
    assert body["progress"] == {"current_step": "Querying CloudWatch metrics", "steps_completed": 3, "steps_total": 3}
    assert body["cancel_requested"] is False
    assert body["elapsed_seconds"] >= 0


def test_failed_status_carries_a_typed_error(member, team):
    investigation = start(team)
    investigation_claim(investigation_id=investigation.id, attempt=1, worker_id="w1")
    investigation_finish(
        investigation_id=investigation.id,
        status=Status.FAILED,
        error_code="data_source_unavailable",
        error_message="Unable to connect to Coralogix",
        tools_used=["search_logs_by_pattern"],
    )

    body = member.get(f"/agents/status/{investigation.id}").json()

    assert set(body) == STATUS_KEYS["failed"]
    assert body["error"] == {"code": "data_source_unavailable", "message": "Unable to connect to Coralogix"}
    assert body["tools_used"] == ["search_logs_by_pattern"]


def test_sync_run_returns_200_with_the_completed_body(member, run_body, transactional_db):
    response = member.post("/agents/run", {**run_body, "async": False})

    assert response.status_code == 200
    body = response.json()
    assert set(body) == STATUS_KEYS["completed"]
    assert Investigation.objects.get(pk=body["investigation_id"]).status == Status.COMPLETED


def test_sync_run_with_envelope_wraps_the_final_body(member, run_body, transactional_db):
    response = member.client.post(
        "/api/v1/agents/run?envelope=true",
        {**run_body, "async": False},
        content_type="application/json",
        headers={"Authorization": f"Bearer {member.token}"},
    )

    assert response.status_code == 200
    assert set(response.json()) == {"data", "meta"}
    assert response.json()["data"]["status"] == "completed"
    assert response["X-RateLimit-Limit"] == "10"


def test_attachments_are_stored_apart_and_never_returned(member, run_body):
    attachment = {"name": "app.log", "source": "kubectl logs payments", "content": "ERROR pool exhausted"}
    body = {**run_body, "context": {"service": "payments", "team_note": "kept", "attachments": [attachment]}}

    investigation_id = member.post("/agents/run", body).json()["investigation_id"]

    investigation = Investigation.objects.get(pk=investigation_id)
    assert investigation.context == {"service": "payments", "team_note": "kept"}
    assert InvestigationAttachments.objects.get(investigation=investigation).items == [attachment]
    assert "attachments" not in str(member.get(f"/agents/status/{investigation_id}").json())


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ({"message": "x"}, "invalid_request", "agent_name"),
        ({"agent_name": "planner", "message": "   "}, "invalid_request", "message"),
        ({"agent_name": "planner", "message": "x" * 20001}, "validation_error", "message"),
        ({"agent_name": "planner", "message": "x", "timeout": 5}, "validation_error", "timeout"),
        ({"agent_name": "planner", "message": "x", "max_turns": 101}, "validation_error", "max_turns"),
        ({"agent_name": "planner", "message": "x", "async": "yes"}, "validation_error", "async"),
        (
            {"agent_name": "planner", "message": "x", "context": {"environment": "qa"}},
            "validation_error",
            "context.environment",
        ),
        (
            {"agent_name": "planner", "message": "x", "context": {"time_window": "31d"}},
            "validation_error",
            "context.time_window",
        ),
        (
            {"agent_name": "planner", "message": "x", "context": {"time_window": "0h"}},
            "validation_error",
            "context.time_window",
        ),
        (
            {"agent_name": "planner", "message": "x", "context": {"service": "s" * 201}},
            "validation_error",
            "context.service",
        ),
        (
            {"agent_name": "planner", "message": "x", "context": {"attachments": [{"name": "a", "content": "b"}] * 51}},
            "validation_error",
            "context.attachments",
        ),
        (
            {"agent_name": "planner", "message": "x", "context": {"attachments": [{"name": "a.log"}]}},
            "invalid_request",
            "context.attachments[0].content",
        ),
        (
            {
                "agent_name": "planner",
                "message": "x",
                "context": {"attachments": [{"name": "a.log", "content": "b"}, {"name": "c.log", "content": 5}]},
            },
            "validation_error",
            "context.attachments[1].content",
        ),
        ({"agent_name": "planner", "message": "x", "context": ["service"]}, "validation_error", "context"),
        ({"agent_name": 7, "message": "x"}, "validation_error", "agent_name"),
        ({"agent_name": "planner", "message": "x", "timeout": 30.0}, "validation_error", "timeout"),
    ],
)
def test_bad_run_bodies_are_rejected_with_the_documented_code_and_field(member, body, code, field):
    response = member.post("/agents/run", body)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == code
    assert response.json()["error"]["field"] == field
    assert not Investigation.objects.exists()


def test_the_message_and_attachment_names_are_kept_exactly_as_sent(member, run_body):
    attachment = {"name": " app.log ", "content": "  indented\n"}
    body = {**run_body, "message": "  checkout is slow\n", "context": {"attachments": [attachment]}}

    investigation_id = member.post("/agents/run", body).json()["investigation_id"]

    investigation = Investigation.objects.get(pk=investigation_id)
    assert investigation.message == "  checkout is slow\n"
    assert InvestigationAttachments.objects.get(investigation=investigation).items == [{**attachment, "source": None}]


def test_unknown_agent_lists_the_available_agents(member):
    response = member.post("/agents/run", {"agent_name": "db_agent", "message": "x"})

    error = response.json()["error"]
    assert response.status_code == 400
    assert error["message"] == "Unknown agent 'db_agent'"
    assert error["field"] == "agent_name"
    assert error["details"]["available_agents"][0] == "planner"
    assert "k8s_agent" in error["details"]["available_agents"]


def test_an_attachment_over_four_mebibytes_is_413_naming_it(member):
    big = {"name": "huge.log", "content": "x" * (4 * 1024 * 1024 + 1)}
    body = {"agent_name": "planner", "message": "x", "context": {"attachments": [{"name": "ok", "content": "y"}, big]}}

    response = member.post("/agents/run", body)

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"
    assert response.json()["error"]["field"] == "context.attachments[1].content"
    assert "huge.log" in response.json()["error"]["message"]


def test_attachments_over_sixteen_mebibytes_in_total_are_413(member):
    chunk = "x" * (3 * 1024 * 1024)
    attachments = [{"name": f"part{i}.log", "content": chunk} for i in range(6)]

    response = member.post(
        "/agents/run", {"agent_name": "planner", "message": "x", "context": {"attachments": attachments}}
    )

    assert response.status_code == 413
    assert response.json()["error"]["field"] == "context.attachments"


def test_a_read_only_token_cannot_start_or_cancel(read_only_member, team, run_body):
    investigation = start(team)

    assert read_only_member.post("/agents/run", run_body).status_code == 403
    assert read_only_member.post(f"/agents/status/{investigation.id}/cancel").status_code == 403
    assert read_only_member.get(f"/agents/status/{investigation.id}").status_code == 200


def test_an_org_admin_acts_for_the_team_named_in_x_team_id(org_admin, team, run_body):
    missing = org_admin.post("/agents/run", run_body)
    started = org_admin.post("/agents/run", run_body, headers={"X-Team-Id": team.node_id})

    assert missing.status_code == 400
    assert started.status_code == 202
    assert Investigation.objects.get(pk=started.json()["investigation_id"]).team == team


def test_idempotent_repeat_replays_the_original_run(member, run_body):
    headers = {"Idempotency-Key": "deploy-42"}
    first = member.post("/agents/run", run_body, headers=headers)
    again = member.post("/agents/run", dict(reversed(list(run_body.items()))), headers=headers)

    assert again.status_code == 202
    assert again["Idempotent-Replayed"] == "true"
    assert again.json()["investigation_id"] == first.json()["investigation_id"]
    assert "Idempotent-Replayed" not in first
    assert Investigation.objects.count() == 1


def test_idempotency_key_with_a_different_body_is_409(member, run_body):
    member.post("/agents/run", run_body, headers={"Idempotency-Key": "deploy-42"})

    response = member.post("/agents/run", {**run_body, "message": "other"}, headers={"Idempotency-Key": "deploy-42"})

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"


def test_idempotency_key_is_per_credential(member, run_body, team):
    from django.test import Client

    from tenancy.models import TokenKind
    from tenancy.services import api_token_issue
    from tests.conftest import SYSTEM, ApiCaller

    second = ApiCaller(Client(), api_token_issue(org=team.org, kind=TokenKind.TEAM, team=team, meta=SYSTEM).plaintext)
    first_id = member.post("/agents/run", run_body, headers={"Idempotency-Key": "k"}).json()["investigation_id"]
    second_id = second.post("/agents/run", run_body, headers={"Idempotency-Key": "k"}).json()["investigation_id"]

    assert first_id != second_id


def test_idempotency_key_is_free_again_after_24_hours(member, run_body):
    import time_machine

    with time_machine.travel("2024-01-15T10:00:00Z", tick=False):
        first = member.post("/agents/run", run_body, headers={"Idempotency-Key": "k"}).json()["investigation_id"]
    with time_machine.travel("2024-01-16T10:00:01Z", tick=False):
        later = member.post("/agents/run", {**run_body, "message": "new"}, headers={"Idempotency-Key": "k"})

    assert later.status_code == 202
    assert later.json()["investigation_id"] != first


def test_a_malformed_idempotency_key_is_a_validation_error(member, run_body):
    response = member.post("/agents/run", run_body, headers={"Idempotency-Key": "tab\tkey"})

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"


def test_the_eleventh_trigger_in_a_minute_is_rate_limited(member, run_body, one_rate_window):
    statuses = [member.post("/agents/run", run_body).status_code for _ in range(11)]

    assert statuses == [202] * 10 + [429]
    limited = member.post("/agents/run", run_body)
    assert limited.json()["error"]["message"] == "Too many investigation requests"
    assert int(limited["Retry-After"]) >= 1
    assert Investigation.objects.count() == 10


def test_cancel_of_a_pending_run_cancels_it_at_once(member, team):
    investigation = start(team)

    response = member.post(f"/agents/status/{investigation.id}/cancel")

    assert response.status_code == 200
    assert set(response.json()) == STATUS_KEYS["cancelled"]
    assert response.json()["started_at"] is None
    assert AuditEvent.objects.filter(event_type="investigation.cancelled", target=investigation.id).exists()
    assert member.post(f"/agents/status/{investigation.id}/cancel").status_code == 409


def test_cancel_of_a_running_run_flags_it_and_repeats_answer_the_same(member, team):
    investigation = start(team)
    investigation_claim(investigation_id=investigation.id, attempt=1, worker_id="w1")

    first = member.post(f"/agents/status/{investigation.id}/cancel")
    repeat = member.post(f"/agents/status/{investigation.id}/cancel")

    assert first.status_code == repeat.status_code == 200
    assert set(first.json()) == STATUS_KEYS["running"]
    assert first.json()["cancel_requested"] is True
    assert repeat.json()["cancel_requested"] is True
    assert AuditEvent.objects.filter(event_type="investigation.cancelled").count() == 1


def test_cancel_after_the_worker_stopped_returns_the_cancelled_body(member, team):
    investigation = start(team)
    investigation_claim(investigation_id=investigation.id, attempt=1, worker_id="w1")
    member.post(f"/agents/status/{investigation.id}/cancel")
    investigation_finish(investigation_id=investigation.id, status=Status.CANCELLED, tools_used=["think"])

    response = member.post(f"/agents/status/{investigation.id}/cancel")

    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert response.json()["tools_used"] == ["think"]


def test_cancel_of_a_completed_run_is_409_with_its_status(member, team):
    investigation = start(team)
    investigation_claim(investigation_id=investigation.id, attempt=1, worker_id="w1")
    investigation_finish(investigation_id=investigation.id, status=Status.COMPLETED, result={"summary": "s"})

    response = member.post(f"/agents/status/{investigation.id}/cancel")

    assert response.status_code == 409
    assert response.json()["error"]["message"] == "Investigation is already completed"
    assert response.json()["error"]["details"] == {"status": "completed"}


@pytest.mark.parametrize("caller", ["outsider", "other_member"])
def test_another_team_cannot_see_poll_list_or_cancel_the_run(caller, request, member, team):
    stranger = request.getfixturevalue(caller)
    investigation = start(team)

    assert stranger.get(f"/agents/status/{investigation.id}").status_code == 404
    assert stranger.post(f"/agents/status/{investigation.id}/cancel").status_code == 404
    assert stranger.get("/agents/investigations").json()["investigations"] == []
    assert Investigation.objects.get(pk=investigation.id).status == Status.PENDING


@pytest.mark.parametrize("bad_id", ["inv_short", "abc", "inv_" + "A" * 21, "inv_AAAAAAAAAAAAAAAAAAA!"])
def test_malformed_ids_are_404(member, bad_id):
    assert member.get(f"/agents/status/{bad_id}").status_code == 404


def test_agent_list_shows_the_builtin_registry_with_tools(member):
    body = member.get("/agents").json()

    assert set(body) == {"agents"}
    names = [agent["name"] for agent in body["agents"]]
    assert names[:2] == ["planner", "investigation_agent"]
    for agent in body["agents"]:
        assert set(agent) == {"name", "description", "enabled", "builtin", "tools"}
        assert agent["tools"][:2] == ["think", "read_attachment"]
