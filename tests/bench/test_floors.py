"""The bench floors (``bench.urls``) do the work they are named for, so their ratios are honest ceilings."""

from __future__ import annotations

import pytest

from bench.urls import BENCH_LIMIT
from investigations.models import Investigation, Status
from tests.investigations.conftest import start

pytestmark = [pytest.mark.django_db, pytest.mark.urls("bench.urls")]


def test_the_drf_floor_answers_without_a_credential_and_counts_nothing(client):
    response = client.get("/bench/drf-floor")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "X-RateLimit-Limit" not in response


def test_the_limited_floor_counts_every_request_in_the_shared_store(client):
    first = client.get("/bench/drf-floor-limited")
    second = client.get("/bench/drf-floor-limited")

    assert first.status_code == second.status_code == 200
    assert first["X-RateLimit-Limit"] == str(BENCH_LIMIT)
    assert int(second["X-RateLimit-Remaining"]) == int(first["X-RateLimit-Remaining"]) - 1


def test_the_read_floor_reads_the_row_it_names_and_counts_the_request(client, team):
    run = start(team)
    Investigation.objects.filter(pk=run.pk).update(status=Status.COMPLETED)

    found = client.get(f"/bench/drf-floor-limited-read/{run.pk}")
    missing = client.get("/bench/drf-floor-limited-read/inv_" + "x" * 20)

    assert found.json() == {"status": "completed"}
    assert missing.json() == {"status": None}
    assert "X-RateLimit-Remaining" in found
