from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction

from teamconfig.services import config_update
from tenancy.audit import RequestMeta
from tenancy.services import demo_bootstrap

# The demo team investigates the recorded demo environment (engine/demo) until real sources are configured.
DEMO_TEAM_CONFIG = {
    "tools": {"demo": {"enabled": True}},
}


class Command(BaseCommand):
    help = (
        "First run only: create org 'demo', team 'demo/platform', tokens and a demo user, and print the secrets once."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        with transaction.atomic():
            result = demo_bootstrap()
            if result is not None:
                team = result[0].token.team
                assert team is not None
                config_update(node=team, patch=DEMO_TEAM_CONFIG, meta=RequestMeta.system(), admin=True)
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
                    " Investigate the demo shop (recorded data), e.g.:",
                    f"   curl -X POST {base}/api/v1/agents/run -H 'Authorization: Bearer {team_token.plaintext}' \\",
                    "        -H 'Content-Type: application/json' \\",
                    """        -d '{"agent_name": "planner", "message": "checkout errors are up"}'""",
                    f" API docs: {base}/api/docs/   Web app: {base}/",
                    "=" * 78,
                    "",
                ]
            )
        )
