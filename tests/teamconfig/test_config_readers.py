"""No config-only features: every key the schema accepts has code that reads it, or validation refuses it.

The readers register themselves (``teamconfig.readers``); this test imports every application module so the
registry is complete, then walks the keys the schema derives from its own tables.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

import pytest

from engine import BUILTIN_AGENTS, TOOL_CATALOG
from engine.agents import agent_tools
from engine.registry import is_implemented
from teamconfig.errors import ConfigInvalid
from teamconfig.readers import readers_of
from teamconfig.schema import (
    NOT_SUPPORTED,
    SYSTEM_DEFAULTS,
    check_patch_keys,
    documented_keys,
    not_supported_reason,
    validate_effective,
)
from tests.conftest import ApiCaller

APPS = ("teamconfig", "alerts", "investigations", "webhooks", "knowledge", "tenancy", "web", "incidentfox_web")


@pytest.fixture(scope="module", autouse=True)
def _import_every_reader() -> None:
    for app in APPS:
        package = importlib.import_module(app)
        for module in pkgutil.walk_packages(package.__path__, f"{app}."):
            if ".migrations" not in module.name and not module.name.endswith(("asgi", "wsgi")):
                importlib.import_module(module.name)


def _sample(key: str) -> dict[str, Any]:
    """A patch giving ``key`` a real (non-default, non-empty) value."""
    samples: dict[str, Any] = {
        "slack_channel": "#incidents",
        "slack_group_to_ping": "@oncall",
        "a2a_agents": ["grafana"],
        "knowledge_source.*": ["https://wiki.example.com/space"],
        "feature_flags.*": True,
        "approval_workflows.actions.*": {"required_approvers": 1},
    }
    value: Any
    if key in samples:
        value = samples[key]
    elif key.startswith("feature_flags."):
        value = not SYSTEM_DEFAULTS["feature_flags"][key.split(".")[1]]
    elif key.startswith("tools."):
        value = {"enabled": True}
    else:
        raise AssertionError(f"no sample value for {key}: add one so its refusal is tested")
    patch: dict[str, Any] = {}
    node = patch
    parts = [part if part != "*" else "chosen_name" for part in key.split(".")]
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value
    return patch


def test_every_top_level_default_is_enumerated_by_the_schema() -> None:
    enumerated = {key.split(".")[0] for key in documented_keys()}
    assert enumerated == set(SYSTEM_DEFAULTS)


@pytest.mark.parametrize("key", documented_keys())
def test_every_accepted_config_key_has_a_reader_or_is_refused(key: str) -> None:
    reason = not_supported_reason(key)
    if reason is None:
        assert readers_of(key), f"{key} is accepted but nothing reads it: build its reader or add it to NOT_SUPPORTED"
        return
    assert not readers_of(key), f"{key} has a reader now: remove it from NOT_SUPPORTED"
    with pytest.raises(ConfigInvalid) as refused:
        check_patch_keys(_sample(key), admin=True)
    assert refused.value.error.startswith("not supported yet"), refused.value.error


def test_not_supported_patterns_all_name_documented_keys() -> None:
    documented = set(documented_keys())
    assert set(NOT_SUPPORTED) <= documented


def test_clearing_an_unsupported_key_or_writing_its_default_stays_allowed() -> None:
    check_patch_keys(
        {
            "slack_channel": None,
            "mcp_servers": [],
            "knowledge_source": {},
            "feature_flags": {"require_approval": True, "enable_write_actions": False},
            "approval_workflows": {"actions": {}},
            "tools": {"datadog": None},
        },
        admin=True,
    )


def test_a_catalog_tool_without_an_implementation_is_never_listed_or_accepted() -> None:
    unbuilt = [tool for tool in TOOL_CATALOG if not is_implemented(tool)]
    everything = {"kubernetes": {}, "prometheus": {}, "loki": {}, "aws": {}, "cloudwatch": {}, "github": {}}
    for agent in BUILTIN_AGENTS:
        assert not set(unbuilt) & set(agent_tools(agent, {}, everything)), agent
    for tool in unbuilt:
        with pytest.raises(ConfigInvalid) as refused:
            validate_effective(
                {**SYSTEM_DEFAULTS, "agents": {"k8s_agent": {"enable_extra_tools": [tool]}}},
                allow_private_webhooks=False,
            )
        assert refused.value.error.startswith("not supported yet")


@pytest.mark.django_db
def test_a_config_only_key_is_refused_through_the_api_with_a_validation_error(member: ApiCaller) -> None:
    response = member.put("/config/me", {"a2a_agents": ["grafana"]})
    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["code"], error["details"]["field"]) == ("validation_error", "a2a_agents")
    assert error["details"]["error"].startswith("not supported yet")
