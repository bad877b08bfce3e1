"""The per-org cap on running investigations, at the claim (no worker processes: the claim and the deferral)."""

from __future__ import annotations

import pytest
from django.tasks import default_task_backend

from investigations.models import Investigation, Status
from investigations.runner import OrgAtCapacity, investigation_claim, investigation_execute
from ops.queues import TASK_QUEUES
from tests.investigations.conftest import start

pytestmark = pytest.mark.django_db


@pytest.fixture
def recorded_tasks(settings):
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend", "QUEUES": TASK_QUEUES}}
    return default_task_backend


def test_a_first_attempt_beyond_the_orgs_cap_is_refused_while_another_org_is_claimed(team, outsider_team):
    running, waiting, other = start(team).id, start(team).id, start(outsider_team).id
    assert investigation_claim(investigation_id=running, attempt=1, worker_id="w1", org_cap=1)

    with pytest.raises(OrgAtCapacity):
        investigation_claim(investigation_id=waiting, attempt=1, worker_id="w2", org_cap=1)

    assert investigation_claim(investigation_id=other, attempt=1, worker_id="w3", org_cap=1)
    assert Investigation.objects.get(pk=waiting).status == Status.PENDING


def test_a_run_held_back_by_the_cap_stays_pending_and_is_queued_again_later(team, settings, recorded_tasks):
    settings.INVESTIGATIONS_MAX_RUNNING_PER_ORG = 1
    settings.INVESTIGATIONS_ORG_CAP_RETRY_SECONDS = 3
    running, waiting = start(team).id, start(team).id
    assert investigation_claim(investigation_id=running, attempt=1, worker_id="w1")

    investigation_execute(investigation_id=waiting, attempt=1)

    assert Investigation.objects.get(pk=waiting).status == Status.PENDING
    [retry] = [result for result in recorded_tasks.results if result.args == [waiting, 1]]
    assert retry.task.queue_name == "investigations"
    assert retry.task.run_after is not None


def test_a_second_attempt_is_never_held_back_by_the_cap(team):
    first = start(team).id
    assert investigation_claim(investigation_id=first, attempt=1, worker_id="w1")
    Investigation.objects.filter(pk=first).update(attempt=2, worker_id="")  # re-queued after its worker died

    assert investigation_claim(investigation_id=first, attempt=2, worker_id="w2", org_cap=1)
