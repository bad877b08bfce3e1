"""The newcomer path in tests: bootstrap the demo as ``make run`` does, then run one synchronous investigation."""

from __future__ import annotations

import re
from io import StringIO
from typing import Any

from django.core.management import call_command
from django.test import Client


def bootstrap_demo_and_run(message: str) -> tuple[dict[str, Any], str]:
    """The final status body of a sync planner run on ``demo/platform``, and the team token the bootstrap printed.

    Needs a transactional database: the run is enqueued on commit, as in production.
    """
    out = StringIO()
    call_command("bootstrap_demo", stdout=out)
    match = re.search(r"Team token \(demo/platform\): (\S+)", out.getvalue())
    assert match is not None, out.getvalue()
    response = Client().post(
        "/api/v1/agents/run",
        {"agent_name": "planner", "message": message},
        content_type="application/json",
        headers={"Authorization": f"Bearer {match.group(1)}"},
    )
    assert response.status_code == 200, response.content
    body: dict[str, Any] = response.json()
    assert body["status"] == "completed", body
    return body, match.group(1)
