"""Who may call what (API.md §2.4), as DRF permission classes. A denial to a known principal is audited and
answered 403 with the message set here (``ApiView.permission_denied``); no principal at all is a 401."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

from tenancy.principal import Principal

NO_PERMISSION = "Token does not have permission for this operation"
NO_WRITE = "Token does not have write permissions"


class IsPrincipal(BasePermission):
    """Any authenticated caller (``GET /auth/me``)."""

    def has_permission(self, request: Request, view: Any) -> bool:
        return isinstance(request.user, Principal)


class TeamAccess(IsPrincipal):
    """``team:read``; ``team:write`` for unsafe methods (``admin:*`` implies both)."""

    write_always = False

    def has_permission(self, request: Request, view: Any) -> bool:
        principal = request.user
        if not isinstance(principal, Principal):
            return False
        if not principal.can("team:read"):
            self.message = NO_PERMISSION
            return False
        if (self.write_always or request.method not in SAFE_METHODS) and not principal.can("team:write"):
            self.message = NO_WRITE
            return False
        return True


class TeamReadAccess(IsPrincipal):
    """``team:read`` whatever the method: a POST that only reads (knowledge retrieval) is open to read-only tokens."""

    message = NO_PERMISSION

    def has_permission(self, request: Request, view: Any) -> bool:
        principal = request.user
        return isinstance(principal, Principal) and principal.can("team:read")


class TeamWriteAccess(TeamAccess):
    """``team:write`` even to read (webhook secrets)."""

    write_always = True


class AdminAccess(IsPrincipal):
    """``admin:read``; ``admin:write`` for unsafe methods."""

    message = NO_PERMISSION

    def has_permission(self, request: Request, view: Any) -> bool:
        principal = request.user
        if not isinstance(principal, Principal):
            return False
        needed = "admin:read" if request.method in SAFE_METHODS else "admin:write"
        return needed in principal.permissions
