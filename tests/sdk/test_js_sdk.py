"""The JavaScript SDK (sdk/js, API.md §8): its own unit tests under Node's test runner, then Node scripts that drive
the SDK against the live server and print what they saw as JSON.

The test settings run tasks with Django's ImmediateBackend, at commit: an investigation started over HTTP has
finished (with the deterministic engine) by the time ``POST /agents/run`` answers.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from tenancy.models import ApiToken, Node, Organization, TokenKind
from tests.conftest import SYSTEM, ApiCaller
from tests.support.clock import wait_for_a_fresh_minute

ROOT = Path(__file__).resolve().parents[2]
SDK_DIR = ROOT / "sdk" / "js"
# scripts/check-sdk-packages.sh points INCIDENTFOX_SDK_JS_DIR at the npm tarball installed into a clean project, so
# the scenarios below then drive the package as users install it; by default they use the source tree.
SDK_PACKAGE = Path(os.environ.get("INCIDENTFOX_SDK_JS_DIR") or SDK_DIR)
SDK_ENTRY = SDK_PACKAGE / "src" / "index.js"
NODE_TIMEOUT_SECONDS = 120
REQUEST_ID = re.compile(r"^req_[A-Za-z0-9]{20}$")
UNKNOWN_TOKEN = "ift_AAAAAAAAAAAA." + "b" * 40
SDK_TEST_HOOK = {"investigation_complete": "https://hooks.example.com/sdk-test"}

# Shared by every scenario: the SDK, the live server's address and credentials (from the environment), and
# ``capture``, which turns a promise into JSON: the value, or the error's class lineage and fields.
PRELUDE = """\
import * as sdk from __SDK__;
const { IncidentFoxClient } = sdk;
const env = process.env;
const base = env.IF_BASE_URL;
const client = new IncidentFoxClient({ token: env.IF_TOKEN, baseUrl: base });

function lineage(error) {
  const names = [];
  let proto = Object.getPrototypeOf(error);
  while (proto && proto !== Object.prototype) {
    names.push(proto.constructor.name);
    proto = Object.getPrototypeOf(proto);
  }
  return names;
}

async function capture(promise) {
  try {
    return { ok: true, value: await promise };
  } catch (error) {
    const { code, status, requestId, details, field, retryAfter, message } = error;
    const classes = lineage(error);
    return { ok: false, error: { classes, code, status, requestId, details, field, retryAfter, message } };
  }
}

function view(inv) {
  return { ...inv, id: inv.id, done: inv.done, summary: inv.summary, rootCause: inv.rootCause,
           recommendations: inv.recommendations, timeline: inv.timeline, affectedSystems: inv.affectedSystems };
}

