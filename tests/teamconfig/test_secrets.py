"""Secrets: encryption at rest with rotatable keys, references, masking, run-time resolution, Vault KV v2."""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.core.management import call_command

from teamconfig.models import NodeConfig
from teamconfig.secrets import SECRET_MASK, SecretUnavailable, decrypt, encrypt, key_version_of
from teamconfig.selectors import engine_settings_for_team, inbound_integration_for_team
from teamconfig.services import config_secrets_reencrypt
from tenancy.models import Node
from tests.conftest import ApiCaller
from tests.teamconfig.conftest import admin_write

VAULT_TOKEN = "hvs.test-token-0123456789"
ORG_VAULT = "vault://incidentfox/org-acme/"  # the default VAULT_ORG_PATH_TEMPLATE for the org of the fixtures


def stored(team: Node) -> dict[str, Any]:
    return NodeConfig.objects.get(node=team).overrides


@pytest.fixture
def keys(settings: Any) -> Any:
    settings.CONFIG_ENCRYPTION_KEYS = {"1": "first-key-material-0123456789"}
    return settings


def test_ciphertexts_carry_their_key_version_and_round_trip(keys: Any) -> None:
    token = encrypt("s3cr3t")
    assert token.startswith("enc:1:")
    assert "s3cr3t" not in token
    assert encrypt("s3cr3t") != token  # fresh nonce every time
    assert decrypt(token) == "s3cr3t"


def test_the_highest_key_version_encrypts_and_every_version_decrypts(keys: Any) -> None:
    old = encrypt("value")
    keys.CONFIG_ENCRYPTION_KEYS = {"1": "first-key-material-0123456789", "10": "tenth-key-material-0123456789"}
    new = encrypt("value")
    assert (key_version_of(old), key_version_of(new)) == ("1", "10")
    assert decrypt(old) == decrypt(new) == "value"


def test_a_tampered_ciphertext_or_removed_key_fails_without_revealing_anything(keys: Any) -> None:
    token = encrypt("value")
    with pytest.raises(ValueError, match="could not be decrypted"):
        decrypt(token[:-4] + "AAAA")
    keys.CONFIG_ENCRYPTION_KEYS = {"2": "second-key-material-0123456789"}
    with pytest.raises(ValueError, match="could not be decrypted"):
        decrypt(token)


@pytest.mark.django_db
def test_rotation_re_encrypts_stored_secrets_with_the_new_key(keys: Any, team: Node) -> None:
    admin_write(team, {"tools": {"grafana": {"url": "https://g.acme.com", "api_key": {"secret": "glsa_1"}}}})
    keys.CONFIG_ENCRYPTION_KEYS = {"1": "first-key-material-0123456789", "2": "second-key-material-0123456789"}
    out = io.StringIO()
    call_command("config_secrets_reencrypt", stdout=out)
    assert out.getvalue().strip() == "Re-encrypted secrets in 1 row(s) and 0 webhook endpoint(s)."
    assert config_secrets_reencrypt() == 0
    ciphertext = stored(team)["tools"]["grafana"]["api_key"]
    assert key_version_of(ciphertext) == "2"
    keys.CONFIG_ENCRYPTION_KEYS = {"2": "second-key-material-0123456789"}
    admin_write(team, {"tools": {"grafana": {"enabled": True}}})
    assert engine_settings_for_team(team).data_sources["grafana"]["api_key"] == "glsa_1"
    assert NodeConfig.objects.get(node=team).version == 2  # re-encryption is not a config change


@pytest.mark.django_db
def test_a_secret_given_as_object_is_stored_encrypted_and_shown_masked(
    keys: Any, member: ApiCaller, team: Node
) -> None:
    response = member.put(
        "/config/me",
        {"tools": {"grafana": {"enabled": True, "url": "https://grafana.acme.com", "api_key": {"secret": "gf-123"}}}},
    )
    assert response.status_code == 200, response.json()
    assert response.json()["effective_config"]["tools"]["grafana"]["api_key"] == SECRET_MASK
    assert stored(team)["tools"]["grafana"]["api_key"].startswith("enc:1:")
    assert engine_settings_for_team(team).data_sources["grafana"]["api_key"] == "gf-123"


