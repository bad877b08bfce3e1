"""Inheritance down a four-level tree, the selectors other apps use, and the constant query count."""

from __future__ import annotations

from typing import Any

import pytest

from teamconfig.models import NodeConfig
from teamconfig.selectors import (
    agent_settings_for_team,
    config_raw_for_team,
    effective_config_for_team,
    engine_settings_for_team,
)
from tenancy.models import Node, NodeType
from tenancy.services import node_create
from tests.conftest import ApiCaller
from tests.teamconfig.conftest import SYSTEM, Tree, admin_write

pytestmark = pytest.mark.django_db


def test_each_level_overrides_the_one_above_and_objects_merge_across_all_four(tree: Tree) -> None:
    admin_write(
        tree.root,
        {"webhooks": {"investigation_complete": "https://hooks.example.com/org"}, "alerts": {"disabled": ["Watchdog"]}},
    )
    admin_write(
        tree.division,
        {
            "webhooks": {"investigation_complete": "https://hooks.example.com/eng"},
            "tools": {"prometheus": {"url": "https://prom.eng.example.com"}},
        },
    )
    admin_write(
        tree.group,
        {"alerts": {"disabled": ["Watchdog", "InfoInhibitor"]}, "tools": {"prometheus": {"enabled": True}}},
    )
    admin_write(tree.team, {"webhooks": {"investigation_complete": "https://hooks.example.com/checkout"}})
    effective = effective_config_for_team(tree.team)
    assert effective["webhooks"]["investigation_complete"] == "https://hooks.example.com/checkout"
    assert effective["alerts"]["disabled"] == ["Watchdog", "InfoInhibitor"]
    assert effective["feature_flags"]["require_approval"] is True
    prometheus = effective["tools"]["prometheus"]
    assert (prometheus["url"], prometheus["enabled"]) == ("https://prom.eng.example.com", True)


def test_arrays_are_replaced_by_the_lower_level_never_concatenated(tree: Tree) -> None:
    admin_write(
        tree.root,
        {
            "alerts": {"disabled": ["Watchdog", "InfoInhibitor"]},
            "agents": {"investigation_agent": {"disable_default_tools": ["list_pull_requests"]}},
        },
    )
    admin_write(tree.group, {"alerts": {"disabled": ["TargetDown"]}})
    assert effective_config_for_team(tree.team)["alerts"] == {"disabled": ["TargetDown"]}
    admin_write(tree.team, {"agents": {"investigation_agent": {"disable_default_tools": []}}})
    effective = effective_config_for_team(tree.team)
    assert effective["alerts"] == {"disabled": ["TargetDown"]}
    assert effective["agents"]["investigation_agent"]["disable_default_tools"] == []
    admin_write(tree.team, {"alerts": {"disabled": []}})
    assert effective_config_for_team(tree.team)["alerts"] == {"disabled": []}


def test_null_deletes_the_teams_own_override_so_the_inherited_value_shows(tree: Tree) -> None:
    admin_write(tree.division, {"agents": {"investigation_agent": {"prompt": "Division prompt", "max_turns": 40}}})
    admin_write(tree.team, {"agents": {"investigation_agent": {"prompt": "Team prompt"}}})
    assert effective_config_for_team(tree.team)["agents"]["investigation_agent"]["prompt"] == "Team prompt"
    admin_write(tree.team, {"agents": {"investigation_agent": {"prompt": None}}})
    agent = effective_config_for_team(tree.team)["agents"]["investigation_agent"]
    assert (agent["prompt"], agent["max_turns"]) == ("Division prompt", 40)
    assert NodeConfig.objects.get(node=tree.team).overrides == {}


def test_explicit_off_values_switch_off_inherited_ones(tree: Tree) -> None:
    admin_write(
        tree.root, {"webhooks": {"investigation_complete": "https://hooks.acme.com/x"}, "llm": {"provider": "openai"}}
    )
    admin_write(tree.team, {"webhooks": {"investigation_complete": ""}, "llm": {"provider": "none"}})
    settings = engine_settings_for_team(tree.team)
    assert settings.webhook_url is None
    assert settings.llm == {"provider": "none"}


def test_a_value_changed_at_the_org_reaches_every_descendant_without_writing_to_them(tree: Tree) -> None:
    sibling = node_create(org=tree.org, node_id="team-ledger", name="Ledger", parent=tree.group, meta=SYSTEM)
    admin_write(tree.root, {"webhooks": {"investigation_complete": "https://hooks.example.com/v1"}})
    admin_write(tree.root, {"webhooks": {"investigation_complete": "https://hooks.example.com/v2"}})
    for team in (tree.team, sibling):
        effective = effective_config_for_team(team)
        assert effective["webhooks"]["investigation_complete"] == "https://hooks.example.com/v2"
    assert not NodeConfig.objects.filter(node__in=[tree.team, sibling, tree.group, tree.division]).exists()


