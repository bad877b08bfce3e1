"""Queue fairness figures against a real stack started as ``make run`` serves it (``scripts/serve.sh``).

One org's webhook points at a loopback receiver that accepts connections and never answers (each attempt then
takes its full 10 s); ``--stuck-events`` events are queued for it. Meanwhile another org runs ``--runs`` sync
investigations one after another; the script prints their wall times (p50, max) and how many delivery attempts
were hanging when they ran. Before investigations and webhooks had queues of their own, one worker ran both one
task at a time and such a run waited for every hanging attempt (8 events: 160 s).

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/incidentfox_bench \
        .venv/bin/python bench/fairness_bench.py [--stuck-events 8] [--runs 10]
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import socket
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
os.environ["WEBHOOKS_ALLOW_PRIVATE_TARGETS"] = "true"  # the hanging receiver is on loopback

import django  # noqa: E402

django.setup()

import httpx  # noqa: E402
from django.core.management import call_command  # noqa: E402

from bench._load import wait_until_up  # noqa: E402
from bench.api_bench import _team  # noqa: E402
from teamconfig.services import config_update  # noqa: E402
from tenancy.audit import RequestMeta  # noqa: E402
from tests.support.servers import free_port  # noqa: E402
from webhooks.delivery import webhook_event_queue  # noqa: E402
from webhooks.models import Outcome, WebhookDelivery  # noqa: E402


def _silent_receiver() -> tuple[socket.socket, list[socket.socket]]:
    """A loopback listener that accepts connections and never answers."""
    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                held.append(listener.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    return listener, held


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stuck-events", type=int, default=8)
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    stuck_team, _ = _team("bench-fair-stuck", keep=False)
    _, token = _team("bench-fair-other", keep=False)
    listener, held = _silent_receiver()
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/hook"
    config_update(
        node=stuck_team, patch={"webhooks": {"investigation_complete": url}}, meta=RequestMeta.system(), admin=True
    )
    port = free_port()
    env = {**os.environ, "PY": sys.executable, "PORT": str(port), "LOG_LEVEL": "WARNING"}
    serve = subprocess.Popen(["scripts/serve.sh"], cwd=ROOT, env=env, start_new_session=True)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_up(f"{base}/health")
        for n in range(args.stuck_events):
            event = {"event": "investigation_complete", "investigation_id": f"inv_bench{n:015d}"}
            webhook_event_queue(team=stuck_team, event=event)
        deadline = time.monotonic() + 60
        while not held and time.monotonic() < deadline:
            time.sleep(0.1)
        times, hanging = [], []
        body = {"agent_name": "planner", "message": "Investigate high latency in checkout"}
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=120) as client:
            for _ in range(args.runs):
                hanging.append(WebhookDelivery.objects.filter(team=stuck_team, outcome=Outcome.SENDING).count())
                began = time.monotonic()
                response = client.post("/api/v1/agents/run", json=body)
                times.append(time.monotonic() - began)
                assert response.status_code == 200, response.text
    finally:
        os.killpg(serve.pid, signal.SIGTERM)
        serve.wait(timeout=30)
        listener.close()
    print(f"stuck events queued for the hanging receiver: {args.stuck_events}")
    print(f"delivery attempts hanging while the runs started: min {min(hanging)}, max {max(hanging)}")
    print(
        f"other org's sync investigations ({args.runs}): p50 {statistics.median(times):.2f} s, max {max(times):.2f} s"
    )


if __name__ == "__main__":
    main()
