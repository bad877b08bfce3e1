"""Issue 6: ten simultaneous sync runs must not delay status polls (real uvicorn + a worker on PostgreSQL).

The sync wait of ``POST /api/v1/agents/run`` is an async view on the event loop; status polls are synchronous
views on threads of their own (Django's ASGI handler, ``incidentfox_web/asgi.py``). Ten sync runs paced to take
seconds each (one worker runs them one after another, so most wait for a long time) must leave poll latency near
its idle level.
"""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Callable
from subprocess import Popen
from typing import Any

import httpx
import pytest

from investigations.models import Investigation
from tests.conftest import ApiCaller
from tests.investigations.test_real_workers import db_worker, postgres, spawn, wait_until  # noqa: F401
from tests.support.polling import timed_polls
from tests.support.servers import child_env, uvicorn_servers

pytestmark = [pytest.mark.slow]

SYNC_RUNS = 10
POLLS = 30
PACED = {"paced_steps": 8, "paced_seconds": 0.25}  # ~2 s per run; one worker runs the ten in turn
TERMINAL = {"completed", "failed", "cancelled"}
P95_LIMIT_MS = 500.0


def _p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def test_ten_waiting_sync_runs_do_not_delay_status_polls_of_another_investigation(
    spawn: Callable[..., Popen[bytes]],  # noqa: F811
    member: ApiCaller,
) -> None:
    org = member.team.org
    org.rate_limits = {"read": 1_000_000, "write": 1_000_000, "trigger": 1_000_000}
    org.save()
    db_worker(spawn)
    env = child_env(DJANGO_SETTINGS_MODULE="tests.investigations.worker_settings", LOG_LEVEL="WARNING")
    headers = {"Authorization": f"Bearer {member.token}"}
    with uvicorn_servers(1, env=env) as [base], httpx.Client(base_url=base, headers=headers, timeout=10) as client:
        started = client.post("/api/v1/agents/run", json={"agent_name": "planner", "message": "polled", "async": True})
        assert started.status_code == 202, started.text
        polled_id = started.json()["investigation_id"]
        poll_url = f"/api/v1/agents/status/{polled_id}"
        wait_until(
            lambda: client.get(poll_url).json()["status"] in TERMINAL, seconds=30, what="the polled run to finish"
        )
        timed_polls(client, poll_url, 5)  # warm-up: connections, caches
        idle = timed_polls(client, poll_url, POLLS)

        before = Investigation.objects.count()
        answers: list[tuple[int, dict[str, Any]]] = []
        lock = threading.Lock()

        def sync_run(n: int) -> None:
            body = {"agent_name": "planner", "message": f"sync {n}", "context": PACED, "timeout_seconds": 120}
            with httpx.Client(base_url=base, headers=headers, timeout=90) as own:
                response = own.post("/api/v1/agents/run", json=body)
            with lock:
                answers.append((response.status_code, response.json()))

        threads = [threading.Thread(target=sync_run, args=(n,), daemon=True) for n in range(SYNC_RUNS)]
        for thread in threads:
            thread.start()
        try:
            wait_until(
                lambda: Investigation.objects.count() >= before + SYNC_RUNS, seconds=30, what="ten sync runs stored"
            )
            during = timed_polls(client, poll_url, POLLS)
            still_waiting = sum(thread.is_alive() for thread in threads)
        finally:
            deadline = time.monotonic() + 90
            for thread in threads:
                thread.join(timeout=max(0.0, deadline - time.monotonic()))

    assert still_waiting >= SYNC_RUNS // 2, "the polls must overlap the sync waits"
    assert not any(thread.is_alive() for thread in threads), "sync runs did not return in time"
    assert len(answers) == SYNC_RUNS
    for status_code, body in answers:
        assert status_code == 200, body
        assert body["status"] in TERMINAL, body
    idle_p50, during_p50 = statistics.median(idle), statistics.median(during)
    assert _p95(during) < P95_LIMIT_MS, (idle, during)
    assert during_p50 <= max(5 * idle_p50, 50.0), (idle_p50, during_p50)
