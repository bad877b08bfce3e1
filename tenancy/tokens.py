"""Token secrets: generation, the versioned-pepper HMAC, and constant-time verification."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from django.conf import settings

from incidentfox_web.ids import base62

TOKEN_RE = re.compile(r"^(?P<token_id>(?P<prefix>ift_|ifa_)[A-Za-z0-9]{12})\.(?P<secret>[A-Za-z0-9]{40})$")
_DUMMY_DIGEST = "0" * 64


@dataclass(frozen=True)
class ParsedToken:
    token_id: str
    prefix: str
    secret: str


def parse_token(raw: str) -> ParsedToken | None:
    match = TOKEN_RE.match(raw)
    if match is None:
        return None
    return ParsedToken(match["token_id"], match["prefix"], match["secret"])


def current_pepper_version() -> str:
    return max(settings.TOKEN_PEPPERS, key=int)


def digest_secret(secret: str, pepper_version: str) -> str:
    pepper = settings.TOKEN_PEPPERS.get(pepper_version)
    if pepper is None:
        # A row whose pepper was retired can no longer verify; compare against something that never matches.
        return _DUMMY_DIGEST
    return hmac.digest(pepper.encode(), secret.encode(), hashlib.sha256).hex()  # one C call, same digest


def secret_matches(secret: str, *, digest: str | None, pepper_version: str | None) -> bool:
    """Constant-time comparison; an unknown token id (``digest=None``) costs the same as a wrong secret."""
    candidate = digest_secret(secret, pepper_version or current_pepper_version())
    return hmac.compare_digest(candidate, digest or _DUMMY_DIGEST) and digest is not None


def new_token_parts(prefix: str) -> tuple[str, str]:
    """A fresh ``(token_id, secret)``: 12 and 40 base62 characters from the OS CSPRNG."""
    return f"{prefix}{base62(12)}", base62(40)


def new_password() -> str:
    return secrets.token_urlsafe(18)
