"""The SDK's verify_webhook accepts exactly what the server's signer (standardwebhooks) produces."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from incidentfox import WebhookVerificationError, verify_webhook

from webhooks.signing import new_signing_secret, signed_headers

BODY = json.dumps({"event": "investigation_complete", "investigation_id": "inv_abc123", "summary": "done"})
NOW = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)


def _headers(*secrets: str, body: str = BODY) -> dict[str, str]:
    return signed_headers(signing_secrets=list(secrets), webhook_id="msg_1", body=body, now=NOW)


def test_a_delivery_signed_by_the_server_verifies_and_returns_its_payload() -> None:
    secret = new_signing_secret()
    payload = verify_webhook(BODY, _headers(secret), secret, now=NOW.timestamp() + 10)
    assert payload["investigation_id"] == "inv_abc123"


def test_during_rotation_either_secret_verifies() -> None:
    old, new = new_signing_secret(), new_signing_secret()
    headers = {name.title(): value for name, value in _headers(new, old).items()}  # header names are case-blind
    assert verify_webhook(BODY.encode(), headers, old, now=NOW.timestamp())["summary"] == "done"


@pytest.mark.parametrize(
    ("tamper", "message"),
    [
        (lambda b, h, s: (b.replace("done", "owned"), h, s), "no webhook-signature matches"),
        (lambda b, h, s: (b, h, new_signing_secret()), "no webhook-signature matches"),
        (lambda b, h, s: (b, {**h, "webhook-timestamp": str(int(NOW.timestamp()) - 3600)}, s), "outside"),
        (lambda b, h, s: (b, {k: v for k, v in h.items() if k != "webhook-id"}, s), "missing"),
    ],
)
def test_a_tampered_replayed_or_incomplete_delivery_is_refused(tamper: object, message: str) -> None:
    secret = new_signing_secret()
    body, headers, key = tamper(BODY, _headers(secret), secret)  # type: ignore[operator]
    with pytest.raises(WebhookVerificationError, match=message):
        verify_webhook(body, headers, key, now=NOW.timestamp())
