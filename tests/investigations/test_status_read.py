"""The status poll's read is a statement built once (``incidentfox_web.prepared``); it must answer exactly what the
ORM would, and only for the caller's own team."""

from __future__ import annotations

import pytest
from django.utils import timezone

from investigations.models import Investigation, Status
from investigations.selectors import investigation_for_team
from tests.investigations.conftest import start

pytestmark = pytest.mark.django_db


def test_the_prepared_read_returns_the_same_values_as_the_orm(team):
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
