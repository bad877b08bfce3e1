"""``scripts/serve.sh`` (what ``make run`` runs) restarts a worker that dies and keeps serving meanwhile.

The whole stack runs for real on PostgreSQL: uvicorn, the investigation and webhook workers and the maintenance
loop, each under serve.sh's supervisor. A worker SIGKILLed mid-run comes back, the run completes on its second
attempt, and the maintenance loop marks the killed task's row failed instead of leaving it running for ever.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from django_tasks_db.models import DBTaskResult

from investigations.models import Investigation, Status
from ops.models import WorkerHeartbeat
from tests.investigations.conftest import start
from tests.investigations.test_real_workers import postgres, wait_until  # noqa: F401
from tests.support.net import free_port
from tests.support.servers import ROOT, child_env

pytestmark = [pytest.mark.slow]


@pytest.fixture
def served(postgres: None, tmp_path: Path) -> Iterator[str]:  # noqa: F811
    """serve.sh on a free port, in its own process group (killed whole in teardown); yields its base URL."""
    port = free_port()
    env = child_env(
        DJANGO_SETTINGS_MODULE="tests.ops.serve_settings",
        PY=sys.executable,
        PORT=str(port),
        WEB_WORKERS="1",
        MAINTENANCE_INTERVAL="0.5",
        INVESTIGATION_WORKER_CONCURRENCY="2",
        WORKER_HEARTBEAT_SECONDS="1",
        WORKER_HEARTBEAT_MAX_AGE_SECONDS="2",
        PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "metrics"),
        LOG_LEVEL="WARNING",
    )
    process = subprocess.Popen(
        ["bash", "scripts/serve.sh"], cwd=ROOT, env=env, start_new_session=True, stdout=subprocess.DEVNULL
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: _answers(f"{base}/health"), seconds=60, what="serve.sh to serve")
        yield base
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _worker_pids(queue: str) -> set[int]:
    return {
        int(worker.rsplit(":", 1)[1])
        for worker in WorkerHeartbeat.objects.filter(queue=queue).values_list("pk", flat=True)
    }


def test_a_sigkilled_worker_is_restarted_and_its_run_completes_while_the_web_server_stays_up(served, team):
    wait_until(lambda: bool(_worker_pids("investigations")), seconds=60, what="the investigation worker's heartbeat")
    [victim] = _worker_pids("investigations")
    investigation = start(team, context={"paced_steps": 8, "paced_seconds": 0.4})
    wait_until(
        lambda: Investigation.objects.filter(
            pk=investigation.id, status=Status.RUNNING, steps_completed__gte=1
        ).exists(),
        seconds=30,
        what="the run to be mid-way",
    )

    os.kill(victim, signal.SIGKILL)

    wait_until(lambda: bool(_worker_pids("investigations") - {victim}), seconds=30, what="a restarted worker")
    assert _answers(f"{served}/health"), "the web server must keep serving while a worker is down"
    wait_until(
        lambda: Investigation.objects.filter(pk=investigation.id, status=Status.COMPLETED).exists(),
        seconds=60,
        what="the run to complete after the restart",
    )
    investigation.refresh_from_db()
    assert investigation.attempt == 2
    killed_task = DBTaskResult.objects.filter(args_kwargs__args=[investigation.id, 1])
    wait_until(
        lambda: killed_task.filter(status="FAILED", exception_class_path="ops.reconcile.WorkerLost").exists(),
        seconds=30,
        what="the killed task's row to be reconciled",
    )
