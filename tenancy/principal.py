"""Who is calling: one object for every kind of credential, so permission and tenancy checks live in one place."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from tenancy.models import ApiToken, Node, Organization

PrincipalKind = Literal["team_token", "admin_token", "oidc_jwt", "session"]
TEAM_PERMISSIONS = frozenset({"team:read", "team:write"})
ADMIN_PERMISSIONS = frozenset({"admin:read", "admin:write"})


@dataclass
class Principal:
    kind: PrincipalKind
    org: Organization
    permissions: frozenset[str]
    token: ApiToken | None = None
    team: Node | None = None  # a team token's own team
    team_ids: list[str] = field(default_factory=list)  # OIDC / session users: teams from claims or memberships
    subject: str | None = None
    email: str | None = None
    issuer: str | None = None
    user_id: int | None = None

    is_authenticated = True
    is_anonymous = False

    def __str__(self) -> str:
        """Who is calling, as a person reads it (the browsable API's header): email, or the token's label and id."""
        if self.token is not None:
            return f"{self.token.label} ({self.token.token_id})" if self.token.label else self.token.token_id
        return self.email or self.subject or self.kind

    @property
    def is_admin(self) -> bool:
        return "admin:read" in self.permissions

    def can(self, permission: str) -> bool:
        """``admin:*`` implies ``team:*`` on every team of the org (API.md §2.4)."""
        if permission in self.permissions:
            return True
        scope, _, action = permission.partition(":")
        return scope == "team" and f"admin:{action}" in self.permissions

    @property
    def can_write(self) -> bool:
        return self.can("team:write") or "admin:write" in self.permissions

    @property
    def actor(self) -> str:
        """The string written as actor in audit events, ``changed_by`` and ``requested_by``."""
        if self.token is not None:
            return self.token.token_id
        return self.email or self.subject or "unknown"

    @property
    def rate_key(self) -> str:
        if self.token is not None:
            return self.token.token_id
        if self.kind == "oidc_jwt":
            return f"oidc:{self.issuer}:{self.subject}"
        return f"user:{self.user_id}"

    @property
    def role(self) -> str:
        return {"team_token": "team", "admin_token": "admin"}.get(self.kind, "user")

    @property
    def expires_at(self) -> datetime | None:
        return self.token.expires_at if self.token is not None else None
