"""Local verification of OIDC JWTs against the org whose issuer and client id they name (API.md §2.3)."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

import httpx
import jwt

from incidentfox_web.egress import egress_client
from tenancy.models import Node, NodeType, Organization
from tenancy.principal import ADMIN_PERMISSIONS, TEAM_PERMISSIONS, Principal

logger = logging.getLogger("incidentfox.oidc")

ALLOWED_ALGORITHMS = frozenset({"RS256", "RS384", "RS512", "PS256", "ES256", "ES384"})
JWKS_MAX_AGE = 600.0
UNKNOWN_KID_REFETCH_INTERVAL = 60.0
LEEWAY_SECONDS = 30
HTTP_TIMEOUT = 5.0


class JwtInvalid(Exception):
    """Any failure other than expiry: bad signature, issuer, audience, algorithm, shape, unknown org."""


class JwtExpired(Exception):
    """A correctly signed token past its ``exp``."""


@dataclass
class _KeySet:
    keys: dict[str, jwt.PyJWK]
    fetched_at: float


class JwksCache:
    """Per-process JWKS cache: entries live at most 10 minutes; an unknown ``kid`` refetches at most once a minute."""

    def __init__(self) -> None:
        self._sets: dict[str, _KeySet] = {}
        self._lock = threading.Lock()

    def clear(self) -> None:
        with self._lock:
            self._sets.clear()

    def key_for(self, jwks_uri: str, kid: str | None) -> jwt.PyJWK:
        now = time.time()
        with self._lock:
            entry = self._sets.get(jwks_uri)
        if entry is None or now - entry.fetched_at > JWKS_MAX_AGE:
            entry = self._fetch(jwks_uri)
        key = self._select(entry, kid)
        if key is None and now - entry.fetched_at > UNKNOWN_KID_REFETCH_INTERVAL:
            entry = self._fetch(jwks_uri)
            key = self._select(entry, kid)
        if key is None:
            raise JwtInvalid("unknown signing key")
        return key

    @staticmethod
    def _select(entry: _KeySet, kid: str | None) -> jwt.PyJWK | None:
        if kid is not None:
            return entry.keys.get(kid)
        return next(iter(entry.keys.values())) if len(entry.keys) == 1 else None

    def _fetch(self, jwks_uri: str) -> _KeySet:
        try:
            document = _get_json(jwks_uri)
        except (httpx.HTTPError, ValueError) as exc:
            logger.warning("Could not fetch the identity provider's signing keys (%s)", type(exc).__name__)
            raise JwtInvalid("signing keys unavailable") from None
        keys: dict[str, jwt.PyJWK] = {}
        for index, item in enumerate(document.get("keys", []) if isinstance(document, dict) else []):
            try:
                key = jwt.PyJWK(item)
            except (jwt.PyJWKError, jwt.InvalidKeyError, ValueError, TypeError):
                continue
            keys[str(item.get("kid", f"#{index}"))] = key
        entry = _KeySet(keys=keys, fetched_at=time.time())
        with self._lock:
            self._sets[jwks_uri] = entry
        return entry


jwks_cache = JwksCache()
_discovered: dict[str, tuple[str, float]] = {}


def _get_json(url: str) -> Any:
    """GET an org's discovery document or key set through the egress policy (the issuer is an org admin's
    choice and discovery can be triggered by an unauthenticated request); redirects are not followed."""
    with egress_client("oidc", timeout=HTTP_TIMEOUT) as client:
        response = client.get(url)
        response.raise_for_status()
        return response.json()


def looks_like_jwt(credential: str) -> bool:
    parts = credential.split(".")
    return len(parts) == 3 and all(parts[:2]) and all(p.replace("-", "").replace("_", "").isalnum() for p in parts if p)


def _jwks_uri_for(org: Organization) -> str:
    if org.oidc_jwks_uri:
        return org.oidc_jwks_uri
    cached = _discovered.get(org.oidc_issuer)
    if cached and time.time() - cached[1] < JWKS_MAX_AGE:
        return cached[0]
    url = org.oidc_issuer.rstrip("/") + "/.well-known/openid-configuration"
    try:
        jwks_uri = _get_json(url)["jwks_uri"]
    except (httpx.HTTPError, ValueError, KeyError, TypeError):
        raise JwtInvalid("discovery failed") from None
    _discovered[org.oidc_issuer] = (str(jwks_uri), time.time())
    return str(jwks_uri)


def _unverified(credential: str) -> tuple[dict[str, Any], dict[str, Any]]:
    try:
        header = jwt.get_unverified_header(credential)
        claims = jwt.decode(credential, options={"verify_signature": False})
    except jwt.PyJWTError:
        raise JwtInvalid("malformed") from None
    return header, claims


def _org_for(issuer: Any, audience: Any) -> Organization:
    if not isinstance(issuer, str) or not issuer:
        raise JwtInvalid("no issuer")
    audiences = [audience] if isinstance(audience, str) else audience if isinstance(audience, list) else []
    for org in Organization.objects.filter(oidc_issuer=issuer).exclude(oidc_client_id=""):
        if org.oidc_client_id in audiences:
            return org
    raise JwtInvalid("no organisation trusts this issuer and audience")


def verify_jwt(credential: str) -> Principal:
    """Verify signature, ``iss``, ``aud``, ``exp`` (30 s leeway) and map claims to a principal."""
    header, unverified = _unverified(credential)
    algorithm = header.get("alg")
    if algorithm not in ALLOWED_ALGORITHMS:
        raise JwtInvalid("algorithm not allowed")
    org = _org_for(unverified.get("iss"), unverified.get("aud"))
    key = jwks_cache.key_for(_jwks_uri_for(org), header.get("kid"))
    try:
        claims = jwt.decode(
            credential,
            key=key.key,
            algorithms=[algorithm],
            audience=org.oidc_client_id,
            issuer=org.oidc_issuer,
            leeway=LEEWAY_SECONDS,
            options={"require": ["exp", "iss", "aud", "sub"]},
        )
    except jwt.ExpiredSignatureError:
        raise JwtExpired() from None
    except jwt.PyJWTError:
        raise JwtInvalid("verification failed") from None
    return _principal_from_claims(org, claims)


def _string_list(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [item for item in value if isinstance(item, str)]
    return []


def _principal_from_claims(org: Organization, claims: dict[str, Any]) -> Principal:
    claimed = _string_list(claims.get(org.oidc_teams_claim or "teams"))
    team_ids = sorted(
        Node.objects.filter(org=org, node_type=NodeType.TEAM, node_id__in=claimed).values_list("node_id", flat=True)
    )
    groups = _string_list(claims.get("groups"))
    is_admin = bool(org.oidc_admin_group) and org.oidc_admin_group in groups
    email = claims.get("email") if isinstance(claims.get("email"), str) else None
    return Principal(
        kind="oidc_jwt",
        org=org,
        permissions=TEAM_PERMISSIONS | (ADMIN_PERMISSIONS if is_admin else frozenset()),
        team_ids=team_ids,
        subject=str(claims["sub"]),
        email=email,
        issuer=org.oidc_issuer,
    )
