from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from tenancy.models import Organization
from tenancy.services import org_create


class Command(BaseCommand):
    help = "Manage organisations: `orgs create SLUG --name NAME`, `orgs list`."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="Create an organisation and its root node.")
        create.add_argument("slug")
        create.add_argument("--name", required=True)
        sub.add_parser("list", help="List organisations.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "list":
            for org in Organization.objects.all():
                self.stdout.write(f"{org.org_id}\t{org.name}")
            return
        if Organization.objects.filter(org_id=options["slug"]).exists():
            raise CommandError(f"Organisation '{options['slug']}' already exists.")
        try:
            org = org_create(org_id=options["slug"], name=options["name"])
        except ValidationError as exc:
            raise CommandError("; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())) from None
        self.stdout.write(f"Created organisation {org.org_id}.")
