"""Who may read and write the knowledge base: personas, inheritance down the tree, isolation across teams and orgs."""

from __future__ import annotations

import pytest

from tests.knowledge.conftest import CRASHLOOP_RUNBOOK, teach

pytestmark = pytest.mark.django_db


def _titles(caller, query: str = "crash looping restarts", headers=None) -> list[str]:
    response = caller.post("/kb/retrieve", {"query": query}, headers=headers)
    assert response.status_code == 200, response.content
    return [r["title"] for r in response.json()["results"]]


def test_a_groups_runbook_serves_its_teams_and_no_others(grouped_member, member, group) -> None:
    teach(group, CRASHLOOP_RUNBOOK)

    assert _titles(grouped_member) == ["KubePodCrashLooping"]
    assert _titles(member) == []  # team-platform is not under the group


def test_an_org_runbook_serves_every_team_of_the_org(grouped_member, member, org) -> None:
    from tenancy.models import Node

    teach(Node.objects.get(org=org, node_type="org"), CRASHLOOP_RUNBOOK)

    assert _titles(grouped_member) == ["KubePodCrashLooping"]
    assert _titles(member) == ["KubePodCrashLooping"]


def test_another_teams_documents_are_invisible_and_a_404(member, other_member) -> None:
    taught = other_member.post("/kb/teach", {"content": CRASHLOOP_RUNBOOK, "type": "runbook"}).json()

    assert _titles(member) == []
    assert member.get(f"/kb/documents/{taught['document_id']}").status_code == 404
    assert member.get("/kb/documents").json()["documents"] == []


def test_another_orgs_documents_are_a_404_for_an_outsider(member, outsider, outsider_admin) -> None:
    taught = member.post("/kb/teach", {"content": CRASHLOOP_RUNBOOK, "type": "runbook"}).json()

    assert outsider.get(f"/kb/documents/{taught['document_id']}").status_code == 404
    assert _titles(outsider) == []
    as_admin = outsider_admin.get(f"/kb/documents/{taught['document_id']}", headers={"X-Team-Id": "team-platform"})
    assert as_admin.status_code == 404
    deleted = outsider.client.delete(
        f"/api/v1/kb/documents/{taught['document_id']}", headers={"Authorization": f"Bearer {outsider.token}"}
    )
    assert deleted.status_code == 404


def test_feedback_on_another_teams_query_is_a_404(member, other_member) -> None:
    other_member.post("/kb/teach", {"content": CRASHLOOP_RUNBOOK, "type": "runbook"})
    query_id = other_member.post("/kb/retrieve", {"query": "crash looping"}).json()["query_id"]

    response = member.post("/kb/feedback", {"query_id": query_id, "helpful": True})

    assert response.status_code == 404


def test_an_org_admin_reads_any_team_through_x_team_id(org_admin, member) -> None:
    taught = member.post("/kb/teach", {"content": CRASHLOOP_RUNBOOK, "type": "runbook"}).json()

    headers = {"X-Team-Id": "team-platform"}
    assert org_admin.get(f"/kb/documents/{taught['document_id']}", headers=headers).status_code == 200
    assert _titles(org_admin, headers=headers) == ["KubePodCrashLooping"]
    missing = org_admin.post("/kb/retrieve", {"query": "crash"})
    assert missing.status_code == 400
    assert missing.json()["error"]["message"] == "X-Team-Id header is required"


def test_an_org_admin_teaches_a_group_above_the_team(org_admin, grouped_member, grouped_team) -> None:
    response = org_admin.post(
        "/kb/teach",
        {"content": CRASHLOOP_RUNBOOK, "type": "runbook", "node_id": "engineering"},
        headers={"X-Team-Id": "team-checkout"},
    )

    assert response.status_code == 201, response.content
    assert response.json()["node_id"] == "engineering"
    assert _titles(grouped_member) == ["KubePodCrashLooping"]


def test_a_team_token_cannot_teach_above_its_team(grouped_member) -> None:
    response = grouped_member.post("/kb/teach", {"content": "x", "type": "note", "node_id": "engineering"})

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_field"


def test_an_admin_cannot_teach_a_node_outside_the_teams_lineage(org_admin, grouped_team, team) -> None:
    response = org_admin.post(
        "/kb/teach",
        {"content": "x", "type": "note", "node_id": "team-platform"},
        headers={"X-Team-Id": "team-checkout"},
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"


def test_a_read_only_token_searches_but_cannot_write(read_only_member, member) -> None:
    member.post("/kb/teach", {"content": CRASHLOOP_RUNBOOK, "type": "runbook"})

    assert _titles(read_only_member) == ["KubePodCrashLooping"]
    assert read_only_member.post("/kb/answer", {"question": "crash looping?"}).status_code == 200
    taught = read_only_member.post("/kb/teach", {"content": "x", "type": "note"})
    assert taught.status_code == 403
    assert taught.json()["error"]["message"] == "Token does not have write permissions"
    assert read_only_member.post("/kb/feedback", {"query_id": "kbq_x", "helpful": True}).status_code == 403


def test_a_team_member_cannot_delete_a_document_shared_from_above(grouped_member, group) -> None:
    taught = teach(group, CRASHLOOP_RUNBOOK)

    response = grouped_member.client.delete(
        f"/api/v1/kb/documents/{taught.document.document_id}",
        headers={"Authorization": f"Bearer {grouped_member.token}"},
    )

    assert response.status_code == 403


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "/kb/teach"),
        ("post", "/kb/retrieve"),
        ("post", "/kb/answer"),
        ("post", "/kb/feedback"),
        ("get", "/kb/tree/stats"),
        ("get", "/kb/status"),
        ("get", "/kb/documents"),
    ],
)
def test_every_endpoint_needs_a_credential(anonymous, method, path) -> None:
    response = getattr(anonymous, method)(path, {}) if method == "post" else anonymous.get(path)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"
    assert "X-RateLimit-Limit" in response


def test_responses_carry_rate_limit_headers_and_the_envelope_works(member) -> None:
    response = member.get("/kb/status?envelope=true")

    assert response.status_code == 200
    assert response["X-RateLimit-Limit"] == "100"
    assert set(response.json()) == {"data", "meta"}
