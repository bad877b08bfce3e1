"""Issue 16, tried as an attacker would: every vector through the real API, with team, group-admin (an OIDC user of
the org's admin group) and org-admin credentials of two orgs.

Each refused vector points at a loopback receiver that counts TCP connections: zero means nothing left the
process. Where a secret is involved, the responses, the server log, the audit log and the config history are
searched for it (and its encodings) afterwards.
"""

from __future__ import annotations

import base64
import io
import json
import logging
import time
from typing import Any
from urllib.parse import quote

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from django.core.management import CommandError, call_command
from django.test import Client
from jwt.algorithms import RSAAlgorithm

from engine.connectors import ToolFailure
from engine.registry import connector_factory
from investigations.models import Investigation, InvestigationStep
from teamconfig.models import NodeConfig
from teamconfig.selectors import engine_settings_for_team
from tenancy.models import Node, Organization
from tenancy.oidc_jwt import jwks_cache
from tests.conftest import ApiCaller
from tests.security.conftest import Answer, CountingServer

SECRET = "S8PROM-7f3c9a1e5b2d4c6e8a0b"
SERVER_SECRET = "server-own-secret-key-0123456789abcdef"
ISSUER = "https://idp.acme.test"
CLIENT_ID = "incidentfox-acme"
TEAM_CONFIG = "/admin/teams/team-platform/config"


def _forms(secret: str) -> list[str]:
    raw = secret.encode()
    return [secret, base64.b64encode(raw).decode(), quote(secret, safe=""), base64.urlsafe_b64encode(raw).decode()]


@pytest.fixture(autouse=True)
def _production_egress(settings: Any, team: Node) -> Any:
    """The production defaults (for org A and its team), except that 127.0.0.2 (the JWKS below) is allowlisted."""
    settings.CONFIG_ENCRYPTION_KEYS = {"1": "red-team-key-material-0123456789"}
    settings.EGRESS_ALLOW_LOOPBACK = False
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False
    settings.EGRESS_ALLOWED_NETWORKS = ["127.0.0.2/32"]
    settings.EGRESS_DENIED_NETWORKS = []
    settings.ALLOW_AMBIENT_CLOUD_CREDENTIALS = False
    return settings


@pytest.fixture
def group_admin(org: Organization, team: Node) -> Any:
    """An OIDC user in org A's admin group, its JWT verified against a JWKS served on allowlisted 127.0.0.2."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwks = CountingServer("127.0.0.2")
    jwks.answer = Answer(
        200, json.dumps({"keys": [{**json.loads(RSAAlgorithm.to_jwk(key.public_key())), "kid": "k1"}]}).encode()
    )
    org.oidc_issuer, org.oidc_client_id, org.oidc_jwks_uri = ISSUER, CLIENT_ID, jwks.url(path="/jwks")
    org.oidc_admin_group = "sre-admins"
    org.save()
    jwks_cache.clear()
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": CLIENT_ID, "sub": "u1", "iat": now, "exp": now + 600, "groups": ["sre-admins"]}
    token = jwt.encode(claims, key, algorithm="RS256", headers={"kid": "k1"})
    yield ApiCaller(Client(), token)
    jwks.stop()
    jwks_cache.clear()


def _caller(request: pytest.FixtureRequest, name: str) -> ApiCaller:
    caller: ApiCaller = request.getfixturevalue(name)
    return caller


def _write(caller: ApiCaller, patch: dict[str, Any], *, admin_path: str = TEAM_CONFIG) -> Any:
    """A team writes its own config; an admin (org token or admin-group JWT) writes the team's node."""
    if caller.team is not None:
        return caller.put("/config/me", patch)
    return caller.put(admin_path, patch)


