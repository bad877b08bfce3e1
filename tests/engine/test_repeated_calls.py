"""One investigation never makes the same tool call (same tool, same parameters) twice."""

from __future__ import annotations

import json

import pytest

from engine import InvestigationContext, InvestigationRequest, ToolCall, investigate
from engine.run_memo import call_key


def _keys(calls: list[ToolCall]) -> list[str]:
    return [json.dumps([call.tool, call.params], sort_keys=True) for call in calls]


@pytest.mark.parametrize("agent", ["k8s_agent", "planner"])
def test_a_rollout_history_both_playbooks_want_is_read_once(agent: str) -> None:
    # The pod sweep reads the rollout history of the crashing pods' workload; the change sweep reads the
    # suspect service's. When the workload is the service, that is one call.
    forwarded: list[ToolCall] = []
    request = InvestigationRequest(
        message="payments keeps restarting",
        agent=agent,
        context=InvestigationContext(service="payments"),
        data_sources={"demo": {"scenario": "crashloop-missing-secret"}},
    )
    report = investigate(request, on_tool_call=forwarded.append)
    histories = [call.params for call in report.tool_calls if call.tool == "get_deployment_history"]
    assert histories.count({"name": "payments", "namespace": "shop"}) == 1
    assert len(set(_keys(report.tool_calls))) == len(report.tool_calls)
    assert [call.seq for call in report.tool_calls] == list(range(1, len(report.tool_calls) + 1))
    assert forwarded == report.tool_calls  # each call reaches the caller once


def test_the_same_parameters_in_another_order_are_the_same_call() -> None:
    assert call_key("list_pods", {"namespace": "shop", "label_selector": "app=a"}) == call_key(
        "list_pods", {"label_selector": "app=a", "namespace": "shop"}
    )
    assert call_key("list_pods", {"namespace": "shop"}) != call_key("list_pods", {"namespace": "prod"})
    assert call_key("list_pods", {"namespace": "shop"}) != call_key("list_events", {"namespace": "shop"})
