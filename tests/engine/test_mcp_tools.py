"""A team's MCP servers as tools, against a real MCP server (the ``mcp`` SDK's MCPServer) on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from engine import AgentSettings, InvestigationContext, InvestigationRequest, describe_agents, investigate
from engine.connectors import ToolFailure
from engine.connectors.mcp import McpOffer, McpToolbox
from engine.models import McpServerSettings
from tests.support.mcp_server import LONG_NAME, RUNBOOK, TOKEN, McpStandIn, mcp_server


@pytest.fixture(scope="module")
def standin() -> Iterator[McpStandIn]:
    with mcp_server() as server:
        yield server


def _servers(standin: McpStandIn, *, auth: str | None = f"Bearer {TOKEN}") -> list[str | McpServerSettings]:
    return [McpServerSettings(name="runbooks", url=standin.url, auth=auth)]


def _request(standin: McpStandIn, tools: list[str], **kwargs: Any) -> InvestigationRequest:
    return InvestigationRequest(
        agent="runbook_agent",
        message=kwargs.pop("message", "why is checkout slow?"),
        context=InvestigationContext(service="payments"),
        agents={"runbook_agent": AgentSettings(prompt="Read the team's runbooks.", enable_extra_tools=tools)},
        mcp_servers=kwargs.pop("mcp_servers", _servers(standin)),
        secrets=[TOKEN],
        **kwargs,
    )


def test_the_servers_tools_are_listed_under_their_qualified_names_with_the_configured_credential(
    standin: McpStandIn,
) -> None:
    box = McpToolbox([McpServerSettings(name="runbooks", url=standin.url, auth=TOKEN)], egress=None)
    # the server also lists LONG_NAME, which a step row could not keep whole, so it is not offered
    assert box.names() == ["runbooks.lookup", "runbooks.broken", "runbooks.slow", "runbooks.dump", "runbooks.leaky"]
    lookup = box.find("runbooks.lookup")
    assert lookup is not None
    assert lookup.input_schema["required"] == ["service"]
    assert f"Bearer {TOKEN}" in standin.authorizations  # a bare token is sent as a Bearer credential


def test_a_tool_whose_name_a_step_row_cannot_keep_is_not_offered(
    standin: McpStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert f"runbooks.{LONG_NAME}" not in McpToolbox(_servers(standin), egress=None).names()
    monkeypatch.setattr("engine.connectors.mcp.MAX_QUALIFIED_NAME", 1000)
    assert f"runbooks.{LONG_NAME}" in McpToolbox(_servers(standin), egress=None).names()


def test_a_server_refusing_the_credential_offers_no_tools_and_says_why(standin: McpStandIn) -> None:
    box = McpToolbox([McpServerSettings(name="runbooks", url=standin.url, auth="wrong")], egress=None)
    assert box.names() == []
    assert box.unavailable["runbooks"].startswith("Unable to connect to MCP server runbooks")
    with pytest.raises(ToolFailure) as failed:
        box.call("runbooks.lookup", {"service": "payments"})
    assert "wrong" not in failed.value.message
    assert standin.url not in failed.value.message


def test_a_server_that_stops_answering_is_not_called_again_in_the_run(standin: McpStandIn) -> None:
    box = McpToolbox(_servers(standin), egress=None)
    assert "runbooks.lookup" in box.names()
    box.servers["runbooks"] = McpServerSettings(name="runbooks", url="http://127.0.0.1:9/mcp")  # now gone
    standin.methods.clear()
    with pytest.raises(ToolFailure) as first:
        box.call("runbooks.lookup", {"service": "payments"})
    assert first.value.message.startswith("Unable to connect to MCP server runbooks")
    box.servers["runbooks"] = McpServerSettings(name="runbooks", url=standin.url, auth=TOKEN)  # back; given up on
    with pytest.raises(ToolFailure) as second:
        box.call("runbooks.dump", {"size": 10})
    assert second.value.message == first.value.message
    assert standin.methods == []


def test_a_slow_tool_fails_at_its_deadline(standin: McpStandIn) -> None:
    box = McpToolbox(_servers(standin), egress=None, call_timeout=1)
    with pytest.raises(ToolFailure) as failed:
        box.call("runbooks.slow", {"seconds": 20})
    assert failed.value.message == "MCP server runbooks did not answer slow within 1 s"


def test_a_call_ends_at_the_investigations_deadline_when_that_is_nearer(standin: McpStandIn) -> None:
    box = McpToolbox(_servers(standin), egress=None)
    with pytest.raises(ToolFailure) as failed:
        box.call("runbooks.slow", {"seconds": 20}, seconds_left=1.5)
    assert failed.value.message == "MCP server runbooks did not answer slow within 1.5 s"


def test_a_run_lists_each_server_once_then_opens_one_session_per_call(standin: McpStandIn) -> None:
    """One listing session for the run; inside each call's own session the SDK lists once more to check the
    result against the tool's output schema, so a second listing by the run would show as a fourth session."""
    standin.methods.clear()
    report = investigate(_request(standin, ["runbooks.lookup", "runbooks.dump"]))
    assert [call.tool for call in report.tool_calls] == ["runbooks.lookup", "runbooks.dump"]
    assert standin.methods.count("server/discover") == 3
    assert standin.methods.count("tools/call") == 2
    assert standin.methods.count("tools/list") == 3


