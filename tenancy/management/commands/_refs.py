"""Parsing ``ORG`` and ``ORG/NODE`` arguments for the operator commands."""

from __future__ import annotations

from django.core.management.base import CommandError

from tenancy.models import Node, Organization


def org_by_id(org_id: str) -> Organization:
    org = Organization.objects.filter(org_id=org_id).first()
    if org is None:
        raise CommandError(f"No organisation '{org_id}'.")
    return org


def node_by_ref(ref: str) -> Node:
    org_id, sep, node_id = ref.partition("/")
    if not sep or not node_id:
        raise CommandError(f"Expected ORG/NODE, got '{ref}'.")
    node = Node.objects.filter(org=org_by_id(org_id), node_id=node_id).select_related("org").first()
    if node is None:
        raise CommandError(f"No node '{node_id}' in organisation '{org_id}'.")
    return node
