"""Real worker processes on PostgreSQL: exactly-once execution, SIGKILL recovery, cancellation, timeouts, RQ.

Each test commits its rows (``transactional_db``) and starts ``manage.py run_worker`` processes
subprocesses with ``tests.investigations.worker_settings`` against the test database. Every wait is bounded
and every subprocess is killed in teardown.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from investigations.models import Investigation, Status
from investigations.sweeper import investigations_sweep
from ops.queues import TASK_QUEUES
from tests.investigations.conftest import STATUS_KEYS, start

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.slow]


def _database_url() -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def postgres(transactional_db: None, settings: Any) -> None:
    if connection.vendor != "postgresql":
        pytest.skip(
            "REAL-PROCESS TESTS SKIPPED: set DATABASE_URL=postgres://... (SQLite cannot share the test database "
            "with worker processes reliably)"
        )
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": TASK_QUEUES}}
    settings.INVESTIGATIONS_LEASE_SECONDS = 2


@pytest.fixture
def spawn(postgres: None) -> Iterator[Callable[..., subprocess.Popen[bytes]]]:
    processes: list[subprocess.Popen[bytes]] = []

    def _spawn(*args: str, **env: str) -> subprocess.Popen[bytes]:
        environment = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.investigations.worker_settings",
            "DATABASE_URL": _database_url(),
            "LOG_LEVEL": "WARNING",
            **env,
        }
        # A session of its own: teardown kills the whole group, including workers RQ's pool forked.
        process = subprocess.Popen(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=environment,
            stdout=subprocess.DEVNULL,
            start_new_session=True,
        )
        processes.append(process)
        return process

    yield _spawn
    for process in processes:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def db_worker(
    spawn: Callable[..., subprocess.Popen[bytes]], *, queue: str = "investigations", concurrency: int = 1, **env: str
) -> subprocess.Popen[bytes]:
    """A ``run_worker`` process on the database backend running ``concurrency`` tasks of ``queue`` at once."""
    return spawn("run_worker", "--queue", queue, "--concurrency", str(concurrency), "--interval", "0.1", **env)


def wait_until(predicate: Callable[[], bool], *, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {seconds} s waiting for {what}")


def status_of(investigation_id: str) -> str:
    return Investigation.objects.values_list("status", flat=True).get(pk=investigation_id)


def test_fifty_runs_on_two_workers_each_run_exactly_once(spawn, team):
    from django_tasks_db.models import DBTaskResult

    db_worker(spawn)
    db_worker(spawn)
    ids = [
        start(team, message=f"incident {n}", context={"paced_steps": 1, "paced_seconds": 0.05}).id for n in range(50)
    ]

    wait_until(
        lambda: Investigation.objects.filter(pk__in=ids, status=Status.COMPLETED).count() == 50,
        seconds=90,
        what="50 completed investigations",
    )

    runs = Investigation.objects.filter(pk__in=ids)
    assert set(runs.values_list("attempt", flat=True)) == {1}
    tasks = DBTaskResult.objects.filter(args_kwargs__args__0__in=ids)
    # A worker marks its task SUCCESSFUL just after the task's own commit finished the investigation.
    wait_until(
        lambda: set(tasks.values_list("status", flat=True)) == {"SUCCESSFUL"},
        seconds=10,
        what="every task result marked successful",
    )
    assert tasks.count() == 50
    workers = {worker.split(":")[1] for worker in runs.values_list("worker_id", flat=True)}
    assert len(workers) == 2


def test_a_worker_killed_mid_run_leaves_nothing_stuck(spawn, team):
    victim = db_worker(spawn)
    investigation = start(team, context={"paced_steps": 8, "paced_seconds": 0.4})
    wait_until(
        lambda: Investigation.objects.filter(
            pk=investigation.id, status=Status.RUNNING, steps_completed__gte=1
        ).exists(),
        seconds=20,
        what="the run to be mid-way",
    )

    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=10)
    db_worker(spawn)
    time.sleep(2.5)  # the dead worker's lease runs out
    assert investigations_sweep().requeued == [investigation.id]

    wait_until(lambda: status_of(investigation.id) == Status.COMPLETED, seconds=30, what="the re-queued run")
    investigation.refresh_from_db()
    assert investigation.attempt == 2


def test_cancel_while_running_stops_at_the_next_step(spawn, member, team):
    db_worker(spawn)
    investigation = start(team, context={"paced_steps": 50, "paced_seconds": 0.2})
    wait_until(lambda: status_of(investigation.id) == Status.RUNNING, seconds=20, what="the run to start")

    response = member.post(f"/agents/status/{investigation.id}/cancel")

    assert response.status_code == 200
    assert response.json()["cancel_requested"] is True
    wait_until(lambda: status_of(investigation.id) == Status.CANCELLED, seconds=10, what="the cancel to land")
    body = member.get(f"/agents/status/{investigation.id}").json()
    assert set(body) == STATUS_KEYS["cancelled"]
    assert body["started_at"] is not None


def test_cancel_while_pending_never_runs(spawn, member, team):
    investigation = start(team)
    assert member.post(f"/agents/status/{investigation.id}/cancel").json()["status"] == "cancelled"

    db_worker(spawn)
    time.sleep(1.5)

    investigation.refresh_from_db()
    assert investigation.status == Status.CANCELLED
    assert investigation.started_at is None


def test_a_run_past_its_deadline_fails_with_timeout(spawn, member, team):
    db_worker(spawn)
    warm_up = start(team, message="warm-up").id  # the worker is up and polling once this completes
    wait_until(lambda: status_of(warm_up) == Status.COMPLETED, seconds=30, what="the worker to start")
    investigation = start(team, timeout_seconds=3, context={"paced_steps": 50, "paced_seconds": 0.2})

    wait_until(lambda: status_of(investigation.id) == Status.FAILED, seconds=15, what="the timeout")

    body = member.get(f"/agents/status/{investigation.id}").json()
    assert body["error"] == {"code": "timeout", "message": "Investigation exceeded its 3 s timeout"}
    assert set(body) == STATUS_KEYS["failed"]


def test_the_rq_backend_runs_investigations_selected_by_settings_only(spawn, team, settings):
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15")
    try:
        import redis

        redis.Redis.from_url(redis_url).ping()
    except Exception:
        pytest.skip(f"RQ TEST SKIPPED: no Redis at {redis_url}")
    settings.TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": TASK_QUEUES}}
    settings.RQ_QUEUES = {queue: {"URL": redis_url, "DEFAULT_TIMEOUT": 3600} for queue in TASK_QUEUES}
    spawn("run_worker", "--queue", "investigations", "--concurrency", "2", TASKS_BACKEND="rq", REDIS_URL=redis_url)

    ids = [start(team, message=f"via rq {n}").id for n in range(3)]

    wait_until(
        lambda: Investigation.objects.filter(pk__in=ids, status=Status.COMPLETED).count() == 3,
        seconds=60,
        what="3 investigations on RQ",
    )


def test_the_documented_polling_snippet_returns_a_completed_async_run(spawn, member):
    import requests

    from tests.support.servers import free_port

    port = free_port()
    db_worker(spawn)
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "incidentfox_web.asgi:application", "--port", str(port)],
        cwd=ROOT,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.investigations.worker_settings",
            "DATABASE_URL": _database_url(),
        },
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}/api/v1"
    try:
        wait_until(lambda: _is_up(f"http://127.0.0.1:{port}/health"), seconds=30, what="uvicorn")
        started = requests.post(
            f"{base}/agents/run",
            json={"agent_name": "planner", "message": "Investigate high latency in payments", "async": True},
            headers={"Authorization": f"Bearer {member.token}"},
            timeout=10,
        )
        assert started.status_code == 202

        # The public docs' snippet, verbatim except for the base URL.
        def wait_for_investigation(investigation_id, token, max_wait=300):
            url = f"{base}/agents/status/{investigation_id}"
            headers = {"Authorization": f"Bearer {token}"}

            wait_time = 1
            total_wait = 0

            while total_wait < max_wait:
                response = requests.get(url, headers=headers)
                result = response.json()

                if result["status"] in ["completed", "failed", "cancelled"]:
                    return result

                time.sleep(wait_time)
                total_wait += wait_time
                wait_time = min(wait_time * 2, 10)  # Max 10 second intervals

            raise TimeoutError("Investigation did not complete in time")

        result = wait_for_investigation(started.json()["investigation_id"], member.token, max_wait=30)
    finally:
        server.kill()
        server.wait(timeout=10)

    assert result["status"] == "completed"
    assert set(result) == STATUS_KEYS["completed"]


def _is_up(url: str) -> bool:
    import requests

    try:
        return requests.get(url, timeout=1).status_code == 200
    except requests.RequestException:
        return False
