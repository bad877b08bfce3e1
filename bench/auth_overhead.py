"""Throughput of GET /api/v1/auth/me with a team token against the bare /health JSON view on the same server.

Target (issue 3): the authenticated path keeps at least 70 % of the bare view's throughput. Two floors served by
``bench.settings`` (see ``bench.urls``) show where the gap comes from: a DRF view with no authentication or rate
limit (the framework itself), and the same view plus the shared rate-limit count API.md §3 requires of every API
response. Their ratios to the bare view are ceilings for any endpoint that must do that work. It uses the
configured database (DATABASE_URL, default SQLite) and REDIS_URL when set, like a real deployment, and wrk
when it is installed (`apt-get install wrk`), else a Python client.

    .venv/bin/python bench/auth_overhead.py [--seconds 4] [--rounds 5] [--concurrency 16]

The four URLs are loaded in interleaved rounds and ratios are taken within each round, so the machine's drift
over a minute does not end up in a ratio (see ``bench._load.Comparison``).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "incidentfox_web.settings")
os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost")
os.environ.setdefault("WEB_CPU_AFFINITY", "auto")  # the server runs as `make run` serves it

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402

from bench._load import (  # noqa: E402
    Target,
    baseline_report,
    compare,
    describe_placement,
    run_load,
    wait_until_up,
    with_baselines,
)
from tenancy.audit import RequestMeta  # noqa: E402
from tenancy.models import NodeType, Organization, TokenKind  # noqa: E402
from tenancy.services import api_token_issue, node_create, org_create  # noqa: E402
from tests.support.servers import free_port  # noqa: E402

BENCH_ORG = "bench-auth"
AUTHED = "GET /api/v1/auth/me (team)"


def _bench_token() -> str:
    Organization.objects.filter(org_id=BENCH_ORG).delete()
    org = org_create(org_id=BENCH_ORG, name="Bench")
    org.rate_limits = {"read": 100000}
    org.save()
    meta = RequestMeta.system()
    team = node_create(org=org, node_id="bench", name="Bench", node_type=NodeType.TEAM, meta=meta)
    return api_token_issue(org=org, kind=TokenKind.TEAM, team=team, meta=meta).plaintext


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=4, help="length of one run of one URL")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (bare, the floors, auth/me)")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    token = _bench_token()
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "incidentfox_web.asgi:application", "--port", str(port)]
    command += ["--workers", str(args.workers)]
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bench.settings"}  # the app plus the bench floors
    server = subprocess.Popen([*command, "--log-level", "warning"], cwd=ROOT, env=env)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_up(f"{base}/health")
        run_load(f"{base}/health", concurrency=4, seconds=1)  # warm-up
        pid = server.pid if args.workers == 1 else None
        placement = describe_placement(pid)
        targets = with_baselines(base, Target(AUTHED, f"{base}/api/v1/auth/me", {"Authorization": f"Bearer {token}"}))
        runs = compare(targets, rounds=args.rounds, seconds=args.seconds, concurrency=args.concurrency, server_pid=pid)
    finally:
        server.terminate()
        server.wait(timeout=10)
        Organization.objects.filter(org_id=BENCH_ORG).delete()

    store = "redis" if os.environ.get("REDIS_URL") else "database"
    db = "postgresql" if os.environ.get("DATABASE_URL", "").startswith("postgres") else "sqlite"
    threads = os.environ.get("WEB_THREADS", "16")
    print(
        f"auth overhead: uvicorn x{args.workers} ({threads} threads each), {db}, rate-limit store {store}, "
        f"{args.concurrency} connections, {args.rounds} interleaved rounds of {args.seconds:g} s; {placement}"
    )
    for line in baseline_report(runs, AUTHED, name="authenticated", target=0.70):
        print(line)


if __name__ == "__main__":
    main()