def test_an_agent_that_cannot_use_mcp_tools_does_not_ask_the_servers(standin: McpStandIn) -> None:
    standin.methods.clear()
    investigate(InvestigationRequest(agent="k8s_agent", message="why is checkout slow?", mcp_servers=_servers(standin)))
    assert standin.methods == []


def test_large_output_is_cut_with_a_note(standin: McpStandIn) -> None:
    box = McpToolbox(_servers(standin), egress=None, max_output_chars=1000)
    text = box.call("runbooks.dump", {"size": 50_000})
    assert text.startswith("x" * 1000)
    assert text.endswith("(output truncated: 50000 characters, the first 1000 kept)")
    assert len(text) < 1100


def test_an_answer_larger_than_the_response_cap_fails_the_call_before_it_is_read_whole(
    standin: McpStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("engine.connectors.mcp.MAX_RESPONSE_BYTES", 64 * 1024)
    box = McpToolbox(_servers(standin), egress=None)
    with pytest.raises(ToolFailure) as failed:
        box.call("runbooks.dump", {"size": 500_000})
    assert failed.value.message == "MCP server runbooks answered more than 64 KiB"


def test_a_custom_agent_calls_the_mcp_tool_it_names_and_the_report_cites_it(standin: McpStandIn) -> None:
    report = investigate(_request(standin, ["runbooks.lookup"]))
    [call] = [c for c in report.tool_calls if c.tool == "runbooks.lookup"]
    assert call.ok
    assert call.params == {"service": "payments"}
    assert call.output_excerpt == RUNBOOK.format(service="payments")
    assert "runbooks.lookup" in report.tools_used
    assert f"[tool:runbooks.lookup] returned: {RUNBOOK.format(service='payments')}" in report.root_cause.evidence


def test_the_planner_calls_the_mcp_tools_its_delegates_name(standin: McpStandIn) -> None:
    request = _request(standin, ["runbooks.lookup"])
    request.agent = "planner"
    report = investigate(request)
    assert [call.tool for call in report.tool_calls] == ["runbooks.lookup"]
    request.agents["runbook_agent"].enabled = False
    assert investigate(request).tool_calls == []


def test_a_failing_or_slow_mcp_tool_is_a_failed_step_and_the_run_still_completes(
    standin: McpStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("engine.connectors.mcp.CALL_TIMEOUT_SECONDS", 1.0)
    report = investigate(_request(standin, ["runbooks.broken", "runbooks.slow", "runbooks.lookup"]))
    calls = {call.tool: call for call in report.tool_calls}
    assert not calls["runbooks.broken"].ok
    assert calls["runbooks.broken"].error == "runbooks.broken failed: Error executing tool broken"
    assert calls["runbooks.slow"].error == "MCP server runbooks did not answer slow within 1 s"
    assert calls["runbooks.lookup"].ok  # the next tool still runs
    assert not any("runbooks.broken" in line for line in report.root_cause.evidence)


def test_a_required_argument_the_request_cannot_give_fails_that_step(standin: McpStandIn) -> None:
    request = _request(standin, ["runbooks.lookup"])
    request.context.service = None
    report = investigate(request)
    [call] = [c for c in report.tool_calls if c.tool == "runbooks.lookup"]
    assert call.error == "runbooks.lookup needs service, which this investigation does not give"


def test_a_named_tool_of_an_unreachable_server_is_a_failed_step_not_a_failed_run() -> None:
    dead = [McpServerSettings(name="runbooks", url="http://127.0.0.1:9/mcp")]
    report = investigate(
        InvestigationRequest(
            agent="runbook_agent",
            message="why is checkout slow?",
            agents={"runbook_agent": AgentSettings(prompt="Read runbooks.", enable_extra_tools=["runbooks.lookup"])},
            mcp_servers=list(dead),
        )
    )
    [call] = report.tool_calls
    assert (call.tool, call.ok) == ("runbooks.lookup", False)
    assert call.error is not None
    assert call.error.startswith("Unable to connect to MCP server runbooks")


def test_a_credential_echoed_by_a_tool_is_masked_in_the_step_and_the_report(standin: McpStandIn) -> None:
    report = investigate(_request(standin, ["runbooks.leaky"]))
    [call] = [c for c in report.tool_calls if c.tool == "runbooks.leaky"]
    assert TOKEN not in call.output_excerpt
    assert "********" in call.output_excerpt
    assert TOKEN not in report.model_dump_json()
    assert TOKEN not in repr(_request(standin, []))


def test_agents_list_the_mcp_tools_they_may_call() -> None:
    offer = McpOffer(tools=("runbooks.lookup", "runbooks.broken", "wiki.search"))
    agents = {
        "runbook_agent": AgentSettings(prompt="x", enable_extra_tools=["runbooks.*"]),
        "investigation_agent": AgentSettings(disable_default_tools=["wiki.search"]),
        "k8s_agent": AgentSettings(enable_extra_tools=["wiki.search", "wiki.missing"]),
    }
    listed = {info.name: info.tools for info in describe_agents(agents, {}, offer)}
    assert listed["runbook_agent"] == ["think", "read_attachment", "runbooks.lookup", "runbooks.broken"]
    assert listed["investigation_agent"][-2:] == ["runbooks.lookup", "runbooks.broken"]
    assert "wiki.search" not in listed["investigation_agent"]
    assert listed["k8s_agent"][-1] == "wiki.search"
    assert not any("." in tool for tool in listed["metrics_agent"])


def test_an_integration_named_in_mcp_servers_gives_every_agent_its_tools() -> None:
    sources = {"github": {"token": "t"}}
    offer = McpOffer(integrations=("github",))
    listed = {info.name: info.tools for info in describe_agents({}, sources, offer)}
    assert "search_github_code" in listed["k8s_agent"]
    assert "search_github_code" not in {info.name: info.tools for info in describe_agents({}, sources)}["k8s_agent"]


def test_in_llm_mode_the_model_is_offered_the_mcp_tools_and_its_call_is_a_logged_step(standin: McpStandIn) -> None:
    from tests.engine.llm.model_standin import API_KEY, Call, Exchange, final, model_server, report

    def call_the_runbook(exchange: Exchange) -> list[Call]:
        assert "runbooks__lookup" in exchange.tools
        return [Call("runbooks__lookup", {"service": "payments"})]

    def cite_it(exchange: Exchange) -> list[Call]:
        assert "connection pool is capped at 20" in exchange.tool_results[-1]
        return final(report("payments-db pool exhausted", ["[tool:runbooks.lookup] the pool is capped at 20"]))

    with model_server([call_the_runbook, cite_it]) as model:
        llm = {"provider": "openai_compatible", "model": "gpt-incident", "base_url": f"{model.url}/v1"}
        result = investigate(
            InvestigationRequest(
                agent="investigation_agent",
                message="why is payments slow?",
                mcp_servers=_servers(standin),
                llm={**llm, "api_key": API_KEY},
            )
        )
    [call] = [c for c in result.tool_calls if c.tool == "runbooks.lookup"]
    assert call.ok
    assert call.params == {"service": "payments"}
    assert result.tools_used[-1] == "runbooks.lookup"
    assert result.root_cause.evidence == ["[tool:runbooks.lookup] the pool is capped at 20"]
