from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tenancy.audit import RequestMeta
from tenancy.management.commands._refs import node_by_ref, org_by_id
from tenancy.models import ApiToken, TokenKind
from tenancy.services import api_token_issue, api_token_revoke

OPERATOR = RequestMeta(actor="system")


def _days(value: str) -> int:
    days = int(value)
    if not 1 <= days <= 3650:
        raise ValueError(value)
    return days


class Command(BaseCommand):
    help = (
        "Issue and revoke API tokens. The secret is printed exactly once, on standard output.\n"
        "  tokens issue ORG/TEAM [--label L] [--read-only] [--expires-days N]\n"
        "  tokens issue-admin ORG [--label L] [--expires-days N]\n"
        "  tokens revoke TOKEN_ID"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        issue = sub.add_parser("issue", help="Issue a team token.")
        issue.add_argument("ref", metavar="ORG/TEAM")
        issue.add_argument("--label", default="")
        issue.add_argument("--read-only", action="store_true")
        issue.add_argument("--expires-days", type=_days)
        admin = sub.add_parser("issue-admin", help="Issue an org-admin token.")
        admin.add_argument("org")
        admin.add_argument("--label", default="")
        admin.add_argument("--expires-days", type=_days)
        revoke = sub.add_parser("revoke", help="Revoke a token by id (the part before the dot).")
        revoke.add_argument("token_id")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "revoke":
            token_id = options["token_id"].split(".", 1)[0]
            token = ApiToken.objects.filter(token_id=token_id).select_related("org", "team").first()
            if token is None:
                raise CommandError(f"No token '{token_id}'.")
            token = api_token_revoke(token=token, meta=OPERATOR)
            self.stdout.write(f"Revoked {token.token_id} at {token.revoked_at:%Y-%m-%dT%H:%M:%SZ}.")
            return
        if action == "issue":
            team = node_by_ref(options["ref"])
            if not team.is_team:
                raise CommandError(f"'{options['ref']}' is a {team.node_type}; tokens belong to teams.")
            issued = api_token_issue(
                org=team.org,
                kind=TokenKind.TEAM,
                team=team,
                label=options["label"],
                read_only=options["read_only"],
                expires_in_days=options["expires_days"],
                meta=OPERATOR,
            )
        else:
            issued = api_token_issue(
                org=org_by_id(options["org"]),
                kind=TokenKind.ADMIN,
                label=options["label"],
                expires_in_days=options["expires_days"],
                meta=OPERATOR,
            )
        self.stdout.write(issued.plaintext)
        expiry = issued.token.expires_at
        self.stderr.write(
            f"Issued {issued.token.token_id}"
            + (f", expires {expiry:%Y-%m-%dT%H:%M:%SZ}" if expiry else ", no expiry")
            + ". This is the only time the secret is shown."
        )
