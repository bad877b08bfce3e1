"""A real Alertmanager (Debian's prometheus-alertmanager) notifies the live server through its webhook receiver.

Alerts are posted to Alertmanager's own API; Alertmanager groups them and calls
``/api/v1/integrations/alertmanager/{org}/{team}`` with its real payload and ``Authorization`` header. Its own
notification counters show whether our endpoint accepted each call.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from investigations.models import Investigation
from tenancy.models import Node
from tests.alerts.conftest import AM_TOKEN, ORG, TEAM, configure, integrations
from tests.support.servers import free_port
from tests.support.tools import binary, stop

WAIT_SECONDS = 30


def alertmanager_binary() -> str:
    return binary(
        "prometheus-alertmanager",
        "alertmanager",
        reason="ALERTMANAGER BINARY NOT FOUND: the real-Alertmanager webhook tests did not run. "
        "Install it with scripts/install-prometheus.sh (Debian package 'prometheus-alertmanager').",
    )


@contextmanager
def running_alertmanager(webhook_url: str, token: str) -> Iterator[str]:
    """Alertmanager on a free loopback port, clustering off, sending every group at once to ``webhook_url``."""
    config = (
        "route:\n"
        "  receiver: incidentfox\n"
        "  group_by: [alertname]\n"
        "  group_wait: 0s\n"
        "  group_interval: 1s\n"
        "  repeat_interval: 1h\n"
        "receivers:\n"
        "  - name: incidentfox\n"
        "    webhook_configs:\n"
        f"      - url: {webhook_url}\n"
        "        max_alerts: 20\n"
        "        http_config:\n"
        "          authorization:\n"
        f"            credentials: {token}\n"
    )
    with tempfile.TemporaryDirectory(prefix="alertmanager-") as tmp:
        config_path = os.path.join(tmp, "alertmanager.yml")
        with open(config_path, "w") as fh:
            fh.write(config)
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        with open(os.path.join(tmp, "alertmanager.log"), "wb") as log:
            proc = subprocess.Popen(
                [
                    alertmanager_binary(),
                    f"--config.file={config_path}",
                    f"--storage.path={os.path.join(tmp, 'data')}",
                    f"--web.listen-address=127.0.0.1:{port}",
                    "--cluster.listen-address=",  # no gossip port on every interface
                    "--log.level=warn",
                ],
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
            try:
                _wait_for(lambda: _ready(url, proc), "Alertmanager to become ready")
                yield url
            finally:
                stop(proc)


def _ready(url: str, proc: subprocess.Popen[bytes]) -> bool:
    if proc.poll() is not None:
        raise RuntimeError(f"alertmanager exited early with {proc.returncode}")
    try:
        return httpx.get(f"{url}/-/ready", timeout=1.0).status_code == 200
    except httpx.HTTPError:
        return False


def _wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {WAIT_SECONDS} s waiting for {what}")


def _post_alert(alertmanager: str, *, resolved: bool = False) -> None:
    now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    alert: dict[str, Any] = {
        "labels": {"alertname": "CheckoutErrors", "service": "checkout", "severity": "critical"},
        "annotations": {"summary": "5xx above 5% on checkout"},
        "startsAt": now,
        "generatorURL": "http://prometheus.local/graph?g0.expr=errors",
    }
    if resolved:
        alert["endsAt"] = now
    httpx.post(f"{alertmanager}/api/v2/alerts", json=[alert], timeout=5).raise_for_status()


def _webhook_counter(alertmanager: str, metric: str) -> float:
    """Alertmanager's own count of webhook notifications (sent, or failed)."""
    text = httpx.get(f"{alertmanager}/metrics", timeout=5).text
    pattern = rf'^{metric}{{[^}}]*integration="webhook"[^}}]*}} ([0-9.e+]+)$'
    return sum(float(value) for value in re.findall(pattern, text, re.M))


def _endpoint(live_server: Any) -> str:
    return f"{live_server.url}/api/v1/integrations/alertmanager/{ORG}/{TEAM}"


@pytest.mark.django_db(transaction=True)
def test_a_real_alertmanager_notification_starts_one_planner_run_and_its_resolution_starts_none(
    live_server: Any, team: Node
) -> None:
    configure(team, integrations())
    with running_alertmanager(_endpoint(live_server), AM_TOKEN) as alertmanager:
        _post_alert(alertmanager)
        _wait_for(lambda: Investigation.objects.filter(team=team).exists(), "the alert's investigation")
        fingerprint = httpx.get(f"{alertmanager}/api/v2/alerts", timeout=5).json()[0]["fingerprint"]

        _post_alert(alertmanager, resolved=True)
        _wait_for(
            lambda: _webhook_counter(alertmanager, "alertmanager_notifications_total") >= 2,
            "Alertmanager to send the resolved notification",
        )
        assert _webhook_counter(alertmanager, "alertmanager_notifications_failed_total") == 0

    run = Investigation.objects.get(team=team)  # exactly one: the resolution started nothing
    assert run.alert_fingerprint == fingerprint
    assert (run.agent, run.trigger_source, run.requested_by) == ("planner", "alertmanager", "integration:alertmanager")
    assert run.message == "Alert CheckoutErrors firing: 5xx above 5% on checkout"
    assert {key: run.context[key] for key in ("source", "related_alert", "service", "severity")} == {
        "source": "alertmanager",
        "related_alert": fingerprint,
        "service": "checkout",
        "severity": "high",
    }
    assert run.context["alert"]["labels"]["alertname"] == "CheckoutErrors"


@pytest.mark.django_db(transaction=True)
def test_a_real_alertmanager_with_the_wrong_token_is_refused_and_starts_nothing(live_server: Any, team: Node) -> None:
    configure(team, integrations())
    with running_alertmanager(_endpoint(live_server), "not-the-team-token") as alertmanager:
        _post_alert(alertmanager)
        _wait_for(
            lambda: _webhook_counter(alertmanager, "alertmanager_notifications_failed_total") >= 1,
            "Alertmanager to record the refused notification",
        )
    assert not Investigation.objects.filter(team=team).exists()
