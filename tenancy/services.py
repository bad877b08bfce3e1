"""Workflows that change tenancy state: organisations, nodes, tokens. Keyword-only, one transaction each."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from incidentfox_web.api.formats import iso_z
from tenancy.audit import RequestMeta, audit_record
from tenancy.models import (
    TOKEN_PREFIX,
    ApiToken,
    Membership,
    Node,
    NodeType,
    Organization,
    Role,
    TokenKind,
)
from tenancy.tokens import current_pepper_version, digest_secret, new_password, new_token_parts


class NodeIdTaken(Exception):
    """The node id is already used in this organisation."""


@dataclass(frozen=True)
class IssuedToken:
    """A freshly issued token. ``plaintext`` exists only here: it is never stored."""

    token: ApiToken
    plaintext: str


@transaction.atomic
def org_create(*, org_id: str, name: str) -> Organization:
    """Operators provision organisations (no API creates them), so there is no actor to audit."""
    org = Organization(org_id=org_id, name=name)
    org.full_clean()
    org.save()
    root = Node(org=org, node_id=org_id, name=name, node_type=NodeType.ORG)
    root.full_clean(exclude=["org"])
    root.save()
    return org


@transaction.atomic
def node_create(
    *,
    org: Organization,
    node_id: str,
    name: str,
    parent: Node | None = None,
    node_type: str = NodeType.TEAM,
    meta: RequestMeta,
) -> Node:
    """Create a group or team under ``parent`` (default: the root). Raises ``NodeIdTaken`` or ValidationError."""
    if node_type not in (NodeType.GROUP, NodeType.TEAM):
        raise ValidationError({"node_type": "must be team or group"})
    parent = parent or Node.objects.get(org=org, node_type=NodeType.ORG)
    node = Node(org=org, node_id=node_id, name=name, parent=parent, node_type=node_type)
    node.full_clean(validate_unique=False, validate_constraints=False)
    try:
        with transaction.atomic():
            node.save()
    except IntegrityError:
        raise NodeIdTaken(node_id) from None
    audit_record(
        org=org,
        event_type="team.created",
        meta=meta,
        team_id=node_id if node_type == NodeType.TEAM else "",
        target=node_id,
        details={"node_type": node_type, "parent_id": parent.node_id, "name": name},
    )
    return node


@transaction.atomic
def api_token_issue(
    *,
    org: Organization,
    kind: str,
    meta: RequestMeta,
    team: Node | None = None,
    label: str = "",
    read_only: bool = False,
    expires_in_days: int | None = None,
) -> IssuedToken:
    """Issue a team token (``team`` required, a team node) or an org-admin token; returns the plaintext once."""
    if kind == TokenKind.TEAM and (team is None or not team.is_team or team.org_id != org.pk):
        raise ValidationError({"team": "team tokens belong to a team node of the organisation"})
    if kind == TokenKind.ADMIN:
        team, read_only = None, False
    days = expires_in_days if expires_in_days is not None else org.token_default_expiry_days
    now = timezone.now()
    token_id, secret = new_token_parts(TOKEN_PREFIX[TokenKind(kind)])
    pepper_version = current_pepper_version()
    token = ApiToken.objects.create(
        token_id=token_id,
        kind=kind,
        org=org,
        team=team,
        label=label,
        digest=digest_secret(secret, pepper_version),
        pepper_version=pepper_version,
        read_only=read_only,
        issued_at=now,
        issued_by=meta.actor,
        expires_at=now + timedelta(days=days) if days else None,
    )
    audit_record(
        org=org,
        event_type="token.issued",
        meta=meta,
        team_id=team.node_id if team else "",
        target=token_id,
        details={"kind": kind, "label": label, "read_only": read_only, "expires_at": iso_z(token.expires_at)},
    )
    return IssuedToken(token=token, plaintext=f"{token_id}.{secret}")


@transaction.atomic
def api_token_revoke(*, token: ApiToken, meta: RequestMeta) -> ApiToken:
    """Soft-revoke at once. Revoking again is a no-op that keeps the first ``revoked_at``."""
    locked = ApiToken.objects.select_for_update().get(pk=token.pk)
    if locked.revoked_at is None:
        locked.revoked_at = timezone.now()
        locked.revoked_by = meta.actor
        locked.save(update_fields=["revoked_at", "revoked_by"])
        audit_record(
            org=locked.org,
            event_type="token.revoked",
            meta=meta,
            team_id=locked.team.node_id if locked.team else "",
            target=locked.token_id,
        )
    return locked


@transaction.atomic
def demo_bootstrap(*, org_id: str = "demo", team_id: str = "platform") -> tuple[IssuedToken, IssuedToken, str] | None:
    """First-run demo: org, team, a team token, an org-admin token and an org-admin user. None if it exists."""
    if Organization.objects.filter(org_id=org_id).exists():
        return None
    meta = RequestMeta.system()
    org = org_create(org_id=org_id, name="Demo")
    team = node_create(org=org, node_id=team_id, name="Platform", node_type=NodeType.TEAM, meta=meta)
    team_token = api_token_issue(org=org, kind=TokenKind.TEAM, team=team, label="demo", meta=meta)
    admin_token = api_token_issue(org=org, kind=TokenKind.ADMIN, label="demo", meta=meta)
    password = new_password()
    user_model = get_user_model()
    user = user_model.objects.create_user(username="demo", email="demo@example.com", password=password, is_staff=True)
    root = Node.objects.get(org=org, node_type=NodeType.ORG)
    Membership.objects.create(user=user, node=root, role=Role.ORG_ADMIN)
    return team_token, admin_token, password
