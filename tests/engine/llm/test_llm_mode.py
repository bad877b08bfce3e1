"""LLM mode: the model reviews the deterministic draft, calls tools through the registry, writes the report.

Driven through the vendors' real clients (openai, anthropic) by pydantic-ai against ``model_standin``, a loopback
server speaking their wire protocols with a scripted model.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from engine import AgentSettings, Attachment, EngineError, InvestigationContext, InvestigationRequest, investigate
from engine.registry import _IMPLEMENTATIONS, ToolSpec, load_connectors

from .model_standin import API_KEY, Call, Exchange, Fail, final, model_server, report

CRASH_LOG = "2024-01-15T10:00:00Z INFO boot\n2024-01-15T10:00:01Z FATAL environment variable API_TOKEN is not set\n"


def _llm(url: str, provider: str = "openai_compatible", **extra: Any) -> dict[str, Any]:
    base = f"{url}/v1" if provider in ("openai_compatible", "openai") else url
    return {"provider": provider, "model": "gpt-incident", "base_url": base, "api_key": API_KEY, **extra}


def _request(llm: dict[str, Any] | None, **kwargs: Any) -> InvestigationRequest:
    attachments = kwargs.pop("attachments", [Attachment(name="app.log", content=CRASH_LOG)])
    return InvestigationRequest(
        message=kwargs.pop("message", "why does payments crash?"),
        context=InvestigationContext(service="payments", attachments=attachments),
        llm=llm,
        **kwargs,
    )


def test_without_llm_settings_or_with_provider_none_the_engine_stays_deterministic() -> None:
    plain = investigate(_request(None))
    off = investigate(_request({"provider": "none"}))
    assert plain.model_dump(exclude={"tool_calls"}) == off.model_dump(exclude={"tool_calls"})
    assert "API_TOKEN" in plain.root_cause.description


def test_the_model_sees_the_draft_and_its_report_becomes_the_result() -> None:
    written = report(
        "payments cannot start: the API_TOKEN environment variable is missing from its deployment",
        ["[attachment:app.log] FATAL environment variable API_TOKEN is not set"],
        confidence=92,
        timeline=[{"timestamp": "2024-01-15T10:00:01Z", "event": "payments exits: API_TOKEN is not set"}],
        affected_systems=["payments"],
        recommendations=[{"priority": "high", "action": "Add API_TOKEN to the payments Secret and restart"}],
    )
    with model_server([final(written)]) as model:
        result = investigate(_request(_llm(model.url)))
    assert result.root_cause.description.startswith("payments cannot start")
    assert result.root_cause.confidence == 92
    assert result.recommendations[0].action == "Add API_TOKEN to the payments Secret and restart"
    assert result.timeline[0].timestamp == datetime(2024, 1, 15, 10, 0, 1, tzinfo=UTC)
    assert result.tools_used == ["read_attachment"]
    assert result.written_by == "the OpenAI-compatible LLM server model gpt-incident"
    assert result.llm_usage == {"requests": 1, "input_tokens": 100, "output_tokens": 20}  # as the server reported
    [asked] = model.exchanges
    assert "why does payments crash?" in asked.user_text
    assert "API_TOKEN" in asked.user_text  # the deterministic draft and the attachment excerpt
    assert "Evidence rule" in asked.system
    assert "final_result" in asked.tools


def test_tool_calls_the_model_makes_run_through_the_registry_and_are_logged_like_the_planners() -> None:
    calls_seen: list[str] = []

    def cite_what_was_read(exchange: Exchange) -> list[Call]:
        assert "checkout" in exchange.tool_results[-1]
        return final(report("checkout pods are failing", ["[tool:list_pods] checkout pods listed"]))

    script = [
        [Call("list_pods", {"params": {"namespace": "shop", "label_selector": "app=checkout"}})],
        cite_what_was_read,
    ]
    with model_server(script) as model:
        result = investigate(
            _request(_llm(model.url), data_sources={"demo": {}}, attachments=[], message="checkout is down"),
            on_tool_call=lambda call: calls_seen.append(call.tool),
        )
    assert "list_pods" in model.exchanges[0].tools
    assert "think" not in model.exchanges[0].tools
    assert "read_attachment" not in model.exchanges[0].tools
    assert calls_seen[-1] == "list_pods"
    assert result.tool_calls[-1].tool == "list_pods"
    assert result.tool_calls[-1].params == {"namespace": "shop", "label_selector": "app=checkout"}
    assert result.tool_calls[-1].ok
    assert result.root_cause.evidence == ["[tool:list_pods] checkout pods listed"]
    assert result.summary.endswith("(demo data)")


def test_a_report_that_cites_a_tool_that_never_ran_is_sent_back_and_the_corrected_one_is_kept() -> None:
    invented = report("the database is down", ["[tool:query_prometheus] postgres_up is 0"])
    honest = report("API_TOKEN is not set", ["[attachment:app.log] FATAL environment variable API_TOKEN is not set"])
    with model_server([final(invented), final(honest)]) as model:
        result = investigate(_request(_llm(model.url)))
    assert result.root_cause.description == "API_TOKEN is not set"
    retry = model.exchanges[1]
    assert "query_prometheus" in retry.user_text + "\n".join(retry.tool_results)
    assert "did not run in this investigation" in retry.user_text + "\n".join(retry.tool_results)


def test_a_model_that_keeps_breaking_the_evidence_rule_fails_as_llm_unavailable() -> None:
    invented = report("the database is down", ["postgres is down, trust me"])
    with model_server([final(invented)] * 3) as model, pytest.raises(EngineError) as error:
        investigate(_request(_llm(model.url)))
    assert error.value.code == "llm_unavailable"
    assert (
        error.value.message
        == "the OpenAI-compatible LLM server model gpt-incident did not return a valid report after 3 attempts"
    )
    assert error.value.tools_used == ["read_attachment"]


def test_a_provider_that_still_fails_after_retries_is_llm_unavailable_without_its_address_or_key() -> None:
    with model_server([Fail(503)] * 3) as model, pytest.raises(EngineError) as error:
        investigate(_request(_llm(model.url)))
    assert error.value.code == "llm_unavailable"
    assert "HTTP 503" in error.value.message
    assert len(model.exchanges) == 3  # the first try and two retries
    assert "127.0.0.1" not in error.value.message
    assert API_KEY not in error.value.message


def test_a_wrong_api_key_is_llm_unavailable_at_once() -> None:
    with model_server([]) as model, pytest.raises(EngineError) as error:
        investigate(_request({**_llm(model.url), "api_key": "sk-wrong"}))
    assert error.value.code == "llm_unavailable"
    assert "HTTP 401" in error.value.message


def test_incomplete_llm_settings_fail_before_any_tool_runs() -> None:
    with pytest.raises(EngineError) as error:
        investigate(_request({"provider": "openai_compatible", "model": "m"}))
    assert (error.value.code, error.value.message) == (
        "llm_unavailable",
        "the OpenAI-compatible LLM server needs llm.base_url",
    )
    with pytest.raises(EngineError) as error:
        investigate(_request({"provider": "openai"}))
    assert error.value.message == "LLM mode needs llm.model (the model or deployment name)"


def test_an_agents_own_model_and_prompt_are_used() -> None:
    written = report("API_TOKEN is not set", ["[attachment:app.log] API_TOKEN is not set"])
    agents = {"planner": AgentSettings(model="gpt-other", prompt="Always answer for the payments team.")}
    with model_server([final(written)]) as model:
        investigate(_request(_llm(model.url), agents=agents))
    [asked] = model.exchanges
    assert asked.seen.body["model"] == "gpt-other"
    assert "Always answer for the payments team." in asked.system


def test_anthropic_is_reached_through_its_messages_api() -> None:
    written = report("API_TOKEN is not set", ["[attachment:app.log] FATAL environment variable API_TOKEN is not set"])
    with model_server([final(written)]) as model:
        result = investigate(_request(_llm(model.url, provider="anthropic", model="claude-incident")))
    assert result.root_cause.description == "API_TOKEN is not set"
    [asked] = model.exchanges
    assert asked.provider == "anthropic"
    assert asked.seen.body["model"] == "claude-incident"
    assert "Evidence rule" in asked.system


def test_azure_openai_is_reached_through_its_deployment_path() -> None:
    written = report("API_TOKEN is not set", ["[attachment:app.log] API_TOKEN is not set"])
    with model_server([final(written)]) as model:
        result = investigate(_request(_llm(model.url, provider="azure_openai")))
    assert result.root_cause.description == "API_TOKEN is not set"
    [asked] = model.exchanges
    assert asked.seen.path == "/openai/deployments/gpt-incident/chat/completions"
    assert asked.seen.query.get("api-version")


def test_cancelling_while_the_model_thinks_stops_the_run_promptly() -> None:
    cancelled = {"now": False}

    def slow_then_cancel(exchange: Exchange) -> list[Call]:
        cancelled["now"] = True
        time.sleep(3)  # the engine notices the cancellation while this request is open
        return final(report("late", ["[attachment:app.log] late"]))

    started = datetime.now(UTC)
    with model_server([slow_then_cancel]) as model, pytest.raises(EngineError) as error:
        investigate(_request(_llm(model.url)), should_cancel=lambda: cancelled["now"])
    assert error.value.code == "cancelled"
    assert datetime.now(UTC) - started < timedelta(seconds=3)


def test_the_step_budget_bounds_the_models_tool_calls() -> None:
    greedy = [[Call("list_pods", {"params": {"namespace": "shop", "label_selector": f"app={app}"}})] for app in "abc"]
    written = report("checkout", ["[tool:list_pods] pods"])
    with model_server([*greedy, final(written)]) as model:
        result = investigate(
            _request(
                _llm(model.url), data_sources={"demo": {}}, attachments=[], message="checkout is down", max_steps=3
            )
        )
    assert len(result.tool_calls) <= 3
    assert any("step budget" in text for exchange in model.exchanges for text in exchange.tool_results)


def test_a_call_the_run_already_made_is_answered_from_its_first_result_without_spending_the_budget() -> None:
    again = Call("list_pods", {"params": {"label_selector": "app=checkout", "namespace": "shop"}})  # other key order

    def told_it_is_a_repeat(exchange: Exchange) -> list[Call]:
        assert exchange.tool_results[-1].startswith("You already made this call (tool call #")
        assert "checkout" in exchange.tool_results[-1]
        return final(report("checkout pods are failing", ["[tool:list_pods] checkout pods listed"]))

    script = [[Call("list_pods", {"params": {"namespace": "shop", "label_selector": "app=checkout"}})], [again]]
    with model_server([*script, told_it_is_a_repeat]) as model:
        result = investigate(
            _request(
                _llm(model.url), data_sources={"demo": {}}, attachments=[], message="checkout is down", max_steps=30
            )
        )
    selected = [call for call in result.tool_calls if call.params.get("label_selector") == "app=checkout"]
    assert len(selected) == 1
    keys = [json.dumps([call.tool, call.params], sort_keys=True) for call in result.tool_calls]
    assert len(keys) == len(set(keys))


def test_the_cli_runs_in_llm_mode_with_the_key_from_the_environment(tmp_path) -> None:
    log = tmp_path / "app.log"
    log.write_text(CRASH_LOG)
    written = report("API_TOKEN is not set", ["[attachment:app.log] FATAL environment variable API_TOKEN is not set"])
    with model_server([final(written)]) as model:
        command = [sys.executable, "-m", "engine", "investigate", "why does payments crash?", "--attach", str(log)]
        command += ["--llm", "openai_compatible", "--llm-model", "gpt-incident", "--llm-base-url", f"{model.url}/v1"]
        done = subprocess.run(
            [*command, "--json"],
            env={**os.environ, "INCIDENTFOX_LLM_API_KEY": API_KEY},
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
    assert json.loads(done.stdout)["root_cause"]["description"] == "API_TOKEN is not set"


def test_a_tool_whose_source_already_failed_is_not_called_again_for_the_model() -> None:
    def after_refusal(exchange: Exchange) -> list[Call]:
        assert "unavailable in this investigation" in exchange.tool_results[-1]
        return final(report("API_TOKEN is not set", ["[attachment:app.log] API_TOKEN is not set"]))

    script = [[Call("query_prometheus", {"params": {"query": "up"}})], after_refusal]
    with model_server(script) as model:
        result = investigate(_request(_llm(model.url), data_sources={"prometheus": {"url": "http://127.0.0.1:9"}}))
    assert [(call.tool, call.ok) for call in result.tool_calls] == [
        ("read_attachment", True),
        ("get_prometheus_alerts", False),  # the planner's sweep found Prometheus unreachable
    ]  # and the model's query_prometheus was answered without another attempt
    assert len(model.exchanges) == 2


def test_a_parameter_the_tool_cannot_use_fails_that_call_and_the_model_is_told_why() -> None:
    def told(exchange: Exchange) -> list[Call]:
        assert "Invalid parameters for search_logs" in exchange.tool_results[-1]
        return final(report("checkout", ["[tool:list_pods] pods"]))

    with model_server([[Call("search_logs", {"params": {"minutes": "1h"}})], told]) as model:
        result = investigate(_request(_llm(model.url), data_sources={"demo": {}}, attachments=[], message="checkout?"))
    last = result.tool_calls[-1]
    assert (last.tool, last.ok) == ("search_logs", False)
    assert last.error == "Invalid parameters for search_logs (ValueError: could not convert string to float: '1h')"
    assert len(model.exchanges) == 2


def test_each_offered_tool_says_which_params_it_reads() -> None:
    with model_server([final(report("x", ["[attachment:app.log] API_TOKEN is not set"]))]) as model:
        investigate(_request(_llm(model.url), data_sources={"demo": {}}))
    offered = {t["function"]["name"]: t["function"]["description"] for t in model.exchanges[0].seen.body["tools"]}
    assert "params:" in offered["list_pods"]
    assert "namespace" in offered["list_pods"]


def test_credentials_in_attachments_and_tool_outputs_never_reach_the_model() -> None:
    leaky = CRASH_LOG + "2024-01-15T10:00:02Z ERROR dial postgres://payments:Sup3rS3cret@db:5432 refused\n"

    def look(exchange: Exchange) -> list[Call]:
        return [Call("list_pods", {"params": {"namespace": "shop"}})]

    written = report("API_TOKEN is not set", ["[attachment:app.log] FATAL environment variable API_TOKEN is not set"])
    with model_server([look, final(written)]) as model:
        investigate(
            _request(
                _llm(model.url), data_sources={"demo": {}}, attachments=[Attachment(name="app.log", content=leaky)]
            )
        )
    sent = "\n".join(str(exchange.seen.body) for exchange in model.exchanges)
    assert "Sup3rS3cret" not in sent
    assert "postgres://payments:[REDACTED:url_password]@db:5432" in sent


def test_a_bug_in_a_tool_the_model_called_is_an_internal_error_not_the_providers(monkeypatch) -> None:
    def broken(client: Any, params: dict[str, Any]) -> Any:
        raise AttributeError("'NoneType' object has no attribute 'items'")

    load_connectors()  # describe_node is not in the planner's sweep, so only the model's call reaches it
    monkeypatch.setitem(_IMPLEMENTATIONS, "describe_node", ToolSpec("describe_node", "kubernetes", broken))
    script = [[Call("describe_node", {"params": {"name": "node-1"}})]]
    with model_server(script) as model, pytest.raises(EngineError) as error:
        investigate(_request(_llm(model.url), data_sources={"demo": {}}, attachments=[], message="checkout?"))
    assert error.value.code == "internal_error"
    assert len(model.exchanges) == 1  # the deterministic pass ran, the model asked for the tool
