"""Throughput of GET /api/v1/auth/me with a team token against the bare /health JSON view on the same server.

Target (issue 3): the authenticated path keeps at least 70 % of the bare view's throughput.
Uses the configured database (DATABASE_URL, default SQLite) and REDIS_URL when set, like a real deployment.

    .venv/bin/python bench/auth_overhead.py [--seconds 10] [--concurrency 16]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "incidentfox_web.settings")
os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost")

import logging  # noqa: E402

import django  # noqa: E402

django.setup()
logging.getLogger("httpx").setLevel(logging.WARNING)

from django.core.management import call_command  # noqa: E402

from bench._load import run_load  # noqa: E402
from tenancy.audit import RequestMeta  # noqa: E402
from tenancy.models import NodeType, Organization, TokenKind  # noqa: E402
from tenancy.services import api_token_issue, node_create, org_create  # noqa: E402
from tests.support.servers import free_port  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    Organization.objects.filter(org_id="bench-auth").delete()
    org = org_create(org_id="bench-auth", name="Bench")
    org.rate_limits = {"read": 100000}
    org.save()
    team = node_create(org=org, node_id="bench", name="Bench", node_type=NodeType.TEAM, meta=RequestMeta.system())
    token = api_token_issue(org=org, kind=TokenKind.TEAM, team=team, meta=RequestMeta.system()).plaintext

    import subprocess

    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "incidentfox_web.asgi:application", "--port", str(port), "--log-level", "warning"],
        cwd=ROOT,
        env=os.environ.copy(),
    )
    try:
        base = f"http://127.0.0.1:{port}"
        import time

        import httpx

        for _ in range(100):
            try:
                httpx.get(f"{base}/health", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        run_load(f"{base}/health", concurrency=4, seconds=1)  # warm-up
        bare = run_load(f"{base}/health", concurrency=args.concurrency, seconds=args.seconds)
        authed = run_load(
            f"{base}/api/v1/auth/me",
            concurrency=args.concurrency,
            seconds=args.seconds,
            headers={"Authorization": f"Bearer {token}"},
        )
    finally:
        server.terminate()
        server.wait(timeout=10)
        Organization.objects.filter(org_id="bench-auth").delete()

    store = "redis" if os.environ.get("REDIS_URL") else "database"
    db = "postgresql" if os.environ.get("DATABASE_URL", "").startswith("postgres") else "sqlite"
    print(f"auth overhead: uvicorn x1, {db}, rate-limit store {store}, {args.concurrency} clients, {args.seconds:.0f} s each")
    print(bare.line("bare JSON view (/health)"))
    print(authed.line("GET /api/v1/auth/me (team)"))
    print(f"ratio authenticated/bare: {authed.rps / bare.rps:.2f} (target >= 0.70)")


if __name__ == "__main__":
    main()
