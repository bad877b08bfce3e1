"""The newcomer path: bootstrap the demo, then investigate the demo shop through the API with the printed token."""

import re
from io import StringIO

from django.core.management import call_command
from django.test import Client

from investigations.models import InvestigationStep


# transactional: the run is enqueued on commit, as in production.
def test_the_bootstrapped_demo_team_finds_the_bad_deploy_behind_checkout_errors(transactional_db):
    out = StringIO()
    call_command("bootstrap_demo", stdout=out)
    token = re.search(r"Team token \(demo/platform\): (\S+)", out.getvalue()).group(1)

    response = Client().post(
        "/api/v1/agents/run",
        {"agent_name": "planner", "message": "checkout errors are up"},
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "completed", body
    result = body["result"]
    assert "(demo data)" in result["summary"]
    assert result["root_cause"]["confidence"] >= 80
    assert "checkout" in result["root_cause"]["description"].lower()
    assert all(e.startswith(("[tool:", "[attachment:")) for e in result["root_cause"]["evidence"])


def _run_demo(message: str) -> tuple[dict, str]:
    out = StringIO()
    call_command("bootstrap_demo", stdout=out)
    token = re.search(r"Team token \(demo/platform\): (\S+)", out.getvalue()).group(1)
    response = Client().post(
        "/api/v1/agents/run",
        {"agent_name": "planner", "message": message},
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200, response.content
    return response.json(), token


def test_the_metric_series_of_a_demo_run_are_stored_on_its_tool_call_but_never_returned_by_the_api(transactional_db):
    body, token = _run_demo("payments is slow, checkout latency is high")

    assert body["status"] == "completed", body
    step = InvestigationStep.objects.filter(investigation_id=body["investigation_id"], tool="query_prometheus_range")
    stored = step.order_by("seq").first().series
    assert 1 <= len(stored) <= 6
    first = stored[0]
    assert set(first) >= {"title", "unit", "points", "onset"}
    assert isinstance(first["onset"], float)
    assert 2 <= len(first["points"]) <= 240
    assert first["points"][0][0] <= first["onset"] <= first["points"][-1][0]
    assert any(
        e.startswith(f"[tool:query_prometheus_range] {first['title']}")
        for e in body["result"]["root_cause"]["evidence"]
    )
    # Steps without metrics store nothing; the API body never carries series.
    assert (
        not InvestigationStep.objects.filter(investigation_id=body["investigation_id"], tool="search_logs")
        .first()
        .series
    )
    status = Client().get(
        f"/api/v1/agents/status/{body['investigation_id']}", headers={"Authorization": f"Bearer {token}"}
    )
    assert status.status_code == 200
    assert b"series" not in status.content
    assert b"points" not in status.content
