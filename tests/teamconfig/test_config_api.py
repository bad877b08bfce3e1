"""The Config API's documented behaviour (API.md §5.2-§5.6), through HTTP with the standard personas."""

from __future__ import annotations

from typing import Any

import pytest

from teamconfig.bodies import AdminNodeConfigIn, ConfigPatchIn
from teamconfig.errors import ConfigFieldRefused
from teamconfig.models import ConfigVersion
from tenancy.models import AuditEvent, Node
from tests.conftest import ApiCaller
from tests.teamconfig.conftest import admin_write

pytestmark = pytest.mark.django_db


def error_of(response: Any) -> dict[str, Any]:
    return response.json()["error"]


def test_effective_config_has_injected_keys_and_documented_defaults(member: ApiCaller) -> None:
    response = member.get("/config/me/effective")
    assert response.status_code == 200
    body = response.json()
    assert (body["team_name"], body["org_id"], body["team_node_id"]) == (
        "Platform",
        "org-acme",
        "team-platform",
    )
    assert body["llm"] is None
    assert body["mcp_servers"] == []
    assert body["feature_flags"] == {
        "enable_auto_mitigation": False,
        "enable_write_actions": False,
        "require_approval": True,
    }
    assert body["agents"]["planner"]["max_turns"] == 50
    assert body["agents"]["investigation_agent"] == {
        "enabled": True,
        "disable_default_tools": [],
        "enable_extra_tools": [],
        "max_turns": 25,
        "timeout": 300,
    }
    assert body["webhooks"] == {"investigation_complete": None}


def test_adding_a_nested_key_keeps_the_inherited_siblings(member: ApiCaller, team: Node) -> None:
    admin_write(team.parent, {"tools": {"prometheus": {"url": "https://prometheus.acme.example.com"}}})
    response = member.put("/config/me", {"tools": {"prometheus": {"enabled": True}}})
    assert response.status_code == 200, response.json()
    prometheus = response.json()["effective_config"]["tools"]["prometheus"]
    assert (prometheus["url"], prometheus["enabled"]) == ("https://prometheus.acme.example.com", True)


def test_a_knowledge_source_is_refused_as_not_supported_yet(member: ApiCaller) -> None:
    response = member.put("/config/me", {"knowledge_source": {"confluence": ["https://acme.atlassian.net/wiki"]}})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert error["details"]["field"] == "knowledge_source.confluence"
    assert error["details"]["error"].startswith("not supported yet")
    assert member.put("/config/me", {"knowledge_source": {}}).status_code == 200


def test_a_write_returns_version_sorted_changed_fields_and_the_effective_config(member: ApiCaller) -> None:
    member.put("/config/me", {"alerts": {"disabled": ["Watchdog"]}, "agents": {"investigation_agent": {"prompt": "p"}}})
    response = member.put(
        "/config/me",
        {"alerts": {"disabled": ["Watchdog", "TargetDown"]}, "agents": {"investigation_agent": {"prompt": None}}},
    )
    body = response.json()
    assert response.status_code == 200
    assert body["message"] == "Configuration updated successfully"
    assert body["version"] == 2
    assert body["changed_fields"] == ["agents.investigation_agent.prompt", "alerts.disabled"]
    assert body["effective_config"]["alerts"]["disabled"] == ["Watchdog", "TargetDown"]
    assert "prompt" not in body["effective_config"]["agents"]["investigation_agent"]


def test_a_write_that_changes_nothing_keeps_the_version_and_says_no_changes(member: ApiCaller) -> None:
    member.put("/config/me", {"alerts": {"disabled": ["Watchdog"]}})
    response = member.patch("/config/me", {"alerts": {"disabled": ["Watchdog"]}, "knowledge_source": {"notion": None}})
    assert response.status_code == 200
    assert (response.json()["message"], response.json()["version"], response.json()["changed_fields"]) == (
        "No changes",
        1,
        [],
    )
    assert ConfigVersion.objects.count() == 1


@pytest.mark.parametrize("field", ["team_name", "org_id", "team_node_id"])
def test_an_injected_field_in_a_team_write_is_refused_as_invalid_field(member: ApiCaller, field: str) -> None:
    response = member.put("/config/me", {field: "Renamed", "alerts": {"disabled": ["Watchdog"]}})
    assert response.status_code == 400
    error = error_of(response)
    assert (error["code"], error["field"]) == ("invalid_field", field)
    assert error["message"] == f"{field} is immutable and cannot be changed"
    assert ConfigVersion.objects.count() == 0