@pytest.mark.django_db
def test_references_are_stored_and_shown_as_is(keys: Any, member: ApiCaller, settings: Any) -> None:
    settings.SECRET_REFERENCE_WRITERS = "teams"
    refs = {"kubeconfig": "vault://incidentfox/org-acme/kubeconfig", "default_namespace": "payments"}
    response = member.put(
        "/config/me",
        {
            "tools": {"kubernetes": refs},
            "llm": {"provider": "openai", "api_key": "vault://incidentfox/org-acme/llm#key"},
        },
    )
    effective = response.json()["effective_config"]
    assert effective["tools"]["kubernetes"]["kubeconfig"] == "vault://incidentfox/org-acme/kubeconfig"
    assert effective["llm"]["api_key"] == "vault://incidentfox/org-acme/llm#key"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("value", "field"),
    [
        ("plain-text-password", "tools.github.token"),
        ({"secret": ""}, "tools.github.token.secret"),
        ({"secret": "x" * 8193}, "tools.github.token.secret"),
        ({"secret": "x", "extra": 1}, "tools.github.token"),
        ("env://not a name", "tools.github.token"),
        ("file://relative/path", "tools.github.token"),
        ("file:///etc/passwd", "tools.github.token"),
        ("env://INCIDENTFOX_TEAM_SECRET_GITHUB", "tools.github.token"),  # teams may not write references
    ],
)
def test_a_secret_field_refuses_plain_strings_and_bad_objects(
    keys: Any, member: ApiCaller, value: Any, field: str
) -> None:
    response = member.put("/config/me", {"tools": {"github": {"token": value}}})
    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["code"], error["field"]) == ("validation_error", field)
    assert "plain-text-password" not in json.dumps(response.json())


@pytest.mark.django_db
def test_the_mask_keeps_the_current_secret_and_resending_it_is_not_a_change(
    keys: Any, member: ApiCaller, team: Node
) -> None:
    member.put(
        "/config/me",
        {"tools": {"aws": {"access_key_id": {"secret": "ak-a"}, "secret_access_key": {"secret": "sk-b"}}}},
    )
    before = stored(team)["tools"]["aws"]
    masked = member.get("/config/me/effective").json()["tools"]["aws"]
    again = member.put("/config/me", {"tools": {"aws": {k: masked[k] for k in ("access_key_id", "secret_access_key")}}})
    assert again.json()["changed_fields"] == []
    same = member.put("/config/me", {"tools": {"aws": {"access_key_id": {"secret": "ak-a"}}}})
    assert same.json()["changed_fields"] == []
    assert stored(team)["tools"]["aws"] == before
    missing = member.put("/config/me", {"tools": {"loki": {"auth": SECRET_MASK}}})
    assert missing.json()["error"]["field"] == "tools.loki.auth"


@pytest.mark.django_db
def test_a_diff_says_a_secret_changed_but_never_to_what(keys: Any, member: ApiCaller) -> None:
    member.put("/config/me", {"integrations": {"alertmanager": {"enabled": True, "bearer_token": {"secret": "am-1"}}}})
    member.put("/config/me", {"integrations": {"alertmanager": {"bearer_token": {"secret": "am-2"}}}})
    diff = member.get("/config/me/audit").json()["history"][0]["diff"]
    assert diff == {"integrations.alertmanager.bearer_token": {"old": SECRET_MASK, "new": SECRET_MASK}}


@pytest.mark.django_db
def test_incidentio_secrets_must_be_whsec_and_resolve_for_the_integrations_app(
    keys: Any, member: ApiCaller, team: Node
) -> None:
    bad = member.put("/config/me", {"integrations": {"incidentio": {"webhook_secret": {"secret": "nope"}}}})
    assert bad.json()["error"]["field"] == "integrations.incidentio.webhook_secret.secret"
    member.put(
        "/config/me", {"integrations": {"incidentio": {"enabled": True, "webhook_secret": {"secret": "whsec_abc"}}}}
    )
    inbound = inbound_integration_for_team(team, "incidentio")
    assert inbound is not None
    assert inbound.settings == {
        "enabled": True,
        "auto_investigate": True,
        "severity_threshold": "low",
        "webhook_secret": "whsec_abc",
    }
    assert inbound_integration_for_team(team, "pagerduty") is None


# -- run-time resolution -------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_env_references_under_the_operators_prefix_resolve_at_run_time(
    keys: Any, team: Node, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INCIDENTFOX_TEAM_SECRET_PROM_AUTH", "Bearer prom")
    admin_write(
        team,
        {
            "tools": {
                "prometheus": {
                    "enabled": True,
                    "url": "https://prom.acme.com",
                    "auth": "env://INCIDENTFOX_TEAM_SECRET_PROM_AUTH",
                },
            }
        },
    )
    resolved = engine_settings_for_team(team)
    assert resolved.data_sources["prometheus"]["auth"] == "Bearer prom"
    assert resolved.secrets == ["Bearer prom"]


