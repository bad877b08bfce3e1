"""The Datadog, Sentry and Coralogix config blocks: accepted with their secrets, validated, read by the engine."""

from __future__ import annotations

import json
from typing import Any

import pytest

from teamconfig.selectors import engine_settings_for_team
from tenancy.models import Node
from tests.conftest import ApiCaller

pytestmark = pytest.mark.django_db

DATADOG = {"enabled": True, "api_key": {"secret": "dd-api-9e1f"}, "app_key": {"secret": "dd-app-77c3"}}
SENTRY = {"enabled": True, "token": {"secret": "sntrys_abc"}, "organization": "acme", "projects": ["payments"]}
CORALOGIX = {"enabled": True, "api_key": {"secret": "cxup_1234"}, "domain": "eu2.coralogix.com"}


def test_a_datadog_block_is_stored_with_masked_keys_and_its_site_default(member: ApiCaller, team: Node) -> None:
    response = member.put("/config/me", {"tools": {"datadog": DATADOG}})
    assert response.status_code == 200, response.json()
    datadog = response.json()["effective_config"]["tools"]["datadog"]
    assert (datadog["api_key"], datadog["app_key"], datadog["site"]) == ("********", "********", "datadoghq.com")
    assert "dd-api-9e1f" not in response.content.decode()
    sources = engine_settings_for_team(team).data_sources
    assert (sources["datadog"]["api_key"], sources["datadog"]["app_key"]) == ("dd-api-9e1f", "dd-app-77c3")


def test_sentry_and_coralogix_blocks_are_accepted_and_handed_to_the_engine_resolved(
    member: ApiCaller, team: Node
) -> None:
    response = member.put("/config/me", {"tools": {"sentry": SENTRY, "coralogix": CORALOGIX}})
    assert response.status_code == 200, response.json()
    tools = response.json()["effective_config"]["tools"]
    assert (tools["sentry"]["token"], tools["sentry"]["base_url"]) == ("********", "https://sentry.io")
    sources = engine_settings_for_team(team).data_sources
    assert (sources["sentry"]["token"], sources["sentry"]["projects"]) == ("sntrys_abc", ["payments"])
    assert (sources["coralogix"]["api_key"], sources["coralogix"]["domain"]) == ("cxup_1234", "eu2.coralogix.com")


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"datadog": {"enabled": True, "api_key": {"secret": "k"}}}, "tools.datadog.app_key"),
        ({"datadog": {**DATADOG, "api_key": "dd-plain-key"}}, "tools.datadog.api_key"),
        ({"datadog": {**DATADOG, "base_url": "ftp://dd"}}, "tools.datadog.base_url"),
        ({"datadog": {**DATADOG, "region": "eu"}}, "tools.datadog.region"),
        ({"sentry": {"enabled": True, "token": {"secret": "t"}}}, "tools.sentry.organization"),
        ({"sentry": {**SENTRY, "projects": "payments"}}, "tools.sentry.projects"),
        ({"coralogix": {"enabled": True, "api_key": {"secret": "k"}}}, "tools.coralogix.domain"),
    ],
)
def test_bad_data_source_blocks_are_validation_errors_naming_the_field(
    member: ApiCaller, patch: dict[str, Any], field: str
) -> None:
    response = member.put("/config/me", {"tools": patch})
    assert response.status_code == 400, response.json()
    error = response.json()["error"]
    assert (error["code"], error["field"]) == ("validation_error", field)
    assert "dd-plain-key" not in response.content.decode()


def test_the_agents_list_the_datadog_and_sentry_tools_once_the_sources_are_enabled(member: ApiCaller) -> None:
    assert member.put("/config/me", {"tools": {"datadog": DATADOG, "sentry": SENTRY}}).status_code == 200
    agents = {agent["name"]: agent["tools"] for agent in member.get("/agents").json()["agents"]}
    assert {"query_datadog_metrics", "get_datadog_monitors"} <= set(agents["metrics_agent"])
    assert {"get_datadog_monitors", "list_datadog_events", "list_sentry_issues"} <= set(agents["investigation_agent"])
    assert agents["log_analysis_agent"][2:] == [
        "get_log_statistics",
        "search_logs_by_pattern",
        "extract_log_signatures",
    ]


def test_the_openapi_schema_documents_the_data_source_blocks_and_their_secrets(anonymous: ApiCaller) -> None:
    response = anonymous.client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    paths = json.loads(response.content)["paths"]
    put = next(ops["put"] for path, ops in paths.items() if path.rstrip("/") == "/api/v1/config/me")
    assert "`datadog`: api_key* (s), app_key* (s), site = datadoghq.com, base_url" in put["description"]
    assert "`sentry`: token* (s), organization*, projects, base_url = https://sentry.io" in put["description"]
    assert "`coralogix`: api_key* (s), domain*" in put["description"]
