"""A team that configures ``llm`` gets its investigations written by that model (API.md §4.6, §5): the key is a
config secret that reaches the provider resolved and is never echoed; a provider that keeps failing ends the run
as failed with ``llm_unavailable``."""

from __future__ import annotations

from typing import Any

import pytest

from investigations.models import Investigation, InvestigationStep
from tenancy.models import Role
from tests.engine.llm.model_standin import API_KEY, Call, Fail, final, model_server, report
from tests.web.conftest import signed_in_client

CRASH_LOG = "2024-01-15T10:00:00Z INFO boot\n2024-01-15T10:00:01Z FATAL environment variable API_TOKEN is not set\n"
ATTACHMENTS = [{"name": "app.log", "content": CRASH_LOG}]
RUN = {
    "agent_name": "planner",
    "message": "why does payments crash?",
    "async": False,
    "context": {"attachments": ATTACHMENTS, "service": "payments"},
}


@pytest.fixture(autouse=True)
def _encryption_key(settings: Any) -> None:
    settings.CONFIG_ENCRYPTION_KEYS = {"1": "llm-test-key-material-0123456789abcdef"}


def _configure(member: Any, url: str) -> Any:
    llm = {"provider": "openai_compatible", "model": "gpt-incident", "base_url": f"{url}/v1"}
    response = member.put("/config/me", {"llm": {**llm, "api_key": {"secret": API_KEY}}})
    assert response.status_code == 200, response.content
    assert API_KEY not in response.content.decode()
    return response


def test_a_run_is_written_by_the_teams_model_with_its_tool_calls_logged(member, transactional_db) -> None:
    written = report(
        "payments cannot start: API_TOKEN is missing from its environment",
        ["[attachment:app.log] FATAL environment variable API_TOKEN is not set"],
        confidence=91,
    )
    with model_server([[Call("detect_anomalies", {"params": {}})], final(written)]) as model:
        _configure(member, model.url)
        response = member.post("/agents/run", RUN)

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "completed"
    assert body["result"]["root_cause"] == {
        "description": "payments cannot start: API_TOKEN is missing from its environment",
        "confidence": 91,
        "evidence": ["[attachment:app.log] FATAL environment variable API_TOKEN is not set"],
    }
    assert body["tools_used"][:2] == ["read_attachment", "detect_anomalies"]
    steps = InvestigationStep.objects.filter(investigation_id=body["investigation_id"]).order_by("seq")
    assert [step.tool for step in steps][-1] == "detect_anomalies"
    headers = {k.lower(): v for k, v in model.exchanges[0].seen.headers.items()}
    assert headers["authorization"] == f"Bearer {API_KEY}"
    assert API_KEY not in response.content.decode()
    investigation = Investigation.objects.get(pk=body["investigation_id"])
    assert API_KEY not in str(investigation.result)
    assert investigation.written_by == "the OpenAI-compatible LLM server model gpt-incident"
    page = signed_in_client(member.team, Role.VIEWER, "viewer").get(f"/investigations/{investigation.pk}")
    assert investigation.llm_usage == {"requests": 2, "input_tokens": 200, "output_tokens": 40}
    assert (
        "Report written by the OpenAI-compatible LLM server model gpt-incident (LLM mode: 2 model requests, "
        "200 input and 40 output tokens)." in " ".join(page.content.decode().split())
    )


def test_a_provider_that_keeps_failing_ends_the_run_as_llm_unavailable(member, transactional_db) -> None:
    with model_server([Fail(503)] * 3) as model:
        _configure(member, model.url)
        response = member.post("/agents/run", RUN)

    body = response.json()
    assert body["status"] == "failed"
    assert body["error"] == {
        "code": "llm_unavailable",
        "message": "the OpenAI-compatible LLM server model gpt-incident failed after retries (HTTP 503)",
    }
    assert "read_attachment" in body["tools_used"]
    investigation = Investigation.objects.get(pk=body["investigation_id"])
    assert "result" not in body  # the contract's failed body; the draft is kept for the web page only
    assert investigation.result is not None
    assert "API_TOKEN" in investigation.result["root_cause"]["description"]


def test_a_run_started_without_the_model_never_calls_the_provider(member, transactional_db) -> None:
    from investigations.services import investigation_start
    from tenancy.audit import RequestMeta

    with model_server([Fail(503)] * 3) as model:
        _configure(member, model.url)
        outcome = investigation_start(
            team=member.team,
            agent="planner",
            message=RUN["message"],
            context={"service": "payments"},
            attachments=ATTACHMENTS,
            timeout_seconds=None,
            max_turns=None,
            meta=RequestMeta.system(),
            without_llm=True,
        )
        assert model.exchanges == []  # the immediate task backend ran it on commit

    investigation = Investigation.objects.get(pk=outcome.investigation.pk)
    assert investigation.status == "completed"
    assert investigation.written_by == ""