@pytest.mark.django_db
def test_an_unresolvable_reference_names_the_source_only(
    keys: Any, team: Node, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("INCIDENTFOX_TEAM_SECRET_MISSING", raising=False)
    auth = "env://INCIDENTFOX_TEAM_SECRET_MISSING"
    admin_write(team, {"tools": {"loki": {"enabled": True, "url": "https://loki.acme.com", "auth": auth}}})
    with pytest.raises(SecretUnavailable) as raised:
        engine_settings_for_team(team)
    assert raised.value.source == "loki"
    assert "loki" in str(raised.value)
    assert "SECRET_MISSING" not in str(raised.value)


class _VaultHandler(BaseHTTPRequestHandler):
    secrets: dict[str, dict[str, str]] = {
        "/v1/secret/data/incidentfox/org-acme/grafana/api-key": {"value": "gf-from-vault"},
        "/v1/secret/data/incidentfox/org-acme/llm/openai": {"key": "sk-vault", "org": "acme"},
    }

    def do_GET(self) -> None:
        data = self.secrets.get(self.path)
        if self.headers.get("X-Vault-Token") != VAULT_TOKEN:
            self._send(403, {"errors": ["permission denied"]})
        elif data is None:
            self._send(404, {"errors": []})
        else:
            self._send(200, {"data": {"data": data, "metadata": {"version": 3}}})

    def _send(self, status: int, body: dict[str, Any]) -> None:
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture
def vault(settings: Any) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _VaultHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    address = f"http://127.0.0.1:{server.server_address[1]}"
    settings.VAULT_ADDR, settings.VAULT_TOKEN = address, VAULT_TOKEN
    yield address
    server.shutdown()
    server.server_close()


@pytest.mark.django_db
def test_vault_references_are_read_through_the_kv_v2_api(keys: Any, vault: str, team: Node) -> None:
    admin_write(
        team,
        {
            "tools": {
                "grafana": {
                    "enabled": True,
                    "url": "https://grafana.acme.com",
                    "api_key": f"{ORG_VAULT}grafana/api-key",
                }
            },
            "llm": {"provider": "openai", "api_key": f"{ORG_VAULT}llm/openai#key"},
        },
    )
    settings = engine_settings_for_team(team)
    assert settings.data_sources["grafana"]["api_key"] == "gf-from-vault"
    assert settings.llm == {"provider": "openai", "api_key": "sk-vault"}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("reference", "token"),
    [
        (f"{ORG_VAULT}grafana/api-key", "wrong-token"),
        (f"{ORG_VAULT}nowhere/at-all", VAULT_TOKEN),
        (f"{ORG_VAULT}llm/openai#nope", VAULT_TOKEN),
    ],
)
def test_a_vault_failure_is_secret_unavailable_without_the_address(
    keys: Any, vault: str, team: Node, reference: str, token: str
) -> None:
    from django.conf import settings

    settings.VAULT_TOKEN = token
    grafana = {"enabled": True, "url": "https://grafana.acme.com", "api_key": reference}
    admin_write(team, {"tools": {"grafana": grafana}})
    with pytest.raises(SecretUnavailable) as raised:
        engine_settings_for_team(team)
    message = str(raised.value)
    assert "grafana" in message
    assert vault not in message
    assert "127.0.0.1" not in message
    assert token not in message


@pytest.mark.django_db
def test_a_vault_reference_without_vault_addr_is_a_clear_configuration_error(
    keys: Any, team: Node, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.VAULT_ADDR = ""
    admin_write(team, {"tools": {"github": {"enabled": True, "token": f"{ORG_VAULT}github/token"}}})
    with pytest.raises(SecretUnavailable, match="VAULT_ADDR is not set"):
        engine_settings_for_team(team)


@pytest.mark.django_db
def test_secret_objects_are_refused_in_documented_non_secret_fields_and_unknown_keys(
    keys: Any, member: ApiCaller, team: Node
) -> None:
    refused = member.put("/config/me", {"slack_channel": {"secret": "hidden"}})
    assert refused.json()["error"]["field"] == "slack_channel"
    unknown = member.put("/config/me", {"custom_bot": {"password": {"secret": "hunter2"}}})
    assert unknown.json()["error"]["details"] == {"field": "custom_bot", "error": "is not a known setting"}
    assert "hunter2" not in unknown.content.decode()
    assert not NodeConfig.objects.filter(node=team).exists() or "custom_bot" not in stored(team)


@pytest.mark.django_db
def test_a_bad_config_change_also_undoes_a_rename_in_the_same_request(org_admin: ApiCaller, team: Node) -> None:
    response = org_admin.put("/admin/teams/team-platform/config", {"team_name": "New", "slack_channel": 5})
    assert response.status_code == 400
    team.refresh_from_db()
    assert team.name == "Platform"
