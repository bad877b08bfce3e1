"""The newcomer path: bootstrap the demo, then investigate the demo shop through the API with the printed token."""

from django.test import Client

from investigations.models import InvestigationStep
from tests.support.demo import bootstrap_demo_and_run


# transactional: the run is enqueued on commit, as in production.
def test_the_bootstrapped_demo_team_finds_the_bad_deploy_behind_checkout_errors(transactional_db):
    body, _ = bootstrap_demo_and_run("checkout errors are up")
    result = body["result"]
    assert "(demo data)" in result["summary"]
    assert result["root_cause"]["confidence"] >= 80
    assert "checkout" in result["root_cause"]["description"].lower()
    assert all(e.startswith(("[tool:", "[attachment:")) for e in result["root_cause"]["evidence"])


def test_the_metric_series_of_a_demo_run_are_stored_on_its_tool_call_but_never_returned_by_the_api(transactional_db):
    body, token = bootstrap_demo_and_run("payments is slow, checkout latency is high")

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
