"""The Knowledge page (list, search with feedback, view, edit, upload), runbook matches on the investigation page
and the postmortem editor with its exports."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from investigations.models import Status
from knowledge.models import KnowledgeDocument, KnowledgeFeedback
from knowledge.selectors import passages_for_team
from knowledge.services import query_record
from tests.knowledge.conftest import CRASHLOOP_RUNBOOK, teach
from tests.web.conftest import make_investigation

pytestmark = pytest.mark.django_db

RESULT = {
    "summary": "checkout crash-loops: DB_URL is missing.",
    "root_cause": {
        "description": "checkout: DB_URL is not set",
        "confidence": 85,
        "evidence": ["[attachment:app.log] FATAL DB_URL is not set"],
    },
    "timeline": [
        {"timestamp": "2026-11-03T10:00:00Z", "event": "checkout v2 deployed"},
        {"timestamp": "2026-11-03T10:04:00Z", "event": "checkout CrashLoopBackOff"},
    ],
    "affected_systems": ["checkout"],
    "recommendations": [{"priority": "high", "action": "Set DB_URL in the checkout deployment"}],
    "hypotheses": [],
}


def test_a_member_teaches_a_runbook_with_the_form_and_finds_it(web_member, team) -> None:
    response = web_member.post(
        f"/teams/{team.node_id}/knowledge",
        {"doc_type": "runbook", "tags": "KubePodCrashLooping, kubernetes", "content": CRASHLOOP_RUNBOOK},
    )

    document = KnowledgeDocument.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/teams/{team.node_id}/knowledge/{document.document_id}"
    assert document.tags == ["KubePodCrashLooping", "kubernetes"]
    page = web_member.get(f"/teams/{team.node_id}/knowledge", {"q": "pod keeps restarting"}).content.decode()
    assert "KubePodCrashLooping" in page
    assert 'name="query_id"' in page


def test_uploading_a_markdown_file_teaches_it(web_member, team) -> None:
    upload = SimpleUploadedFile("disk.md", b"# Disk full\n\n## Mitigation\n- Grow the volume\n", "text/markdown")

    response = web_member.post(f"/teams/{team.node_id}/knowledge", {"doc_type": "note", "upload": upload})

    assert response.status_code == 302
    assert KnowledgeDocument.objects.get().remediation == ["Grow the volume"]


def test_an_upload_that_is_not_text_is_refused_with_the_reason(web_member, team) -> None:
    upload = SimpleUploadedFile("disk.pdf", b"%PDF-1.4", "application/pdf")

    response = web_member.post(f"/teams/{team.node_id}/knowledge", {"doc_type": "note", "upload": upload})

    assert response.status_code == 400
    assert "Upload a Markdown or text file" in response.content.decode()
    assert not KnowledgeDocument.objects.exists()


def test_feedback_from_the_search_page_is_recorded_over_htmx(web_member, team) -> None:
    teach(team, CRASHLOOP_RUNBOOK)
    passages = passages_for_team(team=team, query="crash looping", service=None, top_k=3)
    query = query_record(team=team, kind="retrieve", query="crash looping", service=None, passages=passages, actor="x")

    response = web_member.post(
        f"/teams/{team.node_id}/knowledge/feedback",
        {"query_id": query.query_id, "helpful": "true"},
        HTTP_HX_REQUEST="true",
    )

    assert response.status_code == 200
    assert "ranks higher" in response.content.decode()
    assert "<html" not in response.content.decode()
    assert KnowledgeFeedback.objects.get().helpful is True
    assert KnowledgeDocument.objects.get().helpful_count == 1


def test_a_member_edits_the_teams_markdown_and_a_new_version_is_indexed(web_member, team) -> None:
    document = teach(team, CRASHLOOP_RUNBOOK).document

    response = web_member.post(
        f"/teams/{team.node_id}/knowledge/{document.document_id}",
        {"doc_type": "runbook", "title": "KubePodCrashLooping", "content": CRASHLOOP_RUNBOOK + "\n- Page the owner\n"},
    )

    document.refresh_from_db()
    assert response.status_code == 302
    assert document.version == 2
    assert document.remediation[-1] == "Page the owner"


def test_a_document_shared_from_the_org_is_read_only_for_a_team_member(web_member, team, root) -> None:
    document = teach(root, CRASHLOOP_RUNBOOK).document

    page = web_member.get(f"/teams/{team.node_id}/knowledge/{document.document_id}")
    post = web_member.post(f"/teams/{team.node_id}/knowledge/{document.document_id}", {"action": "delete"})

    assert page.status_code == 200
    assert 'id="kb-edit"' not in page.content.decode()
    assert "shared with its teams" in page.content.decode()
    assert post.status_code == 403
    assert KnowledgeDocument.objects.filter(pk=document.pk).exists()


def test_a_viewer_reads_but_cannot_teach(web_viewer, team) -> None:
    assert web_viewer.get(f"/teams/{team.node_id}/knowledge").status_code == 200
    response = web_viewer.post(f"/teams/{team.node_id}/knowledge", {"doc_type": "note", "content": "x"})
    assert response.status_code == 403


def test_another_teams_and_another_orgs_documents_are_404(web_other_team, web_outsider, team, other_team) -> None:
    document = teach(team, CRASHLOOP_RUNBOOK).document

    assert web_other_team.get(f"/teams/{other_team.node_id}/knowledge/{document.document_id}").status_code == 404
    assert web_other_team.get(f"/teams/{team.node_id}/knowledge").status_code == 404
    assert web_outsider.get(f"/teams/{team.node_id}/knowledge/{document.document_id}").status_code == 404


def test_the_investigation_page_shows_runbook_matches_and_the_postmortem_button(web_member, team) -> None:
    document = teach(team, CRASHLOOP_RUNBOOK).document
    investigation = make_investigation(team, status=Status.COMPLETED, result=RESULT)
    passages = passages_for_team(team=team, query="KubePodCrashLooping", service=None, top_k=3)
    query_record(
        team=team,
        kind="investigation",
        query="KubePodCrashLooping",
        service=None,
        passages=passages,
        actor="system",
        investigation_id=investigation.pk,
    )

    page = web_member.get(f"/investigations/{investigation.pk}").content.decode()

    assert 'id="kb-matches"' in page
    assert f"/teams/{team.node_id}/knowledge/{document.document_id}" in page
    assert f"/investigations/{investigation.pk}/postmortem" in page


def test_the_postmortem_editor_saves_the_edit_to_the_knowledge_base_and_exports(web_member, team) -> None:
    investigation = make_investigation(team, status=Status.COMPLETED, result=RESULT, context={"service": "checkout"})
    url = f"/investigations/{investigation.pk}/postmortem"

    page = web_member.get(url).content.decode()
    saved = web_member.post(url, {"markdown": "# Checkout postmortem\n\n## What went well\n\nRollback in 4 min.\n"})
    exported = web_member.get(url, {"format": "md"})
    as_json = json.loads(web_member.get(url, {"format": "json"}).content)

    assert "## Root cause" in page
    assert "Export Markdown" in page
    document = KnowledgeDocument.objects.get(doc_type="postmortem")
    assert saved.status_code == 302
    assert document.service == "checkout"
    assert document.title.startswith("Postmortem 2026-11-03: checkout: DB_URL is not set")
    assert exported["Content-Disposition"] == f'attachment; filename="postmortem-{investigation.pk}.md"'
    assert exported.content.decode().startswith("# Checkout postmortem")
    assert as_json["sections"]["action_items"] == [
        {"priority": "high", "action": "Set DB_URL in the checkout deployment", "owner": None}
    ]


def test_an_unfinished_investigation_has_no_postmortem_editor(web_member, team) -> None:
    investigation = make_investigation(team, status=Status.RUNNING)

    response = web_member.get(f"/investigations/{investigation.pk}/postmortem")

    assert response.status_code == 409


def test_a_viewer_cannot_save_a_postmortem_and_an_outsider_gets_404(web_viewer, web_outsider, team) -> None:
    investigation = make_investigation(team, status=Status.COMPLETED, result=RESULT)
    url = f"/investigations/{investigation.pk}/postmortem"

    assert web_viewer.get(url).status_code == 200
    assert web_viewer.post(url, {"markdown": "# x"}).status_code == 403
    assert web_outsider.get(url).status_code == 404


def test_the_document_list_pages_by_50(web_member, team) -> None:
    for n in range(51):
        teach(team, f"# Runbook {n:02d}\n\nText.", key=f"k{n}")

    first = web_member.get(f"/teams/{team.node_id}/knowledge").content.decode()
    second = web_member.get(f"/teams/{team.node_id}/knowledge", {"page": 2}).content.decode()

    assert "Page 1 of 2" in first
    assert first.count("/knowledge/kb_") == 50
    assert second.count("/knowledge/kb_") == 1


def test_an_org_admin_edits_a_document_shared_from_the_org(web_org_admin, team, root) -> None:
    document = teach(root, CRASHLOOP_RUNBOOK).document

    page = web_org_admin.get(f"/teams/{team.node_id}/knowledge/{document.document_id}")
    response = web_org_admin.post(
        f"/teams/{team.node_id}/knowledge/{document.document_id}",
        {"doc_type": "runbook", "title": "KubePodCrashLooping", "content": CRASHLOOP_RUNBOOK + "\nOwned by SRE.\n"},
    )

    assert 'id="kb-edit"' in page.content.decode()
    assert response.status_code == 302
    document.refresh_from_db()
    assert document.version == 2
    assert document.node_id == root.pk


def test_asking_a_question_shows_the_answer_with_numbered_sources(web_viewer, team) -> None:
    document = teach(team, CRASHLOOP_RUNBOOK).document

    page = web_viewer.get(f"/teams/{team.node_id}/knowledge", {"ask": "What does KubePodCrashLooping mean?"})

    body = page.content.decode()
    assert page.status_code == 200
    assert 'id="kb-answer"' in body
    assert "restarts repeatedly" in body
    assert "[1]" in body
    assert f"/knowledge/{document.document_id}" in body
