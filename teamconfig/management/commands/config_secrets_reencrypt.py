"""``manage.py config_secrets_reencrypt``: move every stored config secret to the newest encryption key."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from teamconfig.services import config_secrets_reencrypt


class Command(BaseCommand):
    help = "Re-encrypt team-config secrets with the highest CONFIG_ENCRYPTION_KEYS version (run after adding a key)."

    def handle(self, *args: Any, **options: Any) -> None:
        rewritten = config_secrets_reencrypt()
        self.stdout.write(f"Re-encrypted secrets in {rewritten} row(s).")
