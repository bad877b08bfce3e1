"""A real Prometheus scrapes ``/metrics`` (with the operator token) of a real server and worker on PostgreSQL, and
PromQL sees the investigations a worker process finished and the age of a queue nobody works on."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from subprocess import Popen
from typing import Any

import httpx
import pytest

from investigations.models import Investigation, Status
from tenancy.models import Node
from tests.engine.part2.prom_harness import prometheus_binary, serve_prometheus
from tests.investigations.conftest import start
from tests.investigations.test_real_workers import db_worker, postgres, spawn, wait_until  # noqa: F401
from tests.support.servers import child_env, uvicorn_servers
from tests.webhooks.conftest import set_webhook_url

pytestmark = [pytest.mark.slow]

TOKEN = "metrics-operator-token-0123456789"


def _query(prometheus: str, promql: str) -> list[dict[str, Any]]:
    response = httpx.get(f"{prometheus}/api/v1/query", params={"query": promql}, timeout=5)
    response.raise_for_status()
    result: list[dict[str, Any]] = response.json()["data"]["result"]
    return result


def _value(prometheus: str, promql: str) -> float | None:
    result = _query(prometheus, promql)
    return float(result[0]["value"][1]) if result else None


def test_prometheus_scrapes_finished_investigations_and_the_queue_age(
    spawn: Callable[..., Popen[bytes]],  # noqa: F811
    team: Node,
    settings: Any,
    tmp_path: Path,
) -> None:
    binary = prometheus_binary()
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    shared = {"PROMETHEUS_MULTIPROC_DIR": str(metrics_dir), "METRICS_TOKEN": TOKEN}
    db_worker(spawn, concurrency=2, **shared)
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = True
    # Each finished run queues an event for this URL; no webhook worker runs, so the two tasks wait and age.
    set_webhook_url(team, "http://127.0.0.1:9/never-attempted")
    runs = [start(team, message=f"scraped {n}").id for n in range(2)]
    env = child_env(DJANGO_SETTINGS_MODULE="tests.investigations.worker_settings", LOG_LEVEL="WARNING", **shared)

    with uvicorn_servers(1, env=env) as [base], tempfile.TemporaryDirectory(prefix="prom-ops-") as data:
        target = base.removeprefix("http://")
        config = (
            "global:\n  scrape_interval: 1s\n"
            "scrape_configs:\n"
            "  - job_name: incidentfox\n"
            "    metrics_path: /metrics\n"
            f"    authorization:\n      credentials: {TOKEN}\n"
            f"    static_configs:\n      - targets: ['{target}']\n"
        )
        with serve_prometheus(binary, config=config, data_dir=os.path.join(data, "tsdb")) as prometheus:
            wait_until(
                lambda: Investigation.objects.filter(pk__in=runs, status=Status.COMPLETED).count() == 2,
                seconds=60,
                what="two runs to complete",
            )
            wait_until(
                lambda: (_value(prometheus, 'sum(incidentfox_investigations_total{status="completed"})') or 0) >= 2,
                seconds=30,
                what="Prometheus to see two completed investigations",
            )
            wait_until(
                lambda: (_value(prometheus, 'incidentfox_queue_oldest_age_seconds{queue="webhooks"}') or 0) > 1,
                seconds=30,
                what="Prometheus to see the webhook queue's age grow",
            )
            depth = _value(prometheus, 'incidentfox_queue_depth{queue="webhooks"}')
            [target_health] = httpx.get(f"{prometheus}/api/v1/targets", timeout=5).json()["data"]["activeTargets"]

    assert depth == 2
    assert target_health["health"] == "up"
