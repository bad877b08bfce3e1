"""Agent API figures (issue 6) against a real uvicorn server and db_worker on the configured database.

(a) GET /agents/status/{id} throughput and p50/p99 with 50 concurrent pollers, beside the bare /health JSON view
    on the same server (target ratio >= 0.6), in interleaved rounds with the ratio taken within each round; and
    beside the floors of ``bench.urls`` (DRF alone; plus the shared rate-limit count; plus one read of the same
    row), whose ratios to the bare view are ceilings no status poll can exceed on this machine;
(b) queue pickup latency, 202 -> running (server timestamps created_at -> started_at), with the DB worker
    (target p50 < 0.5 s);
(c) GET /agents/investigations?limit=20&offset=0 p95 with 1,000,000 investigations in the team (target < 100 ms;
    PostgreSQL only; the rows are bulk-inserted once and kept for later runs);
(d) status-poll p50/p99 while idle vs. while 10 sync runs wait (paced to ~2 s each by
    tests/investigations/paced_engine.py, so the one worker keeps most of them waiting): the sync wait is an
    async view on the event loop and must not delay the WSGI status view (target: p99 < 500 ms, p50 within 5x).

The server and the worker run with ``tests.investigations.worker_settings`` (the real engine behind the paced
steps; unpaced runs are the plain engine).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/incidentfox_bench .venv/bin/python bench/api_bench.py \
        [--seconds 4] [--rounds 5] [--worker-interval 0.1] [--rows 1000000]
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "incidentfox_web.settings")
os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost")
os.environ.setdefault("WEB_CPU_AFFINITY", "auto")  # the server runs as `make run` serves it

import django  # noqa: E402

django.setup()

import httpx  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from bench._load import (  # noqa: E402
    Target,
    baseline_report,
    compare,
    describe_placement,
    run_load,
    wait_until_up,
    with_baselines,
)
from investigations.models import Investigation, TeamInvestigationCount  # noqa: E402
from tenancy.audit import RequestMeta  # noqa: E402
from tenancy.models import Node, NodeType, Organization, TokenKind  # noqa: E402
from tenancy.services import api_token_issue, node_create, org_create  # noqa: E402
from tests.support.polling import timed_polls  # noqa: E402
from tests.support.servers import free_port  # noqa: E402

BENCH_ORG = "bench-agents"
HISTORY_ORG = "bench-history"


def _team(org_id: str, *, keep: bool) -> tuple[Node, str]:
    meta = RequestMeta.system()
    org = Organization.objects.filter(org_id=org_id).first()
    if org is not None and not keep:
        org.delete()
        org = None
    if org is None:
        org = org_create(org_id=org_id, name="Bench")
        node_create(org=org, node_id="bench", name="Bench", node_type=NodeType.TEAM, meta=meta)
    org.rate_limits = {"read": 1_000_000, "write": 1_000_000, "trigger": 1_000_000}
    org.save()
    team = Node.objects.get(org=org, node_id="bench")
    return team, api_token_issue(org=org, kind=TokenKind.TEAM, team=team, meta=meta).plaintext


def _fill_history(team: Node, rows: int) -> None:
    """Bulk-insert terminal investigations spread over a year (one INSERT ... SELECT generate_series)."""
    have = Investigation.objects.filter(team=team).count()
    if have >= rows:
        TeamInvestigationCount.objects.update_or_create(team=team, defaults={"total": have})
        return
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO investigations_investigation (
                id, org_id, team_id, agent, message, context, status, trigger_source, requested_by,
                timeout_seconds, max_turns, created_at, deadline_at, started_at, finished_at, duration_ms,
                progress_step, steps_completed, steps_total, cancel_requested, result, error_code, error_message,
                tools_used, demo_data, attempt, worker_id, idempotency_key, idempotency_credential,
                idempotency_fingerprint, alert_fingerprint)
            SELECT 'inv_' || lpad(to_hex(g), 20, '0'), %s, %s, 'planner',
                   'Investigate high latency in payments service, run ' || g, '{}'::jsonb,
                   (ARRAY['completed','failed','cancelled'])[1 + g %% 3], 'api', 'bench', 300, 25,
                   now() - (g || ' seconds')::interval / 32, now(), now(), now(), 1000,
                   '', 0, 0, false, '{"summary": "s"}'::jsonb, '', '', '[]'::jsonb, false, 1, '', '', '', '', ''
            FROM generate_series(%s, %s) AS g
            """,
            [team.org_id, team.pk, have + 1, rows],
        )
        cursor.execute("VACUUM ANALYZE investigations_investigation")
    TeamInvestigationCount.objects.update_or_create(team=team, defaults={"total": rows})


def _percentile(samples: list[float], pct: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * pct))]


