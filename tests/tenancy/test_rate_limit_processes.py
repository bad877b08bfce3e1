"""Two real server processes share one rate limit (API.md §3) and see one revocation at once (API.md §2.2)."""

import httpx
import pytest
from django.db import connection

from tenancy.models import NodeType, TokenKind
from tenancy.services import api_token_issue, node_create, org_create
from tests.conftest import SYSTEM
from tests.support.clock import wait_for_a_fresh_minute
from tests.support.servers import child_env, uvicorn_servers

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_the_eleventh_trigger_in_a_minute_is_refused_whichever_process_serves_it():
    if connection.vendor != "postgresql":
        pytest.skip("multi-process test runs in the PostgreSQL pass (SQLite test databases are per-process)")
    org = org_create(org_id="org-rl", name="RL")
    team = node_create(org=org, node_id="team-rl", name="RL", node_type=NodeType.TEAM, meta=SYSTEM)
    token = api_token_issue(org=org, kind=TokenKind.TEAM, team=team, meta=SYSTEM).plaintext
    headers = {"Authorization": f"Bearer {token}"}
    body = {"agent_name": "planner", "message": "checkout errors are up", "async": True}

    with uvicorn_servers(2, env=child_env()) as urls:
        wait_for_a_fresh_minute(20)
        statuses = []
        for attempt in range(11):
            url = urls[attempt % 2]
            statuses.append(httpx.post(f"{url}/api/v1/agents/run", json=body, headers=headers, timeout=10).status_code)
        twelfth = httpx.post(f"{urls[0]}/api/v1/agents/run", json=body, headers=headers, timeout=10)

    assert statuses[:10] == [202] * 10
    assert statuses[10] == 429
    assert twelfth.status_code == 429
    assert twelfth.json()["error"]["message"] == "Too many investigation requests"


def test_a_token_revoked_through_one_process_is_refused_by_the_other_on_its_next_request():
    if connection.vendor != "postgresql":
        pytest.skip("multi-process test runs in the PostgreSQL pass (SQLite test databases are per-process)")
    org = org_create(org_id="org-revoke", name="Revoke")
    team = node_create(org=org, node_id="team-revoke", name="Revoke", node_type=NodeType.TEAM, meta=SYSTEM)
    issued = api_token_issue(org=org, kind=TokenKind.TEAM, team=team, meta=SYSTEM)
    admin = api_token_issue(org=org, kind=TokenKind.ADMIN, meta=SYSTEM).plaintext
    member = {"Authorization": f"Bearer {issued.plaintext}"}

    with uvicorn_servers(2, env=child_env()) as urls:
        for url in urls:  # both processes verify the token and keep it in their caches
            for _ in range(2):
                assert httpx.get(f"{url}/api/v1/auth/me", headers=member, timeout=10).status_code == 200
        revoked = httpx.post(
            f"{urls[0]}/api/v1/admin/tokens/revoke",
            json={"token_id": issued.token.token_id},
            headers={"Authorization": f"Bearer {admin}"},
            timeout=10,
        )
        assert revoked.status_code == 200
        after = [httpx.get(f"{url}/api/v1/auth/me", headers=member, timeout=10) for url in reversed(urls)]

    assert [response.status_code for response in after] == [401, 401]
    assert after[0].json()["error"]["code"] == "unauthorized"
