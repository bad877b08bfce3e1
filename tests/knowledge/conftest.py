"""Knowledge-base fixtures: a team inside a group, so inheritance down the tree can be checked."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from knowledge.services import DocumentInput, Taught, document_teach
from tenancy.audit import RequestMeta
from tenancy.models import Node, NodeType, Organization, TokenKind
from tenancy.services import api_token_issue, node_create
from tests.conftest import ApiCaller

SYSTEM = RequestMeta.system()

CRASHLOOP_RUNBOOK = """# KubePodCrashLooping

## Meaning
A container of the pod restarts repeatedly: it starts, exits with an error and Kubernetes backs off before the
next start (CrashLoopBackOff).

## Diagnosis
Read the previous container's logs with `kubectl logs --previous` and the pod's events.

## Mitigation
- Roll back the deployment to the last version that started cleanly
- Fix the missing configuration or secret the logs name
"""


def teach(
    node: Node, content: str, *, doc_type: str = "runbook", service: str = "", key: str = "", **extra: Any
) -> Taught:
    return document_teach(
        node=node,
        data=DocumentInput(content=content, doc_type=doc_type, service=service, **extra),
        key=key,
        meta=SYSTEM,
    )


@pytest.fixture
def group(org: Organization) -> Node:
    return node_create(org=org, node_id="engineering", name="Engineering", node_type=NodeType.GROUP, meta=SYSTEM)


@pytest.fixture
def grouped_team(group: Node) -> Node:
    return node_create(org=group.org, node_id="team-checkout", name="Checkout", parent=group, meta=SYSTEM)


@pytest.fixture
def grouped_member(grouped_team: Node) -> ApiCaller:
    issued = api_token_issue(org=grouped_team.org, kind=TokenKind.TEAM, team=grouped_team, meta=SYSTEM)
    return ApiCaller(Client(), issued.plaintext, grouped_team)
