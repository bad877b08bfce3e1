"""The newcomer path: bootstrap the demo, then investigate the demo shop through the API with the printed token."""

import re
from io import StringIO

from django.core.management import call_command
from django.test import Client


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
