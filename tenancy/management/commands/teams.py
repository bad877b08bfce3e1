from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from tenancy.audit import RequestMeta
from tenancy.management.commands._refs import node_by_ref, org_by_id
from tenancy.models import NodeType
from tenancy.selectors import nodes_for_org
from tenancy.services import NodeIdTaken, node_create


class Command(BaseCommand):
    help = (
        "Manage the team tree: `teams create ORG/TEAM [--parent ORG/GROUP] [--name NAME] [--group]`, `teams list ORG`."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="Create a team (or, with --group, a group).")
        create.add_argument("ref", metavar="ORG/TEAM")
        create.add_argument("--parent", metavar="ORG/GROUP", help="Defaults to the organisation's root.")
        create.add_argument("--name", help="Display name; defaults to the id.")
        create.add_argument("--group", action="store_true", help="Create a group (an inner node) instead of a team.")
        listing = sub.add_parser("list", help="List an organisation's nodes, parents first.")
        listing.add_argument("org")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "list":
            for node in nodes_for_org(org_by_id(options["org"])):
                indent = "  " * (node.depth - 1)
                self.stdout.write(f"{indent}{node.node_id}\t{node.node_type}\t{node.name}")
            return
        org_id, _, node_id = options["ref"].partition("/")
        if not node_id:
            raise CommandError("Expected ORG/TEAM.")
        org = org_by_id(org_id)
        parent = node_by_ref(options["parent"]) if options["parent"] else None
        if parent is not None and parent.org_id != org.pk:
            raise CommandError("The parent must belong to the same organisation.")
        try:
            node = node_create(
                org=org,
                node_id=node_id,
                name=options["name"] or node_id,
                parent=parent,
                node_type=NodeType.GROUP if options["group"] else NodeType.TEAM,
                meta=RequestMeta(actor="system"),
            )
        except NodeIdTaken:
            raise CommandError(f"'{node_id}' already exists in '{org_id}'.") from None
        except ValidationError as exc:
            raise CommandError("; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())) from None
        self.stdout.write(f"Created {node.node_type} {org.org_id}/{node.node_id}.")
