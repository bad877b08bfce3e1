"""Approval workflow (API.md §5.6): held writes, pending lists, approve and reject, tenancy of change requests."""

from __future__ import annotations

import re

import pytest

from teamconfig.models import ChangeRequest, ConfigVersion, NodeConfig
from tenancy.models import AuditEvent, Node
from tests.conftest import ApiCaller
from tests.teamconfig.conftest import admin_write

pytestmark = pytest.mark.django_db

APPROVALS_ON = {"approval_workflows": {"config_changes": {"enabled": True, "approvers": ["admin@acme.com"]}}}


@pytest.fixture
def approvals(team: Node) -> None:
    admin_write(team.parent, APPROVALS_ON)


def submit(member: ApiCaller) -> str:
    response = member.put("/config/me", {"alerts": {"disabled": ["Watchdog", "InfoInhibitor", "TargetDown"]}})
    assert response.status_code == 202, response.json()
    return str(response.json()["change_request_id"])


def test_a_team_write_is_held_with_202_when_the_org_requires_approval(
    approvals: None, member: ApiCaller, team: Node
) -> None:
    admin_write(team, {"alerts": {"disabled": ["Watchdog", "InfoInhibitor"]}})
    response = member.put("/config/me", {"alerts": {"disabled": ["Watchdog", "InfoInhibitor", "TargetDown"]}})
    assert response.status_code == 202
    body = response.json()
    assert re.fullmatch(r"cr_[A-Za-z0-9]{16}", body["change_request_id"])
    assert body | {"change_request_id": ""} == {
        "message": "Configuration change submitted for approval",
        "change_request_id": "",
        "status": "pending_approval",
        "approvers": ["admin@acme.com"],
        "changes": {
            "alerts.disabled": {
                "old": ["Watchdog", "InfoInhibitor"],
                "new": ["Watchdog", "InfoInhibitor", "TargetDown"],
            }
        },
    }
    assert NodeConfig.objects.get(node=team).overrides == {"alerts": {"disabled": ["Watchdog", "InfoInhibitor"]}}
    assert AuditEvent.objects.filter(event_type="config.change_requested").count() == 1


def test_a_no_op_write_is_applied_not_held(approvals: None, member: ApiCaller) -> None:
    response = member.put("/config/me", {"webhooks": {"investigation_complete": None}})
    assert (response.status_code, response.json()["message"]) == (200, "No changes")


def test_admin_credentials_apply_directly_even_when_approval_is_required(
    approvals: None, org_admin: ApiCaller, team: Node
) -> None:
    response = org_admin.put(
        "/config/me",
        {"webhooks": {"investigation_complete": "https://hooks.example.com/ops"}},
        headers={"X-Team-Id": "team-platform"},
    )
    assert response.status_code == 200
    assert response.json()["version"] == 1


def test_pending_lists_the_teams_requests_and_filters_by_status(approvals: None, member: ApiCaller) -> None:
    cr_id = submit(member)
    changes = member.get("/config/me/pending").json()["changes"]
    assert [c["change_request_id"] for c in changes] == [cr_id]
    assert changes[0]["status"] == "pending_approval"
    assert changes[0]["requested_by"].startswith("ift_")
    assert changes[0]["requested_at"].endswith("Z")
    assert member.get("/config/me/pending", status="approved").json()["changes"] == []
    assert len(member.get("/config/me/pending", status="all").json()["changes"]) == 1
    assert member.get("/config/me/pending", status="maybe").status_code == 400


def test_approving_applies_the_change_as_a_new_version_recording_requester_and_approver(
    approvals: None, member: ApiCaller, org_admin: ApiCaller, team: Node
) -> None:
    cr_id = submit(member)
    response = org_admin.post(f"/admin/changes/{cr_id}/approve", {"comment": "ok"})
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "approved"
    assert body["team_id"] == "team-platform"
    assert body["reviewed_by"].startswith("ifa_")
    assert (body["version"], body["changed_fields"]) == (1, ["alerts.disabled"])
    history = member.get("/config/me/audit").json()["history"]
    assert history[0]["change_request_id"] == cr_id
    assert history[0]["changed_by"] == ChangeRequest.objects.get().requested_by
    assert ConfigVersion.objects.get(node=team).approved_by == body["reviewed_by"]
    assert member.get("/config/me/effective").json()["alerts"]["disabled"] == [
        "Watchdog",
        "InfoInhibitor",
        "TargetDown",
    ]
    assert AuditEvent.objects.filter(event_type="config.change_approved", target=cr_id).exists()


