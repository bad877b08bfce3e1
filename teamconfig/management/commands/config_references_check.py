"""``manage.py config_references_check``: list stored secret references the operator's rules no longer allow.

Run it after upgrading (references written before the rules existed) and after narrowing ``TEAM_SECRET_ENV_PREFIX``
or ``VAULT_ORG_PATH_TEMPLATE``. Each line names the org, the node, where the reference is stored (``config`` or a
pending change request), the field and the rule it breaks. Such a reference is never resolved: a run that needs it
fails with ``configuration_error``. Exits with status 1 when there is any, so a deploy step can stop on it.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from teamconfig.selectors import stored_reference_problems


class Command(BaseCommand):
    help = "List stored vault://, env:// and file:// references outside the operator's rules (exit 1 if any)."

    def handle(self, *args: Any, **options: Any) -> None:
        findings = stored_reference_problems()
        for finding in findings:
            self.stdout.write(
                f"{finding.org_id}/{finding.node_id} {finding.where} {finding.field}: {finding.reference} "
                f"({finding.problem})"
            )
        if findings:
            raise CommandError(f"{len(findings)} stored reference(s) break the secret reference rules.")
        self.stdout.write("Every stored secret reference is within the rules.")
