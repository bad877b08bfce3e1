from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from tenancy.services import demo_bootstrap


class Command(BaseCommand):
    help = (
        "First run only: create org 'demo', team 'demo/platform', tokens and a demo user, and print the secrets once."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        result = demo_bootstrap()
        if result is None:
            self.stdout.write("Demo org already exists; its secrets were printed on the first run.")
            return
        team_token, admin_token, password = result
        base = settings.PUBLIC_BASE_URL
        self.stdout.write(
            "\n".join(
                [
                    "",
                    "=" * 78,
                    " IncidentFox demo bootstrapped. These secrets are shown ONCE; save them now.",
                    "=" * 78,
                    f" Team token (demo/platform): {team_token.plaintext}",
                    f" Org-admin token (demo):     {admin_token.plaintext}",
                    f" Web / Django admin login:   user 'demo', password '{password}'",
                    "",
                    f" Try: curl -H 'Authorization: Bearer {team_token.plaintext}' {base}/api/v1/auth/me",
                    f" API docs: {base}/api/docs/   Web app: {base}/",
                    "=" * 78,
                    "",
                ]
            )
        )
