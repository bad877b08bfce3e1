"""Page weight and server render time of the web pages with 10,000 investigations in the team's history.

Targets (issue 8): the dashboard and the investigation page transfer under 100 KB (HTML only: CSS and htmx are
cached static files), and the server renders each page with p95 < 50 ms. Renders go through the whole Django
stack (middleware, session, auth, tenancy checks, templates) with the test client, against a fresh SQLite
database in a temporary folder unless DATABASE_URL is set.

    .venv/bin/python bench/web_bench.py [--rows 10000] [--requests 200]
"""

from __future__ import annotations

import argparse
import gzip
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "incidentfox_web.settings")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")
_TMP = tempfile.mkdtemp(prefix="web-bench-")
os.environ.setdefault("DATABASE_URL", f"sqlite:///{_TMP}/bench.sqlite3")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

from investigations.models import Investigation, InvestigationStep, Status  # noqa: E402
from tenancy.audit import RequestMeta  # noqa: E402
from tenancy.models import Membership, NodeType, Organization, Role  # noqa: E402
from tenancy.services import node_create, org_create  # noqa: E402

BENCH_ORG = "bench-web"
PAGE_LIMIT_BYTES = 100 * 1024
P95_LIMIT_MS = 50.0
RESULT = {
    "summary": "checkout v1.8.0 deployed to production, then checkout error ratio rose from 0.2% to 18%.",
    "root_cause": {
        "description": "checkout v1.8.0 throws an unhandled TypeError in pricing/totals.py",
        "confidence": 92,
        "evidence": [f"[tool:tool_{i}] observation number {i} from the tool output" for i in range(6)],
    },
    "timeline": [{"timestamp": f"2026-01-15T14:{i:02d}:00Z", "event": f"event {i}"} for i in range(10)],
    "affected_systems": ["checkout", "frontend", "payments"],
    "recommendations": [{"priority": "high", "action": "Roll back checkout to v1.7.9"}] * 3,
}


def seed(rows: int) -> tuple[Client, str, str, str]:
    Organization.objects.filter(org_id=BENCH_ORG).delete()
    meta = RequestMeta.system()
    org = org_create(org_id=BENCH_ORG, name="Bench")
    team = node_create(org=org, node_id="bench-team", name="Bench team", node_type=NodeType.TEAM, meta=meta)
    user_model = get_user_model()
    user_model.objects.filter(username="web-bench").delete()
    user = user_model.objects.create_user(username="web-bench", email="bench@example.com")
    Membership.objects.create(user=user, node=team, role=Role.OPERATOR)
    now = timezone.now()
    statuses = [Status.COMPLETED] * 8 + [Status.FAILED, Status.CANCELLED]
    rng = random.Random(8)
    batch = [
        Investigation(
            org=org,
            team=team,
            agent=rng.choice(["planner", "k8s_agent", "metrics_agent"]),
            message=f"incident {i}: {rng.choice(['checkout', 'payments', 'inventory'])} errors are up " * 3,
            status=rng.choice(statuses),
            requested_by="bench",
            timeout_seconds=300,
            max_turns=25,
            created_at=now - timedelta(minutes=i),
            deadline_at=now - timedelta(minutes=i) + timedelta(seconds=300),
            result=RESULT,
        )
        for i in range(rows)
    ]
    Investigation.objects.bulk_create(batch, batch_size=1000)
    detail = Investigation.objects.filter(team=team).order_by("-created_at").first()
    assert detail is not None
    Investigation.objects.filter(pk=detail.pk).update(status=Status.COMPLETED, started_at=now, finished_at=now)
    InvestigationStep.objects.bulk_create(
        InvestigationStep(
            investigation=detail,
            seq=i + 1,
            tool=f"tool_{i % 6}",
            params={"service": "checkout"},
            started_at=now,
            duration_ms=40,
            ok=True,
            output_excerpt="line of tool output\n" * 100,
        )
        for i in range(12)
    )
    running = Investigation.objects.filter(team=team).order_by("-created_at")[1]
    Investigation.objects.filter(pk=running.pk).update(
        status=Status.RUNNING, started_at=now, steps_completed=3, steps_total=7, progress_step="Querying metrics"
    )
    client = Client()
    client.force_login(user, backend="incidentfox_web.oidc.LocalLoginBackend")
    return client, team.node_id, detail.pk, running.pk


def measure(client: Client, url: str, requests: int, **headers: str) -> tuple[float, float, float, int, int]:
    """p50 and p95 wall time, p95 CPU time of this process (ms), HTML bytes and gzipped bytes.

    CPU time excludes waiting for a core, so on a shared, loaded machine it shows the render cost itself.
    """
    client.get(url, secure=True, headers=headers)  # warm caches and the session
    wall, cpu = [], []
    response = None
    for _ in range(requests):
        started, started_cpu = time.perf_counter(), time.process_time()
        response = client.get(url, secure=True, headers=headers)
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    assert response is not None
    p95 = statistics.quantiles(wall, n=20)[-1]
    cpu_p95 = statistics.quantiles(cpu, n=20)[-1]
    return statistics.median(wall), p95, cpu_p95, len(response.content), len(gzip.compress(response.content))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    client, team_id, detail_id, running_id = seed(args.rows)
    pages = [
        ("dashboard", f"/teams/{team_id}/", {}, True),
        ("investigation (completed)", f"/investigations/{detail_id}", {}, True),
        ("investigation (running)", f"/investigations/{running_id}", {}, True),
        ("status card poll", f"/investigations/{running_id}/card", {"HX-Request": "true"}, False),
        ("history page 1", f"/teams/{team_id}/history", {}, False),
        ("history page 200", f"/teams/{team_id}/history?page=200", {"HX-Request": "true"}, False),
        ("history search", f"/teams/{team_id}/history?q=incident+9999", {}, False),
    ]
    print(f"{args.rows} investigations in history, {args.requests} requests per page, DB {os.environ['DATABASE_URL']}")
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"{'page':28} {'p50 ms':>8} {'p95 ms':>8} {'cpu p95':>8} {'HTML KB':>8} {'gzip KB':>8}")
    failed = False
    for name, url, headers, targeted in pages:
        p50, p95, cpu_p95, size, gz = measure(client, url, args.requests, **headers)
        over = targeted and (p95 >= P95_LIMIT_MS or size >= PAGE_LIMIT_BYTES)
        failed |= over
        flag = "  OVER TARGET" if over else ""
        print(f"{name:28} {p50:8.1f} {p95:8.1f} {cpu_p95:8.1f} {size / 1024:8.1f} {gz / 1024:8.1f}{flag}")
    print(f"targets (dashboard and investigation pages): p95 < {P95_LIMIT_MS:.0f} ms and < 100 KB; others for info")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
