"""The knowledge API (API.md §10): teach, retrieve, answer, feedback, stats, status and documents."""

from __future__ import annotations

import pytest

from knowledge.models import KnowledgeDocument, KnowledgeFeedback
from tests.knowledge.conftest import CRASHLOOP_RUNBOOK, teach

pytestmark = pytest.mark.django_db

DISK_NOTE = "# payments-db disk\n\nThe payments database volume fills up when WAL archiving stalls."


def test_teaching_a_document_returns_201_with_its_id_and_first_version(member) -> None:
    response = member.post("/kb/teach", {"content": CRASHLOOP_RUNBOOK, "type": "runbook", "tags": ["kubernetes"]})

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["document_id"].startswith("kb_")
    assert len(body["document_id"]) == 23
    assert body["version"] == 1
    assert body["title"] == "KubePodCrashLooping"
    assert body["node_id"] == "team-platform"
    document = KnowledgeDocument.objects.get(document_id=body["document_id"])
    assert document.remediation == [
        "Roll back the deployment to the last version that started cleanly",
        "Fix the missing configuration or secret the logs name",
    ]
    assert document.chunks.count() == 3


def test_the_same_key_updates_the_document_and_a_repeat_changes_nothing(member) -> None:
    first = member.post("/kb/teach", {"content": DISK_NOTE, "type": "note", "key": "payments-db-disk"}).json()
    changed = member.post(
        "/kb/teach", {"content": DISK_NOTE + "\n\nResize the volume.", "type": "note", "key": "payments-db-disk"}
    )
    repeated = member.post(
        "/kb/teach", {"content": DISK_NOTE + "\n\nResize the volume.", "type": "note", "key": "payments-db-disk"}
    )

    assert changed.status_code == 200
    assert changed.json()["document_id"] == first["document_id"]
    assert changed.json()["version"] == 2
    assert repeated.status_code == 200
    assert repeated.json() == {**changed.json(), "changed": False}
    assert KnowledgeDocument.objects.count() == 1


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ({"type": "runbook"}, "invalid_request", "content"),
        ({"content": "   ", "type": "runbook"}, "invalid_request", "content"),
        ({"content": "x", "type": "wiki"}, "validation_error", "type"),
        ({"content": "x", "type": "note", "tags": "kubernetes"}, "validation_error", "tags"),
        ({"content": "x", "type": "note", "title": "t" * 301}, "validation_error", "title"),
    ],
)
def test_bad_teach_bodies_get_the_documented_error(member, body, code, field) -> None:
    response = member.post("/kb/teach", body)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == code
    assert response.json()["error"]["field"] == field
    assert KnowledgeDocument.objects.count() == 0


def test_retrieve_ranks_the_runbook_that_answers_first_with_a_query_id(member) -> None:
    member.post("/kb/teach", {"content": CRASHLOOP_RUNBOOK, "type": "runbook"})
    member.post("/kb/teach", {"content": DISK_NOTE, "type": "note", "service": "payments-db"})

    response = member.post("/kb/retrieve", {"query": "pod keeps restarting in CrashLoopBackOff", "top_k": 2})

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["query_id"].startswith("kbq_")
    assert [r["title"] for r in body["results"]][:1] == ["KubePodCrashLooping"]
    first = body["results"][0]
    assert set(first) == {"document_id", "title", "passage", "score", "service", "type"}
    assert first["type"] == "runbook"
    assert first["service"] is None
    assert first["score"] > 0


def test_retrieve_prefers_the_asked_service(member) -> None:
    for service in ("search", "payments-db", "billing"):
        member.post("/kb/teach", {"content": "# Disk full\n\nThe volume is full.", "type": "note", "service": service})

    results = member.post("/kb/retrieve", {"query": "volume full", "service": "payments-db"}).json()["results"]

    assert results[0]["service"] == "payments-db"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({}, "invalid_request"),
        ({"query": "x", "top_k": 0}, "validation_error"),
        ({"query": "x", "top_k": 21}, "validation_error"),
    ],
)
def test_bad_retrieve_bodies_get_the_documented_error(member, body, code) -> None:
    response = member.post("/kb/retrieve", body)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == code


def test_a_query_without_matches_returns_no_results(member) -> None:
    member.post("/kb/teach", {"content": CRASHLOOP_RUNBOOK, "type": "runbook"})

    body = member.post("/kb/retrieve", {"query": "quarterly revenue forecast"}).json()

    assert body["results"] == []


def test_answer_is_extractive_and_cites_its_sources(member) -> None:
    member.post("/kb/teach", {"content": CRASHLOOP_RUNBOOK, "type": "runbook"})

    response = member.post("/kb/answer", {"question": "What does KubePodCrashLooping mean?"})

    assert response.status_code == 200, response.content
    body = response.json()
    assert "restarts repeatedly" in body["answer"]
    assert "[1]" in body["answer"]
    assert body["sources"][0]["title"] == "KubePodCrashLooping"
    assert body["written_by"] is None
    quiet = member.post("/kb/answer", {"question": "What does KubePodCrashLooping mean?", "include_sources": False})
    assert quiet.json()["sources"] == []


def test_answer_says_so_when_nothing_matches(member) -> None:
    body = member.post("/kb/answer", {"question": "How do I rotate the TLS certificate?"}).json()

    assert body["sources"] == []
    assert "nothing on this yet" in body["answer"]


