"""Queues that never stall (real ``run_worker`` processes on PostgreSQL).

Webhook deliveries and investigations run on queues of their own, so a receiver that never answers delays no
investigation; one org cannot occupy every investigation slot (``INVESTIGATIONS_MAX_RUNNING_PER_ORG``).
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from subprocess import Popen
from typing import Any

import httpx
import pytest
import redis
from django_rq import get_queue

from investigations.models import Investigation, Status
from ops.queues import TASK_QUEUES
from tenancy.audit import RequestMeta
from tenancy.models import Node, TokenKind
from tenancy.services import api_token_issue
from tests.investigations.conftest import start
from tests.investigations.test_real_workers import db_worker, postgres, spawn, wait_until  # noqa: F401
from tests.support.servers import child_env, uvicorn_servers
from tests.support.tools import skip_or_fail
from tests.webhooks.conftest import set_webhook_url
from webhooks.delivery import webhook_event_queue
from webhooks.models import Outcome, WebhookDelivery

pytestmark = [pytest.mark.slow]

STUCK_EVENTS = 8
SYNC_RUN_BOUND_SECONDS = 8.0  # one attempt at the hanging receiver takes 10 s; a run queued behind it takes longer


class SilentReceiver:
    """Accepts connections on loopback and never answers (a receiver that hangs)."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.accepted: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            self.accepted.append(connection)

    def close(self) -> None:
        self.listener.close()
        for connection in self.accepted:
            connection.close()


@pytest.fixture
def silent_receiver() -> Iterator[SilentReceiver]:
    receiver = SilentReceiver()
    yield receiver
    receiver.close()


def _use_rq(settings: Any) -> dict[str, str]:
    """Point this process at RQ on Redis (emptied queues); returns the environment for the child processes."""
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15")
    try:
        redis.Redis.from_url(redis_url).ping()
    except redis.RedisError:
        skip_or_fail(f"RQ FAIRNESS TEST NOT RUN: no Redis at {redis_url}")
    settings.TASKS_BACKEND_NAME = "rq"
    settings.TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": TASK_QUEUES}}
    settings.RQ_QUEUES = {queue: {"URL": redis_url, "DEFAULT_TIMEOUT": 3600} for queue in TASK_QUEUES}
    for queue in TASK_QUEUES:
        get_queue(queue).empty()
    return {"TASKS_BACKEND": "rq", "REDIS_URL": redis_url}


@pytest.mark.parametrize("backend", ["database", "rq"])
def test_a_receiver_that_never_answers_delays_no_other_orgs_sync_investigation(
    spawn: Callable[..., Popen[bytes]],  # noqa: F811
    team: Node,
    outsider_team: Node,
    silent_receiver: SilentReceiver,
    settings: Any,
    backend: str,
) -> None:
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = True  # the receiver is on loopback: its literal URL is accepted
    settings.EGRESS_ALLOW_LOOPBACK = True
    backend_env = _use_rq(settings) if backend == "rq" else {}
    db_worker(spawn, queue="investigations", concurrency=2, **backend_env)
    db_worker(
        spawn,
        queue="webhooks",
        concurrency=2,
        WEBHOOKS_ALLOW_PRIVATE_TARGETS="true",
        EGRESS_ALLOW_LOOPBACK="true",
        **backend_env,
    )
    set_webhook_url(team, silent_receiver.url)
    for n in range(STUCK_EVENTS):
        webhook_event_queue(team=team, event={"event": "investigation_complete", "investigation_id": f"inv_{n:020d}"})
    token = api_token_issue(
        org=outsider_team.org, kind=TokenKind.TEAM, team=outsider_team, label="other org", meta=RequestMeta.system()
    ).plaintext
    env = child_env(DJANGO_SETTINGS_MODULE="tests.investigations.worker_settings", LOG_LEVEL="WARNING", **backend_env)

    with uvicorn_servers(1, env=env) as [base], httpx.Client(base_url=base, timeout=60) as client:
        wait_until(lambda: len(silent_receiver.accepted) >= 2, seconds=30, what="both webhook threads to hang")
        ready = client.get("/ready")
        assert ready.status_code == 200, ready.text  # a worker of each queue is reporting alive
        began = time.monotonic()
        response = client.post(
            "/api/v1/agents/run",
            json={"agent_name": "planner", "message": "Investigate high latency in checkout"},
            headers={"Authorization": f"Bearer {token}"},
        )
        elapsed = time.monotonic() - began

    assert response.status_code == 200, response.text
    assert response.json()["status"] == "completed"
    print(f"\n{backend}: another org's sync investigation while {STUCK_EVENTS} deliveries hang: {elapsed:.2f} s")
    assert elapsed < SYNC_RUN_BOUND_SECONDS
    # Meanwhile the stuck deliveries are being tried and retried, not dropped.
    wait_until(
        lambda: WebhookDelivery.objects.filter(
            team=team, outcome=Outcome.RETRYABLE_FAILURE, error="timeout", next_attempt_at__isnull=False
        ).exists(),
        seconds=30,
        what="a hanging attempt to time out and be scheduled again",
    )


def test_one_org_never_runs_more_than_its_cap_and_another_org_is_served_meanwhile(
    spawn: Callable[..., Popen[bytes]],  # noqa: F811
    team: Node,
    outsider_team: Node,
) -> None:
    db_worker(spawn, concurrency=3, INVESTIGATIONS_MAX_RUNNING_PER_ORG="1", INVESTIGATIONS_ORG_CAP_RETRY_SECONDS="1")
    paced = {"paced_steps": 4, "paced_seconds": 0.5}
    busy = [start(team, message=f"busy {n}", context=paced).id for n in range(3)]
    wait_until(
        lambda: Investigation.objects.filter(pk__in=busy, status=Status.RUNNING).exists(), seconds=30, what="a run"
    )
    other = start(outsider_team, message="another org").id

    most_running = 0
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        statuses = dict(Investigation.objects.filter(pk__in=[*busy, other]).values_list("id", "status"))
        most_running = max(most_running, sum(statuses[run] == Status.RUNNING for run in busy))
        if statuses[other] == Status.COMPLETED:
            other_done_while_pending = sum(statuses[run] == Status.PENDING for run in busy)
            break
        time.sleep(0.05)
    else:
        raise AssertionError("the other org's run did not complete")

    wait_until(
        lambda: Investigation.objects.filter(pk__in=busy, status=Status.COMPLETED).count() == 3,
        seconds=60,
        what="the capped org's runs to complete in turn",
    )
    assert most_running == 1
    assert other_done_while_pending >= 1, "the other org must not wait for the capped org's backlog"