const out = {};
"""
EPILOGUE = "\nconsole.log(JSON.stringify(out));\n"


def run_scenario(node: str, tmp_path: Path, body: str, **env: str) -> dict[str, Any]:
    """Run ``body`` (JavaScript filling ``out``) after the prelude; return ``out``."""
    script = tmp_path / "scenario.mjs"
    script.write_text(PRELUDE.replace("__SDK__", json.dumps(SDK_ENTRY.as_uri())) + body + EPILOGUE)
    completed = subprocess.run(
        [node, str(script)],
        capture_output=True,
        text=True,
        timeout=NODE_TIMEOUT_SECONDS,
        env={**os.environ, **env},
    )
    assert completed.returncode == 0, f"node exited {completed.returncode}:\n{completed.stderr}\n{completed.stdout}"
    lines = completed.stdout.strip().splitlines()
    assert lines, f"the scenario printed nothing:\n{completed.stderr}"
    result: dict[str, Any] = json.loads(lines[-1])
    return result


def server_env(live_server: Any, token: str | None) -> dict[str, str]:
    return {"IF_BASE_URL": f"{live_server.url}/api/v1", "IF_TOKEN": token or ""}


def assert_api_error(captured: dict[str, Any], cls: str, code: str, status: int) -> dict[str, Any]:
    assert not captured["ok"], captured
    error: dict[str, Any] = captured["error"]
    assert error["classes"][0] == cls, error
    assert "IncidentFoxError" in error["classes"], error
    assert "Error" in error["classes"], error
    assert (error["code"], error["status"]) == (code, status), error
    assert REQUEST_ID.match(error["requestId"] or ""), error
    return error


def admin_token(org: Organization) -> str:
    from tenancy.services import api_token_issue

    return api_token_issue(org=org, kind=TokenKind.ADMIN, label="sdk-admin", meta=SYSTEM).plaintext


# -- the SDK's own unit tests ----------------------------------------------------------------------------------


def test_the_js_sdk_unit_tests_pass_under_nodes_test_runner(node: str) -> None:
    completed = subprocess.run(
        [node, "--test", "sdk/js/test/"], cwd=ROOT, capture_output=True, text=True, timeout=NODE_TIMEOUT_SECONDS
    )
    assert completed.returncode == 0, completed.stdout[-6000:] + completed.stderr[-2000:]
    assert re.search(r"^# fail 0$", completed.stdout, re.M), completed.stdout[-2000:]
    passed = re.search(r"^# pass (\d+)$", completed.stdout, re.M)
    assert passed is not None, completed.stdout[-2000:]
    assert int(passed.group(1)) >= 40


def test_the_js_sdk_package_declares_dual_esm_and_commonjs_exports_without_dependencies_for_node_18() -> None:
    package = json.loads((SDK_DIR / "package.json").read_text())
    assert package["name"] == "@incidentfox/sdk"
    assert package["type"] == "module"
    entry = package["exports"]["."]
    assert (entry["import"], entry["require"]) == ("./src/index.js", "./src/index.cjs")
    assert entry["types"] == "./src/index.d.ts"
    assert package["main"] == "./src/index.cjs"
    assert package["engines"] == {"node": ">=18"}
    assert package["scripts"]["test"] == "node --test test/"
    assert not package.get("dependencies")
    for target in (entry["import"], entry["require"], entry["types"]):
        assert (SDK_DIR / target).is_file()
    version = re.search(r'const VERSION = "([^"]+)"', (SDK_DIR / "src" / "index.cjs").read_text())
    assert version is not None
    assert version.group(1) == package["version"]


# -- against the live server -----------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_js_sdk_investigates_then_gets_lists_and_waits_for_the_investigation(
    node: str, tmp_path: Path, live_server: Any, member: ApiCaller
) -> None:
    out = run_scenario(
        node,
        tmp_path,
        """
const inv = await client.investigate({
  message: "Checkout returns 502s since the last deploy",
  context: {
    service: "checkout",
    severity: "high",
    attachments: [{ name: "app.log", content: "ERROR upstream timeout\\n" }],
  },
});
out.investigated = view(inv);
out.isInvestigation = inv instanceof sdk.Investigation;
out.got = view(await client.investigations.get(inv.investigation_id));
out.listed = await client.investigations.list({ limit: 10 });
out.filtered = await client.investigations.list({ status: ["completed", "failed"], agent: "planner", q: "CHECKOUT",
                                                   since: new Date(Date.now() - 3600_000) });
