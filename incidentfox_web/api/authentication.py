"""DRF authentication: each class claims only its own credential shape (API.md §2.1).

Order in settings: team token (``ift_``), org-admin token (``ifa_``), OIDC JWT (three segments), then a catch-all
that rejects any other Bearer credential without touching the database, and finally the browser session used
by the browsable API and the web app.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone
from rest_framework.authentication import BaseAuthentication, SessionAuthentication
from rest_framework.request import Request

from incidentfox_web.api.errors import WWW_AUTHENTICATE, InvalidCredential, TokenExpired
from tenancy.audit import RequestMeta, audit_record
from tenancy.models import ApiToken, TokenKind
from tenancy.oidc_jwt import JwtExpired, JwtInvalid, looks_like_jwt, verify_jwt
from tenancy.principal import ADMIN_PERMISSIONS, TEAM_PERMISSIONS, Principal
from tenancy.selectors import principal_for_user
from tenancy.tokens import parse_token, secret_matches

LAST_USED_RESOLUTION = timedelta(minutes=1)


def bearer_credential(request: HttpRequest | Request) -> str | None:
    """The credential after ``Bearer`` (scheme case-insensitive); ``""`` when the header is malformed."""
    header: str | None = request.META.get("HTTP_AUTHORIZATION")
    if header is None:
        return None
    scheme, _, credential = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not credential.strip():
        return ""
    return credential.strip()


def _token_row(token_id: str) -> ApiToken | None:
    """The token with its org and team: one query on the unique ``token_id`` index (no ORDER BY, unlike
    ``first()``). Kind and revocation are checked on the row, so a revocation applies to the next request."""
    try:
        return ApiToken.objects.select_related("org", "team").get(token_id=token_id)
    except ApiToken.DoesNotExist:
        return None


class _BearerAuthentication(BaseAuthentication):
    def authenticate_header(self, request: Request) -> str:
        return WWW_AUTHENTICATE


class _OpaqueTokenAuthentication(_BearerAuthentication):
    kind: TokenKind
    prefix: str

    def authenticate(self, request: Request) -> tuple[Principal, ApiToken] | None:
        credential = bearer_credential(request)
        if not credential or not credential.startswith(self.prefix):
            return None
        parsed = parse_token(credential)
        if parsed is None:
            raise InvalidCredential()
        token = _token_row(parsed.token_id)
        if token is None or token.kind != self.kind or token.revoked_at is not None:
            secret_matches(parsed.secret, digest=None, pepper_version=None)  # same work as a real check
            raise InvalidCredential()
        if not secret_matches(parsed.secret, digest=token.digest, pepper_version=token.pepper_version):
            raise InvalidCredential()
        if token.team is not None:
            token.team.org = token.org  # the same row: team-scoped reads need no query for it
        now = timezone.now()
        if token.expires_at is not None and token.expires_at <= now:
            self._audit_expired_use(request, token)
            raise TokenExpired()
        self._touch(token, now)
        return self._principal(token), token

    @staticmethod
    def _audit_expired_use(request: Request, token: ApiToken) -> None:
        audit_record(
            org=token.org,
            event_type="auth.denied",
            meta=RequestMeta(
                actor=token.token_id,
                request_id=getattr(request, "request_id", ""),
                ip_address=request.META.get("REMOTE_ADDR"),
            ),
            team_id=token.team.node_id if token.team else "",
            target=token.token_id,
            details={"reason": "token_expired"},
        )

    @staticmethod
    def _touch(token: ApiToken, now: datetime) -> None:
        """Write ``last_used_at`` at most once a minute, by one conditional UPDATE (no save, no signals)."""
        cutoff = now - LAST_USED_RESOLUTION
        if token.last_used_at is None or token.last_used_at < cutoff:
            ApiToken.objects.filter(pk=token.pk).filter(
                Q(last_used_at__isnull=True) | Q(last_used_at__lt=cutoff)
            ).update(last_used_at=now)
            token.last_used_at = now

    def _principal(self, token: ApiToken) -> Principal:
        raise NotImplementedError


class TeamTokenAuthentication(_OpaqueTokenAuthentication):
    kind = TokenKind.TEAM
    prefix = "ift_"

    def _principal(self, token: ApiToken) -> Principal:
        return Principal(
            kind="team_token", org=token.org, permissions=frozenset(token.permissions), token=token, team=token.team
        )


class AdminTokenAuthentication(_OpaqueTokenAuthentication):
    kind = TokenKind.ADMIN
    prefix = "ifa_"

    def _principal(self, token: ApiToken) -> Principal:
        return Principal(kind="admin_token", org=token.org, permissions=ADMIN_PERMISSIONS, token=token)


class OidcJwtAuthentication(_BearerAuthentication):
    def authenticate(self, request: Request) -> tuple[Principal, str] | None:
        credential = bearer_credential(request)
        if not credential or credential.startswith(("ift_", "ifa_")) or not looks_like_jwt(credential):
            return None
        try:
            principal = verify_jwt(credential)
        except JwtExpired:
            raise TokenExpired() from None
        except JwtInvalid:
            raise InvalidCredential() from None
        return principal, credential


class RejectUnrecognisedCredential(_BearerAuthentication):
    """Any Authorization header that no class above claimed is a 401, decided from the string alone."""

    def authenticate(self, request: Request) -> None:
        if bearer_credential(request) is not None:
            raise InvalidCredential()
        return None


class BrowserSessionAuthentication(SessionAuthentication):
    """A signed-in web user, for the browsable API; CSRF is enforced on unsafe methods as usual."""

    def authenticate(self, request: Request) -> tuple[Principal, None] | None:
        result = super().authenticate(request)
        if result is None:
            return None
        principal = principal_for_user(result[0])
        return (principal, None) if principal is not None else None

    def authenticate_header(self, request: Request) -> str:
        return WWW_AUTHENTICATE


__all__ = [
    "TEAM_PERMISSIONS",
    "AdminTokenAuthentication",
    "BrowserSessionAuthentication",
    "OidcJwtAuthentication",
    "RejectUnrecognisedCredential",
    "TeamTokenAuthentication",
]
