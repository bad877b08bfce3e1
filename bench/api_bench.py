"""Agent API figures against a real server started as ``make run`` serves it (``scripts/serve.sh``: 2 web
processes, the investigation and webhook workers and the maintenance loop) on the configured database and Redis.

(a) status polls: GET /agents/status/{id} at a fixed 200 polls/s, p50/p99 (budget p99 < 25 ms), server CPU per
    poll and how it was shared between the web processes;
(b) GET /auth/me with a team token: requests/s with 16 clients and server CPU per request (both web processes
    and their parent, summed), beside the bare JSON view (/health, no DRF, no token, no rate limit) as reference;
(c) queue pickup latency, 202 -> running (server timestamps created_at -> started_at) (target p50 < 0.5 s);
(d) status-poll p50/p99 while idle vs. while 10 sync runs wait (paced to ~2 s each by
    tests/investigations/paced_engine.py): a waiting sync run holds no worker thread (target p99 < 500 ms);
(e) GET /agents/investigations?limit=20&offset=0 p95 with 1,000,000 investigations in the team (target < 100 ms;
    PostgreSQL only; the rows are bulk-inserted once and kept for later runs).

The server runs with ``tests.investigations.worker_settings`` (the real engine behind the paced steps). The load
comes from ``bench/_load.py``, a raw HTTP/1.1 client costing about 0.2 ms of CPU a request on the same cores;
each load run is preceded by WARM_SECONDS of the same load, unmeasured.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/incidentfox_bench REDIS_URL=redis://127.0.0.1:6379/1 \
        .venv/bin/python bench/api_bench.py [--seconds 10] [--rows 1000000] [--only a]

``--only`` runs some parts (``--only a``: the status polls alone, ``--only ab``); the 1-minute load average is
printed at the start and the end, beside the latencies it moves.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
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

import django  # noqa: E402

django.setup()

import httpx  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from bench._load import LoadResult, percentile, run_load, wait_until_up  # noqa: E402
from investigations.models import Investigation, TeamInvestigationCount  # noqa: E402
from tenancy.audit import RequestMeta  # noqa: E402
from tenancy.models import Node, NodeType, Organization, TokenKind  # noqa: E402
from tenancy.services import api_token_issue, node_create, org_create  # noqa: E402
from tests.support.polling import timed_polls  # noqa: E402
from tests.support.servers import free_port  # noqa: E402

BENCH_ORG = "bench-agents"
HISTORY_ORG = "bench-history"
WEB_PROCESSES = 2
POLL_RATE = 200
WARM_SECONDS = 2


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


def _descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (Linux /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rpartition(")")[2].split()[1])
            except OSError:
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, stack = [], [pid]
    while stack:
        for child in children.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found


def _web_pids(serve_pid: int) -> list[int]:
    """The web server's processes among those ``scripts/serve.sh`` started (not the workers, the maintenance loop,
    serve.sh's supervising subshells or their back-off sleeps)."""
    pids = []
    for pid in _descendants(serve_pid):
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        if b"manage.py" not in command and b"serve.sh" not in command and not command.startswith(b"sleep"):
            pids.append(pid)
    return pids


