"""The Python SDK against the live server: the README's example verbatim, the CLI, and the operations beyond
investigations (config audit and approvals, webhooks, alert deliveries, admin), sync and async.

Subprocess tests run ``INCIDENTFOX_SDK_PYTHON`` when it is set (CI points it at a clean virtualenv where the built
wheel is installed, see scripts/check-sdk-packages.sh); otherwise this interpreter with the SDK's source tree.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from incidentfox import (
    AsyncIncidentFoxClient,
    ChangeRequest,
    ConfigAuditEntry,
    IncidentFoxClient,
    InvalidRequestError,
    NotFoundError,
    PermissionDeniedError,
    verify_webhook,
)

from tests.alerts.conftest import AM_TOKEN, am_alert, am_payload
from tests.conftest import ApiCaller
from tests.sdk.test_js_sdk import admin_token
from tests.webhooks.conftest import Receiver

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "sdk" / "python" / "README.md"
SUBPROCESS_TIMEOUT_SECONDS = 120


def python_blocks() -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", README.read_text(), re.M | re.S)


def sdk_python(env: dict[str, str]) -> tuple[str, dict[str, str]]:
    """The interpreter that runs SDK code in a subprocess, and its environment (nothing of ours but ``env``)."""
    installed = os.environ.get("INCIDENTFOX_SDK_PYTHON")
    base = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/tmp"), **env}
    if installed:
        return installed, base
    return sys.executable, {**base, "PYTHONPATH": str(ROOT / "sdk" / "python" / "src")}


def run_python(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    python, full_env = sdk_python(env)
    return subprocess.run(
        [python, *args], capture_output=True, text=True, timeout=SUBPROCESS_TIMEOUT_SECONDS, env=full_env, cwd="/"
    )


def two_variables(live_server: Any, token: str | None) -> dict[str, str]:
    return {"INCIDENTFOX_API_KEY": token or "", "INCIDENTFOX_BASE_URL": f"{live_server.url}/api/v1"}


# -- the README -----------------------------------------------------------------------------------------------------


def test_every_python_block_of_the_readme_passes_mypy_strict(tmp_path: Path) -> None:
    blocks = python_blocks()
    assert len(blocks) >= 4
    for number, block in enumerate(blocks):
        (tmp_path / f"readme_block_{number}.py").write_text(block)
    completed = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--config-file", "/dev/null", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "MYPYPATH": str(ROOT / "sdk" / "python" / "src")},
        cwd=tmp_path,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "Success: no issues found" in completed.stdout


@pytest.mark.django_db(transaction=True)
def test_the_readmes_first_example_runs_verbatim_with_two_environment_variables(
    live_server: Any, member: ApiCaller
) -> None:
    completed = run_python(["-c", python_blocks()[0]], two_variables(live_server, member.token))
    assert completed.returncode == 0, completed.stderr
    first, *rest = completed.stdout.splitlines()
    assert re.match(r"^inv_[A-Za-z0-9]{20} completed \S", first), completed.stdout
    assert re.search(r"\(\d+%\)$", rest[0]), completed.stdout
    assert rest[-1].startswith("Platform ["), completed.stdout


# -- the command line -----------------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_cli_investigates_with_progress_on_stderr_and_the_result_on_stdout(
    live_server: Any, member: ApiCaller, tmp_path: Path
) -> None:
    log = tmp_path / "app.log"
    log.write_text("2024-01-15T14:31:07Z ERROR HikariPool-1 - Connection is not available\n")
    env = two_variables(live_server, member.token)
    cli = ["-m", "incidentfox.cli", "investigate", "Checkout returns 502s", "--service", "checkout"]
    completed = run_python([*cli, "--attach", str(log), "--wait"], env)
    assert completed.returncode == 0, completed.stderr
    assert re.search(r"^inv_\w{20} completed", completed.stderr, re.M), completed.stderr
    assert re.match(r"^inv_\w{20}: completed", completed.stdout), completed.stdout
    assert "Root cause (" in completed.stdout
    assert "[attachment:app.log]" in completed.stdout

    as_json = run_python([*cli, "--json", "--quiet"], env)
    assert as_json.returncode == 0, as_json.stderr
    assert as_json.stderr == ""
    body = json.loads(as_json.stdout)
    assert body["status"] == "completed"
    assert body["result"]["root_cause"]["description"]

    status = run_python(["-m", "incidentfox.cli", "status", body["investigation_id"], "--json"], env)
    assert json.loads(status.stdout)["investigation_id"] == body["investigation_id"]
    missing = run_python(["-m", "incidentfox.cli", "status", "inv_AAAAAAAAAAAAAAAAAAAA"], env)
    assert missing.returncode == 3
    assert re.search(r"404 not_found: .* \(request req_\w+\)", missing.stderr), missing.stderr


# -- config audit and approvals -------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_held_config_change_is_pending_then_approved_by_an_admin_and_audited(
    live_server: Any, member: ApiCaller
) -> None:
    base_url = f"{live_server.url}/api/v1"
    team = IncidentFoxClient(member.token or "", base_url)
    assert member.team is not None
    admin = IncidentFoxClient(admin_token(member.team.org), base_url)
    with pytest.raises(PermissionDeniedError):
        team.admin.teams()
    assert [t.team_id for t in admin.admin.teams(node_type="team")] == [member.team.node_id]
    admin.admin.update_node_config(member.team.node_id, {"approval_workflows": {"config_changes": {"enabled": True}}})

    change = team.config.update({"alerts": {"disabled": ["Watchdog"]}})
    assert not change.applied
    assert change.change_request_id is not None
    pending = team.config.pending()
    assert [(p.change_request_id, p.status) for p in pending] == [(change.change_request_id, "pending_approval")]
    assert isinstance(pending[0], ChangeRequest)
    assert [c.change_request_id for c in admin.admin.changes(team_id=member.team.node_id)] == [change.change_request_id]

    decision = admin.admin.approve(change.change_request_id, comment="ok")
    assert (decision.status, decision.changed_fields) == ("approved", ["alerts.disabled"])
    assert team.config.pending() == []
    assert [p.status for p in team.config.pending("all")] == ["approved"]
    history = team.config.audit(limit=5)
    assert isinstance(history[0], ConfigAuditEntry)
    assert history[0].change_request_id == change.change_request_id
    assert history[0].diff == {"alerts.disabled": {"old": None, "new": ["Watchdog"]}}
    assert team.config.audit(include_full=False)[0].full_config is None
    assert team.config.get_raw().version == decision.version


# -- webhooks -------------------------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_webhook_secret_test_send_and_delivery_log_through_the_sdk(
    live_server: Any, member: ApiCaller, settings: Any
) -> None:
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = True
    receiver = Receiver()
    try:
        client = IncidentFoxClient(member.token or "", f"{live_server.url}/api/v1")
        with pytest.raises(InvalidRequestError, match="No investigation_complete webhook URL"):
            client.webhooks.test()
        client.config.update({"webhooks": {"investigation_complete": receiver.url}})
        secret = client.webhooks.secret()
        assert secret.secret.startswith("whsec_")

        sent = client.webhooks.test()
        assert (sent.success, sent.response_status, sent.url) == (True, 200, receiver.url)
        received = receiver.requests[-1]
        assert verify_webhook(received.body, received.headers, secret.secret)["event"] == "webhook.test"

        rotated = client.webhooks.rotate_secret()
        assert rotated.secret != secret.secret
        assert rotated.previous_secret_expires_at is not None

        inv = client.investigate("Checkout returns 502s")
        page = client.webhooks.deliveries(investigation_id=inv.investigation_id)
        assert [(d.outcome, d.response_status, d.event) for d in page.deliveries] == [
            (("success", 200, "investigation_complete"))
        ]
        assert page.pagination.total == 1
        every = list(client.webhooks.iterate_deliveries(page_size=1))
        assert {d.delivery_id for d in every} >= {page.deliveries[0].delivery_id}
        assert len(every) == client.webhooks.deliveries().pagination.total
    finally:
        receiver.stop()


# -- inbound alert deliveries ---------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_inbound_alert_deliveries_are_listed_and_paged(live_server: Any, member: ApiCaller, settings: Any) -> None:
    import httpx

    settings.CONFIG_ENCRYPTION_KEYS = {"1": "sdk-test-key-material-0123456789ab"}
    assert member.team is not None
    base_url = f"{live_server.url}/api/v1"
    admin = IncidentFoxClient(admin_token(member.team.org), base_url)
    admin.admin.update_node_config(
        member.team.node_id, {"integrations": {"alertmanager": {"enabled": True, "bearer_token": {"secret": AM_TOKEN}}}}
    )
    hook = f"{base_url}/integrations/alertmanager/{member.team.org.org_id}/{member.team.node_id}"
    for fingerprint in ("aaaa000000000001", "aaaa000000000002", "aaaa000000000003"):
        answer = httpx.post(
            hook, json=am_payload(am_alert(fingerprint)), headers={"Authorization": f"Bearer {AM_TOKEN}"}, timeout=30
        )
        assert answer.status_code == 202, answer.text

    client = IncidentFoxClient(member.token or "", base_url)
    page = client.integrations.deliveries(limit=2, provider="alertmanager")
    assert (len(page.deliveries), page.pagination.total) == (2, 3)
    assert all(d.provider == "alertmanager" and d.status_code == 202 for d in page.deliveries)
    every = list(client.integrations.iterate_deliveries(page_size=2))
    assert len(every) == 3
    assert sum(d.started for d in every) == 3


# -- admin and the async client -------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_async_client_drives_the_live_server_like_the_sync_one(live_server: Any, member: ApiCaller) -> None:
    assert member.team is not None
    base_url = f"{live_server.url}/api/v1"
    admin_key = admin_token(member.team.org)

    async def scenario() -> dict[str, Any]:
        async with AsyncIncidentFoxClient(member.token or "", base_url) as client:
            inv = await client.investigate("Disk full on db-1", context={"service": "db"})
            listed = [item.investigation_id async for item in client.investigations.iterate(page_size=1)]
            me = await client.me()
            agents = await client.agents()
            try:
                await client.investigations.get("inv_AAAAAAAAAAAAAAAAAAAA")
                missing = None
            except NotFoundError as error:
                missing = error
            meta = client.last_response
        async with AsyncIncidentFoxClient(admin_key, base_url, team_id=member.team.node_id) as admin:
            issued = await admin.admin.issue_token(member.team.node_id, label="async", read_only=True)
            revoked = await admin.admin.revoke_token(issued.token_id)
            tokens = await admin.admin.tokens(member.team.node_id)
            events = [e.event_type async for e in admin.admin.iterate_audit(event_type="token.revoked")]
            as_team = await admin.investigations.list()
        return locals()

    out = asyncio.run(scenario())
    assert out["inv"].status == "completed"
    assert out["listed"] == [out["inv"].investigation_id]
    assert (out["me"].role, out["me"].auth_kind) == ("team", "team_token")
    assert "planner" in [agent.name for agent in out["agents"]]
    assert out["missing"] is not None
    assert out["missing"].request_id.startswith("req_")
    assert out["meta"].request_id == out["missing"].request_id
    assert out["issued"].token.startswith(out["issued"].token_id + ".")
    assert out["issued"].permissions == ["team:read"]
    assert out["revoked"].status == "revoked"
    assert {t.token_id: t.status for t in out["tokens"]}[out["issued"].token_id] == "revoked"
    assert out["events"] == ["token.revoked"]
    assert out["as_team"].total == 1
