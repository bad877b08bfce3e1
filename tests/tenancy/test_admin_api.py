"""API.md §2.6: org-admin endpoints, with the org_admin / member / outsider personas."""

import pytest

from tenancy.models import ApiToken, AuditEvent, Node


def _code(response):
    return response.json()["error"]["code"]


def test_teams_are_listed_parents_first_and_siblings_by_id(org_admin, org):
    org_admin.post("/admin/teams", {"team_id": "engineering", "name": "Engineering", "node_type": "group"})
    org_admin.post("/admin/teams", {"team_id": "team-b", "name": "B", "parent_id": "engineering"})
    org_admin.post("/admin/teams", {"team_id": "team-a", "name": "A", "parent_id": "engineering"})
    org_admin.post("/admin/teams", {"team_id": "alpha", "name": "Alpha"})
    body = org_admin.get("/admin/teams").json()
    assert [t["team_id"] for t in body["teams"]] == ["org-acme", "alpha", "engineering", "team-a", "team-b"]
    assert body["total"] == 5
    assert body["teams"][3] == {**body["teams"][3], "parent_id": "engineering", "node_type": "team"}


def test_teams_can_be_filtered_by_node_type(org_admin, team):
    body = org_admin.get("/admin/teams", node_type="team").json()
    assert [t["team_id"] for t in body["teams"]] == ["team-platform"]
    assert _code(org_admin.get("/admin/teams", node_type="planet")) == "validation_error"


def test_creating_a_team_returns_201_with_the_node_and_audits_it(org_admin, org):
    response = org_admin.post("/admin/teams", {"team_id": "team-payments", "name": "Payments"})
    assert response.status_code == 201
    assert response.json() == {
        "team_id": "team-payments",
        "name": "Payments",
        "node_type": "team",
        "parent_id": "org-acme",
        "created_at": response.json()["created_at"],
    }
    assert AuditEvent.objects.filter(org=org, event_type="team.created", target="team-payments").exists()


@pytest.mark.parametrize(
    ("body", "code", "status"),
    [
        ({"name": "No id"}, "invalid_request", 400),
        ({"team_id": "team-x"}, "invalid_request", 400),
        ({"team_id": "Team_X", "name": "Bad slug"}, "validation_error", 400),
        ({"team_id": "team-x", "name": "x", "parent_id": "nowhere"}, "validation_error", 400),
        ({"team_id": "team-x", "name": "x", "node_type": "planet"}, "validation_error", 400),
        ({"team_id": "team-x", "name": "x" * 201}, "validation_error", 400),
    ],
)
def test_bad_team_input_gets_the_documented_error(org_admin, org, body, code, status):
    response = org_admin.post("/admin/teams", body)
    assert response.status_code == status
    assert _code(response) == code


def test_a_taken_team_id_is_a_conflict(org_admin, team):
    response = org_admin.post("/admin/teams", {"team_id": "team-platform", "name": "Again"})
    assert response.status_code == 409


def test_a_team_cannot_be_the_parent_of_another_node(org_admin, team):
    response = org_admin.post("/admin/teams", {"team_id": "child", "name": "C", "parent_id": "team-platform"})
    assert _code(response) == "validation_error"


def test_the_tree_is_at_most_ten_levels_deep(org_admin, org):
    parent = "org-acme"
    for level in range(2, 11):
        response = org_admin.post(
            "/admin/teams", {"team_id": f"g{level}", "name": "G", "parent_id": parent, "node_type": "group"}
        )
        assert response.status_code == 201, response.json()
        parent = f"g{level}"
    too_deep = org_admin.post("/admin/teams", {"team_id": "t11", "name": "T", "parent_id": parent})
    assert _code(too_deep) == "validation_error"


def test_team_tokens_cannot_use_admin_endpoints(member):
    response = member.get("/admin/teams")
    assert response.status_code == 403
    assert response.json()["error"]["message"] == "Token does not have permission for this operation"


def test_issuing_a_token_shows_the_secret_once_with_no_store(org_admin, team):
    response = org_admin.post("/admin/teams/team-platform/tokens", {"label": "ci", "expires_in_days": 90})
    assert response.status_code == 201
    assert response.headers["Cache-Control"] == "no-store"
    body = response.json()
    assert body["token"].startswith(body["token_id"] + ".")
    assert body["permissions"] == ["team:read", "team:write"]
    assert body["issued_by"].startswith("ifa_")
    listed = org_admin.get("/admin/teams/team-platform/tokens").json()["tokens"]
    assert listed[0]["token_id"] == body["token_id"]
    assert "token" not in listed[0]
    assert body["token"].split(".")[1] not in str(listed)
    assert set(listed[0]) == {
        "token_id",
        "label",
        "permissions",
        "status",
        "issued_at",
        "issued_by",
        "expires_at",
        "revoked_at",
        "last_used_at",
    }


def test_a_read_only_token_is_issued_with_only_team_read(org_admin, team):
    body = org_admin.post("/admin/teams/team-platform/tokens", {"read_only": True}).json()
    assert body["permissions"] == ["team:read"]


@pytest.mark.parametrize(
    "body", [{"expires_in_days": 0}, {"expires_in_days": 3651}, {"read_only": "yes"}, {"label": 5}]
)
def test_bad_token_options_are_validation_errors(org_admin, team, body):
    assert _code(org_admin.post("/admin/teams/team-platform/tokens", body)) == "validation_error"