# -- 1. secret references are the operator's decision ---------------------------------------------------------
FORBIDDEN_REFERENCES = [
    "env://SECRET_KEY",
    "env://TOKEN_PEPPERS",
    "env://CONFIG_ENCRYPTION_KEYS",
    "env://DATABASE_URL",
    "file:///proc/self/environ",
    "file:///etc/passwd",
    "vault://secret/shared/prometheus",
    "vault://incidentfox/org-globex/prometheus",  # another org's prefix
    "vault://incidentfox/org-acme/../org-globex/prometheus",  # climbing out of the org's prefix
    "vault://incidentfox/org-acme",  # the prefix itself is not a secret of the org
]


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["member", "org_admin", "group_admin"])
@pytest.mark.parametrize("reference", FORBIDDEN_REFERENCES)
def test_a_reference_outside_the_operators_rules_is_a_validation_error_on_write(
    request: pytest.FixtureRequest, receiver: CountingServer, persona: str, reference: str
) -> None:
    caller = _caller(request, persona)
    prometheus = {"enabled": True, "url": receiver.url(), "auth": reference}
    response = _write(caller, {"tools": {"prometheus": prometheus}})
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert (error["code"], error["field"]) == ("validation_error", "tools.prometheus.auth")
    assert not NodeConfig.objects.filter(node__node_id="team-platform", overrides__has_key="tools").exists()
    assert receiver.connections == 0


@pytest.mark.django_db
def test_teams_may_not_write_references_at_all_by_default_but_admins_may_inside_the_rules(
    member: ApiCaller, org_admin: ApiCaller, settings: Any
) -> None:
    allowed = "env://INCIDENTFOX_TEAM_SECRET_PROM"
    refused = member.put("/config/me", {"tools": {"prometheus": {"url": "https://prom.acme.com", "auth": allowed}}})
    assert refused.status_code == 400
    assert "only org admins" in refused.json()["error"]["details"]["error"]
    accepted = org_admin.put(TEAM_CONFIG, {"tools": {"prometheus": {"url": "https://prom.acme.com", "auth": allowed}}})
    assert accepted.status_code == 200, accepted.content
    settings.SECRET_REFERENCE_WRITERS = "teams"
    vault = "vault://incidentfox/org-acme/prometheus#token"
    assert member.put("/config/me", {"tools": {"prometheus": {"auth": vault}}}).status_code == 200


@pytest.mark.django_db
def test_another_orgs_admin_cannot_name_this_orgs_vault_path(outsider_admin: ApiCaller, outsider_team: Node) -> None:
    patch = {"tools": {"github": {"token": "vault://incidentfox/org-acme/github#token"}}}
    response = outsider_admin.put(f"/admin/teams/{outsider_team.node_id}/config", patch)
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "tools.github.token"
    own = {"tools": {"github": {"token": "vault://incidentfox/org-globex/github#token"}}}
    assert outsider_admin.put(f"/admin/teams/{outsider_team.node_id}/config", own).status_code == 200


