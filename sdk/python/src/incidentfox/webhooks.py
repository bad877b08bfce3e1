"""Verifying the ``investigation_complete`` webhooks IncidentFox sends (Standard Webhooks signatures, API.md §6.2)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from typing import Any

from incidentfox.errors import IncidentFoxError

SECRET_PREFIX = "whsec_"
DEFAULT_TOLERANCE_SECONDS = 300


class WebhookVerificationError(IncidentFoxError):
    """The delivery's signature, timestamp or headers do not prove it came from IncidentFox."""

    def __init__(self, message: str) -> None:
        super().__init__(message, code="invalid_webhook_signature", status=None)


def verify_webhook(
    payload: bytes | str,
    headers: Mapping[str, str],
    secret: str,
    *,
    tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
    now: float | None = None,
) -> dict[str, Any]:
    """The delivery's JSON body once its ``webhook-signature`` matches ``secret`` (the team's ``whsec_…``) and its
    ``webhook-timestamp`` is within ``tolerance_seconds``; raises :class:`WebhookVerificationError` otherwise.
    Pass the raw body exactly as received, before any JSON parsing."""
    lowered = {name.lower(): value for name, value in headers.items()}
    webhook_id, stamp, signatures = (lowered.get(h) for h in ("webhook-id", "webhook-timestamp", "webhook-signature"))
    if not webhook_id or not stamp or not signatures:
        raise WebhookVerificationError("missing webhook-id, webhook-timestamp or webhook-signature header")
    try:
        sent_at = int(stamp)
        key = base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    except (ValueError, binascii.Error):
        raise WebhookVerificationError("malformed webhook-timestamp or signing secret") from None
    if abs((time.time() if now is None else now) - sent_at) > tolerance_seconds:
        raise WebhookVerificationError("webhook-timestamp is outside the tolerance (a replay or a skewed clock)")
    body = payload if isinstance(payload, bytes) else payload.encode()
    signed = webhook_id.encode() + b"." + stamp.encode() + b"." + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    for candidate in signatures.split():
        version, _, signature = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(signature, expected):
            parsed: dict[str, Any] = json.loads(body)
            return parsed
    raise WebhookVerificationError("no webhook-signature matches the signing secret")
