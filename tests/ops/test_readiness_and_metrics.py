"""Readiness (``/ready``), the metrics endpoint's protection, the reconciliation of task rows and JSON logs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

import httpx
import pytest
from django.test import Client
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from ops.heartbeat import worker_heartbeat_beat, worker_heartbeat_end
from ops.models import WorkerHeartbeat
from ops.queues import TASK_QUEUES
from ops.reconcile import task_rows_reconcile
from tests.investigations.test_real_workers import wait_until
from tests.support.net import free_port
from tests.support.servers import ROOT

pytestmark = pytest.mark.django_db


def beat_all(age: timedelta = timedelta(0)) -> None:
    for queue in TASK_QUEUES:
        worker_heartbeat_beat(worker_id=f"host:{queue}", queue=queue, started_at=timezone.now())
    WorkerHeartbeat.objects.update(beat_at=timezone.now() - age)


def test_ready_is_200_with_the_database_and_a_live_worker_per_queue(settings):
    settings.TASKS_BACKEND_NAME = "database"
    beat_all()

    response = Client().get("/ready")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready"
    assert body["failed"] == []
    assert {body["checks"][f"worker:{queue}"] for queue in TASK_QUEUES} == {"ok"}


def test_ready_is_503_naming_the_queue_whose_worker_heartbeat_is_too_old(settings):
    settings.TASKS_BACKEND_NAME = "database"
    settings.WORKER_HEARTBEAT_MAX_AGE_SECONDS = 30
    beat_all()
    WorkerHeartbeat.objects.filter(queue="webhooks").update(beat_at=timezone.now() - timedelta(seconds=45))

    response = Client().get("/ready")

    assert response.status_code == 503
    assert response.json()["failed"] == ["worker:webhooks"]
    assert response.json()["checks"]["worker:webhooks"].startswith("last heartbeat 45 s ago")


def test_ready_is_503_once_the_last_worker_of_a_queue_has_stopped(settings):
    settings.TASKS_BACKEND_NAME = "database"
    beat_all()
    worker_heartbeat_end(worker_id="host:investigations")

    response = Client().get("/ready")

    assert response.status_code == 503
    assert response.json()["checks"]["worker:investigations"] == "no worker has reported"


def test_ready_is_503_when_the_database_is_unreachable():
    """A real server whose database does not answer (nothing listens on its port)."""
    port, dead_database_port = free_port(), free_port()
    env = {
        **_plain_env(),
        "DATABASE_URL": f"postgresql://postgres@127.0.0.1:{dead_database_port}/gone",
        "DATABASE_POOL_TIMEOUT": "1",
        "DATABASE_POOL_MIN": "0",
    }
    with _uvicorn(port, env) as (base, _):
        response = httpx.get(f"{base}/ready", timeout=20)
        liveness = httpx.get(f"{base}/health", timeout=5)

    assert response.status_code == 503
    body = response.json()
    assert "database" in body["failed"]
    assert body["checks"]["database"].startswith("unavailable")
    assert body["checks"]["worker:investigations"] == "database unavailable"
    assert liveness.status_code == 200  # alive, just not ready


def test_metrics_answer_404_without_a_configured_token(settings):
    settings.METRICS_TOKEN = None
    assert Client().get("/metrics").status_code == 404


def test_metrics_refuse_a_wrong_token_with_401(settings):
    settings.METRICS_TOKEN = "operator-secret-0123456789"
    response = Client().get("/metrics", headers={"Authorization": "Bearer operator-secret-wrong"})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


def test_metrics_with_the_token_expose_queues_and_counters(settings, team):
    settings.METRICS_TOKEN = "operator-secret-0123456789"
    settings.TASKS_BACKEND_NAME = "database"

    response = Client().get("/metrics", headers={"Authorization": "Bearer operator-secret-0123456789"})

    assert response.status_code == 200
    text = response.content.decode()
    assert 'incidentfox_queue_depth{queue="investigations"}' in text
    assert 'incidentfox_queue_oldest_age_seconds{queue="webhooks"}' in text
    assert "# TYPE incidentfox_investigations_total counter" in text


def _task_row(worker_id: str, started_ago: timedelta) -> DBTaskResult:
    return DBTaskResult.objects.create(
        status="RUNNING",
        args_kwargs={"args": [], "kwargs": {}},
        task_path="investigations.tasks.run_investigation",
        queue_name="investigations",
        backend_name="default",
        run_after=timezone.now(),
        started_at=timezone.now() - started_ago,
        worker_ids=[worker_id],
    )


def test_reconcile_fails_only_task_rows_whose_worker_process_stopped_beating(settings):
    settings.TASKS_BACKEND_NAME = "database"
    worker_heartbeat_beat(worker_id="host-a:100", queue="investigations", started_at=timezone.now())
    dead = _task_row("host-b:200:0", timedelta(minutes=5))
    live = _task_row("host-a:100:1", timedelta(minutes=5))
    just_started = _task_row("host-c:300:0", timedelta(seconds=1))

    assert task_rows_reconcile() == 1

    dead.refresh_from_db()
    assert dead.status == "FAILED"
    assert dead.exception_class_path == "ops.reconcile.WorkerLost"
    assert DBTaskResult.objects.get(pk=live.pk).status == "RUNNING"
    assert DBTaskResult.objects.get(pk=just_started.pk).status == "RUNNING"


def test_json_logs_carry_the_request_id_on_the_access_line():
    port = free_port()
    env = {**_plain_env(), "LOG_FORMAT": "json", "LOG_LEVEL": "INFO"}
    with _uvicorn(port, env) as (base, process):
        assert httpx.get(f"{base}/health", headers={"X-Request-ID": "req-json-1"}, timeout=5).status_code == 200
    records = [json.loads(line) for line in process.stderr_text.splitlines() if line.startswith("{")]
    access = [record for record in records if record.get("logger") == "incidentfox.access"]
    [mine] = [record for record in access if record["request_id"] == "req-json-1"]
    assert mine["http_path"] == "/health"
    assert mine["http_status"] == 200
    assert {"time", "level", "message"} <= set(mine)
    assert all(record["request_id"].startswith("req") for record in access)  # minted ids on the probes


def _plain_env() -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "REDIS_URL")}
    env.update(DJANGO_SETTINGS_MODULE="tests.investigations.worker_settings", ALLOWED_HOSTS="127.0.0.1")
    return env


@dataclass
class _Server:
    process: subprocess.Popen[bytes]
    stderr_text: str = ""


@contextmanager
def _uvicorn(port: int, env: dict[str, str]) -> Iterator[tuple[str, _Server]]:
    """uvicorn serving the app on ``port``; its standard error is kept for the test once it has stopped."""
    base = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "uvicorn", "incidentfox_web.asgi:application", "--port", str(port)]
    server = _Server(subprocess.Popen([*command, "--no-access-log"], cwd=ROOT, env=env, stderr=subprocess.PIPE))
    try:
        wait_until(lambda: _answers(f"{base}/health"), seconds=30, what="uvicorn")
        yield base, server
    finally:
        server.process.terminate()
        _, stderr = server.process.communicate(timeout=15)
        server.stderr_text = stderr.decode(errors="replace")


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def test_probes_addressed_by_pod_ip_are_answered_but_other_paths_keep_the_host_check(settings):
    settings.ALLOWED_HOSTS = ["incidentfox.example.com"]
    settings.TASKS_BACKEND_NAME = "database"
    beat_all()
    client = Client(HTTP_HOST="10.42.0.17:8000")

    assert client.get("/health").status_code == 200
    assert client.get("/ready").status_code == 200
    assert client.get("/api/v1/auth/me").status_code == 400