out.none = await client.investigations.list({ status: "cancelled" });
const started = await client.investigate({ message: "Disk full on db-1", agent: "planner", wait: false });
out.started = { ...started };
out.waited = view(await client.investigations.wait(started.investigation_id, { timeoutMs: 60_000 }));
""",
        **server_env(live_server, member.token),
    )

    inv = out["investigated"]
    assert out["isInvestigation"] is True
    assert inv["status"] == "completed"
    assert inv["done"] is True
    assert re.match(r"^inv_[A-Za-z0-9]{20}$", inv["investigation_id"])
    assert inv["id"] == inv["investigation_id"]
    assert (inv["agent"], inv["trigger_source"]) == ("planner", "api")
    assert inv["summary"]
    assert inv["summary"] == inv["result"]["summary"]
    assert inv["rootCause"] == inv["result"]["root_cause"]
    assert isinstance(inv["rootCause"]["confidence"], int)
    assert inv["recommendations"] == inv["result"]["recommendations"]
    assert inv["timeline"] == inv["result"]["timeline"]
    assert inv["affectedSystems"] == inv["result"]["affected_systems"]
    assert "read_attachment" in inv["tools_used"]

    assert out["got"]["investigation_id"] == inv["investigation_id"]
    assert out["got"]["status"] == "completed"
    assert out["got"]["summary"] == inv["summary"]

    listed = out["listed"]
    ids = [item["investigation_id"] for item in listed["investigations"]]
    assert inv["investigation_id"] in ids
    assert listed["pagination"] == {"total": 1, "limit": 10, "offset": 0}
    assert [item["investigation_id"] for item in out["filtered"]["investigations"]] == [inv["investigation_id"]]
    assert out["none"]["investigations"] == []
    assert out["none"]["pagination"]["total"] == 0

    started = out["started"]
    assert set(started) == {"investigation_id", "status", "poll_url", "created_at"}
    assert started["poll_url"] == f"/api/v1/agents/status/{started['investigation_id']}"
    waited = out["waited"]
    assert waited["investigation_id"] == started["investigation_id"]
    assert waited["status"] == "completed"
    assert waited["summary"]


@pytest.mark.django_db(transaction=True)
def test_the_js_sdk_rejects_with_the_class_of_each_live_server_error(
    node: str, tmp_path: Path, live_server: Any, member: ApiCaller, outsider: ApiCaller
) -> None:
    from tenancy.services import api_token_issue

    expired = api_token_issue(org=member.team.org, kind=TokenKind.TEAM, team=member.team, meta=SYSTEM)
    ApiToken.objects.filter(pk=expired.token.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    read_only = api_token_issue(org=member.team.org, kind=TokenKind.TEAM, team=member.team, read_only=True, meta=SYSTEM)
    theirs = outsider.post("/agents/run", {"agent_name": "planner", "message": "theirs", "async": True}).json()

    out = run_scenario(
        node,
        tmp_path,
        """
const mine = await client.investigate({ message: "Disk full on db-1", wait: false });
out.cancelFinished = await capture(client.investigations.cancel(mine.investigation_id));
const other = (token, options = {}) => new IncidentFoxClient({ token, baseUrl: base, ...options });
out.unknownToken = await capture(other(env.IF_UNKNOWN_TOKEN).investigations.list());
out.malformedToken = await capture(other("not-a-token").config.getEffective());
out.expiredToken = await capture(other(env.IF_EXPIRED_TOKEN).investigations.list());
out.readOnlyWrite = await capture(other(env.IF_READ_ONLY_TOKEN).config.update({ alerts: { disabled: ["Nope"] } }));
out.foreignTeam = await capture(other(env.IF_TOKEN, { teamId: "team-payments" }).investigations.list());
out.ownTeam = await capture(other(env.IF_TOKEN, { teamId: "team-platform" }).investigations.list());
out.theirInvestigation = await capture(client.investigations.get(env.IF_THEIRS));
out.unknownAgent = await capture(client.investigate({ message: "m", agent: "db_agent" }));
out.blankMessage = await capture(client.investigate({ message: "   " }));
out.badLimit = await capture(client.investigations.list({ limit: 1000 }));
out.immutable = await capture(client.config.update({ team_name: "Renamed" }));
out.badValue = await capture(client.config.update({ agents: { planner: { timeout: 5 } } }));
""",
        **server_env(live_server, member.token),
        IF_UNKNOWN_TOKEN=UNKNOWN_TOKEN,
        IF_EXPIRED_TOKEN=expired.plaintext,
        IF_READ_ONLY_TOKEN=read_only.plaintext,
        IF_THEIRS=theirs["investigation_id"],
    )

    conflict = assert_api_error(out["cancelFinished"], "ConflictError", "conflict", 409)
    assert conflict["details"] == {"status": "completed"}
    assert_api_error(out["unknownToken"], "AuthenticationError", "unauthorized", 401)
    assert out["unknownToken"]["error"]["message"] == "Invalid or expired token"
    assert_api_error(out["malformedToken"], "AuthenticationError", "unauthorized", 401)
    expired_error = assert_api_error(out["expiredToken"], "TokenExpiredError", "token_expired", 401)
    assert expired_error["classes"][:2] == ["TokenExpiredError", "AuthenticationError"]
    assert_api_error(out["readOnlyWrite"], "PermissionDeniedError", "forbidden", 403)
    assert_api_error(out["foreignTeam"], "PermissionDeniedError", "forbidden", 403)
    assert out["ownTeam"]["ok"] is True
    assert_api_error(out["theirInvestigation"], "NotFoundError", "not_found", 404)
    unknown_agent = assert_api_error(out["unknownAgent"], "InvalidRequestError", "invalid_request", 400)
    assert unknown_agent["field"] == "agent_name"
    assert "planner" in unknown_agent["details"]["available_agents"]
    blank = assert_api_error(out["blankMessage"], "InvalidRequestError", "invalid_request", 400)
    assert blank["field"] == "message"
    bad_limit = assert_api_error(out["badLimit"], "ValidationError", "validation_error", 400)
    assert bad_limit["field"] == "limit"
    immutable = assert_api_error(out["immutable"], "InvalidFieldError", "invalid_field", 400)
    assert immutable["classes"][:2] == ["InvalidFieldError", "ValidationError"]
    assert immutable["field"] == "team_name"
    bad_value = assert_api_error(out["badValue"], "ValidationError", "validation_error", 400)
    assert bad_value["field"] == "agents.planner.timeout"


@pytest.mark.django_db(transaction=True)
def test_the_js_sdk_reads_the_effective_config_and_updates_it_applied_or_held_for_approval(
    node: str, tmp_path: Path, live_server: Any, member: ApiCaller, team: Node
) -> None:
    out = run_scenario(
        node,
        tmp_path,
        """
