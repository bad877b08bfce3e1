"""Team-config fixtures: a four-level tree (org → division → group → team) and helpers to write config."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client

from teamconfig.services import ConfigApplied, config_update
from tenancy.audit import RequestMeta
from tenancy.models import Node, NodeType, Organization, TokenKind
from tenancy.services import api_token_issue, node_create
from tests.conftest import ApiCaller

SYSTEM = RequestMeta.system()


@dataclass
class Tree:
    org: Organization
    root: Node
    division: Node
    group: Node
    team: Node


@pytest.fixture
def tree(org: Organization) -> Tree:
    root = Node.objects.get(org=org, node_type=NodeType.ORG)
    division = node_create(org=org, node_id="engineering", name="Engineering", node_type=NodeType.GROUP, meta=SYSTEM)
    group = node_create(
        org=org,
        node_id="payments-group",
        name="Payments",
        parent=division,
        node_type=NodeType.GROUP,
        meta=SYSTEM,
    )
    team = node_create(org=org, node_id="team-checkout", name="Checkout", parent=group, meta=SYSTEM)
    return Tree(org=org, root=root, division=division, group=group, team=team)


@pytest.fixture
def tree_member(tree: Tree) -> ApiCaller:
    issued = api_token_issue(org=tree.org, kind=TokenKind.TEAM, team=tree.team, label="checkout", meta=SYSTEM)
    return ApiCaller(Client(), issued.plaintext, tree.team)


def admin_write(node: Node, patch: dict[str, Any]) -> ConfigApplied:
    """Write ``patch`` to ``node`` as an org admin would (no approval step)."""
    outcome = config_update(node=node, patch=patch, meta=RequestMeta(actor="ifa_testadmin0000"), admin=True)
    assert isinstance(outcome, ConfigApplied)
    return outcome
