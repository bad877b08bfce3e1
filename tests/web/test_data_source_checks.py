"""Testing a data source's connection: the engine's own connector, the one egress policy, secrets never echoed.

A real Prometheus (the binary the metrics tests use) answers the Prometheus check; loopback servers speaking each
API's wire format answer the others (Datadog, Sentry and Coralogix with the stand-ins of tests/engine/sources).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from teamconfig.connection_checks import checkable_sources
from teamconfig.models import NodeConfig
from teamconfig.services import config_update
from tenancy.models import Node, NodeType
from tests.conftest import SYSTEM
from tests.engine.part2.replay_server import replay_server
from tests.engine.sources import recorded
from tests.support.canned_http import canned_server
from tests.support.metrics_sim.prometheus import ToolMissing, empty, find_binaries
from tests.support.tools import skip_or_fail

pytestmark = pytest.mark.django_db

LOKI_TOKEN = "loki-topsecret-token"
DD_API_KEY, DD_APP_KEY = "dd-api-topsecret-4f1c", "dd-app-topsecret-0b7e"
SENTRY_TOKEN = "sntrys_topsecret_token"
CX_KEY = "cxup_topsecret_key"
DATADOG_ROUTES = {
    ("GET", "/api/v1/validate"): lambda s: (200, recorded.DATADOG_VALID, {}),
    ("GET", "/api/v1/monitor/search"): lambda s: (200, recorded.monitor_search(12), {}),
}
SENTRY_ROUTES = {("GET", "/api/0/organizations/acme/projects/"): lambda s: (200, recorded.SENTRY_PROJECTS, {})}
CORALOGIX_ROUTES = {
    ("POST", "/api/v1/dataprime/query"): lambda s: (200, recorded.coralogix_count_answer(48213), {}),
}
LOKI_ROUTES = {
    "/loki/api/v1/labels": (200, {"status": "success", "data": ["app", "namespace"]}),
    "/loki/api/v1/status/buildinfo": (200, {"version": "3.1.0"}),
}


@pytest.fixture(scope="module")
def prometheus_url() -> Iterator[str]:
    try:
        binaries = find_binaries()
    except ToolMissing as exc:
        skip_or_fail(str(exc))
    with empty(binaries=binaries) as url:
        yield url


def _save(team, tools):
    config_update(node=team, patch={"tools": tools}, meta=SYSTEM, admin=True)


def test_a_saved_prometheus_is_checked_against_the_real_server(member, team, prometheus_url):
    _save(team, {"prometheus": {"enabled": True, "url": prometheus_url}})
    response = member.post("/config/me/tools/prometheus/test")
    assert response.status_code == 200
    body = response.json()
    assert body["ok"] is True, body
    assert body["tool"] == "prometheus"
    assert body["message"].startswith("Prometheus 2.")
    assert "metric names" in body["message"]
    assert body["duration_ms"] >= 0


def test_unsaved_settings_are_checked_and_nothing_is_saved(member, team, prometheus_url):
    response = member.post("/config/me/tools/prometheus/test", {"settings": {"url": prometheus_url}})
    assert response.json()["ok"] is True
    assert not NodeConfig.objects.filter(node=team).exists()


def test_the_saved_secret_is_sent_to_the_source_and_never_returned(member, team):
    with canned_server(LOKI_ROUTES) as loki:
        _save(team, {"loki": {"enabled": True, "url": loki.url, "auth": {"secret": LOKI_TOKEN}}})
        body = member.post("/config/me/tools/loki/test").json()
    assert body == {**body, "ok": True, "message": "Loki 3.1.0 answered: 2 labels on recent streams"}
    assert loki.seen[0][1]["authorization"] == f"Bearer {LOKI_TOKEN}"


def test_a_refusal_names_the_status_and_masks_a_secret_the_source_echoes(member, team):
    routes = {"/loki/api/v1/labels": (401, {"message": f"bad token Bearer {LOKI_TOKEN}"})}
    with canned_server(routes) as loki:
        _save(team, {"loki": {"enabled": True, "url": loki.url, "auth": {"secret": LOKI_TOKEN}}})
        response = member.post("/config/me/tools/loki/test")
    body = response.json()
    assert response.status_code == 200
    assert body["ok"] is False
    assert body["message"].startswith("Loki returned 401 Unauthorized")
    assert LOKI_TOKEN not in response.content.decode()


def test_a_typed_secret_replaces_the_saved_one_for_the_check_only(member, team):
    routes: dict[str, tuple[int, Any]] = {"/_count": (200, {"count": 0}), "/logs-*/_count": (200, {"count": 1234})}
    routes["/"] = (200, {"cluster_name": "logs", "version": {"number": "8.15.0"}})
    with canned_server(routes) as elastic:
        _save(team, {"elasticsearch": {"enabled": True, "url": elastic.url, "api_key": {"secret": "old-key-1"}}})
        body = member.post(
            "/config/me/tools/elasticsearch/test", {"settings": {"api_key": {"secret": "new-key-2"}}}
        ).json()
    assert body["message"] == "Elasticsearch 8.15.0 answered: 1,234 documents in logs-*"
    assert {headers["authorization"] for _, headers in elastic.seen} == {"ApiKey new-key-2"}
    stored = NodeConfig.objects.get(node=team).overrides["tools"]["elasticsearch"]["api_key"]
    assert "new-key-2" not in str(stored)


def test_grafana_and_github_are_checked_through_their_own_apis(member, team):
    grafana_routes = {
        "/api/datasources": (200, [{"uid": "p1", "type": "prometheus"}, {"uid": "l1", "type": "loki"}]),
        "/api/health": (200, {"version": "11.2.0", "database": "ok"}),
    }
    github_routes = {
        "/rate_limit": (200, {"resources": {"core": {"limit": 5000, "remaining": 4990}}}),
        "/repos/acme/checkout": (200, {"full_name": "acme/checkout"}),
    }
    with canned_server(grafana_routes) as grafana, canned_server(github_routes) as github:
        grafana_check = member.post(
            "/config/me/tools/grafana/test", {"settings": {"url": grafana.url, "api_key": {"secret": "glsa_x1"}}}
        ).json()
        github_check = member.post(
            "/config/me/tools/github/test",
            {"settings": {"base_url": github.url, "token": {"secret": "ghp_x1"}, "default_repo": "acme/checkout"}},
        ).json()
    assert grafana_check["message"] == "Grafana 11.2.0 answered: 2 data sources (1 loki, 1 prometheus)"
    assert github_check["message"] == (
        "GitHub answered: 4990 of 5000 API requests left; repository acme/checkout is readable"
    )


def test_kubernetes_is_checked_with_the_kubeconfig_through_the_pinned_api_server(member, team):
    routes = {
        "/version/": (200, {"major": "1", "minor": "30", "gitVersion": "v1.30.2"}),
        "/api/v1/namespaces/default/pods": (200, {"kind": "PodList", "items": [{"metadata": {"name": "a"}}]}),
    }
    with canned_server(routes) as api:
        kubeconfig = (
            "apiVersion: v1\nkind: Config\ncurrent-context: c\n"
            f"clusters: [{{name: k, cluster: {{server: '{api.url}'}}}}]\n"
            "users: [{name: u, user: {token: kube-topsecret}}]\n"
            "contexts: [{name: c, context: {cluster: k, user: u}}]\n"
        )
        body = member.post("/config/me/tools/kubernetes/test", {"settings": {"kubeconfig": {"secret": kubeconfig}}})
    assert body.json()["message"] == "Kubernetes v1.30.2 answered: 1 pods in namespace default"
    assert api.seen[0][1]["authorization"] == "Bearer kube-topsecret"


def test_an_address_the_egress_policy_refuses_is_reported_and_not_contacted(member, team, settings):
    settings.EGRESS_ALLOW_LOOPBACK = False
    with canned_server(LOKI_ROUTES) as loki:
        body = member.post("/config/me/tools/loki/test", {"settings": {"url": loki.url}}).json()
    assert body["ok"] is False
    assert body["message"].startswith("Loki URL ")
    assert "refused" in body["message"]
    assert loki.seen == []


@pytest.mark.parametrize(
    ("tool", "changes", "status", "code"),
    [
        ("no_such_source", {}, 404, "not_found"),
        ("demo", {}, 404, "not_found"),
        ("prometheus", {"url": "ftp://metrics.example.com"}, 400, "validation_error"),
        ("prometheus", {"auth": "plain-secret-string"}, 400, "validation_error"),
        ("prometheus", {"no_such_key": 1}, 400, "validation_error"),
    ],
)
def test_bad_requests_get_the_documented_errors(member, tool, changes, status, code):
    response = member.post(f"/config/me/tools/{tool}/test", {"settings": changes})
    assert response.status_code == status
    assert response.json()["error"]["code"] == code
    assert "plain-secret-string" not in response.content.decode()


def test_a_read_only_token_may_not_run_a_check(read_only_member):
    assert read_only_member.post("/config/me/tools/prometheus/test").status_code == 403


def test_the_config_page_shows_secrets_as_set_and_tests_the_typed_settings(web_team_admin, team):
    with canned_server(LOKI_ROUTES) as loki:
        _save(team, {"loki": {"enabled": True, "url": loki.url, "auth": {"secret": LOKI_TOKEN}}})
        page = web_team_admin.get(f"/teams/{team.node_id}/config").content.decode()
        assert "Authorization (set)" in page
        assert "Authorization (not set)" in page  # Prometheus has none
        assert LOKI_TOKEN not in page
        response = web_team_admin.post(
            f"/teams/{team.node_id}/config",
            {"section": "tools.loki", "action": "test", "tools-loki-enabled": "on", "tools-loki-url": loki.url},
        )
    html = response.content.decode()
    assert response.status_code == 200
    assert "Connected." in html
    assert "Loki 3.1.0 answered: 2 labels on recent streams" in html
    assert LOKI_TOKEN not in html
    assert loki.seen[-1][1]["authorization"] == f"Bearer {LOKI_TOKEN}"  # kept: the field was left empty


def test_saving_a_data_source_form_keeps_the_secret_left_empty(web_team_admin, team):
    from teamconfig.selectors import engine_settings_for_team

    _save(team, {"loki": {"enabled": True, "url": "https://loki.example.com", "auth": {"secret": LOKI_TOKEN}}})
    response = web_team_admin.post(
        f"/teams/{team.node_id}/config",
        {
            "section": "tools.loki",
            "action": "save",
            "tools-loki-enabled": "on",
            "tools-loki-url": "https://l2.example.com",
        },
    )
    assert response.status_code == 302
    loki = engine_settings_for_team(team).data_sources["loki"]
    assert loki["url"] == "https://l2.example.com"
    assert loki["auth"] == LOKI_TOKEN


def test_a_failed_check_on_the_page_says_why_and_keeps_what_was_typed(web_team_admin, team):
    response = web_team_admin.post(
        f"/teams/{team.node_id}/config",
        {"section": "tools.prometheus", "action": "test", "tools-prometheus-url": "http://127.0.0.1:9"},
    )
    html = response.content.decode()
    assert "Connection failed." in html
    assert "Unable to connect to Prometheus" in html
    assert 'value="http://127.0.0.1:9"' in html


def test_aws_credentials_are_checked_with_sts_and_cloudwatch_borrows_them(member, team):
    from moto import mock_aws

    _save(
        team,
        {
            "aws": {
                "enabled": True,
                "region": "eu-west-1",
                "access_key_id": {"secret": "AKIAEXAMPLEKEY01"},
                "secret_access_key": {"secret": "aws-topsecret-value"},
            },
            "cloudwatch": {"enabled": True, "log_groups": ["/ecs/checkout"]},
        },
    )
    with mock_aws():
        aws = member.post("/config/me/tools/aws/test").json()
        cloudwatch = member.post("/config/me/tools/cloudwatch/test").json()
    assert aws["ok"] is True, aws
    assert aws["message"].startswith("AWS answered: signed in to account ")
    assert aws["message"].endswith(" in eu-west-1")
    assert cloudwatch["ok"] is True, cloudwatch


def test_the_openapi_schema_documents_the_check_and_the_session_auth_kind(anonymous):
    import json

    response = anonymous.client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    schema = json.loads(response.content)
    check = schema["paths"]["/api/v1/config/me/tools/{tool}/test/"]["post"]
    answer = check["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    assert set(schema["components"]["schemas"][answer]["properties"]) == {"tool", "ok", "message", "duration_ms"}
    body = check["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    assert "settings" in schema["components"]["schemas"][body]["properties"]
    kinds = schema["components"]["schemas"]["AuthKindEnum"]["enum"]
    assert kinds == ["team_token", "admin_token", "oidc_jwt", "session"]


def test_every_data_source_but_the_demo_has_a_connection_check():
    assert checkable_sources() == [
        "kubernetes",
        "aws",
        "cloudwatch",
        "prometheus",
        "loki",
        "elasticsearch",
        "datadog",
        "grafana",
        "coralogix",
        "sentry",
        "github",
    ]


def test_a_saved_datadog_is_checked_with_both_keys_and_neither_is_returned(member, team):
    with replay_server(DATADOG_ROUTES) as datadog:
        _save(
            team,
            {
                "datadog": {
                    "enabled": True,
                    "base_url": datadog.url,
                    "api_key": {"secret": DD_API_KEY},
                    "app_key": {"secret": DD_APP_KEY},
                }
            },
        )
        response = member.post("/config/me/tools/datadog/test")
    body = response.json()
    assert body == {**body, "tool": "datadog", "ok": True}
    assert body["message"] == "Datadog answered: API key valid for 127.0.0.1; 12 monitors readable"
    validate, search = datadog.seen
    assert validate.headers["DD-API-KEY"] == DD_API_KEY
    assert search.headers["DD-APPLICATION-KEY"] == DD_APP_KEY
    assert DD_API_KEY not in response.content.decode()
    assert DD_APP_KEY not in response.content.decode()


def test_a_refused_sentry_token_is_reported_naming_sentry_and_the_organization_and_never_the_token(member, team):
    routes = {("GET", "/api/0/organizations/acme/projects/"): lambda s: (401, {"detail": "Invalid token"}, {})}
    with replay_server(routes) as sentry:
        response = member.post(
            "/config/me/tools/sentry/test",
            {"settings": {"base_url": sentry.url, "organization": "acme", "token": {"secret": SENTRY_TOKEN}}},
        )
    body = response.json()
    assert response.status_code == 200
    assert (body["ok"], body["message"]) == (
        False,
        "Sentry refused the auth token (401 Unauthorized) for the projects of organization acme",
    )
    assert sentry.seen[0].headers["Authorization"] == f"Bearer {SENTRY_TOKEN}"
    assert SENTRY_TOKEN not in response.content.decode()


def test_sentry_and_coralogix_are_checked_through_their_own_apis(member, team):
    with replay_server(SENTRY_ROUTES) as sentry, replay_server(CORALOGIX_ROUTES) as coralogix:
        sentry_check = member.post(
            "/config/me/tools/sentry/test",
            {
                "settings": {
                    "base_url": sentry.url,
                    "organization": "acme",
                    "projects": ["checkout"],
                    "token": {"secret": SENTRY_TOKEN},
                }
            },
        ).json()
        coralogix_check = member.post(
            "/config/me/tools/coralogix/test",
            {
                "settings": {
                    "base_url": coralogix.url,
                    "domain": "eu2.coralogix.com",
                    "default_application": "prod",
                    "api_key": {"secret": CX_KEY},
                }
            },
        ).json()
    assert (
        sentry_check["message"]
        == "Sentry answered: organization acme has 2 projects; configured project checkout found"
    )
    assert coralogix_check["message"] == (
        "Coralogix answered: DataPrime query ran; 48,213 logs of application prod in the last 15 minutes"
    )
    assert coralogix.seen[0].body["query"] == "source logs | filter $l.applicationname == 'prod' | count"


@pytest.mark.parametrize(
    ("tool", "routes", "settings_for"),
    [
        (
            "datadog",
            DATADOG_ROUTES,
            lambda url: {"base_url": url, "api_key": {"secret": DD_API_KEY}, "app_key": {"secret": DD_APP_KEY}},
        ),
        (
            "sentry",
            SENTRY_ROUTES,
            lambda url: {"base_url": url, "organization": "acme", "token": {"secret": SENTRY_TOKEN}},
        ),
        (
            "coralogix",
            CORALOGIX_ROUTES,
            lambda url: {"base_url": url, "domain": "eu2.coralogix.com", "api_key": {"secret": CX_KEY}},
        ),
    ],
)
def test_a_datadog_sentry_or_coralogix_address_the_egress_policy_refuses_is_not_contacted(
    member, team, settings, tool, routes, settings_for
):
    settings.EGRESS_ALLOW_LOOPBACK = False
    with replay_server(routes) as server:
        response = member.post(f"/config/me/tools/{tool}/test", {"settings": settings_for(server.url)})
    body = response.json()
    assert body["ok"] is False
    assert body["message"].startswith(f"{tool.capitalize()} URL ")
    assert "refused" in body["message"]
    assert "127.0.0.1" not in body["message"]
    assert server.seen == []


def test_the_config_page_has_a_form_and_a_test_button_for_datadog_sentry_and_coralogix(web_team_admin, team):
    page = web_team_admin.get(f"/teams/{team.node_id}/config").content.decode()
    for name, title in (("datadog", "Datadog"), ("sentry", "Sentry"), ("coralogix", "Coralogix")):
        start = page.index(f'id="source-{name}"')
        card = page[start : page.index("</details>", start)]
        assert f'name="section" value="tools.{name}"' in card
        assert '<button type="submit" name="action" value="test">Test connection</button>' in card
        assert f"Save {title}" in card


def test_a_datadog_check_on_the_config_page_uses_the_typed_keys(web_team_admin, team):
    with replay_server(DATADOG_ROUTES) as datadog:
        response = web_team_admin.post(
            f"/teams/{team.node_id}/config",
            {
                "section": "tools.datadog",
                "action": "test",
                "tools-datadog-base_url": datadog.url,
                "tools-datadog-api_key": DD_API_KEY,
                "tools-datadog-app_key": DD_APP_KEY,
            },
        )
    html = response.content.decode()
    assert "Connected." in html
    assert "Datadog answered: API key valid for 127.0.0.1; 12 monitors readable" in html
    assert DD_API_KEY not in html
    assert DD_APP_KEY not in html
    assert datadog.seen[1].headers["DD-APPLICATION-KEY"] == DD_APP_KEY


def test_a_stored_secret_is_removed_from_its_form_and_never_echoed(web_team_admin, team):
    from teamconfig.selectors import engine_settings_for_team

    _save(team, {"loki": {"enabled": True, "url": "https://loki.example.com", "auth": {"secret": LOKI_TOKEN}}})
    page = web_team_admin.get(f"/teams/{team.node_id}/config").content.decode()
    assert 'name="tools-loki-remove_auth"' in page
    assert "Remove the stored authorization" in page
    assert 'name="tools-prometheus-remove_auth"' not in page  # nothing stored, nothing to remove
    assert LOKI_TOKEN not in page
    response = web_team_admin.post(
        f"/teams/{team.node_id}/config",
        {
            "section": "tools.loki",
            "action": "save",
            "tools-loki-enabled": "on",
            "tools-loki-url": "https://loki.example.com",
            "tools-loki-remove_auth": "on",
        },
    )
    assert response.status_code == 302
    loki = engine_settings_for_team(team).data_sources["loki"]
    assert loki["url"] == "https://loki.example.com"
    assert "auth" not in loki
    assert "auth" not in NodeConfig.objects.get(node=team).overrides["tools"]["loki"]
    page = web_team_admin.get(f"/teams/{team.node_id}/config").content.decode()
    assert "Authorization (not set)" in page
    assert 'name="tools-loki-remove_auth"' not in page


def test_typing_a_new_secret_and_removing_the_stored_one_at_once_is_refused_without_echoing_either(
    web_team_admin, team
):
    from teamconfig.selectors import engine_settings_for_team

    _save(team, {"loki": {"enabled": True, "url": "https://loki.example.com", "auth": {"secret": LOKI_TOKEN}}})
    response = web_team_admin.post(
        f"/teams/{team.node_id}/config",
        {
            "section": "tools.loki",
            "action": "save",
            "tools-loki-enabled": "on",
            "tools-loki-url": "https://loki.example.com",
            "tools-loki-auth": "typed-new-token-987",
            "tools-loki-remove_auth": "on",
        },
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert "Either type a new Authorization or remove the stored one, not both." in html
    assert "typed-new-token-987" not in html
    assert LOKI_TOKEN not in html
    assert engine_settings_for_team(team).data_sources["loki"]["auth"] == LOKI_TOKEN


def test_a_connection_test_with_the_secret_marked_for_removal_runs_without_it(web_team_admin, team):
    with canned_server(LOKI_ROUTES) as loki:
        _save(team, {"loki": {"enabled": True, "url": loki.url, "auth": {"secret": LOKI_TOKEN}}})
        web_team_admin.post(
            f"/teams/{team.node_id}/config",
            {"section": "tools.loki", "action": "test", "tools-loki-url": loki.url, "tools-loki-remove_auth": "on"},
        )
    assert "authorization" not in loki.seen[-1][1]


def test_a_secret_set_above_the_team_cannot_be_removed_from_the_teams_form(web_team_admin, team):
    org_root = Node.objects.get(org=team.org, node_type=NodeType.ORG)
    config_update(
        node=org_root,
        patch={"tools": {"loki": {"url": "https://loki.example.com", "auth": {"secret": LOKI_TOKEN}}}},
        meta=SYSTEM,
        admin=True,
    )
    page = web_team_admin.get(f"/teams/{team.node_id}/config").content.decode()
    assert "Authorization (set)" in page
    assert 'name="tools-loki-remove_auth"' not in page
    assert "Set by the org or a group above this team" in page