def test_feedback_is_204_and_lifts_the_helpful_document(member) -> None:
    member.post("/kb/teach", {"content": CRASHLOOP_RUNBOOK, "type": "runbook"})
    query_id = member.post("/kb/retrieve", {"query": "crash looping pod"}).json()["query_id"]

    response = member.post("/kb/feedback", {"query_id": query_id, "helpful": True, "comment": "exactly this"})
    again = member.post("/kb/feedback", {"query_id": query_id, "helpful": False})

    assert response.status_code == 204
    assert again.status_code == 204
    document = KnowledgeDocument.objects.get()
    assert (document.helpful_count, document.unhelpful_count) == (0, 1)  # the second vote replaced the first
    assert KnowledgeFeedback.objects.count() == 1


def test_feedback_on_an_unknown_query_is_404(member) -> None:
    response = member.post("/kb/feedback", {"query_id": "kbq_00000000000000000000", "helpful": True})

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_tree_stats_count_per_node_and_type(grouped_member, group, grouped_team) -> None:
    teach(group, CRASHLOOP_RUNBOOK)
    teach(grouped_team, DISK_NOTE, doc_type="note")

    body = grouped_member.get("/kb/tree/stats").json()

    assert [node["node_id"] for node in body["nodes"]] == ["org-acme", "engineering", "team-checkout"]
    assert body["nodes"][1]["by_type"] == {"runbook": 1, "note": 0, "postmortem": 0}
    assert body["nodes"][2]["documents"] == 1
    assert body["total"] == {"documents": 2, "by_type": {"runbook": 1, "note": 1, "postmortem": 0}}


def test_status_names_the_database_engine_and_counts(member, settings) -> None:
    member.post("/kb/teach", {"content": CRASHLOOP_RUNBOOK, "type": "runbook"})

    body = member.get("/kb/status").json()

    vendor = settings.DATABASES["default"]["ENGINE"]
    assert body["backend"] == ("postgresql" if "postgresql" in vendor else "sqlite_fts5")
    assert body["state"] == "ready"
    assert (body["documents"], body["chunks"], body["unindexed_chunks"]) == (1, 3, 0)
    assert body["last_updated_at"].endswith("Z")


def test_documents_list_and_detail(member) -> None:
    taught = member.post("/kb/teach", {"content": CRASHLOOP_RUNBOOK, "type": "runbook"}).json()
    member.post("/kb/teach", {"content": DISK_NOTE, "type": "note", "service": "payments-db"})

    listed = member.get("/kb/documents", type="note").json()
    detail = member.get(f"/kb/documents/{taught['document_id']}").json()

    assert [d["title"] for d in listed["documents"]] == ["payments-db disk"]
    assert listed["pagination"] == {"total": 1, "limit": 20, "offset": 0}
    assert detail["content"] == CRASHLOOP_RUNBOOK
    assert detail["type"] == "runbook"


def test_deleting_a_document_removes_it_from_search(member) -> None:
    taught = member.post("/kb/teach", {"content": CRASHLOOP_RUNBOOK, "type": "runbook"}).json()

    response = member.client.delete(
        f"/api/v1/kb/documents/{taught['document_id']}", headers={"Authorization": f"Bearer {member.token}"}
    )

    assert response.status_code == 204
    assert member.post("/kb/retrieve", {"query": "crash looping"}).json()["results"] == []


def test_the_openapi_schema_documents_every_knowledge_endpoint(anonymous) -> None:
    import json

    response = anonymous.client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    schema = json.loads(response.content)
    paths = schema["paths"]

    teach = paths["/api/v1/kb/teach/"]["post"]
    body = teach["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    assert {"content", "type", "title", "service", "tags", "key", "node_id"} <= set(
        schema["components"]["schemas"][body]["properties"]
    )
    assert {"200", "201", "400", "401", "403", "429"} <= set(teach["responses"])
    assert "200" in paths["/api/v1/kb/retrieve/"]["post"]["responses"]
    assert "200" in paths["/api/v1/kb/answer/"]["post"]["responses"]
    assert "204" in paths["/api/v1/kb/feedback/"]["post"]["responses"]
    assert "get" in paths["/api/v1/kb/tree/stats/"]
    assert "get" in paths["/api/v1/kb/status/"]
    assert {"get", "delete"} <= set(paths["/api/v1/kb/documents/{document_id}/"])
    postmortem = paths["/api/v1/agents/status/{investigation_id}/postmortem/"]["post"]
    assert {"save"} <= {parameter["name"] for parameter in postmortem["parameters"]}


@pytest.mark.parametrize("documents", [1, 20])
def test_listing_documents_costs_the_same_queries_for_1_and_20_rows(member, team, documents) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for n in range(documents):
        teach(team, f"# Runbook {n}\n\nText {n}.", key=f"k{n}")
    member.get("/kb/documents")  # warm the credential cache, as every later request finds it

    with CaptureQueriesContext(connection) as queries:
        response = member.get("/kb/documents", limit=20)

    assert len(response.json()["documents"]) == documents
    assert len(queries) <= 6, [q["sql"] for q in queries]


def test_the_knowledge_page_costs_the_same_queries_for_1_and_20_documents(team) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tenancy.models import Role
    from tests.web.conftest import signed_in_client

    client = signed_in_client(team, Role.OPERATOR, "kbreader")
    client.get(f"/teams/{team.node_id}/knowledge")  # the first visit also stores the team in the session
    counts = []
    for total in (1, 20):
        for n in range(total - KnowledgeDocument.objects.count()):
            teach(team, f"# Runbook {total}-{n}\n\nText.", key=f"p{total}-{n}")
        with CaptureQueriesContext(connection) as queries:
            assert client.get(f"/teams/{team.node_id}/knowledge").status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]
