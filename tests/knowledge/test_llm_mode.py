"""With ``llm`` in the team's config, the team's model writes knowledge-base answers and rewrites postmortems
from the deterministic material; a provider that keeps failing is a ``503 llm_unavailable``, never a 500."""

from __future__ import annotations

from typing import Any

import pytest

from tests.engine.llm.model_standin import API_KEY, Call, Fail, model_server
from tests.knowledge.conftest import CRASHLOOP_RUNBOOK
from tests.knowledge.test_investigations_cite_runbooks import _run


@pytest.fixture(autouse=True)
def _encryption_key(settings: Any) -> None:
    settings.CONFIG_ENCRYPTION_KEYS = {"1": "llm-test-key-material-0123456789abcdef"}


def _use_model(member: Any, url: str) -> None:
    llm = {"provider": "openai_compatible", "model": "gpt-kb", "base_url": f"{url}/v1", "api_key": {"secret": API_KEY}}
    assert member.put("/config/me", {"llm": llm}).status_code == 200


@pytest.mark.django_db
def test_the_teams_model_writes_the_answer_from_the_numbered_passages(member) -> None:
    member.post("/kb/teach", {"content": CRASHLOOP_RUNBOOK, "type": "runbook"})
    written = "The pod's container keeps exiting and Kubernetes backs off between restarts [1]."

    with model_server([[Call("final_result", {"markdown": written})]]) as model:
        _use_model(member, model.url)
        response = member.post("/kb/answer", {"question": "What does KubePodCrashLooping mean?"})

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["answer"] == written
    assert body["written_by"] == "the OpenAI-compatible LLM server model gpt-kb"
    assert body["sources"][0]["title"] == "KubePodCrashLooping"
    seen = model.exchanges[0]
    assert "[1] KubePodCrashLooping" in seen.user_text
    assert "Question: What does KubePodCrashLooping mean?" in seen.user_text
    assert API_KEY not in response.content.decode()


@pytest.mark.django_db
def test_a_provider_that_keeps_failing_answers_503_llm_unavailable(member) -> None:
    member.post("/kb/teach", {"content": CRASHLOOP_RUNBOOK, "type": "runbook"})

    with model_server([Fail(500)]) as model:
        _use_model(member, model.url)
        response = member.post("/kb/answer", {"question": "What does KubePodCrashLooping mean?"})

    assert response.status_code == 503
    error = response.json()["error"]
    assert error["code"] == "llm_unavailable"
    assert "gpt-kb" in error["message"]
    assert model.url.split("//")[1] not in error["message"]


@pytest.mark.django_db(transaction=True)
def test_the_teams_model_rewrites_the_postmortem_and_the_sections_stay_the_drafts(member) -> None:
    investigation = _run(member)
    rewritten = "# Orders latency, 2024-01-15\n\n## Summary\n\nThe orders API ran out of pooled connections.\n"

    with model_server([[Call("final_result", {"markdown": rewritten})]]) as model:
        _use_model(member, model.url)
        response = member.post(f"/agents/status/{investigation['investigation_id']}/postmortem?save=true")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["markdown"] == rewritten
    assert body["written_by"] == "the OpenAI-compatible LLM server model gpt-kb"
    assert body["sections"]["root_cause"]["evidence"] == investigation["result"]["root_cause"]["evidence"]
    assert "## Root cause" in model.exchanges[0].user_text  # the model was given the deterministic draft
    assert member.get(f"/kb/documents/{body['document_id']}").json()["content"] == rewritten
