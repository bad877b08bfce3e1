"""Per-team signing secrets (``whsec_`` + base64 of 32 random bytes) and Standard Webhooks headers (API.md §6.2).

Secrets are encrypted at rest with the team-config keys. A rotation keeps the previous secret co-signing for
24 h, newest signature first, so receivers can switch over without dropping events.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from standardwebhooks import Webhook

from teamconfig.secrets import current_key_version, decrypt, encrypt, key_version_of
from tenancy.audit import RequestMeta, audit_record
from tenancy.models import Node
from webhooks.models import WebhookEndpoint

SECRET_PREFIX = "whsec_"
ROTATION_OVERLAP = timedelta(hours=24)


def new_signing_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


@dataclass(frozen=True)
class SecretView:
    secret: str
    created_at: datetime
    previous_secret_expires_at: datetime | None


def webhook_endpoint_for_team(team: Node) -> WebhookEndpoint:
    """The team's endpoint state, created with a fresh secret on first use."""
    endpoint = WebhookEndpoint.objects.filter(team=team).first()
    if endpoint is not None:
        return endpoint
    endpoint, _ = WebhookEndpoint.objects.get_or_create(
        team=team,
        defaults={
            "org_id": team.org_id,
            "secret_ciphertext": encrypt(new_signing_secret()),
            "secret_created_at": timezone.now(),
        },
    )
    return endpoint


def _previous_active(endpoint: WebhookEndpoint, now: datetime) -> bool:
    expires = endpoint.previous_secret_expires_at
    return bool(endpoint.previous_secret_ciphertext) and expires is not None and expires > now


def _view(endpoint: WebhookEndpoint, now: datetime) -> SecretView:
    active = _previous_active(endpoint, now)
    return SecretView(
        secret=decrypt(endpoint.secret_ciphertext),
        created_at=endpoint.secret_created_at,
        previous_secret_expires_at=endpoint.previous_secret_expires_at if active else None,
    )


def webhook_secret_get(*, team: Node) -> SecretView:
    return _view(webhook_endpoint_for_team(team), timezone.now())


def webhook_secret_rotate(*, team: Node, meta: RequestMeta) -> SecretView:
    """New current secret; the old one co-signs for 24 h (an older previous one is dropped: at most two)."""
    webhook_endpoint_for_team(team)
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.select_for_update().get(team=team)
        now = timezone.now()
        endpoint.previous_secret_ciphertext = endpoint.secret_ciphertext
        endpoint.previous_secret_expires_at = now + ROTATION_OVERLAP
        endpoint.secret_ciphertext = encrypt(new_signing_secret())
        endpoint.secret_created_at = now
        endpoint.save(
            update_fields=[
                "previous_secret_ciphertext",
                "previous_secret_expires_at",
                "secret_ciphertext",
                "secret_created_at",
            ]
        )
        audit_record(
            org=team.org,
            event_type="webhook.secret_rotated",
            meta=meta,
            team_id=team.node_id,
            target="webhooks",
            details={"previous_secret_expires_at": endpoint.previous_secret_expires_at.isoformat()},
        )
        return _view(endpoint, now)


def active_secrets(endpoint: WebhookEndpoint, now: datetime) -> list[str]:
    """The secrets that sign right now, newest first."""
    active = [decrypt(endpoint.secret_ciphertext)]
    if _previous_active(endpoint, now):
        active.append(decrypt(endpoint.previous_secret_ciphertext))
    return active


def signed_headers(*, signing_secrets: list[str], webhook_id: str, body: str, now: datetime) -> dict[str, str]:
    """``webhook-id``, ``webhook-timestamp`` (this attempt) and ``webhook-signature`` (one per secret)."""
    timestamp = datetime.fromtimestamp(int(now.timestamp()), tz=now.tzinfo)
    signatures = " ".join(Webhook(secret).sign(webhook_id, timestamp, body) for secret in signing_secrets)
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(timestamp.timestamp())),
        "webhook-signature": signatures,
    }


def webhook_secrets_reencrypt() -> int:
    """Re-encrypt every endpoint's signing secrets with the newest config key; returns the endpoints rewritten.

    Run by ``manage.py config_secrets_reencrypt`` after a key is added, so the old key can then be removed without
    breaking deliveries. The secrets themselves do not change: receivers notice nothing.
    """
    version = current_key_version()
    rewritten = 0
    for pk in WebhookEndpoint.objects.values_list("pk", flat=True):
        with transaction.atomic():
            endpoint = WebhookEndpoint.objects.select_for_update().get(pk=pk)
            changed = []
            for field in ("secret_ciphertext", "previous_secret_ciphertext"):
                value = getattr(endpoint, field)
                if value and key_version_of(value) != version:
                    setattr(endpoint, field, encrypt(decrypt(value)))
                    changed.append(field)
            if changed:
                endpoint.save(update_fields=changed)
                rewritten += 1
    return rewritten