def test_tokens_cannot_be_issued_for_a_group(org_admin, org):
    org_admin.post("/admin/teams", {"team_id": "engineering", "name": "E", "node_type": "group"})
    response = org_admin.post("/admin/teams/engineering/tokens", {})
    assert _code(response) == "invalid_request"


def test_revoking_is_idempotent_and_keeps_the_first_revocation_time(org_admin, member):
    token_id = member.token.split(".")[0]
    first = org_admin.post("/admin/tokens/revoke", {"token_id": member.token})
    assert first.status_code == 200
    assert first.json()["token_id"] == token_id
    assert first.json()["status"] == "revoked"
    again = org_admin.post("/admin/tokens/revoke", {"token_id": token_id})
    assert again.json()["revoked_at"] == first.json()["revoked_at"]
    assert ApiToken.objects.get(token_id=token_id).status == "revoked"
    assert member.get("/auth/me").status_code == 401


def test_revoke_without_an_id_is_an_invalid_request(org_admin):
    assert _code(org_admin.post("/admin/tokens/revoke", {})) == "invalid_request"


# --- tenant isolation: another org's objects are 404 ------------------------------------------------------


def test_an_outsider_admin_cannot_see_or_revoke_our_tokens(outsider_admin, member, team):
    token_id = member.token.split(".")[0]
    assert outsider_admin.post("/admin/tokens/revoke", {"token_id": token_id}).status_code == 404
    assert member.get("/auth/me").status_code == 200


def test_an_outsider_admin_cannot_list_or_issue_tokens_for_our_team(outsider_admin, team, other_team):
    # Our "team-payments" does not exist in the outsider's org: the answer is the same as for a missing team.
    assert outsider_admin.get("/admin/teams/team-payments/tokens").status_code == 404
    assert outsider_admin.post("/admin/teams/team-payments/tokens", {}).status_code == 404
    assert not Node.objects.filter(org__org_id="org-globex", node_id="team-payments").exists()


def test_an_outsider_admin_sees_only_its_own_tree(outsider_admin, team, other_org):
    ids = [t["team_id"] for t in outsider_admin.get("/admin/teams").json()["teams"]]
    assert ids == ["org-globex"]


def test_the_audit_log_is_scoped_to_the_org_and_newest_first(org_admin, outsider_admin, team):
    org_admin.post("/admin/teams/team-platform/tokens", {"label": "one"})
    org_admin.post("/admin/teams/team-platform/tokens", {"label": "two"})
    events = org_admin.get("/admin/audit", event_type="token.issued").json()["events"]
    assert [e["details"]["label"] for e in events] == ["two", "one", "admin"]
    assert events[0]["actor"].startswith("ifa_")
    assert events[0]["request_id"].startswith("req_")
    assert events[0]["ip_address"] == "127.0.0.1"
    assert all(e["target"] != events[0]["target"] for e in outsider_admin.get("/admin/audit").json()["events"])


def test_audit_filters_validate_their_input(org_admin):
    assert _code(org_admin.get("/admin/audit", limit="0")) == "validation_error"
    assert _code(org_admin.get("/admin/audit", limit="201")) == "validation_error"
    assert _code(org_admin.get("/admin/audit", since="yesterday")) == "validation_error"
    body = org_admin.get("/admin/audit", since="2024-01-01", until="2999-01-01T00:00:00+02:00").json()
    assert body["pagination"] == {"total": 1, "limit": 50, "offset": 0}  # the admin token's own issuance


def test_a_denied_request_is_audited(member, org):
    member.get("/admin/teams")
    event = AuditEvent.objects.get(org=org, event_type="auth.denied")
    assert event.actor == member.token.split(".")[0]


# --- settings --------------------------------------------------------------------------------------------


def test_settings_show_defaults_and_merge_patch_with_null_restoring_a_default(org_admin):
    body = org_admin.get("/admin/settings").json()
    assert body == {
        "org_id": "org-acme",
        "rate_limits": {"read": 100, "write": 20, "trigger": 10, "integration": 60},
        "token_policy": {"default_expiry_days": None},
        "oidc": None,
    }
    patched = org_admin.patch(
        "/admin/settings", {"rate_limits": {"trigger": 3}, "token_policy": {"default_expiry_days": 30}}
    )
    assert patched.json()["rate_limits"] == {"read": 100, "write": 20, "trigger": 3, "integration": 60}
    assert patched.json()["token_policy"] == {"default_expiry_days": 30}
    restored = org_admin.patch("/admin/settings", {"rate_limits": {"trigger": None}})
    assert restored.json()["rate_limits"]["trigger"] == 10


@pytest.mark.parametrize(
    "body",
    [
        {"rate_limits": {"read": 0}},
        {"rate_limits": {"read": 100001}},
        {"rate_limits": {"burst": 5}},
        {"token_policy": {"default_expiry_days": 4000}},
        {"oidc": {"issuer": "http://idp.example.com", "client_id": "x"}},
        {"oidc": {"issuer": "https://idp.example.com"}},
    ],
)
def test_bad_settings_are_validation_errors(org_admin, body):
    assert _code(org_admin.patch("/admin/settings", body)) == "validation_error"


def test_an_oidc_issuer_and_client_pair_belongs_to_one_org(org_admin, outsider_admin):
    oidc = {"oidc": {"issuer": "https://idp.example.com", "client_id": "incidentfox"}}
    assert org_admin.patch("/admin/settings", oidc).status_code == 200
    assert outsider_admin.patch("/admin/settings", oidc).status_code == 409
    assert org_admin.patch("/admin/settings", {"oidc": None}).json()["oidc"] is None
    assert outsider_admin.patch("/admin/settings", oidc).status_code == 200