def test_a_team_credential_may_not_write_approval_workflows(member: ApiCaller) -> None:
    response = member.put("/config/me", {"approval_workflows": {"config_changes": {"enabled": False}}})
    assert response.status_code == 400
    assert (error_of(response)["code"], error_of(response)["field"]) == (
        "invalid_field",
        "approval_workflows",
    )


@pytest.mark.parametrize("timeout", [0, -5])
def test_a_non_positive_agent_timeout_is_a_validation_error_with_details(member: ApiCaller, timeout: int) -> None:
    response = member.put("/config/me", {"agents": {"investigation_agent": {"timeout": timeout}}})
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "validation_error"
    assert error["details"] == {
        "field": "agents.investigation_agent.timeout",
        "error": "must be a positive integer",
    }


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"agents": {"investigation_agent": {"timeout": 5}}}, "agents.investigation_agent.timeout"),
        ({"agents": {"planner": {"max_turns": True}}}, "agents.planner.max_turns"),
        (
            {"agents": {"k8s_agent": {"enable_extra_tools": ["rm_rf"]}}},
            "agents.k8s_agent.enable_extra_tools[0]",
        ),
        ({"agents": {"k8s_agent": {"colour": "red"}}}, "agents.k8s_agent.colour"),
        ({"agents": {"Bad-Name": {"prompt": "x"}}}, "agents.Bad-Name"),
        ({"agents": {"ci_agent": {"enabled": True}}}, "agents.ci_agent.prompt"),
        ({"tools": {"splunk": {"enabled": True}}}, "tools.splunk"),
        ({"tools": {"prometheus": {"enabled": True}}}, "tools.prometheus.url"),
        ({"tools": {"prometheus": {"enabled": True, "url": "ftp://prom"}}}, "tools.prometheus.url"),
        ({"tools": {"loki": {"url": "https://user:pw@loki.example.com"}}}, "tools.loki.url"),
        ({"tools": {"kubernetes": {"timeout": 301}}}, "tools.kubernetes.timeout"),
        ({"tools": {"demo": {"enabled": "yes"}}}, "tools.demo.enabled"),
        ({"mcp_servers": ["splunk"]}, "mcp_servers[0]"),
        (
            {"webhooks": {"investigation_complete": "http://127.0.0.1/hook"}},
            "webhooks.investigation_complete",
        ),
        ({"webhooks": {"other": "x"}}, "webhooks.other"),
        ({"alerts": {"disabled": "Watchdog"}}, "alerts.disabled"),
        ({"feature_flags": {"enable_write_actions": True}}, "feature_flags.enable_write_actions"),
        ({"llm": {"provider": "skynet"}}, "llm.provider"),
        ({"llm": {"model": "gpt"}}, "llm.provider"),
        ({"integrations": {"pagerduty": {"urgency_filter": "low"}}}, "integrations.pagerduty.urgency_filter"),
        ({"knowledge_source": {"confluence": "https://wiki"}}, "knowledge_source.confluence"),
        ({"slack_channel": "#incidents"}, "slack_channel"),
        ({"custom": {"a.b": 1}}, "custom.a.b"),
    ],
)
def test_bad_values_are_validation_errors_naming_the_dotted_field(
    member: ApiCaller, patch: dict[str, Any], field: str
) -> None:
    response = member.put("/config/me", patch)
    assert response.status_code == 400, response.json()
    error = error_of(response)
    assert error["code"] == "validation_error"
    assert error["field"] == field
    assert error["details"]["field"] == field


def test_custom_agents_are_accepted(member: ApiCaller) -> None:
    response = member.put(
        "/config/me",
        {"agents": {"ci_agent": {"prompt": "Check CI first.", "enable_extra_tools": ["list_pull_requests"]}}},
    )
    assert response.status_code == 200, response.json()
    effective = response.json()["effective_config"]
    assert effective["agents"]["ci_agent"]["max_turns"] == 15


@pytest.mark.parametrize(
    ("patch", "field", "error"),
    [
        ({"runbook_tags": {"x": 1}}, "runbook_tags", "is not a known setting"),
        ({"slack_chanel": "#sre"}, "slack_chanel", "is not a known setting; did you mean 'slack_channel'?"),
        ({"webhook": {"x": "y"}}, "webhook", "is not a known setting; did you mean 'webhooks'?"),
        (
            {"agents": {"planner": {"max_turn": 5}}},
            "agents.planner.max_turn",
            "is not a known setting; did you mean 'max_turns'?",
        ),
        ({"llm": {"provider": "openai", "modle": "x"}}, "llm.modle", "is not a known setting; did you mean 'model'?"),
        (
            {"tools": {"prometheus": {"enabled": False, "ulr": "https://p"}}},
            "tools.prometheus.ulr",
            "is not a known setting; did you mean 'url'?",
        ),
    ],
)
def test_unknown_keys_are_refused_naming_the_key_and_the_nearest_valid_one(
    member: ApiCaller, patch: dict[str, Any], field: str, error: str
) -> None:
    response = member.put("/config/me", patch)
    assert response.status_code == 400, response.json()
    assert error_of(response)["details"] == {"field": field, "error": error}


