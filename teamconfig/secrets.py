"""Secrets in team config: encryption at rest, references, masking of values, and run-time resolution.

A stored secret is either a reference (``vault://path#key``, ``env://NAME``), shown as is and resolved only
inside the operator's rules (``teamconfig.references``), or a ciphertext
``enc:<key version>:<base64url(nonce + AES-GCM ciphertext)>``, always shown as ``********``.
Keys come from ``settings.CONFIG_ENCRYPTION_KEYS`` (``{"2": "...", "1": "..."}``): the highest version
encrypts and every version decrypts, so keys rotate without rewriting rows (see ``config_secrets_reencrypt``).
"""

from __future__ import annotations

import base64
import json
import os
import re
import secrets as random_bytes
import urllib.parse
from functools import lru_cache
from typing import Any

import httpx
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

from incidentfox_web.egress import EgressRefusedError, egress_client
from teamconfig.references import reference_problem, reference_rules

SECRET_MASK = "********"
CIPHERTEXT_PREFIX = "enc:"
MAX_SECRET_LENGTH = 8192
VAULT_TIMEOUT_SECONDS = 5.0

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,254}$")
_VAULT_PATH = re.compile(r"^[A-Za-z0-9._/-]{1,512}(#[A-Za-z0-9._-]{1,128})?$")


class SecretUnavailable(Exception):
    """A secret needed at run time could not be resolved. The message names the source only."""

    def __init__(self, source: str, reason: str = "could not be resolved") -> None:
        super().__init__(f"Credentials for '{source}' are unavailable: {reason}")
        self.source = source


class SecretNotAllowed(SecretUnavailable):
    """A reference outside the operator's rules: a ``configuration_error`` naming the source, never resolved."""

    def __init__(self, source: str, reason: str) -> None:
        Exception.__init__(self, f"Credentials for '{source}' are not allowed: {reason}")
        self.source = source


class EncryptionNotConfigured(Exception):
    """No usable key in ``CONFIG_ENCRYPTION_KEYS``."""


# -- classification ----------------------------------------------------------------------------------------
def is_ciphertext(value: object) -> bool:
    return isinstance(value, str) and value.startswith(CIPHERTEXT_PREFIX)


def is_reference(value: object) -> bool:
    """``vault://path[#key]`` or ``env://NAME`` (and ``file:///path``, recognised only so that values stored before
    it was removed are shown as is and reported; it never resolves)."""
    if not isinstance(value, str):
        return False
    if value.startswith("vault://"):
        return bool(_VAULT_PATH.match(value.removeprefix("vault://")))
    if value.startswith("env://"):
        return bool(_ENV_NAME.match(value.removeprefix("env://")))
    if value.startswith("file://"):
        path = value.removeprefix("file://")
        return path.startswith("/") and len(path) > 1 and "\x00" not in path
    return False


def mask_value(value: Any) -> Any:
    """What a secret field shows: references as is, anything else ``********``; None stays None."""
    if value is None or is_reference(value):
        return value
    return SECRET_MASK


# -- encryption at rest ------------------------------------------------------------------------------------
@lru_cache(maxsize=16)
def _derived_key(version: str, material: str) -> bytes:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"incidentfox/teamconfig/secrets")
    return hkdf.derive(material.encode("utf-8"))


def _keys() -> dict[str, str]:
    keys: dict[str, str] = getattr(settings, "CONFIG_ENCRYPTION_KEYS", {}) or {}
    if not keys:
        raise EncryptionNotConfigured("CONFIG_ENCRYPTION_KEYS is empty")
    return keys


def current_key_version() -> str:
    return max(_keys(), key=int)


def encrypt(plaintext: str) -> str:
    version = current_key_version()
    key = _derived_key(version, _keys()[version])
    nonce = random_bytes.token_bytes(12)
    sealed = AESGCM(key).encrypt(nonce, plaintext.encode("utf-8"), f"v{version}".encode())
    return f"{CIPHERTEXT_PREFIX}{version}:{base64.urlsafe_b64encode(nonce + sealed).decode('ascii')}"


def decrypt(ciphertext: str) -> str:
    """Raises ``ValueError`` (never with the value) for a malformed token, unknown key version or bad tag."""
    try:
        version, _, encoded = ciphertext.removeprefix(CIPHERTEXT_PREFIX).partition(":")
        material = _keys().get(version)
        if material is None:
            raise ValueError("unknown key version")
        raw = base64.urlsafe_b64decode(encoded.encode("ascii"))
        plain = AESGCM(_derived_key(version, material)).decrypt(raw[:12], raw[12:], f"v{version}".encode())
        return plain.decode("utf-8")
    except (InvalidTag, UnicodeError, ValueError, TypeError):
        raise ValueError("secret could not be decrypted") from None