def test_a_decided_request_cannot_be_decided_again(approvals: None, member: ApiCaller, org_admin: ApiCaller) -> None:
    cr_id = submit(member)
    assert org_admin.post(f"/admin/changes/{cr_id}/reject", {"comment": "no"}).status_code == 200
    again = org_admin.post(f"/admin/changes/{cr_id}/approve")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "conflict"
    assert org_admin.post(f"/admin/changes/{cr_id}/reject").status_code == 409


def test_rejecting_records_the_reviewer_and_comment_and_applies_nothing(
    approvals: None, member: ApiCaller, org_admin: ApiCaller, team: Node
) -> None:
    cr_id = submit(member)
    body = org_admin.post(f"/admin/changes/{cr_id}/reject", {"comment": "use the group default"}).json()
    assert (body["status"], body["comment"]) == ("rejected", "use the group default")
    assert body["reviewed_at"].endswith("Z")
    assert not NodeConfig.objects.filter(node=team, version__gt=0).exists()
    assert AuditEvent.objects.filter(event_type="config.change_rejected").count() == 1


def test_a_patch_that_no_longer_validates_is_409_and_stays_pending(
    approvals: None, member: ApiCaller, org_admin: ApiCaller, team: Node
) -> None:
    response = member.put(
        "/config/me", {"tools": {"prometheus": {"enabled": True}}, "alerts": {"disabled": ["Watchdog"]}}
    )
    assert response.status_code == 400  # validated at request time too
    held = member.put("/config/me", {"agents": {"ci_agent": {"enabled": False}}})
    assert held.status_code == 400
    admin_write(team.parent, {"agents": {"ci_agent": {"prompt": "Check CI."}}})
    cr_id = member.put("/config/me", {"agents": {"ci_agent": {"enabled": False}}}).json()["change_request_id"]
    admin_write(team.parent, {"agents": {"ci_agent": None}})  # the custom agent's prompt is gone now
    conflict = org_admin.post(f"/admin/changes/{cr_id}/approve")
    assert conflict.status_code == 409
    assert conflict.json()["error"]["details"]["field"] == "agents.ci_agent.prompt"
    assert ChangeRequest.objects.get().status == "pending_approval"


def test_admin_changes_lists_the_org_with_team_and_status_filters(
    approvals: None, member: ApiCaller, other_member: ApiCaller, org_admin: ApiCaller
) -> None:
    mine, theirs = submit(member), submit(other_member)
    listed = org_admin.get("/admin/changes").json()["changes"]
    assert [c["change_request_id"] for c in listed] == [theirs, mine]
    assert {c["team_id"] for c in listed} == {"team-platform", "team-payments"}
    only = org_admin.get("/admin/changes", team_id="team-platform").json()["changes"]
    assert [c["change_request_id"] for c in only] == [mine]
    assert member.get("/admin/changes").status_code == 403


def test_another_orgs_change_request_is_404(
    approvals: None, member: ApiCaller, outsider_admin: ApiCaller, org_admin: ApiCaller
) -> None:
    cr_id = submit(member)
    assert outsider_admin.post(f"/admin/changes/{cr_id}/approve").status_code == 404
    assert outsider_admin.post(f"/admin/changes/{cr_id}/reject").status_code == 404
    assert outsider_admin.get("/admin/changes").json()["changes"] == []
    assert org_admin.post("/admin/changes/cr_short/approve").status_code == 404
    assert org_admin.post("/admin/changes/cr_AAAAAAAAAAAAAAAA/approve").status_code == 404
    assert ChangeRequest.objects.get().status == "pending_approval"


def test_a_team_token_cannot_approve(approvals: None, member: ApiCaller) -> None:
    cr_id = submit(member)
    assert member.post(f"/admin/changes/{cr_id}/approve").status_code == 403


def test_the_outsider_cannot_see_another_orgs_pending_changes(
    approvals: None, member: ApiCaller, outsider: ApiCaller
) -> None:
    submit(member)
    assert outsider.get("/config/me/pending", status="all").json()["changes"] == []


def test_a_review_comment_that_is_not_a_string_is_a_validation_error_before_the_lookup(org_admin):
    response = org_admin.post("/admin/changes/cr_0000000000000000/reject", {"comment": 5})

    assert response.status_code == 400  # the body is judged before the (unknown) change request: 400 before 404
    assert response.json()["error"]["code"] == "validation_error"
    assert response.json()["error"]["field"] == "comment"