def test_a_read_only_token_cannot_write_config(read_only_member: ApiCaller) -> None:
    response = read_only_member.put("/config/me", {"alerts": {"disabled": ["Watchdog"]}})
    assert response.status_code == 403
    assert error_of(response) | {"request_id": ""} == {
        "code": "forbidden",
        "message": "Token does not have write permissions",
        "request_id": "",
    }
    assert read_only_member.get("/config/me/effective").status_code == 200


def test_anonymous_callers_get_401(anonymous: ApiCaller) -> None:
    assert anonymous.get("/config/me/effective").status_code == 401


def test_an_admin_token_needs_x_team_id_and_reaches_any_team_of_its_org(
    org_admin: ApiCaller, team: Node, outsider_team: Node
) -> None:
    assert error_of(org_admin.get("/config/me/effective"))["code"] == "invalid_request"
    assert org_admin.get("/config/me/effective", headers={"X-Team-Id": "team-platform"}).json()["team_name"] == (
        "Platform"
    )
    assert org_admin.get("/config/me/effective", headers={"X-Team-Id": "team-nowhere"}).status_code == 404


def test_a_team_token_may_not_select_another_team(member: ApiCaller, other_team: Node) -> None:
    assert member.get("/config/me/effective", headers={"X-Team-Id": "team-payments"}).status_code == 403


def test_raw_shows_each_lineage_nodes_overrides_and_the_team_version(member: ApiCaller, team: Node) -> None:
    admin_write(team.parent, {"alerts": {"disabled": ["Watchdog"]}})
    member.put("/config/me", {"webhooks": {"investigation_complete": "https://hooks.example.com/platform"}})
    assert member.get("/config/me/raw").json() == {
        "lineage": ["org-acme", "team-platform"],
        "version": 1,
        "configs": {
            "org-acme": {"alerts": {"disabled": ["Watchdog"]}},
            "team-platform": {"webhooks": {"investigation_complete": "https://hooks.example.com/platform"}},
        },
    }


def test_audit_lists_newest_first_with_dotted_path_diffs(member: ApiCaller) -> None:
    hook = {"investigation_complete": "https://hooks.example.com/platform"}
    member.put("/config/me", {"webhooks": hook, "alerts": {"disabled": ["Watchdog"]}})
    member.put("/config/me", {"alerts": {"disabled": ["Watchdog", "TargetDown"]}})
    member.put("/config/me", {"agents": {"investigation_agent": {"prompt": "Check payments first."}}})
    history = member.get("/config/me/audit").json()["history"]
    assert [row["version"] for row in history] == [3, 2, 1]
    assert history[0]["diff"] == {"agents.investigation_agent.prompt": {"old": None, "new": "Check payments first."}}
    assert history[1]["diff"] == {"alerts.disabled": {"old": ["Watchdog"], "new": ["Watchdog", "TargetDown"]}}
    assert history[1]["full_config"] == {
        "webhooks": hook,
        "alerts": {"disabled": ["Watchdog", "TargetDown"]},
    }
    assert history[1]["changed_by"].startswith("ift_")
    assert history[1]["change_request_id"] is None
    assert history[1]["changed_at"].endswith("Z")
    events = AuditEvent.objects.filter(event_type="config.updated", team_id="team-platform")
    assert events.count() == 3


def test_audit_honours_limit_and_include_full(member: ApiCaller) -> None:
    for alert in ("A", "B", "C"):
        member.put("/config/me", {"alerts": {"disabled": [alert]}})
    history = member.get("/config/me/audit", limit="2", include_full="false").json()["history"]
    assert [row["version"] for row in history] == [3, 2]
    assert all("full_config" not in row for row in history)
    assert member.get("/config/me/audit", limit="0").status_code == 400
    assert member.get("/config/me/audit", include_full="maybe").status_code == 400


