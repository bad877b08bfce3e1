"""Both SDKs drive the knowledge API and the postmortem write-up against the live server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from incidentfox import IncidentFoxClient, NotFoundError

from tests.conftest import ApiCaller
from tests.knowledge.conftest import CRASHLOOP_RUNBOOK
from tests.sdk.test_js_sdk import run_scenario, server_env


@pytest.mark.django_db(transaction=True)
def test_the_python_sdk_teaches_retrieves_answers_and_writes_a_postmortem(
    live_server: Any, member: ApiCaller, outsider: ApiCaller
) -> None:
    client = IncidentFoxClient(member.token or "", f"{live_server.url}/api/v1")

    taught = client.knowledge.teach(CRASHLOOP_RUNBOOK, tags=["kubernetes"], key="crashloop")
    again = client.knowledge.teach(CRASHLOOP_RUNBOOK, tags=["kubernetes"], key="crashloop")
    found = client.knowledge.retrieve("pod keeps restarting", top_k=2)
    answered = client.knowledge.answer("What does KubePodCrashLooping mean?")
    client.knowledge.feedback(found.query_id, True, comment="spot on")
    listed = client.knowledge.documents(type="runbook")
    document = client.knowledge.get(taught.document_id)
    stats = client.knowledge.tree_stats()
    status = client.knowledge.status()
    inv = client.investigate("checkout pods crash", context={"service": "checkout"})
    postmortem = client.investigations.postmortem(inv.investigation_id, save=True)

    assert (taught.version, again.version, again.changed) == (1, 1, False)
    assert found.results[0].title == "KubePodCrashLooping"
    assert "[1]" in answered.answer
    assert listed.pagination.total == 1
    assert document.content == CRASHLOOP_RUNBOOK
    assert stats.total.documents == 1
    assert status.documents == 1
    assert "## Root cause" in postmortem.markdown
    assert client.knowledge.get(postmortem.document_id).type == "postmortem"
    client.knowledge.delete(taught.document_id)
    with pytest.raises(NotFoundError):
        IncidentFoxClient(outsider.token or "", f"{live_server.url}/api/v1").knowledge.get(postmortem.document_id)


@pytest.mark.django_db(transaction=True)
def test_the_js_sdk_teaches_retrieves_answers_and_writes_a_postmortem(
    node: str, tmp_path: Path, live_server: Any, member: ApiCaller
) -> None:
    out = run_scenario(
        node,
        tmp_path,
        f"""
out.taught = await client.knowledge.teach({{ content: {CRASHLOOP_RUNBOOK!r}, tags: ["kubernetes"], key: "crashloop" }});
out.found = await client.knowledge.retrieve({{ query: "pod keeps restarting", topK: 2 }});
out.answered = await client.knowledge.answer({{ question: "What does KubePodCrashLooping mean?" }});
out.feedback = await client.knowledge.feedback({{ queryId: out.found.query_id, helpful: false }}) ?? null;
out.listed = await client.knowledge.documents({{ type: "runbook" }});
out.stats = await client.knowledge.treeStats();
out.status = await client.knowledge.status();
const inv = await client.investigate({{ message: "checkout pods crash", context: {{ service: "checkout" }} }});
out.postmortem = await client.investigations.postmortem(inv.investigation_id, {{ save: true }});
out.saved = await client.knowledge.get(out.postmortem.document_id);
await client.knowledge.delete(out.taught.document_id);
out.afterDelete = await capture(client.knowledge.get(out.taught.document_id));
""",
        **server_env(live_server, member.token),
    )

    assert out["taught"]["version"] == 1
    assert out["found"]["results"][0]["title"] == "KubePodCrashLooping"
    assert "[1]" in out["answered"]["answer"]
    assert out["feedback"] is None
    assert out["listed"]["pagination"]["total"] == 1
    assert out["stats"]["total"]["documents"] == 1
    assert out["status"]["documents"] == 1
    assert out["saved"]["type"] == "postmortem"
    assert out["afterDelete"]["error"]["classes"][0] == "NotFoundError"