out.effective = await client.config.getEffective();
const hook = { webhooks: { investigation_complete: "https://hooks.example.com/sdk-test" } };
out.applied = await client.config.update(hook);
out.noop = await client.config.update(hook);
out.raw = await client.config.getRaw();

const admin = (options = {}) => new IncidentFoxClient({ token: env.IF_ADMIN_TOKEN, baseUrl: base, ...options });
out.adminWithoutTeam = await capture(admin().config.getEffective());
const asAdmin = admin({ teamId: "team-platform" });
out.adminEffective = await asAdmin.config.getEffective();
out.enabledApprovals = await asAdmin.request("PUT", "/admin/teams/team-platform/config", {
  body: { approval_workflows: { config_changes: { enabled: true, approvers: ["admin@acme.com"] } } },
});
out.pending = await client.config.update({ alerts: { disabled: ["Watchdog"] } });
out.afterPending = await client.config.getEffective();
""",
        **server_env(live_server, member.token),
        IF_ADMIN_TOKEN=admin_token(team.org),
    )

    effective = out["effective"]
    assert isinstance(effective, dict)
    assert (effective["team_node_id"], effective["org_id"], effective["team_name"]) == (
        "team-platform",
        "org-acme",
        "Platform",
    )
    applied = out["applied"]
    assert applied["changed_fields"] == ["webhooks.investigation_complete"]
    assert isinstance(applied["version"], int)
    assert applied["version"] >= 1
    assert applied["effective_config"]["webhooks"] == SDK_TEST_HOOK
    assert out["noop"]["changed_fields"] == []
    assert out["noop"]["version"] == applied["version"]
    assert out["raw"]["version"] == applied["version"]
    assert out["raw"]["configs"]["team-platform"]["webhooks"] == SDK_TEST_HOOK

    no_team = assert_api_error(out["adminWithoutTeam"], "InvalidRequestError", "invalid_request", 400)
    assert no_team["message"] == "X-Team-Id header is required"
    assert out["adminEffective"]["webhooks"] == SDK_TEST_HOOK
    assert out["enabledApprovals"]["changed_fields"] == [
        "approval_workflows.config_changes.approvers",
        "approval_workflows.config_changes.enabled",
    ]

    pending = out["pending"]
    assert pending["status"] == "pending_approval"
    assert re.match(r"^cr_[A-Za-z0-9]{16}$", pending["change_request_id"])
    assert pending["approvers"] == ["admin@acme.com"]
    assert pending["changes"]["alerts.disabled"]["new"] == ["Watchdog"]
    assert "version" not in pending
    assert out["afterPending"]["alerts"]["disabled"] == [], "nothing is applied while the change waits for approval"


@pytest.mark.django_db(transaction=True)
def test_the_js_sdk_retries_the_live_servers_429_after_its_retry_after_then_gives_up(
    node: str, tmp_path: Path, live_server: Any, member: ApiCaller
) -> None:
    org = member.team.org
    org.rate_limits = {"trigger": 1}
    org.save()
    wait_for_a_fresh_minute(20)  # every attempt (and Node's start-up) must land in the same one-minute window

    out = run_scenario(
        node,
        tmp_path,
        """