def _polls_during_sync_runs(
    client: httpx.Client, base: str, auth: dict[str, str], poll_url: str, runs: int, count: int
) -> tuple[list[float], list[float], int]:
    """Poll latencies (ms) idle, then while ``runs`` paced sync runs wait; and how many still waited at the end."""
    timed_polls(client, poll_url, 5)
    idle = timed_polls(client, poll_url, count)
    before = Investigation.objects.count()
    statuses: list[int] = []

    def sync_run(n: int) -> None:
        body = {
            "agent_name": "planner",
            "message": f"bench sync {n}",
            "context": {"paced_steps": 8, "paced_seconds": 0.25},
            "timeout_seconds": 300,
        }
        with httpx.Client(base_url=base, headers=auth, timeout=330) as own:
            statuses.append(own.post("/api/v1/agents/run", json=body).status_code)

    threads = [threading.Thread(target=sync_run, args=(n,), daemon=True) for n in range(runs)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 30
    while Investigation.objects.count() < before + runs and time.monotonic() < deadline:
        time.sleep(0.05)
    during = timed_polls(client, poll_url, count)
    waiting = sum(thread.is_alive() for thread in threads)
    end = time.monotonic() + 330
    for thread in threads:
        thread.join(timeout=max(0.0, end - time.monotonic()))
    assert statuses == [200] * runs, statuses
    return idle, during, waiting


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=4, help="length of one (a) run of one URL")
    parser.add_argument("--rounds", type=int, default=5, help="(a): interleaved rounds of bare, the floors, status")
    parser.add_argument("--pollers", type=int, default=50)
    parser.add_argument("--worker-interval", type=float, default=0.1)
    parser.add_argument("--pickups", type=int, default=30)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--sync-runs", type=int, default=10)
    parser.add_argument("--sync-polls", type=int, default=60)
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # (d) times single requests with httpx in this process
    _, token = _team(BENCH_ORG, keep=False)
    auth = {"Authorization": f"Bearer {token}"}
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "bench.settings",  # the test worker settings plus the bench floors
        "BENCH_BASE_SETTINGS": "tests.investigations.worker_settings",
    }
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "incidentfox_web.asgi:application",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "db_worker", "--no-reload", "--interval", str(args.worker_interval)],
        cwd=ROOT,
        env=env,
    )
    try:
        wait_until_up(f"{base}/health")
        with httpx.Client(base_url=base, headers=auth, timeout=30) as client:
            # (b) pickup latency: spaced-out async runs, so each one meets an idle, polling worker.
            ids = []
            for _ in range(args.pickups):
                response = client.post(
                    "/api/v1/agents/run", json={"agent_name": "planner", "message": "bench", "async": True}
                )
                assert response.status_code == 202, response.text
                ids.append(response.json()["investigation_id"])
                time.sleep(0.37)
            deadline = time.monotonic() + 60
            while (
                Investigation.objects.filter(pk__in=ids, started_at__isnull=True).exists()
                and time.monotonic() < deadline
            ):
                time.sleep(0.2)
            pickups = [
                (started - created).total_seconds()
                for created, started in Investigation.objects.filter(pk__in=ids, started_at__isnull=False).values_list(
                    "created_at", "started_at"
                )
                if started is not None
            ]
            poll_url = f"{base}/api/v1/agents/status/{ids[0]}"

            # (a) status polls vs the bare view.
            run_load(f"{base}/health", concurrency=4, seconds=1)
            placement = describe_placement(server.pid)
            polls = f"GET /agents/status ({args.pollers} pollers)"
            targets = with_baselines(base, Target(polls, poll_url, auth), read_floor_id=ids[0])
            runs = compare(
                targets, rounds=args.rounds, seconds=args.seconds, concurrency=args.pollers, server_pid=server.pid
            )

            # (d) status polls idle vs. while 10 sync runs wait.
            sync_polls = _polls_during_sync_runs(client, base, auth, poll_url, args.sync_runs, args.sync_polls)

        # (c) history page with a large table.
        history = None
        if connection.vendor == "postgresql":
            history_team, history_token = _team(HISTORY_ORG, keep=True)
            _fill_history(history_team, args.rows)
            with httpx.Client(
                base_url=base, headers={"Authorization": f"Bearer {history_token}"}, timeout=30
            ) as client:
                samples = []
                for _ in range(220):
                    started = time.perf_counter()
                    response = client.get("/api/v1/agents/investigations", params={"limit": 20, "offset": 0})
                    samples.append((time.perf_counter() - started) * 1000)
                    assert response.status_code == 200
                    assert len(response.json()["investigations"]) == 20
                total = response.json()["pagination"]["total"]
                history = (_percentile(samples[20:], 0.5), _percentile(samples[20:], 0.95), total)
    finally:
        for process in (server, worker):
            process.terminate()
        for process in (server, worker):
            process.wait(timeout=15)
        Organization.objects.filter(org_id=BENCH_ORG).delete()

    print(
        f"agent API bench: uvicorn x1 (ASGI), {connection.vendor}, db_worker --interval {args.worker_interval}; "
        f"{placement}"
    )
    print("(a) status polls:")
    for line in baseline_report(runs, polls, name="status", target=0.60):
        print(f"    {line}")
    print(
        f"(b) pickup 202->running over {len(pickups)} runs: p50 {statistics.median(pickups):.3f} s, "
        f"max {max(pickups):.3f} s (target p50 < 0.5 s)"
    )
    idle, during, waiting = sync_polls
    print(
        f"(d) GET /agents/status idle: p50 {_percentile(idle, 0.5):.1f} ms, p99 {_percentile(idle, 0.99):.1f} ms; "
        f"during {args.sync_runs} waiting sync runs ({waiting} still waiting after the polls): "
        f"p50 {_percentile(during, 0.5):.1f} ms, p99 {_percentile(during, 0.99):.1f} ms (target p99 < 500 ms)"
    )
    if history is not None:
        print(
            f"(c) GET /agents/investigations?limit=20 with {history[2]:,} rows: p50 {history[0]:.1f} ms, "
            f"p95 {history[1]:.1f} ms (target p95 < 100 ms)"
        )
    else:
        print("(c) skipped: needs PostgreSQL (DATABASE_URL=postgres://...)")


if __name__ == "__main__":
    main()