def test_an_org_value_shows_through_once_the_team_deletes_its_override(member: ApiCaller, team: Node) -> None:
    admin_write(team.parent, {"webhooks": {"investigation_complete": "https://hooks.example.com/everyone"}})
    member.put("/config/me", {"webhooks": {"investigation_complete": "https://hooks.example.com/platform"}})
    effective = member.get("/config/me/effective").json()
    assert effective["webhooks"]["investigation_complete"] == "https://hooks.example.com/platform"
    member.put("/config/me", {"webhooks": {"investigation_complete": None}})
    effective = member.get("/config/me/effective").json()
    assert effective["webhooks"]["investigation_complete"] == "https://hooks.example.com/everyone"


def test_admin_node_config_reads_and_writes_org_defaults(org_admin: ApiCaller, member: ApiCaller) -> None:
    response = org_admin.put("/admin/teams/org-acme/config", {"llm": {"provider": "none"}})
    assert response.status_code == 200
    assert response.json() == {
        "message": "Configuration updated successfully",
        "version": 1,
        "changed_fields": ["llm.provider"],
        "config": {"llm": {"provider": "none"}},
    }
    assert org_admin.get("/admin/teams/org-acme/config").json() == {
        "node_id": "org-acme",
        "node_type": "org",
        "version": 1,
        "config": {"llm": {"provider": "none"}},
    }
    assert member.get("/config/me/effective").json()["llm"] == {"provider": "none"}


def test_admins_rename_a_team_through_the_admin_config_endpoint(org_admin: ApiCaller, member: ApiCaller) -> None:
    response = org_admin.patch("/admin/teams/team-platform/config", {"team_name": "Platform Eng"})
    assert response.json()["changed_fields"] == ["team_name"]
    assert member.get("/config/me/effective").json()["team_name"] == "Platform Eng"
    refused = org_admin.patch("/admin/teams/team-platform/config", {"team_node_id": "x"})
    assert error_of(refused)["code"] == "invalid_field"


def test_admin_node_config_is_admin_only_and_scoped_to_the_org(
    member: ApiCaller, org_admin: ApiCaller, outsider_admin: ApiCaller, outsider_team: Node
) -> None:
    assert member.get("/admin/teams/org-acme/config").status_code == 403
    assert org_admin.get("/admin/teams/org-globex/config").status_code == 404
    assert org_admin.get("/admin/teams/Not_A_Slug/config").status_code == 404
    assert outsider_admin.get("/admin/teams/org-acme/config").status_code == 404


def test_trailing_slashes_are_tolerated(member: ApiCaller) -> None:
    assert member.get("/config/me/effective/").status_code == 200


def test_head_works_where_get_does_and_the_envelope_is_optional(member: ApiCaller) -> None:
    assert member.client.head("/api/v1/config/me/effective", headers=member._headers(None)).status_code == 200
    wrapped = member.get("/config/me/effective", envelope="true").json()
    assert wrapped["data"]["team_node_id"] == "team-platform"


@pytest.mark.parametrize(
    ("name", "error"),
    [
        (None, "must be a non-empty string"),
        ("   ", "must be a non-empty string"),
        (7, "must be a non-empty string"),
        ("x" * 201, "must be at most 200 characters"),
    ],
)
def test_a_bad_node_name_is_refused_as_a_configuration_value_and_nothing_is_written(
    org_admin: ApiCaller, team: Node, name: Any, error: str
) -> None:
    response = org_admin.put("/admin/teams/team-platform/config", {"team_name": name, "slack_channel": "#ops"})
    assert response.status_code == 400
    assert error_of(response)["code"] == "validation_error"
    assert error_of(response)["message"] == "Invalid configuration value"
    assert error_of(response)["details"] == {"field": "team_name", "error": error}
    team.refresh_from_db()
    assert team.name == "Platform"
    assert ConfigVersion.objects.count() == 0


def test_the_config_write_bodies_keep_every_key_as_sent_and_delegate_their_rules_to_the_schema() -> None:
    body = {"zeta": {"x": 1}, "agents": {"planner": {"prompt": None}}, "slack_channel": None, "custom_key": [1]}
    serializer = ConfigPatchIn(data=body)
    assert serializer.is_valid(), serializer.errors
    assert list(serializer.validated_data.items()) == list(body.items())
    with pytest.raises(ConfigFieldRefused, match="approval_workflows can only be changed by an org admin"):
        ConfigPatchIn(data={"approval_workflows": {}}).is_valid()
    admin = AdminNodeConfigIn(data={"team_name": "Ops", "approval_workflows": {}})
    assert admin.is_valid(), admin.errors
    with pytest.raises(ConfigFieldRefused, match="org_id is immutable"):
        AdminNodeConfigIn(data={"team_name": "Ops", "org_id": "x"}).is_valid()
