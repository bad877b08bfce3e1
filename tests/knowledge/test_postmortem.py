"""Postmortem write-ups (API.md §10): a blameless draft of a completed investigation, saved to the knowledge base
and found by the next investigation of the same service."""

from __future__ import annotations

import pytest

from knowledge.models import KnowledgeDocument
from tests.knowledge.test_investigations_cite_runbooks import RUN, _run


def _postmortem(caller, investigation_id: str, *, save: bool = False, body=None, headers=None):
    suffix = "?save=true" if save else ""
    return caller.post(f"/agents/status/{investigation_id}/postmortem{suffix}", body, headers=headers)


@pytest.mark.django_db(transaction=True)
def test_a_completed_investigation_gets_a_blameless_draft_in_markdown_and_sections(member) -> None:
    body = _run(member)
    result = body["result"]

    response = _postmortem(member, body["investigation_id"])

    assert response.status_code == 200, response.content
    draft = response.json()
    sections = draft["sections"]
    assert set(sections) >= {
        "summary",
        "impact",
        "detection",
        "timeline",
        "root_cause",
        "contributing_factors",
        "action_items",
    }
    assert sections["summary"] == result["summary"]
    assert sections["root_cause"]["evidence"] == result["root_cause"]["evidence"]
    assert sections["impact"]["affected_systems"] == result["affected_systems"]
    assert sections["detection"]["alert"] == "OrdersApiHighLatency"
    assert sections["detection"]["started_by"] == member.token.split(".")[0]
    assert [item["action"] for item in sections["action_items"]] == [r["action"] for r in result["recommendations"]]
    assert all(item["owner"] is None for item in sections["action_items"])
    assert sections["what_went_well"] == []
    assert sections["what_went_badly"] == []
    markdown = draft["markdown"]
    for heading in (
        "## Summary",
        "## Impact",
        "## Detection",
        "## Timeline",
        "## Root cause",
        "## Contributing factors",
        "## What went well",
        "## What went badly",
        "## Action items",
    ):
        assert heading in markdown
    assert "| 2024-01-15T14:31:07Z |" in markdown
    assert draft["title"].startswith("Postmortem 2024-01-15: orders-api")
    assert draft["written_by"] is None
    assert "document_id" not in draft
    assert KnowledgeDocument.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_a_saved_postmortem_is_found_by_the_next_investigation_of_the_service(member) -> None:
    first = _run(member)
    saved = _postmortem(member, first["investigation_id"], save=True).json()
    document = KnowledgeDocument.objects.get(document_id=saved["document_id"])
    assert document.doc_type == "postmortem"
    assert document.service == "orders-api"
    assert document.source_investigation_id == first["investigation_id"]

    second = _run(member)

    assert "kb_retrieve" in second["tools_used"]
    cited = [line for line in second["result"]["root_cause"]["evidence"] if line.startswith("[tool:kb_retrieve]")]
    assert cited, second["result"]
    assert cited[0].startswith(f'[tool:kb_retrieve] This looked the same on 2024-01-15: Postmortem "{saved["title"]}"')
    assert second["result"]["root_cause"]["description"] == first["result"]["root_cause"]["description"]
    assert any(saved["document_id"] in rec["action"] for rec in second["result"]["recommendations"])


@pytest.mark.django_db(transaction=True)
def test_saving_an_edited_postmortem_stores_the_edit_and_saving_again_updates_it(member) -> None:
    investigation_id = _run(member)["investigation_id"]
    edited = "# Orders latency postmortem\n\n## What went well\n\nThe pool alert fired within a minute.\n"

    first = _postmortem(member, investigation_id, save=True, body={"markdown": edited}).json()
    again = _postmortem(member, investigation_id, save=True, body={"markdown": edited + "\nMore.\n"}).json()

    assert first["document_id"] == again["document_id"]
    document = KnowledgeDocument.objects.get()
    assert document.content == edited + "\nMore.\n"
    assert document.version == 2


@pytest.mark.django_db
def test_an_unfinished_investigation_has_no_postmortem_409(member) -> None:
    pending = member.post("/agents/run", {**RUN, "async": True}).json()

    response = _postmortem(member, pending["investigation_id"])

    assert response.status_code == 409
    assert response.json()["error"]["details"] == {"status": "pending"}


@pytest.mark.django_db(transaction=True)
def test_another_teams_or_orgs_investigation_is_a_404(member, other_member, outsider, org_admin) -> None:
    investigation_id = _run(member)["investigation_id"]

    assert _postmortem(other_member, investigation_id).status_code == 404
    assert _postmortem(outsider, investigation_id).status_code == 404
    assert _postmortem(member, "inv_00000000000000000000").status_code == 404
    assert _postmortem(org_admin, investigation_id, headers={"X-Team-Id": "team-platform"}).status_code == 200


@pytest.mark.django_db
def test_a_read_only_token_cannot_write_a_postmortem(read_only_member) -> None:
    response = _postmortem(read_only_member, "inv_00000000000000000000")

    assert response.status_code == 403
