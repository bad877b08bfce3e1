"""Reads about tenancy that are reused: principals for web users, team selection, tree listings."""

from __future__ import annotations

from typing import Any

from incidentfox_web.api.errors import ApiError
from tenancy.models import ROLE_RANK, Membership, Node, NodeType, Organization, Role
from tenancy.principal import ADMIN_PERMISSIONS, Principal


def team_roles_for_user(user: Any, org: Organization) -> dict[str, str]:
    """Each team the user may act for, with the strongest role that reaches it (memberships on groups inherit)."""
    memberships = list(Membership.objects.filter(user_id=user.pk, node__org=org).select_related("node"))
    if not memberships:
        return {}
    granted = {m.node.node_id: m.role for m in memberships}
    roles: dict[str, str] = {}
    for team in Node.objects.filter(org=org, node_type=NodeType.TEAM).only("node_id", "path"):
        best = None
        for ancestor in team.path:
            role = granted.get(ancestor)
            if role is not None and (best is None or ROLE_RANK[Role(role)] > ROLE_RANK[Role(best)]):
                best = role
        if best is not None:
            roles[team.node_id] = best
    return roles


def principal_for_user(user: Any) -> Principal | None:
    """The principal of a signed-in web user: their org (first membership) and the teams they can reach."""
    if not user.is_authenticated:
        return None
    membership = Membership.objects.filter(user_id=user.pk).select_related("node__org").order_by("id").first()
    if membership is None:
        return None
    org = membership.node.org
    roles = team_roles_for_user(user, org)
    is_org_admin = Membership.objects.filter(
        user_id=user.pk, node__org=org, node__node_type=NodeType.ORG, role=Role.ORG_ADMIN
    ).exists()
    permissions = {"team:read"}
    if any(ROLE_RANK[Role(role)] >= ROLE_RANK[Role.OPERATOR] for role in roles.values()):
        permissions.add("team:write")
    if is_org_admin:
        permissions |= ADMIN_PERMISSIONS
    return Principal(
        kind="session",
        org=org,
        permissions=frozenset(permissions),
        team_ids=sorted(roles),
        email=getattr(user, "email", None) or None,
        subject=user.get_username(),
        user_id=user.pk,
    )


def _node_in_org(org: Organization, node_id: str) -> Node | None:
    return Node.objects.filter(org=org, node_id=node_id).first()


def team_for_principal(principal: Principal, requested: str | None) -> Node:
    """Select the one team a team-scoped request acts for (API.md §2.4, the ``X-Team-Id`` table)."""
    if principal.kind == "team_token":
        assert principal.team is not None
        if requested is not None and requested != principal.team.node_id:
            raise ApiError.forbidden("Token is not valid for this team")
        return principal.team

    if requested is None:
        if principal.kind == "admin_token":
            raise ApiError.invalid_request("X-Team-Id header is required")
        if not principal.team_ids:
            raise ApiError.forbidden("You are not a member of any team")
        if len(principal.team_ids) > 1:
            raise ApiError.invalid_request(
                "X-Team-Id header is required: you belong to several teams", details={"teams": principal.team_ids}
            )
        requested = principal.team_ids[0]

    node = _node_in_org(principal.org, requested)
    if node is not None and not node.is_team:
        raise ApiError.invalid_request("X-Team-Id must identify a team")
    if principal.is_admin:
        if node is None:
            raise ApiError.not_found("Team not found")
        return node
    if node is None or node.node_id not in principal.team_ids:
        raise ApiError.forbidden("You are not a member of this team")
    return node


def nodes_for_org(org: Organization, node_type: str | None = None) -> list[Node]:
    """Parents before children, siblings by id (a depth-first walk of the tree)."""
    nodes = list(Node.objects.filter(org=org).select_related("parent"))
    children: dict[int | None, list[Node]] = {}
    for node in nodes:
        children.setdefault(node.parent_id, []).append(node)
    ordered: list[Node] = []
    stack = sorted(children.get(None, []), key=lambda n: n.node_id, reverse=True)
    while stack:
        node = stack.pop()
        ordered.append(node)
        stack.extend(sorted(children.get(node.pk, []), key=lambda n: n.node_id, reverse=True))
    return [n for n in ordered if node_type is None or n.node_type == node_type]
