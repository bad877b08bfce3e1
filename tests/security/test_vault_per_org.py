"""vault:// references per org, against a loopback server speaking Vault's KV v2 wire protocol.

Debian has no ``vault`` package, so the stand-in implements what the client uses: ``GET /v1/<mount>/data/<path>``
with ``X-Vault-Token``, token policies that grant a path prefix (403 ``permission denied`` elsewhere, as Vault
answers), and the KV v2 envelope ``{"data": {"data": {...}, "metadata": {...}}}``. The client under test is the
one runs use (``SecretResolver`` through the egress policy).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from teamconfig.models import NodeConfig
from teamconfig.secrets import SecretNotAllowed, SecretUnavailable
from teamconfig.selectors import engine_settings_for_team
from tenancy.models import Node
from tests.conftest import ApiCaller

ACME_TOKEN = "hvs.acme-0123456789abcdef"
GLOBEX_TOKEN = "hvs.globex-0123456789abcdef"
SHARED_TOKEN = "hvs.shared-0123456789abcdef"


class KvV2Server:
    """A Vault KV v2 mount ``secret`` on loopback with per-token path policies; counts every request."""

    def __init__(self) -> None:
        self.secrets: dict[str, dict[str, str]] = {
            "incidentfox/org-acme/prometheus": {"token": "acme-prom-token"},
            "incidentfox/org-globex/prometheus": {"token": "globex-prom-token"},
        }
        self.policies = {
            ACME_TOKEN: "incidentfox/org-acme/",
            GLOBEX_TOKEN: "incidentfox/org-globex/",
            SHARED_TOKEN: "incidentfox/",
        }
        self.requests: list[tuple[str, str]] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                token = self.headers.get("X-Vault-Token", "")
                owner.requests.append((self.path, token))
                prefix = "/v1/secret/data/"
                path = self.path.removeprefix(prefix) if self.path.startswith(prefix) else None
                granted = owner.policies.get(token)
                if path is None:
                    self._send(404, {"errors": []})
                elif granted is None or not path.startswith(granted):
                    self._send(403, {"errors": ["1 error occurred:\n\t* permission denied\n\n"]})
                elif path not in owner.secrets:
                    self._send(404, {"errors": []})
                else:
                    metadata = {"version": 1, "destroyed": False, "deletion_time": ""}
                    self._send(200, {"data": {"data": owner.secrets[path], "metadata": metadata}})

            def _send(self, status: int, body: dict[str, Any]) -> None:
                raw = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.address = f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def vault(settings: Any) -> Iterator[KvV2Server]:
    server = KvV2Server()
    settings.CONFIG_ENCRYPTION_KEYS = {"1": "vault-test-key-material-0123456789"}
    settings.VAULT_ADDR, settings.VAULT_KV_MOUNT = server.address, "secret"
    settings.VAULT_TOKEN = SHARED_TOKEN
    settings.VAULT_ORG_TOKENS = {"org-acme": ACME_TOKEN, "org-globex": GLOBEX_TOKEN}
    yield server
    server.stop()


def _prometheus(reference: str) -> dict[str, Any]:
    return {"tools": {"prometheus": {"enabled": True, "url": "https://prom.example.com", "auth": reference}}}


@pytest.mark.django_db
def test_each_org_reads_its_own_prefix_with_its_own_token(
    vault: KvV2Server, org_admin: ApiCaller, outsider_admin: ApiCaller, team: Node, outsider_team: Node
) -> None:
    assert org_admin.put(f"/admin/teams/{team.node_id}/config", _prometheus(
        "vault://incidentfox/org-acme/prometheus#token")).status_code == 200  # fmt: skip
    assert outsider_admin.put(f"/admin/teams/{outsider_team.node_id}/config", _prometheus(
        "vault://incidentfox/org-globex/prometheus#token")).status_code == 200  # fmt: skip
    assert engine_settings_for_team(team).data_sources["prometheus"]["auth"] == "acme-prom-token"
    assert engine_settings_for_team(outsider_team).data_sources["prometheus"]["auth"] == "globex-prom-token"
    assert vault.requests == [
        ("/v1/secret/data/incidentfox/org-acme/prometheus", ACME_TOKEN),
        ("/v1/secret/data/incidentfox/org-globex/prometheus", GLOBEX_TOKEN),
    ]


@pytest.mark.django_db
def test_an_org_without_its_own_token_reads_with_the_deployment_token(
    vault: KvV2Server, org_admin: ApiCaller, team: Node, settings: Any
) -> None:
    settings.VAULT_ORG_TOKENS = {}
    org_admin.put(f"/admin/teams/{team.node_id}/config", _prometheus("vault://incidentfox/org-acme/prometheus#token"))
    assert engine_settings_for_team(team).data_sources["prometheus"]["auth"] == "acme-prom-token"
    assert vault.requests == [("/v1/secret/data/incidentfox/org-acme/prometheus", SHARED_TOKEN)]


@pytest.mark.django_db
def test_another_orgs_path_is_refused_on_write_and_never_read_at_run_time(
    vault: KvV2Server, outsider_admin: ApiCaller, outsider_team: Node
) -> None:
    stolen = "vault://incidentfox/org-acme/prometheus#token"
    response = outsider_admin.put(f"/admin/teams/{outsider_team.node_id}/config", _prometheus(stolen))
    assert response.status_code == 400
    assert response.json()["error"]["details"]["error"] == "vault:// paths must be under incidentfox/org-globex/"
    # Stored anyway (written before the rules existed): the run refuses it without asking Vault.
    NodeConfig.objects.create(org_id=outsider_team.org_id, node=outsider_team, version=1, overrides=_prometheus(stolen))
    with pytest.raises(SecretNotAllowed) as raised:
        engine_settings_for_team(outsider_team)
    assert raised.value.source == "prometheus"
    assert vault.requests == []


@pytest.mark.django_db
def test_the_vault_address_itself_goes_through_the_egress_policy(
    vault: KvV2Server, org_admin: ApiCaller, team: Node, settings: Any
) -> None:
    org_admin.put(f"/admin/teams/{team.node_id}/config", _prometheus("vault://incidentfox/org-acme/prometheus#token"))
    settings.EGRESS_ALLOW_LOOPBACK = False
    with pytest.raises(SecretUnavailable, match="the Vault address resolves to a refused address"):
        engine_settings_for_team(team)
    assert vault.requests == []
    settings.EGRESS_ALLOWED_NETWORKS = ["127.0.0.1/32"]  # an operator's Vault agent on loopback, allowed by name
    assert engine_settings_for_team(team).data_sources["prometheus"]["auth"] == "acme-prom-token"


@pytest.mark.django_db
def test_a_broad_env_prefix_still_never_reaches_the_deployments_own_settings(
    org_admin: ApiCaller, team: Node, settings: Any
) -> None:
    settings.TEAM_SECRET_ENV_PREFIX = "INCIDENTFOX_"
    settings.INCIDENTFOX_SIGNING_KEY = "a deployment setting under the prefix"
    path = f"/admin/teams/{team.node_id}/config"
    own_setting = "env:// may not name one of the deployment's own settings"
    for name in ("INCIDENTFOX_ENV_FILE", "INCIDENTFOX_SIGNING_KEY", "INCIDENTFOX_SIGNING_KEY_FILE"):
        response = org_admin.put(path, _prometheus(f"env://{name}"))
        assert response.status_code == 400, name
        assert response.json()["error"]["details"]["error"] == own_setting
    assert org_admin.put(path, _prometheus("env://INCIDENTFOX_PROM")).status_code == 200