def test_raw_lists_all_four_lineage_levels_root_first(tree: Tree) -> None:
    admin_write(tree.group, {"alerts": {"disabled": ["Watchdog"]}})
    raw = config_raw_for_team(tree.team)
    assert raw["lineage"] == ["org-acme", "engineering", "payments-group", "team-checkout"]
    assert raw["configs"] == {
        "org-acme": {},
        "engineering": {},
        "payments-group": {"alerts": {"disabled": ["Watchdog"]}},
        "team-checkout": {},
    }
    assert raw["version"] == 0


def test_validation_sees_values_inherited_from_every_level(tree: Tree, tree_member: ApiCaller) -> None:
    admin_write(tree.division, {"tools": {"prometheus": {"url": "https://prom.acme.com"}}})
    response = tree_member.put("/config/me", {"tools": {"prometheus": {"enabled": True}}})
    assert response.status_code == 200, response.json()
    assert response.json()["effective_config"]["tools"]["prometheus"] == {
        "enabled": True,
        "timeout": 30,
        "url": "https://prom.acme.com",
    }


def test_engine_settings_carry_enabled_sources_agents_llm_webhook_and_alerts(
    tree: Tree, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin_write(
        tree.root,
        {
            "tools": {"demo": {"enabled": True, "scenario": "db-pool"}, "kubernetes": {"default_namespace": "x"}},
            "agents": {
                "k8s_agent": {"enabled": False},
                "ci_agent": {"prompt": "Check CI", "enable_extra_tools": ["list_pull_requests"]},
            },
            "llm": {"provider": "openai", "model": "gpt-4o", "api_key": "env://INCIDENTFOX_TEAM_SECRET_LLM_KEY"},
            "webhooks": {"investigation_complete": "https://hooks.acme.com/if"},
            "alerts": {"disabled": ["Watchdog"]},
        },
    )
    monkeypatch.setenv("INCIDENTFOX_TEAM_SECRET_LLM_KEY", "sk-live-123")
    settings = engine_settings_for_team(tree.team)
    assert settings.data_sources == {"demo": {"timeout": 30, "scenario": "db-pool"}}
    assert settings.agents["k8s_agent"]["enabled"] is False
    assert settings.agents["ci_agent"]["prompt"] == "Check CI"
    assert settings.agents["ci_agent"]["enable_extra_tools"] == ["list_pull_requests"]
    assert settings.llm == {"provider": "openai", "model": "gpt-4o", "api_key": "sk-live-123"}
    assert settings.webhook_url == "https://hooks.acme.com/if"
    assert settings.alerts_disabled == ["Watchdog"]
    assert agent_settings_for_team(tree.team) == settings.agents


def _chain(org_root: Node, depth: int) -> Node:
    """A team ``depth`` levels deep (root = level 1), each level defining its own custom agent."""
    parent = org_root
    admin_write(org_root, _level_agent(1))
    for level in range(2, depth):
        parent = node_create(
            org=org_root.org,
            node_id=f"g{depth}-{level}",
            name=f"G{level}",
            parent=parent,
            node_type=NodeType.GROUP,
            meta=SYSTEM,
        )
        admin_write(parent, _level_agent(level))
    team = node_create(org=org_root.org, node_id=f"t{depth}", name=f"T{depth}", parent=parent, meta=SYSTEM)
    admin_write(team, _level_agent(depth))
    return team


def _level_agent(level: int) -> dict[str, Any]:
    return {"agents": {f"level{level}_agent": {"prompt": f"Level {level} runbook."}}}


@pytest.mark.parametrize("depth", [2, 4, 8])
def test_effective_config_costs_one_query_at_any_depth_up_to_eight(
    tree: Tree, depth: int, django_assert_max_num_queries: Any
) -> None:
    team = Node.objects.get(pk=_chain(tree.root, depth).pk)  # fresh instance: nothing cached
    with django_assert_max_num_queries(1):
        effective = effective_config_for_team(team)
    agents = effective["agents"]
    assert [agents[f"level{level}_agent"]["prompt"] for level in range(1, depth + 1)] == [
        f"Level {level} runbook." for level in range(1, depth + 1)
    ]


def test_the_effective_endpoint_makes_the_same_number_of_queries_at_depth_two_and_eight(tree: Tree) -> None:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from tenancy.models import TokenKind
    from tenancy.services import api_token_issue

    counts = []
    for depth in (2, 8):
        team = _chain(tree.root, depth)
        token = api_token_issue(org=tree.org, kind=TokenKind.TEAM, team=team, meta=SYSTEM).plaintext
        caller = ApiCaller(Client(), token, team)
        caller.get("/config/me/effective")  # warm per-process caches
        with CaptureQueriesContext(connection) as queries:
            assert caller.get("/config/me/effective").status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]