const sleeps = [];
const limited = new IncidentFoxClient({ token: env.IF_TOKEN, baseUrl: base, maxRetries: 2,
                                        sleep: async (ms) => { sleeps.push(ms); } });
out.first = await capture(limited.investigate({ message: "first", wait: false }));
out.second = await capture(limited.investigate({ message: "second", wait: false }));
if (out.second.ok) {  // the minute's window rolled over between the two: the next call is in the same new window
  out.second = await capture(limited.investigate({ message: "third", wait: false }));
}
out.sleeps = sleeps;
""",
        **server_env(live_server, member.token),
    )

    assert out["first"]["ok"] is True
    error = assert_api_error(out["second"], "RateLimitError", "rate_limited", 429)
    assert error["message"] == "Too many investigation requests"
    assert 1 <= error["retryAfter"] <= 60
    assert len(out["sleeps"]) == 2, "two retries, then the rejection"
    assert all(1000 <= ms <= 60_000 and ms % 1000 == 0 for ms in out["sleeps"])


@pytest.mark.django_db(transaction=True)
def test_a_commonjs_script_requires_the_sdk_and_reads_the_live_server_with_an_abort_signal(
    node: str, tmp_path: Path, live_server: Any, member: ApiCaller
) -> None:
    script = tmp_path / "scenario.cjs"
    script.write_text(
        f"""
const {{ IncidentFoxClient, NotFoundError, RequestAbortedError }} = require({json.dumps(str(SDK_PACKAGE))});
const client = new IncidentFoxClient();  // INCIDENTFOX_API_KEY and INCIDENTFOX_BASE_URL
(async () => {{
  const out = {{}};
  const inv = await client.investigate({{ message: "Checkout returns 502s", signal: new AbortController().signal }});
  out.status = inv.status;
  out.requestId = client.lastResponse.requestId;
  out.remaining = client.lastResponse.rateLimit.remaining;
  out.listed = [];
  for await (const item of client.investigations.iterate({{ pageSize: 1 }})) out.listed.push(item.investigation_id);
  out.id = inv.investigation_id;
  try {{
    await client.investigations.get(inv.investigation_id, {{ signal: AbortSignal.abort() }});
  }} catch (error) {{
    out.aborted = error instanceof RequestAbortedError;
  }}
  try {{
    await client.investigations.get("inv_AAAAAAAAAAAAAAAAAAAA");
  }} catch (error) {{
    out.notFound = error instanceof NotFoundError && error.requestId.startsWith("req_");
  }}
  console.log(JSON.stringify(out));
}})().catch((error) => {{ console.error(error); process.exit(1); }});
"""
    )
    env = {"INCIDENTFOX_API_KEY": member.token or "", "INCIDENTFOX_BASE_URL": f"{live_server.url}/api/v1"}
    completed = subprocess.run(
        [node, str(script)],
        capture_output=True,
        text=True,
        timeout=NODE_TIMEOUT_SECONDS,
        env={"PATH": os.environ.get("PATH", ""), **env},
    )
    assert completed.returncode == 0, completed.stderr
    out = json.loads(completed.stdout.strip().splitlines()[-1])
    assert out["status"] == "completed"
    assert REQUEST_ID.match(out["requestId"])
    assert isinstance(out["remaining"], int)
    assert out["listed"] == [out["id"]]
    assert out["aborted"] is True
    assert out["notFound"] is True
