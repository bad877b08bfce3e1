"""Server CPU of one status poll, in-process: ``GET /api/v1/agents/status/{id}`` through Django's ASGI handler
(``AsyncClient``: the middleware chain on the event loop, the sync DRF view in its thread, as uvicorn serves it)
or its WSGI handler (``Client``), many times, on the configured database and Redis. Prints CPU and wall time per
poll; ``--profile`` prints the cProfile top functions as well.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/incidentfox_bench REDIS_URL=redis://127.0.0.1:6379/1 \
        .venv/bin/python bench/poll_cpu.py [--polls 2000] [--handler asgi|wsgi] [--profile]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "incidentfox_web.settings")
os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
os.environ.setdefault("LOG_LEVEL", "WARNING")  # as bench/api_bench.py runs the server

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import AsyncClient, Client  # noqa: E402
from django.utils import timezone  # noqa: E402

import incidentfox_web.asgi  # noqa: E402, F401  # the set-up each served web process does at import
from investigations.models import Investigation, Status  # noqa: E402
from tenancy.audit import RequestMeta  # noqa: E402
from tenancy.models import Node, NodeType, Organization, TokenKind  # noqa: E402
from tenancy.services import api_token_issue, node_create, org_create  # noqa: E402

BENCH_ORG = "bench-poll-cpu"


def _setup() -> tuple[str, str]:
    """A fresh org with one team, a team token and one running investigation: (token, poll path)."""
    Organization.objects.filter(org_id=BENCH_ORG).delete()
    meta = RequestMeta.system()
    org = org_create(org_id=BENCH_ORG, name="Bench")
    node_create(org=org, node_id="bench", name="Bench", node_type=NodeType.TEAM, meta=meta)
    org.rate_limits = {"read": 1_000_000, "write": 1_000_000, "trigger": 1_000_000}
    org.save()
    team = Node.objects.get(org=org, node_id="bench")
    token = api_token_issue(org=org, kind=TokenKind.TEAM, team=team, meta=meta).plaintext
    now = timezone.now()
    investigation = Investigation.objects.create(
        org=org,
        team=team,
        agent="planner",
        message="Investigate high latency in the payments service",
        status=Status.RUNNING,
        timeout_seconds=300,
        max_turns=50,
        started_at=now,
        deadline_at=now + timezone.timedelta(hours=1),
        progress_step="Querying metrics",
        steps_completed=3,
        steps_total=7,
    )
    return token, f"/api/v1/agents/status/{investigation.id}"


def _wsgi_polls(path: str, headers: dict[str, str], polls: int) -> None:
    client = Client(headers=headers)
    for _ in range(polls):
        response = client.get(path)
        assert response.status_code == 200, response.content


def _asgi_polls(path: str, headers: dict[str, str], polls: int) -> None:
    async def run() -> None:
        client = AsyncClient()
        for _ in range(polls):
            response = await client.get(path, headers=headers)
            assert response.status_code == 200, response.content

    asyncio.run(run())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--polls", type=int, default=2000)
    parser.add_argument("--handler", choices=["asgi", "wsgi"], default="asgi")
    parser.add_argument(
        "--endpoint",
        choices=["status", "auth-me", "health"],
        default="status",
        help="the status poll, or for reference GET /api/v1/auth/me (the same token) and the bare /health view",
    )
    parser.add_argument("--profile", action="store_true", help="print the top functions by CPU time (every thread)")
    parser.add_argument("--sort", default="cumulative", help="pstats sort key (cumulative, tottime, ...)")
    parser.add_argument("--top", type=int, default=60)
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    token, path = _setup()
    path = {"status": path, "auth-me": "/api/v1/auth/me", "health": "/health"}[args.endpoint]
    headers = {"Authorization": f"Bearer {token}"}
    poll = _asgi_polls if args.handler == "asgi" else _wsgi_polls
    # Python 3.12's cProfile sees every thread (the event loop's and each sync view's); process CPU time as the
    # clock charges each function the CPU spent in it, not the time it waited for the database or Redis.
    profiler = cProfile.Profile(time.process_time) if args.profile else None
    try:
        poll(path, headers, 50)  # warm: imports, URL resolver, connections
        cpu, wall = time.process_time(), time.perf_counter()
        if profiler is not None:
            profiler.enable()
        poll(path, headers, args.polls)
        if profiler is not None:
            profiler.disable()
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    finally:
        Organization.objects.filter(org_id=BENCH_ORG).delete()
    load = os.getloadavg()[0]
    print(
        f"GET {args.endpoint} in-process ({args.handler}, {connection.vendor}, "
        f"rate limits in {'Redis' if os.environ.get('REDIS_URL') else 'the database'}): "
        f"CPU {cpu * 1000 / args.polls:.2f} ms/poll, wall {wall * 1000 / args.polls:.2f} ms/poll "
        f"over {args.polls} polls{' (profiled)' if profiler else ''}; load average {load:.2f}"
    )
    if profiler is not None:
        stats = pstats.Stats(profiler)
        # A figure the machine's load does not move: Python function calls per poll, every thread.
        print(f"{stats.total_calls / args.polls:.0f} Python function calls per poll")
        if args.top:
            stats.sort_stats(args.sort).print_stats(args.top)


if __name__ == "__main__":
    main()
