"""The status poll's read (``investigations.selectors.investigation_for_team``): one primary-key query scoped to the
caller's team, loading exactly the columns the status body reads."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from investigations.models import Investigation, Status
from investigations.presenters import STATUS_BODY_FIELDS, status_body
from investigations.selectors import investigation_for_team
from tests.investigations.conftest import STATUS_KEYS, start

pytestmark = pytest.mark.django_db


def test_the_teams_read_returns_the_same_values_as_a_plain_orm_read(team):
    run = start(team, context={"service": "checkout", "nested": {"n": [1, 2.5, None]}})
    Investigation.objects.filter(pk=run.pk).update(
        status=Status.COMPLETED,
        started_at=timezone.now(),
        finished_at=timezone.now(),
        duration_ms=1234,
        result={"summary": "Bad deploy", "root_cause": {"confidence": 0.95}},
        tools_used=["k8s_events", "prometheus_query"],
        cancel_requested=True,
    )
    expected = Investigation.objects.get(pk=run.pk)

    found = investigation_for_team(team=team, investigation_id=run.pk)

    assert found is not None
    fields = [field.attname for field in Investigation._meta.concrete_fields]
    assert {name: getattr(found, name) for name in fields} == {name: getattr(expected, name) for name in fields}
    assert found.team is team
    assert found._state.adding is False  # a loaded row: saving it updates, never inserts


def test_another_teams_investigation_is_not_found(team, other_team):
    run = start(team)
    assert investigation_for_team(team=other_team, investigation_id=run.pk) is None
    assert investigation_for_team(team=team, investigation_id="inv_" + "x" * 20) is None


def _finish_as(run: Investigation, status: str) -> None:
    now = timezone.now()
    Investigation.objects.filter(pk=run.pk).update(
        status=status,
        started_at=now - timedelta(seconds=90),
        finished_at=now if status in (Status.COMPLETED, Status.FAILED, Status.CANCELLED) else None,
        duration_ms=90_000,
        progress_step="Querying metrics",
        steps_completed=3,
        steps_total=7,
        result={"summary": "Bad deploy"} if status == Status.COMPLETED else None,
        error_code="timeout" if status == Status.FAILED else "",
        error_message="Investigation exceeded its 300 s timeout" if status == Status.FAILED else "",
        tools_used=["k8s_events"],
    )


@pytest.mark.parametrize("status", [choice.value for choice in Status])
def test_the_status_body_from_the_poll_columns_is_the_body_of_the_whole_row_and_needs_no_further_query(
    team, status, django_assert_num_queries
):
    run = start(team)
    _finish_as(run, status)
    whole = Investigation.objects.get(pk=run.pk)
    polled = investigation_for_team(team=team, investigation_id=run.pk, fields=STATUS_BODY_FIELDS)
    assert polled is not None
    now = timezone.now()

    with django_assert_num_queries(0):  # a deferred column read by status_body would be a query of its own
        body = status_body(polled, now=now)

    assert body == status_body(whole, now=now)
    assert set(body) == STATUS_KEYS[status]


@pytest.mark.parametrize("status", [choice.value for choice in Status])
def test_a_status_poll_reads_the_investigation_table_once_whatever_the_status(member, team, status):
    run = start(team)
    _finish_as(run, status)

    with CaptureQueriesContext(connection) as queries:
        response = member.get(f"/agents/status/{run.pk}")

    assert response.status_code == 200
    assert set(response.json()) == STATUS_KEYS[status]
    reads = [query["sql"] for query in queries.captured_queries if "investigations_investigation" in query["sql"]]
    assert len(reads) == 1, reads
    assert "ORDER BY" not in reads[0]
    assert '"context"' not in reads[0]  # only the columns the body shows


def test_a_revoked_token_or_an_admin_secret_under_the_team_prefix_is_refused_on_the_next_poll(member, org_admin, team):
    run = start(team)
    assert member.get(f"/agents/status/{run.pk}").status_code == 200
    token_id = member.token.split(".")[0]
    assert org_admin.post("/admin/tokens/revoke", {"token_id": token_id}).status_code == 200

    assert member.get(f"/agents/status/{run.pk}").status_code == 401
    swapped = org_admin.token.replace("ifa_", "ift_", 1)
    response = member.client.get(f"/api/v1/agents/status/{run.pk}", headers={"Authorization": f"Bearer {swapped}"})
    assert response.status_code == 401
