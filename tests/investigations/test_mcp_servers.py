"""``mcp_servers`` through the API: validation and secret handling, GET /agents, runs, and the egress policy.

The MCP server is real (the ``mcp`` SDK's MCPServer over streamable HTTP on loopback, ``tests/support``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from investigations.models import Investigation, InvestigationStep
from tests.conftest import ApiCaller
from tests.support.mcp_server import RUNBOOK, TOKEN, McpStandIn, mcp_server

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def standin() -> Iterator[McpStandIn]:
    with mcp_server() as server:
        yield server


def _configure(member: ApiCaller, standin: McpStandIn, **agents: Any) -> Any:
    patch: dict[str, Any] = {
        "mcp_servers": ["github", {"name": "runbooks", "url": standin.url, "auth": {"secret": TOKEN}}],
    }
    if agents:
        patch["agents"] = agents
    response = member.put("/config/me", patch)
    assert response.status_code == 200, response.content
    return response


def test_an_mcp_server_is_accepted_with_its_auth_encrypted_and_never_shown(
    member: ApiCaller, standin: McpStandIn
) -> None:
    response = _configure(member, standin)
    assert response.json()["changed_fields"] == ["mcp_servers"]
    effective = member.get("/config/me/effective").json()
    assert effective["mcp_servers"] == ["github", {"name": "runbooks", "url": standin.url, "auth": "********"}]
    audit = member.get("/config/me/audit").content.decode()
    for shown in (response.content.decode(), json.dumps(effective), audit):
        assert TOKEN not in shown


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"mcp_servers": ["splunk"]}, "mcp_servers[0]"),
        ({"mcp_servers": [{"name": "runbooks", "url": "ftp://mcp.example.com"}]}, "mcp_servers[0].url"),
        ({"mcp_servers": [{"name": "runbooks", "url": "https://u:p@mcp.example.com/mcp"}]}, "mcp_servers[0].url"),
        ({"mcp_servers": [{"name": "runbooks", "url": "/mcp"}]}, "mcp_servers[0].url"),
        ({"mcp_servers": [{"name": "run.books", "url": "https://mcp.example.com/mcp"}]}, "mcp_servers[0].name"),
        (
            {"mcp_servers": [{"name": "runbooks", "url": "https://mcp.example.com/mcp", "auth": "plain-token"}]},
            "mcp_servers[0].auth",
        ),
        (
            {"mcp_servers": [{"name": "runbooks", "url": "https://mcp.example.com/mcp", "token": "x"}]},
            "mcp_servers[0].token",
        ),
        (
            {
                "mcp_servers": [
                    {"name": "a", "url": "https://a.example.com"},
                    {"name": "a", "url": "https://b.example.com"},
                ]
            },
            "mcp_servers[1]",
        ),
        ({"mcp_servers": {"name": "runbooks"}}, "mcp_servers"),
        ({"agents": {"k8s_agent": {"enable_extra_tools": ["wiki.search"]}}}, "agents.k8s_agent.enable_extra_tools[0]"),
        ({"agents": {"k8s_agent": {"disable_default_tools": ["wiki."]}}}, "agents.k8s_agent.disable_default_tools[0]"),
    ],
)
def test_bad_mcp_settings_are_validation_errors_naming_the_field(
    member: ApiCaller, patch: dict[str, Any], field: str
) -> None:
    response = member.put("/config/me", patch)
    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["code"], error["details"]["field"]) == ("validation_error", field)
    assert "plain-token" not in response.content.decode()


def test_get_agents_lists_the_mcp_tools_under_the_agents_that_may_call_them(
    member: ApiCaller, standin: McpStandIn
) -> None:
    prompt = "Read the team's runbooks."
    _configure(member, standin, runbook_agent={"prompt": prompt, "enable_extra_tools": ["runbooks.lookup"]})
    standin.authorizations.clear()
    agents = {agent["name"]: agent["tools"] for agent in member.get("/agents").json()["agents"]}
    assert agents["runbook_agent"] == ["think", "read_attachment", "runbooks.lookup"]
    assert agents["investigation_agent"][-5:] == [
        "runbooks.lookup",
        "runbooks.broken",
        "runbooks.slow",
        "runbooks.dump",
        "runbooks.leaky",
    ]
    assert "runbooks.lookup" not in agents["k8s_agent"]
    assert standin.authorizations
    assert set(standin.authorizations) == {f"Bearer {TOKEN}"}


def _run(member: ApiCaller, capture: Any, agent: str) -> Investigation:
    body = {"agent_name": agent, "message": "why is checkout slow?", "context": {"service": "payments"}, "async": True}
    with capture(execute=True):
        investigation_id = member.post("/agents/run", body).json()["investigation_id"]
    return Investigation.objects.get(pk=investigation_id)


def test_a_custom_agents_mcp_tool_runs_as_a_recorded_step_and_is_cited(
    member: ApiCaller, standin: McpStandIn, django_capture_on_commit_callbacks: Any
) -> None:
    _configure(member, standin, runbook_agent={"prompt": "Runbooks.", "enable_extra_tools": ["runbooks.lookup"]})
    investigation = _run(member, django_capture_on_commit_callbacks, "runbook_agent")
    body = member.get(f"/agents/status/{investigation.id}").json()
    assert body["status"] == "completed"
    assert "runbooks.lookup" in body["tools_used"]
    citation = f"[tool:runbooks.lookup] returned: {RUNBOOK.format(service='payments')}"
    assert citation in body["result"]["root_cause"]["evidence"]
    step = InvestigationStep.objects.get(investigation=investigation, tool="runbooks.lookup")
    assert (step.ok, step.params) == (True, {"service": "payments"})


def test_an_mcp_server_on_a_refused_address_is_not_listed_and_its_named_tool_fails_as_a_step(
    member: ApiCaller, standin: McpStandIn, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    _configure(member, standin, runbook_agent={"prompt": "Runbooks.", "enable_extra_tools": ["runbooks.lookup"]})
    settings.EGRESS_ALLOW_LOOPBACK = False
    standin.authorizations.clear()
    agents = {agent["name"]: agent["tools"] for agent in member.get("/agents").json()["agents"]}
    assert agents["runbook_agent"] == ["think", "read_attachment"]
    investigation = _run(member, django_capture_on_commit_callbacks, "runbook_agent")
    assert member.get(f"/agents/status/{investigation.id}").json()["status"] == "completed"
    step = InvestigationStep.objects.get(investigation=investigation, tool="runbooks.lookup")
    assert not step.ok
    assert step.error == "MCP server runbooks URL resolves to a refused address"
    assert standin.authorizations == []  # nothing reached the server
