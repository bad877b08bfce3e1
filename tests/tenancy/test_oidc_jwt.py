"""API.md §2.3: OIDC JWTs verified locally against a JWKS served on loopback."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from tenancy.models import Node, NodeType
from tenancy.oidc_jwt import jwks_cache
from tenancy.services import node_create
from tests.conftest import SYSTEM

ISSUER = "https://idp.acme.test"
CLIENT_ID = "incidentfox-acme"


class JwksServer:
    """Serves a JWKS document on loopback and counts how often it was fetched."""

    def __init__(self) -> None:
        self.keys: list[dict[str, Any]] = []
        self.fetches = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.fetches += 1
                body = json.dumps({"keys": server.keys}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/jwks"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def publish(self, public_key: Any, kid: str, algorithm: Any = RSAAlgorithm) -> None:
        jwk = json.loads(algorithm.to_jwk(public_key))
        self.keys.append({**jwk, "kid": kid, "use": "sig"})


@pytest.fixture(scope="module")
def rsa_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def jwks(rsa_key):
    jwks_cache.clear()
    server = JwksServer()
    server.publish(rsa_key.public_key(), "k1")
    yield server
    server.httpd.shutdown()
    jwks_cache.clear()


@pytest.fixture
def oidc_org(org, team, other_team, jwks):
    org.oidc_issuer, org.oidc_client_id, org.oidc_jwks_uri, org.oidc_admin_group = (
        ISSUER,
        CLIENT_ID,
        jwks.url,
        "sre-admins",
    )
    org.save()
    return org


def _claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "aud": CLIENT_ID,
        "sub": "00u8x1k2ab7",
        "email": "jane@acme.com",
        "iat": now,
        "exp": now + 600,
        "teams": ["team-platform"],
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def _sign(key: Any, claims: dict[str, Any], *, kid: str = "k1", alg: str = "RS256") -> str:
    return jwt.encode(claims, key, algorithm=alg, headers={"kid": kid})


def _me(anonymous, token: str, **headers: str):
    anonymous.token = token
    return anonymous.get("/auth/me", headers=headers or None)


def test_a_valid_jwt_gets_the_documented_user_shape(anonymous, oidc_org, rsa_key):
    response = _me(anonymous, _sign(rsa_key, _claims()))
    assert response.status_code == 200
    assert response.json() == {
        "role": "user",
        "auth_kind": "oidc_jwt",
        "org_id": "org-acme",
        "team_node_id": "team-platform",
        "subject": "00u8x1k2ab7",
        "email": "jane@acme.com",
        "can_write": True,
        "permissions": ["team:read", "team:write"],
        "teams": ["team-platform"],
    }


def test_members_of_the_admin_group_get_admin_permissions(anonymous, oidc_org, rsa_key):
    token = _sign(rsa_key, _claims(groups=["sre-admins"], teams=["team-payments", "team-platform"]))
    body = _me(anonymous, token).json()
    assert body["permissions"] == ["admin:read", "admin:write", "team:read", "team:write"]
    assert body["teams"] == ["team-payments", "team-platform"]
    assert body["team_node_id"] is None  # ambiguous without X-Team-Id
    assert _me(anonymous, token, **{"X-Team-Id": "team-payments"}).json()["team_node_id"] == "team-payments"


def test_claimed_ids_that_are_not_team_nodes_are_ignored(anonymous, oidc_org, rsa_key):
    node_create(org=oidc_org, node_id="engineering", name="E", node_type=NodeType.GROUP, meta=SYSTEM)
    body = _me(anonymous, _sign(rsa_key, _claims(teams=["team-platform", "engineering", "ghost"]))).json()
    assert body["teams"] == ["team-platform"]


def test_an_expired_but_genuine_jwt_gets_token_expired(anonymous, oidc_org, rsa_key):
    past = int(time.time()) - 120
    response = _me(anonymous, _sign(rsa_key, _claims(iat=past - 600, exp=past)))
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "token_expired"


def test_expiry_has_thirty_seconds_of_leeway(anonymous, oidc_org, rsa_key):
    just_past = int(time.time()) - 10
    assert _me(anonymous, _sign(rsa_key, _claims(exp=just_past))).status_code == 200


@pytest.mark.parametrize(
    "claims",
    [
        _claims(iss="https://evil.example.com"),
        _claims(aud="someone-else"),
        _claims(aud=None),
        _claims(exp=None),
    ],
    ids=["wrong-issuer", "wrong-audience", "no-audience", "no-exp"],
)
def test_jwts_with_bad_claims_are_unauthorized(anonymous, oidc_org, rsa_key, claims):
    response = _me(anonymous, _sign(rsa_key, claims))
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


def test_a_jwt_signed_by_another_key_is_unauthorized(anonymous, oidc_org):
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    response = _me(anonymous, _sign(stranger, _claims()))
    assert response.json()["error"]["code"] == "unauthorized"


def test_alg_none_is_refused(anonymous, oidc_org):
    token = jwt.encode(_claims(), None, algorithm="none")
    assert _me(anonymous, token).status_code == 401


def test_hs256_signed_with_the_public_key_is_refused(anonymous, oidc_org, rsa_key):
    from cryptography.hazmat.primitives import serialization

    public_pem = rsa_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = {"alg": "HS256", "kid": "k1", "typ": "JWT"}
    import base64
    import hashlib
    import hmac

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(_claims()).encode())}"
    signature = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    assert _me(anonymous, f"{signing_input}.{b64(signature)}").status_code == 401


def test_es256_keys_are_accepted(anonymous, oidc_org, jwks):
    ec_key = ec.generate_private_key(ec.SECP256R1())
    jwks.publish(ec_key.public_key(), "ec1", ECAlgorithm)
    jwks_cache.clear()
    assert _me(anonymous, _sign(ec_key, _claims(), kid="ec1", alg="ES256")).status_code == 200


def test_keys_are_cached_and_an_unknown_kid_refetches_at_most_once_a_minute(anonymous, oidc_org, rsa_key, jwks):
    import time_machine

    with time_machine.travel(time.time(), tick=False) as traveller:
        assert _me(anonymous, _sign(rsa_key, _claims())).status_code == 200
        assert _me(anonymous, _sign(rsa_key, _claims())).status_code == 200
        assert jwks.fetches == 1
        rotated = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        jwks.publish(rotated.public_key(), "k2")
        assert _me(anonymous, _sign(rotated, _claims(), kid="k2")).status_code == 401  # refetch throttled
        assert jwks.fetches == 1
        traveller.shift(61)
        assert _me(anonymous, _sign(rotated, _claims(), kid="k2")).status_code == 200
        assert jwks.fetches == 2


def test_a_jwt_for_an_org_without_oidc_is_unauthorized(anonymous, org, rsa_key):
    assert _me(anonymous, _sign(rsa_key, _claims())).status_code == 401


def test_an_oidc_user_without_teams_is_forbidden_on_team_endpoints(anonymous, oidc_org, rsa_key):
    anonymous.token = _sign(rsa_key, _claims(teams=[]))
    response = anonymous.get("/auth/me")
    assert response.status_code == 403


def test_an_oidc_user_cannot_act_for_a_team_outside_its_claims(anonymous, oidc_org, rsa_key):
    assert Node.objects.filter(node_id="team-payments").exists()
    response = _me(anonymous, _sign(rsa_key, _claims()), **{"X-Team-Id": "team-payments"})
    assert response.status_code == 403
