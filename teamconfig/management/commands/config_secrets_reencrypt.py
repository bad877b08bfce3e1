"""``manage.py config_secrets_reencrypt``: move every stored secret encrypted with the config keys to the newest key.

That is team-config secrets (overrides and pending change requests) and webhook signing secrets.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from teamconfig.services import config_secrets_reencrypt
from webhooks.signing import webhook_secrets_reencrypt


class Command(BaseCommand):
    help = (
        "Re-encrypt team-config and webhook signing secrets with the highest CONFIG_ENCRYPTION_KEYS version "
        "(run after adding a key, before removing the old one)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        rewritten = config_secrets_reencrypt()
        endpoints = webhook_secrets_reencrypt()
        self.stdout.write(f"Re-encrypted secrets in {rewritten} row(s) and {endpoints} webhook endpoint(s).")
