"""Showing a freshly issued token's secret exactly once, after a redirect (post/redirect/get).

The issuing POST puts the secret in the user's session, encrypted (AES-GCM under a key derived from SECRET_KEY,
so a session row alone never reveals it), and redirects to a page that takes it out again: reloading that page,
or opening it later, finds nothing and issues nothing. An unclaimed secret expires after ``HANDOFF_SECONDS``.
"""

from __future__ import annotations

import base64
import os
import time
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.utils.crypto import salted_hmac

SESSION_KEY = "issued_token_handoff"
HANDOFF_SECONDS = 300
_SALT = "incidentfox.tenancy.token_handoff"


def _cipher() -> AESGCM:
    return AESGCM(salted_hmac(_SALT, "aes-gcm-key", algorithm="sha256").digest())


def handoff_put(session: Any, *, token_id: str, plaintext: str) -> None:
    nonce = os.urandom(12)
    sealed = _cipher().encrypt(nonce, plaintext.encode(), token_id.encode())
    session[SESSION_KEY] = {
        "token_id": token_id,
        "sealed": base64.b64encode(nonce + sealed).decode(),
        "at": int(time.time()),
    }


def handoff_take(session: Any, *, token_id: str) -> str | None:
    """The secret of ``token_id`` if it was issued in this session moments ago and not shown yet; it is then gone."""
    entry = session.get(SESSION_KEY)
    if not isinstance(entry, dict) or entry.get("token_id") != token_id:
        return None
    session.pop(SESSION_KEY, None)
    if int(time.time()) - int(entry.get("at", 0)) > HANDOFF_SECONDS:
        return None
    raw = base64.b64decode(str(entry.get("sealed", "")))
    try:
        return _cipher().decrypt(raw[:12], raw[12:], token_id.encode()).decode()
    except (InvalidTag, ValueError):
        return None
