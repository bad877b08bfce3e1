"""A team that configures Grafana (``tools.grafana``) gets its metrics read through Grafana's data source proxy:
the config's secret reaches the engine resolved, is sent as the Bearer token, and is never echoed back."""

from __future__ import annotations

from typing import Any

import pytest

from investigations.models import Investigation
from tests.engine.part2.prom_replay import prometheus_routes
from tests.engine.part2.replay_server import replay_server

API_KEY = "glsa_team0123456789abcdefABCDEF_9z8y7x6w"
PROXY = "/api/datasources/proxy/uid/prom-main"


@pytest.fixture(autouse=True)
def _encryption_key(settings: Any) -> None:
    settings.CONFIG_ENCRYPTION_KEYS = {"1": "grafana-test-key-material-0123456789"}


def test_a_run_reads_metrics_through_the_teams_grafana_with_its_secret_token(member, transactional_db) -> None:
    with replay_server(prometheus_routes(PROXY)) as grafana:
        grafana_config = {"enabled": True, "url": grafana.url, "api_key": {"secret": API_KEY}}
        configured = member.put(
            "/config/me", {"tools": {"grafana": {**grafana_config, "default_datasource": "prom-main"}}}
        )
        assert configured.status_code == 200, configured.content
        response = member.post("/agents/run", {"agent_name": "planner", "message": "payments errors", "async": False})

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "completed"
    assert "grafana_query" in body["tools_used"]
    assert grafana.seen
    assert {seen.headers.get("Authorization") for seen in grafana.seen} == {f"Bearer {API_KEY}"}
    assert {seen.path.startswith(f"{PROXY}/api/v1/") for seen in grafana.seen} == {True}
    assert API_KEY not in response.content.decode()
    assert API_KEY not in str(Investigation.objects.get(pk=body["investigation_id"]).result)
    assert API_KEY not in configured.content.decode()