def key_version_of(ciphertext: str) -> str:
    return ciphertext.removeprefix(CIPHERTEXT_PREFIX).partition(":")[0]


# -- resolution at run time --------------------------------------------------------------------------------
def _setting(name: str, default: str = "") -> str:
    value = getattr(settings, name, None)
    if value is None:
        value = os.environ.get(name, default)
    return str(value or "")


def _vault_token(org_id: str) -> str:
    """The org's own Vault token from ``VAULT_ORG_TOKENS`` when it has one, else ``VAULT_TOKEN``."""
    tokens = getattr(settings, "VAULT_ORG_TOKENS", None) or {}
    token = tokens.get(org_id) if isinstance(tokens, dict) else None
    return str(token) if token else _setting("VAULT_TOKEN")


class SecretResolver:
    """Turns one org's stored secret values into plaintext for one run; reads each Vault path at most once.

    A reference outside the operator's rules (``teamconfig.references``) raises :class:`SecretNotAllowed` and
    is never resolved. Every value resolved is kept in ``resolved`` so the run can mask it in tool output.
    """

    def __init__(self, *, org_id: str) -> None:
        self.org_id = org_id
        self.rules = reference_rules()
        self.resolved: list[str] = []
        self._vault_cache: dict[str, dict[str, Any]] = {}

    def resolve(self, value: str, *, source: str) -> str:
        plaintext = self._resolve(value, source=source)
        if plaintext not in self.resolved:
            self.resolved.append(plaintext)
        return plaintext

    def _resolve(self, value: str, *, source: str) -> str:
        if is_ciphertext(value):
            try:
                return decrypt(value)
            except (ValueError, EncryptionNotConfigured):
                raise SecretUnavailable(source, "the stored secret could not be decrypted") from None
        problem = reference_problem(value, org_id=self.org_id, rules=self.rules)
        if problem is not None:
            raise SecretNotAllowed(source, problem)
        if value.startswith("env://"):
            resolved = os.environ.get(value.removeprefix("env://"))
            if resolved is None:
                raise SecretUnavailable(source, "the referenced environment variable is not set")
            return resolved
        return self._vault(value.removeprefix("vault://"), source=source)

    def _vault(self, reference: str, *, source: str) -> str:
        address = _setting("VAULT_ADDR")
        if not address:
            raise SecretUnavailable(source, "a vault:// reference is configured but VAULT_ADDR is not set")
        path, _, field = reference.partition("#")
        data = self._vault_cache.get(path)
        if data is None:
            data = self._vault_read(address, path, source=source)
            self._vault_cache[path] = data
        if field:
            value = data.get(field)
        elif "value" in data:
            value = data["value"]
        else:
            value = next(iter(data.values())) if len(data) == 1 else None
        if not isinstance(value, str):
            raise SecretUnavailable(source, "the Vault secret has no such field")
        return value

    def _vault_read(self, address: str, path: str, *, source: str) -> dict[str, Any]:
        mount = _setting("VAULT_KV_MOUNT", "secret").strip("/")
        url = f"{address.rstrip('/')}/v1/{urllib.parse.quote(mount)}/data/{urllib.parse.quote(path.strip('/'))}"
        if not url.startswith(("http://", "https://")):
            raise SecretUnavailable(source, "VAULT_ADDR must be an http(s) URL")
        headers = {"X-Vault-Token": _vault_token(self.org_id)}
        try:
            with egress_client("vault", timeout=VAULT_TIMEOUT_SECONDS) as client:
                response = client.get(url, headers=headers)
        except EgressRefusedError as exc:
            raise SecretUnavailable(source, f"the Vault address {exc.egress_refusal}") from None
        except httpx.HTTPError:
            raise SecretUnavailable(source, "Vault could not be reached") from None
        if response.status_code != 200:
            raise SecretUnavailable(source, f"Vault answered HTTP {response.status_code}")
        try:
            body = json.loads(response.content[: 1024 * 1024])
        except ValueError:
            raise SecretUnavailable(source, "Vault returned no KV v2 data") from None
        data = body.get("data", {}).get("data") if isinstance(body, dict) else None
        if not isinstance(data, dict):
            raise SecretUnavailable(source, "Vault returned no KV v2 data")
        return data