def _shares(result: LoadResult) -> str:
    """How the server CPU of a run was shared among the web processes (their parent's few ticks left out)."""
    shares = sorted((share for share in result.server_cpu_shares if share >= 0.01), reverse=True)
    return " / ".join(f"{share:.0%}" for share in shares) or "n/a"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10, help="length of each load run")
    parser.add_argument("--concurrency", type=int, default=16, help="(b): clients loading as fast as answered")
    parser.add_argument("--pickups", type=int, default=30)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--sync-runs", type=int, default=10)
    parser.add_argument("--sync-polls", type=int, default=60)
    parser.add_argument("--only", default="abcde", help="the parts to run, e.g. 'a' or 'ab' (default all)")
    args = parser.parse_args()
    parts = set(args.only.lower())
    unknown = parts - set("abcde")
    if unknown:
        parser.error(f"--only takes letters among a-e, not {''.join(sorted(unknown))}")
    load_at_start = os.getloadavg()[0]

    call_command("migrate", verbosity=0)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    _, token = _team(BENCH_ORG, keep=False)
    auth = {"Authorization": f"Bearer {token}"}
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "PY": sys.executable,
        "PORT": str(port),
        "WEB_WORKERS": str(WEB_PROCESSES),
        "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "tests.investigations.worker_settings",
    }
    serve = subprocess.Popen(["scripts/serve.sh"], cwd=ROOT, env=env, start_new_session=True)
    try:
        wait_until_up(f"{base}/health", timeout=180)  # a loaded machine takes its time to import Django twice
        time.sleep(2)  # every web process up
        web = _web_pids(serve.pid)
        with httpx.Client(base_url=base, headers=auth, timeout=30) as client:
            # (c) pickup latency: spaced-out async runs, so each one meets an idle, polling worker. Without (c) one
            # run gives the polls of (a) and (d) their investigation.
            ids = []
            for _ in range(args.pickups if "c" in parts else 1):
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

            # (a) status polls at a fixed rate; (b) auth/me and the bare view as fast as answered.
            # Each run is preceded by the same load for WARM_SECONDS, unmeasured: the figures are the steady state,
            # not the database pools growing to what the load needs.
            polls = me = bare = None
            if "a" in parts:
                polls = run_load(
                    poll_url,
                    seconds=args.seconds,
                    rate=POLL_RATE,
                    warm_seconds=WARM_SECONDS,
                    headers=auth,
                    server_pids=web,
                )
            if "b" in parts:
                me = run_load(
                    f"{base}/api/v1/auth/me",
                    seconds=args.seconds,
                    concurrency=args.concurrency,
                    warm_seconds=WARM_SECONDS,
                    headers=auth,
                    server_pids=web,
                )
                bare = run_load(
                    f"{base}/health",
                    seconds=args.seconds,
                    concurrency=args.concurrency,
                    warm_seconds=WARM_SECONDS,
                    server_pids=web,
                )

            # (d) status polls idle vs. while 10 sync runs wait.
            sync_polls = None
            if "d" in parts:
                sync_polls = _polls_during_sync_runs(client, base, auth, poll_url, args.sync_runs, args.sync_polls)

        # (e) history page with a large table.
        history = None
        if "e" in parts and connection.vendor == "postgresql":
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
                history = (percentile(samples[20:], 0.5), percentile(samples[20:], 0.95), total)
    finally:
        os.killpg(serve.pid, signal.SIGTERM)  # serve.sh's own process group: the web, worker and loop processes
        serve.wait(timeout=30)
        Organization.objects.filter(org_id=BENCH_ORG).delete()

    stores = f"{connection.vendor}, rate limits in {'Redis' if os.environ.get('REDIS_URL') else 'the database'}"
    print(
        f"agent API bench: scripts/serve.sh, {WEB_PROCESSES} web processes, {stores}; 1-minute load average "
        f"{load_at_start:.2f} at the start, {os.getloadavg()[0]:.2f} at the end ({os.cpu_count()} CPUs)"
    )
    if polls is not None:
        print(
            f"(a) GET /agents/status at {POLL_RATE}/s: p50 {polls.p50_ms:.1f} ms, p99 {polls.p99_ms:.1f} ms "
            f"(budget p99 < 25 ms; {polls.requests} polls, {polls.errors} errors, "
            f"server CPU {polls.server_cpu_ms or 0:.2f} ms/poll, shared {_shares(polls)} among the web processes)"
        )
    if me is not None and bare is not None:
        print(f"(b) {args.concurrency} clients, as fast as answered:")
        print(f"    {me.line('GET /auth/me (team token)')}")
        print(f"    {bare.line('bare JSON view (/health)')}")
    if "c" in parts:
        print(
            f"(c) pickup 202->running over {len(pickups)} runs: p50 {statistics.median(pickups):.3f} s, "
            f"max {max(pickups):.3f} s (target p50 < 0.5 s)"
        )
    if sync_polls is not None:
        idle, during, waiting = sync_polls
        print(
            f"(d) GET /agents/status idle: p50 {percentile(idle, 0.5):.1f} ms, p99 {percentile(idle, 0.99):.1f} ms; "
            f"during {args.sync_runs} waiting sync runs ({waiting} still waiting after the polls): "
            f"p50 {percentile(during, 0.5):.1f} ms, p99 {percentile(during, 0.99):.1f} ms (target p99 < 500 ms)"
        )
    if history is not None:
        print(
            f"(e) GET /agents/investigations?limit=20 with {history[2]:,} rows: p50 {history[0]:.1f} ms, "
            f"p95 {history[1]:.1f} ms (target p95 < 100 ms)"
        )
    elif "e" in parts:
        print("(e) skipped: needs PostgreSQL (DATABASE_URL=postgresql://...)")


if __name__ == "__main__":
    main()