@pytest.mark.django_db(transaction=True)
def test_a_stored_reference_outside_the_rules_is_a_configuration_error_and_never_resolved(
    member: ApiCaller, team: Node, receiver: CountingServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reference stored before the rules existed: the run fails naming the source, the server's value is never
    sent anywhere, and the management command lists it."""
    monkeypatch.setenv("SECRET_KEY", SERVER_SECRET)
    NodeConfig.objects.create(
        org_id=team.org_id,
        node=team,
        version=1,
        overrides={"tools": {"prometheus": {"enabled": True, "url": receiver.url(), "auth": "env://SECRET_KEY"}}},
    )
    response = member.post("/agents/run", {"agent_name": "planner", "message": "latency", "async": False})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "failed"
    assert body["error"]["code"] == "configuration_error"
    assert "prometheus" in body["error"]["message"]
    assert "env:// names must start with INCIDENTFOX_TEAM_SECRET_" in body["error"]["message"]
    assert SERVER_SECRET not in response.content.decode()
    assert receiver.connections == 0

    out = io.StringIO()
    with pytest.raises(CommandError, match="1 stored reference"):
        call_command("config_references_check", stdout=out)
    assert "org-acme/team-platform config tools.prometheus.auth: env://SECRET_KEY" in out.getvalue()


# -- 2. one egress policy for every tenant URL ----------------------------------------------------------------
DATA_SOURCE_URLS = [
    ("prometheus", "url", "Prometheus", {"auth": {"secret": SECRET}}),
    ("loki", "url", "Loki", {"auth": {"secret": SECRET}}),
    ("elasticsearch", "url", "Elasticsearch", {"api_key": {"secret": SECRET}}),
    ("grafana", "url", "Grafana data source prom", {"api_key": {"secret": SECRET}, "default_datasource": "prom"}),
    ("github", "base_url", "GitHub", {"token": {"secret": SECRET}, "default_repo": "acme/payments"}),
]
LOOPBACK_HOSTS = ["127.0.0.1", "localhost", "2130706433", "0x7f000001", "017700000001", "127.1", "[::ffff:127.0.0.1]"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("tool", "field", "name", "extra"), DATA_SOURCE_URLS)
@pytest.mark.parametrize("host", LOOPBACK_HOSTS)
def test_a_data_source_url_pointing_at_the_server_itself_is_refused_and_recorded_on_the_tool_call(
    org_admin: ApiCaller, member: ApiCaller, receiver: CountingServer, tool: str, field: str, name: str,
    extra: dict[str, Any], host: str,
) -> None:  # fmt: skip
    configured = org_admin.put(TEAM_CONFIG, {"tools": {tool: {"enabled": True, field: receiver.url(host), **extra}}})
    assert configured.status_code == 200, configured.content
    run = {"agent_name": "planner", "message": "payments errors", "context": {"service": "payments"}, "async": False}
    response = member.post("/agents/run", run)
    assert response.status_code == 200, response.content
    assert response.json()["status"] in ("failed", "completed")
    steps = InvestigationStep.objects.filter(investigation_id=response.json()["investigation_id"])
    errors = {step.error for step in steps if not step.ok}
    assert f"{name} URL resolves to a refused address" in errors, errors
    assert receiver.connections == 0


@pytest.mark.django_db(transaction=True)
def test_the_cloud_metadata_service_is_refused_as_a_data_source(org_admin: ApiCaller, member: ApiCaller) -> None:
    org_admin.put(TEAM_CONFIG, {"tools": {"prometheus": {"enabled": True, "url": "http://169.254.169.254/latest"}}})
    response = member.post("/agents/run", {"agent_name": "planner", "message": "latency", "async": False})
    steps = InvestigationStep.objects.filter(investigation_id=response.json()["investigation_id"])
    assert {step.error for step in steps} == {"Prometheus URL resolves to a refused address"}


@pytest.mark.django_db(transaction=True)
def test_an_llm_base_url_pointing_at_the_server_is_refused(
    org_admin: ApiCaller, member: ApiCaller, receiver: CountingServer
) -> None:
    llm = {
        "provider": "openai_compatible",
        "model": "m",
        "base_url": receiver.url(path="/v1"),
        "api_key": {"secret": SECRET},
    }
    assert org_admin.put(TEAM_CONFIG, {"llm": llm, "tools": {"demo": {"enabled": True}}}).status_code == 200
    response = member.post("/agents/run", {"agent_name": "planner", "message": "latency", "async": False})
    body = response.json()
    assert body["status"] == "failed"
    assert body["error"]["code"] == "llm_unavailable"
    assert "base_url resolves to a refused address" in body["error"]["message"]
    assert SECRET not in response.content.decode()
    assert receiver.connections == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    "host", ["127.0.0.1", "2130706433", "0x7f000001", "017700000001", "127.1", "[::1]", "169.254.169.254"]
)
def test_an_oidc_issuer_or_jwks_uri_on_a_refused_literal_address_is_a_validation_error(
    org_admin: ApiCaller, host: str
) -> None:
    issuer = org_admin.patch("/admin/settings", {"oidc": {"issuer": f"https://{host}/", "client_id": "x"}})
    assert issuer.status_code == 400, issuer.content
    assert issuer.json()["error"]["field"] == "oidc.issuer"
    jwks = {"issuer": "https://idp.acme.com", "client_id": "x", "jwks_uri": f"https://{host}/keys"}
    response = org_admin.patch("/admin/settings", {"oidc": jwks})
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "oidc.jwks_uri"


@pytest.mark.django_db
def test_oidc_discovery_triggered_by_an_unauthenticated_request_never_reaches_a_refused_address(
    org_admin: ApiCaller, anonymous: ApiCaller, receiver: CountingServer
) -> None:
    issuer = f"https://localhost:{receiver.port}"  # a name: accepted on write, refused when resolved
    response = org_admin.patch("/admin/settings", {"oidc": {"issuer": issuer, "client_id": "probe"}})
    assert response.status_code == 200, response.content
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = int(time.time())
    forged = jwt.encode({"iss": issuer, "aud": "probe", "sub": "x", "iat": now, "exp": now + 60}, key, "RS256")
    anonymous.token = forged
    assert anonymous.get("/auth/me").status_code == 401
    assert receiver.connections == 0


# -- 3. no ambient credentials ----------------------------------------------------------------------------------
@pytest.mark.django_db(transaction=True)
def test_kubernetes_without_a_kubeconfig_never_borrows_the_servers_service_account(
    member: ApiCaller, settings: Any
) -> None:
    assert member.put("/config/me", {"tools": {"kubernetes": {"enabled": True}}}).status_code == 200
    response = member.post("/agents/run", {"agent_name": "planner", "message": "pods crashing", "async": False})
    steps = InvestigationStep.objects.filter(investigation_id=response.json()["investigation_id"])
    assert {step.error for step in steps} == {"Kubernetes is enabled but has no kubeconfig"}
    settings.ALLOW_AMBIENT_CLOUD_CREDENTIALS = True  # the operator's opt-in: in-cluster mode is tried
    response = member.post("/agents/run", {"agent_name": "planner", "message": "pods crashing", "async": False})
    steps = InvestigationStep.objects.filter(investigation_id=response.json()["investigation_id"])
    assert {step.error for step in steps} == {"Kubernetes configuration is invalid (ConfigException)"}


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["member", "org_admin"])
def test_a_kubeconfig_path_on_the_server_is_a_validation_error(request: pytest.FixtureRequest, persona: str) -> None:
    caller = _caller(request, persona)
    response = _write(caller, {"tools": {"kubernetes": {"kubeconfig": {"secret": "/root/.kube/config"}}}})
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "tools.kubernetes.kubeconfig.secret"


@pytest.mark.django_db(transaction=True)
def test_a_kubeconfig_that_runs_a_command_or_reads_a_file_on_the_server_is_refused(member: ApiCaller) -> None:
    kubeconfig = (
        "apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: 'https://k8s.acme.com'}}]\n"
        "users: [{name: u, user: {exec: {command: /bin/sh, args: [-c, 'curl evil'], apiVersion: "
        "client.authentication.k8s.io/v1}}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\n"
        "current-context: x\n"
    )
    patch = {"tools": {"kubernetes": {"enabled": True, "kubeconfig": {"secret": kubeconfig}}}}
    assert member.put("/config/me", patch).status_code == 200
    response = member.post("/agents/run", {"agent_name": "planner", "message": "pods crashing", "async": False})
    steps = InvestigationStep.objects.filter(investigation_id=response.json()["investigation_id"])
    assert {step.error for step in steps} == {"Kubernetes kubeconfig may not use 'exec' (it reads the server's files)"}


@pytest.mark.django_db
def test_aws_without_keys_or_an_external_id_never_uses_the_servers_identity(
    member: ApiCaller, team: Node, settings: Any
) -> None:
    """The planner only reaches AWS from other evidence, so the connector is built here from the settings a run
    would get (the same selector, the same factory)."""
    role = "arn:aws:iam::123456789012:role/incidentfox"
    patch = {"tools": {"aws": {"enabled": True, "assume_role": role, "ambient_credentials": True}}}
    assert member.put("/config/me", patch).status_code == 400  # the mark is the operator's, never the config's
    assert member.put("/config/me", {"tools": {"aws": {"enabled": True, "assume_role": role}}}).status_code == 200
    factory = connector_factory("aws")
    assert factory is not None
    with pytest.raises(ToolFailure, match="AWS needs an access key or a role to assume with an external id"):
        factory(engine_settings_for_team(team).data_sources["aws"])
    assert member.put("/config/me", {"tools": {"aws": {"assume_role": None}}}).status_code == 200
    with pytest.raises(ToolFailure, match="AWS needs an access key"):
        factory(engine_settings_for_team(team).data_sources["aws"])  # region only: boto3's chain would serve it
    settings.ALLOW_AMBIENT_CLOUD_CREDENTIALS = True  # a single-tenant install's opt-in: the chain is used
    assert factory(engine_settings_for_team(team).data_sources["aws"]).region == "us-east-1"


# -- 4. known secrets never stored in tool output ----------------------------------------------------------------
@pytest.mark.django_db(transaction=True)
def test_a_data_source_echoing_the_credential_never_gets_it_stored_shown_or_logged(
    org_admin: ApiCaller, member: ApiCaller, receiver: CountingServer, settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    settings.EGRESS_ALLOW_LOOPBACK = True  # this Prometheus is allowed; what it answers is the attack
    echoed = " | ".join(f"upstream rejected credentials Bearer {form}" for form in _forms(SECRET))
    receiver.reply_json(500, {"status": "error", "error": echoed})
    caplog.set_level(logging.DEBUG)
    configured = org_admin.put(
        TEAM_CONFIG, {"tools": {"prometheus": {"enabled": True, "url": receiver.url(), "auth": {"secret": SECRET}}}}
    )
    response = member.post("/agents/run", {"agent_name": "planner", "message": "latency", "async": False})
    assert response.status_code == 200
    investigation_id = response.json()["investigation_id"]
    steps = list(InvestigationStep.objects.filter(investigation_id=investigation_id))
    assert receiver.requests, "the allowed Prometheus was called"
    assert receiver.requests[0][2]["authorization"] == f"Bearer {SECRET}"
    assert any("upstream rejected credentials Bearer ********" in step.error for step in steps)
    stored = json.dumps(
        [[s.error, s.output_excerpt, s.params] for s in steps]
        + [Investigation.objects.get(pk=investigation_id).result or {}]
    )
    seen = [
        stored,
        response.content.decode(),
        member.get(f"/agents/status/{investigation_id}").content.decode(),
        configured.content.decode(),
        member.get("/config/me/effective").content.decode(),
        member.get("/config/me/audit").content.decode(),
        org_admin.get("/admin/audit").content.decode(),
        org_admin.get(TEAM_CONFIG).content.decode(),
        caplog.text,
    ]
    for text in seen:
        for form in _forms(SECRET):
            assert form not in text


# -- 5. webhook URLs: every IP form refused on write ------------------------------------------------------------
WEBHOOK_HOSTS = [
    "2130706433",
    "0x7f000001",
    "017700000001",
    "127.1",
    "0",
    "2852039166",
    "[64:ff9b::7f00:1]",
    "[2002:7f00:1::1]",
    "[::ffff:127.0.0.1]",
    "224.0.0.1",
]


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["member", "org_admin", "group_admin"])
@pytest.mark.parametrize("host", WEBHOOK_HOSTS)
def test_a_webhook_url_with_any_form_of_a_refused_ip_is_a_validation_error_on_write(
    request: pytest.FixtureRequest, persona: str, host: str
) -> None:
    caller = _caller(request, persona)
    response = _write(caller, {"webhooks": {"investigation_complete": f"http://{host}/hook"}})
    assert response.status_code == 400, response.content
    assert response.json()["error"]["field"] == "webhooks.investigation_complete"


@pytest.mark.django_db
def test_a_webhook_name_resolving_to_loopback_is_refused_when_sent(member: ApiCaller, receiver: CountingServer) -> None:
    url = f"http://localhost:{receiver.port}/hook"
    assert member.put("/config/me", {"webhooks": {"investigation_complete": url}}).status_code == 200
    response = member.post("/webhooks/test")
    assert response.status_code == 200, response.content
    assert "blocked_address" in response.content.decode()
    assert receiver.connections == 0


# -- 6. revocation on endpoints outside ApiView ----------------------------------------------------------------
@pytest.mark.django_db
def test_a_revoked_token_is_refused_by_the_schema_endpoint_on_the_next_request(
    member: ApiCaller, org_admin: ApiCaller
) -> None:
    assert member.client.get("/api/v1/schema/", headers={"Authorization": f"Bearer {member.token}"}).status_code == 200
    assert member.token is not None
    revoked = org_admin.post("/admin/tokens/revoke", {"token_id": member.token})
    assert revoked.status_code == 200
    again = member.client.get("/api/v1/schema/", headers={"Authorization": f"Bearer {member.token}"})
    assert again.status_code == 401
