"""Browser sign-in with the company's identity provider (mozilla-django-oidc), and the local password login.

Users are matched on (issuer, subject), never on e-mail alone. An e-mail address is used once, to claim an
invitation: a user an admin created beforehand (with memberships) and that has no identity at this issuer yet,
and only when the provider says the address is verified. Memberships with ``source="claims"`` are re-derived
from the claims at every sign-in:

- team ids in the org's ``oidc_teams_claim`` claim → ``operator`` on that team;
- the org's ``oidc_admin_group`` in the groups claim → ``org_admin`` on the root;
- ``settings.OIDC_GROUP_ROLES`` maps a group to ``"<node id>:<role>"`` entries (a group or a team node).

Manual memberships (invitations, the admin) are never touched. A sign-in that ends without any membership is
refused, so nobody gets an account they cannot use.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import AbstractBaseUser, User
from django.core.exceptions import SuspiciousOperation
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django_htmx.http import HttpResponseClientRedirect
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.middleware import SessionRefresh

from incidentfox_web.middleware import EventLoopHooks
from tenancy.audit import RequestMeta, audit_record
from tenancy.models import ROLE_RANK, Membership, Node, NodeType, OidcIdentity, Organization, Role

logger = logging.getLogger(__name__)
CLAIMS_SOURCE = "claims"


class SsoRefused(Exception):
    """The identity provider vouched for the person, but IncidentFox will not let them in; the message says why."""


@dataclass(frozen=True)
class SsoSignIn:
    user: User
    org: Organization
    created: bool
    roles: dict[str, str]


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [item for item in value if isinstance(item, str)]
    return []


def org_for_issuer(issuer: str, client_id: str) -> Organization | None:
    """The org using this provider: the one whose issuer matches, preferring the one registered with our client."""
    orgs = list(Organization.objects.filter(oidc_issuer=issuer))
    for org in orgs:
        if org.oidc_client_id == client_id:
            return org
    return orgs[0] if len(orgs) == 1 else None


def parse_group_roles(raw: object) -> dict[str, list[tuple[str, str]]]:
    """``{"group": ["node-id:role", ...]}`` → ``{"group": [("node-id", "role")]}``; ValueError on bad shapes."""
    if not isinstance(raw, dict):
        raise ValueError("OIDC_GROUP_ROLES must be a JSON object of group → list of 'node_id:role'")
    parsed: dict[str, list[tuple[str, str]]] = {}
    for group, entries in raw.items():
        if not isinstance(entries, list) or not all(isinstance(e, str) for e in entries):
            raise ValueError(f"OIDC_GROUP_ROLES[{group!r}] must be a list of 'node_id:role' strings")
        pairs = []
        for entry in entries:
            node_id, _, role = entry.partition(":")
            if not node_id or role not in Role.values:
                raise ValueError(f"OIDC_GROUP_ROLES[{group!r}]: {entry!r} is not 'node_id:role' with a known role")
            pairs.append((node_id, role))
        parsed[str(group)] = pairs
    return parsed


def _stronger(current: str | None, candidate: str) -> str:
    if current is None or ROLE_RANK[Role(candidate)] > ROLE_RANK[Role(current)]:
        return candidate
    return current


def roles_from_claims(org: Organization, claims: dict[str, Any]) -> dict[str, str]:
    """Node id → role, as granted by the claims (only nodes that exist in the org, strongest role per node)."""
    wanted: dict[str, str] = {}
    groups = _strings(claims.get(settings.OIDC_GROUPS_CLAIM))
    for team_id in _strings(claims.get(org.oidc_teams_claim or "teams")):
        wanted[team_id] = _stronger(wanted.get(team_id), Role.OPERATOR)
    if org.oidc_admin_group and org.oidc_admin_group in groups:
        wanted[org.org_id] = Role.ORG_ADMIN
    mapping = parse_group_roles(settings.OIDC_GROUP_ROLES)
    for group in groups:
        for node_id, role in mapping.get(group, []):
            wanted[node_id] = _stronger(wanted.get(node_id), role)
    nodes = {n.node_id: n for n in Node.objects.filter(org=org, node_id__in=list(wanted))}
    roles: dict[str, str] = {}
    for node_id, role in wanted.items():
        node = nodes.get(node_id)
        if node is None:
            continue
        if role == Role.ORG_ADMIN and node.node_type != NodeType.ORG:
            role = Role.ADMIN  # org_admin only exists on the root; elsewhere it is the strongest team role
        roles[node_id] = role
    return roles


def _email_allowed(org: Organization, email: str | None, verified: bool) -> bool:
    domains = [d.lower().lstrip("@") for d in org.allowed_email_domains if isinstance(d, str)]
    if not domains:
        return True
    return bool(email and verified and email.rpartition("@")[2].lower() in domains)


def _username_for(issuer: str, subject: str) -> str:
    digest = hashlib.sha256(f"{issuer}\n{subject}".encode()).digest()
    return "sso_" + base64.urlsafe_b64encode(digest).decode().rstrip("=")[:32]


def _invited_user(org: Organization, issuer: str, email: str) -> User | None:
    """A pre-created user with a manual membership in the org and no identity at this issuer yet."""
    user_model = get_user_model()
    candidates = list(
        user_model.objects.filter(
            email__iexact=email, is_active=True, memberships__node__org=org, memberships__source="manual"
        )
        .exclude(oidc_identities__issuer=issuer)
        .distinct()[:2]
    )
    return candidates[0] if len(candidates) == 1 else None


def _sync_claim_memberships(user: User, org: Organization, roles: dict[str, str]) -> None:
    existing = {m.node.node_id: m for m in Membership.objects.filter(user=user, node__org=org).select_related("node")}
    nodes = {n.node_id: n for n in Node.objects.filter(org=org, node_id__in=list(roles))}
    for node_id, membership in existing.items():
        if membership.source != CLAIMS_SOURCE:
            continue
        if node_id not in roles:
            membership.delete()
        elif membership.role != roles[node_id]:
            membership.role = roles[node_id]
            membership.save(update_fields=["role"])
    for node_id, role in roles.items():
        if node_id not in existing:
            Membership.objects.create(user=user, node=nodes[node_id], role=role, source=CLAIMS_SOURCE)


def sso_sign_in(*, issuer: str, client_id: str, claims: dict[str, Any], meta: RequestMeta | None = None) -> SsoSignIn:
    """Find or create the user for verified claims and re-derive their claim memberships; SsoRefused if not allowed."""
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject:
        raise SsoRefused("The identity provider sent no subject.")
    org = org_for_issuer(issuer, client_id)
    if org is None:
        raise SsoRefused("No organisation in IncidentFox uses this identity provider.")
    email = claims.get("email") if isinstance(claims.get("email"), str) else None
    verified = claims.get("email_verified") is True
    if not _email_allowed(org, email, verified):
        raise SsoRefused("Your e-mail domain is not allowed to sign in to this organisation.")

    with transaction.atomic():
        identity = OidcIdentity.objects.select_related("user").filter(issuer=issuer, subject=subject).first()
        created = False
        if identity is not None:
            if identity.org_id != org.pk:
                raise SsoRefused("This identity belongs to another organisation.")
            user: User = identity.user
        else:
            invited = _invited_user(org, issuer, email) if email and verified else None
            if invited is not None:
                user = invited
            else:
                user = get_user_model().objects.create_user(username=_username_for(issuer, subject), email=email or "")
                user.set_unusable_password()
                created = True
            identity = OidcIdentity(user=user, org=org, issuer=issuer, subject=subject)
        if not user.is_active:
            raise SsoRefused("Your IncidentFox account is disabled.")

        roles = roles_from_claims(org, claims)
        _sync_claim_memberships(user, org, roles)
        memberships = list(Membership.objects.filter(user=user, node__org=org).select_related("node"))
        if not memberships:
            raise SsoRefused("You are not a member of any team in IncidentFox yet. Ask an admin to invite you.")

        if email and verified:
            user.email = email
        name = claims.get("name")
        if isinstance(name, str) and name:
            first, _, last = name.partition(" ")
            user.first_name, user.last_name = first[:150], last[:150]
        if not user.has_usable_password():
            # SSO-only accounts reach the Django admin exactly while they are org admins.
            user.is_staff = any(m.role == Role.ORG_ADMIN for m in memberships)
        user.save()
        identity.email = email or ""
        identity.last_login_at = timezone.now()
        identity.save()
        audit_record(
            org=org,
            event_type="user.signed_in",
            meta=meta or RequestMeta(actor=email or subject),
            target=user.get_username(),
            details={"method": "sso", "created": created, "claim_roles": roles},
        )
    return SsoSignIn(user=user, org=org, created=created, roles=roles)


class SsoBackend(OIDCAuthenticationBackend):  # type: ignore[misc]
    """Authorization code flow with PKCE and nonce; RS256 ID tokens checked against the JWKS, issuer and audience."""

    def authenticate(self, request: HttpRequest | None, **kwargs: Any) -> AbstractBaseUser | None:
        if not settings.OIDC_ENABLED:
            return None
        user: AbstractBaseUser | None = super().authenticate(request, **kwargs)
        return user

    def verify_token(self, token: str, **kwargs: Any) -> dict[str, Any]:
        payload: dict[str, Any] = super().verify_token(token, **kwargs)
        # The library checks signature, expiry and nonce but not who issued the token or for whom.
        if payload.get("iss") != settings.OIDC_OP_ISSUER:
            raise SuspiciousOperation("ID token from an unexpected issuer")
        audience = _strings(payload.get("aud"))
        if settings.OIDC_RP_CLIENT_ID not in audience:
            raise SuspiciousOperation("ID token not issued for this client")
        if len(audience) > 1 and payload.get("azp") != settings.OIDC_RP_CLIENT_ID:
            raise SuspiciousOperation("ID token authorised for another party")
        return payload

    def get_or_create_user(self, access_token: str, id_token: str, payload: dict[str, Any]) -> User | None:
        userinfo = self.get_userinfo(access_token, id_token, payload)
        if userinfo.get("sub") != payload.get("sub"):
            raise SuspiciousOperation("userinfo subject does not match the ID token")
        claims = {**userinfo, "iss": payload["iss"], "sub": payload["sub"]}
        try:
            outcome = sso_sign_in(
                issuer=payload["iss"],
                client_id=settings.OIDC_RP_CLIENT_ID,
                claims=claims,
                meta=RequestMeta(actor=str(claims.get("email") or claims["sub"])),
            )
        except SsoRefused as refused:
            logger.info("SSO sign-in refused for %s: %s", payload.get("sub"), refused)
            messages.error(self.request, str(refused))
            return None
        return outcome.user


class LocalLoginBackend(ModelBackend):
    """Username and password, for development and the Django admin; ``LOCAL_LOGIN_ENABLED=false`` turns it off."""

    def authenticate(
        self, request: HttpRequest | None, username: str | None = None, password: str | None = None, **kwargs: Any
    ) -> User | None:
        if not settings.LOCAL_LOGIN_ENABLED:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def htmx_page_path(request: HttpRequest, fallback: str = "/") -> str:
    """The path of the page an HTMX request came from (``HX-Current-URL``), if it is on this site."""
    current = urlsplit(request.headers.get("HX-Current-URL", ""))
    if current.path and (not current.netloc or current.netloc == request.get_host()):
        return current.path + (f"?{current.query}" if current.query else "")
    return fallback


def reauthenticate_htmx(request: HttpRequest, login_path: str) -> HttpResponse:
    """Send the whole browser (not the swapped element) to sign in again, then back to the page it was on."""
    return HttpResponseClientRedirect(f"{login_path}?next={quote(htmx_page_path(request))}")


class HtmxSessionRefresh(EventLoopHooks, SessionRefresh):  # type: ignore[misc]
    """SessionRefresh that also works for HTMX requests and reads its settings per request. Without OIDC it has
    nothing to do and stays on the event loop under ASGI; with OIDC it reads the session, in a thread.

    The library recognises XHR only by ``X-Requested-With``, which htmx does not send, so an expired ID token
    would turn a card poll into a 302 that htmx follows and swaps into the card. HTMX requests get
    ``HX-Redirect`` to a fresh sign-in instead, and return to the page (not the card URL) afterwards.
    """

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response
        super().__init__(get_response)

    def request_blocks(self, request: HttpRequest) -> bool:
        return bool(settings.OIDC_ENABLED)

    def _load_settings(self) -> None:
        self.OIDC_OP_AUTHORIZATION_ENDPOINT = settings.OIDC_OP_AUTHORIZATION_ENDPOINT
        self.OIDC_RP_CLIENT_ID = settings.OIDC_RP_CLIENT_ID
        self.OIDC_RP_SCOPES = settings.OIDC_RP_SCOPES

    def is_refreshable_url(self, request: HttpRequest) -> bool:
        """The library's rule without its GET-only condition: an expired identity-provider session must not keep
        acting through form posts (someone disabled at the provider could otherwise go on until the Django
        session ends). Sign-in and sign-out stay exempt (``OIDC_EXEMPT_URLS``)."""
        method = request.method
        request.method = "GET"  # the library's check, minus its method test
        try:
            return bool(super().is_refreshable_url(request))
        finally:
            request.method = method

    def process_request(self, request: HttpRequest) -> HttpResponse | None:
        if not settings.OIDC_ENABLED or not self.is_refreshable_url(request):
            return None
        if request.session.get("oidc_id_token_expiration", 0) > time.time():
            return None
        if is_htmx(request):
            return reauthenticate_htmx(request, reverse("oidc_authentication_init"))
        if request.method not in ("GET", "HEAD"):
            # Not processed: the person signs in again, then lands back on the page the form was on.
            return redirect(f"{reverse('oidc_authentication_init')}?next={quote(_referring_page(request))}")
        self._load_settings()
        response: HttpResponse | None = super().process_request(request)
        return response


def _referring_page(request: HttpRequest) -> str:
    """The same-site page a form was posted from (``Referer``), else the posted path."""
    referer = request.headers.get("Referer", "")
    if referer and url_has_allowed_host_and_scheme(referer, allowed_hosts={request.get_host()}):
        parts = urlsplit(referer)
        return parts.path + (f"?{parts.query}" if parts.query else "")
    return request.path
