"""Adapters for /auth/me and the org-admin endpoints (API.md §2.5, §2.6): input → one service → output."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from incidentfox_web.api.errors import ApiError
from incidentfox_web.api.formats import Page, iso_z, parse_input_time
from incidentfox_web.api.inputs import optional_int
from incidentfox_web.api.permissions import AdminAccess, IsPrincipal
from incidentfox_web.api.schema import ERROR_RESPONSES
from incidentfox_web.api.views import ApiView, ApiViewSet
from incidentfox_web.egress import literal_refused
from incidentfox_web.ids import is_slug
from tenancy import schemas
from tenancy.audit import audit_record
from tenancy.models import DEFAULT_RATE_LIMITS, ApiToken, AuditEvent, Node, NodeType, Organization, TokenKind
from tenancy.selectors import nodes_for_org
from tenancy.services import NodeIdTaken, api_token_issue, api_token_revoke, node_create


def node_out(node: Node) -> dict[str, Any]:
    return {
        "team_id": node.node_id,
        "name": node.name,
        "node_type": node.node_type,
        "parent_id": node.parent.node_id if node.parent else None,
        "created_at": iso_z(node.created_at),
    }


def token_out(token: ApiToken) -> dict[str, Any]:
    return {
        "token_id": token.token_id,
        "label": token.label,
        "permissions": token.permissions,
        "status": token.status,
        "issued_at": iso_z(token.issued_at),
        "issued_by": token.issued_by,
        "expires_at": iso_z(token.expires_at),
        "revoked_at": iso_z(token.revoked_at),
        "last_used_at": iso_z(token.last_used_at),
    }


class AuthMeView(ApiView):
    permission_classes = [IsPrincipal]

    @extend_schema(summary="Describe the calling credential", responses={200: schemas.AuthMeOut, **ERROR_RESPONSES})
    def get(self, request: Request) -> Response:
        principal = self.principal
        team_id: str | None = None
        if principal.kind != "admin_token":
            try:
                team_id = self.selected_team().node_id
            except ApiError as exc:
                if principal.kind == "team_token" or exc.status_code != 400:
                    raise
        body: dict[str, Any] = {
            "role": principal.role,
            "auth_kind": principal.kind,
            "org_id": principal.org.org_id,
            "team_node_id": team_id,
            "subject": principal.subject if principal.kind != "team_token" else None,
            "email": principal.email,
            "can_write": principal.can_write,
            "permissions": sorted(principal.permissions),
        }
        if principal.token is not None:
            body["token_id"] = principal.token.token_id
            body["expires_at"] = iso_z(principal.token.expires_at)
        else:
            body["teams"] = principal.team_ids
        return Response(body)


def _team_in_org(org: Organization, team_id: str) -> Node:
    node = Node.objects.filter(org=org, node_id=team_id).first() if is_slug(team_id) else None
    if node is None:
        raise ApiError.not_found("Team not found")
    return node


class AdminTeamViewSet(ApiViewSet):
    """The org's nodes, and each team's tokens."""

    # ``admin/teams`` on the router (``tenancy.urls``).

    permission_classes = [AdminAccess]
    lookup_field = "team_id"
    lookup_value_regex = "[^/]+"

    @extend_schema(
        summary="List the org's nodes (parents first)",
        parameters=[OpenApiParameter("node_type", str, enum=["org", "group", "team"])],
        responses={200: schemas.NodeListOut, **ERROR_RESPONSES},
    )
    def list(self, request: Request) -> Response:
        node_type = request.query_params.get("node_type")
        if node_type is not None and node_type not in NodeType.values:
            raise ApiError.validation("node_type", "must be org, group or team")
        nodes = nodes_for_org(self.principal.org, node_type)
        return Response({"teams": [node_out(n) for n in nodes], "total": len(nodes)})

    @extend_schema(
        summary="Create a group or team",
        request=schemas.NodeCreateIn,
        responses={201: schemas.NodeOut, **ERROR_RESPONSES},
    )
    def create(self, request: Request) -> Response:
        data = self.validated(schemas.NodeCreateIn)
        team_id, name, node_type = data["team_id"], data["name"], data["node_type"] or "team"
        org = self.principal.org
        parent_id = data.get("parent_id")
        parent = None
        if parent_id is not None:
            parent = Node.objects.filter(org=org, node_id=parent_id).first()
            if parent is None or parent.is_team:
                raise ApiError.validation("parent_id", "must be the org or a group of this org")
        try:
            node = node_create(
                org=org, node_id=team_id, name=name, parent=parent, node_type=node_type, meta=self.request_meta()
            )
        except NodeIdTaken:
            raise ApiError.conflict(f"Node '{team_id}' already exists") from None
        except ValidationError as exc:
            field, messages = next(iter(exc.message_dict.items()))
            raise ApiError.validation("parent_id" if field == "parent" else field, messages[0]) from None
        return Response(node_out(node), status=201)

    @extend_schema(
        summary="List a team's tokens (no secrets)", responses={200: schemas.TokenListOut, **ERROR_RESPONSES}
    )
    @action(detail=True, methods=["get"], url_path="tokens")
    def tokens(self, request: Request, team_id: str) -> Response:
        team = _team_in_org(self.principal.org, team_id)
        tokens = ApiToken.objects.filter(team=team).order_by("-issued_at", "-id")
        return Response({"tokens": [token_out(t) for t in tokens]})

    @extend_schema(
        summary="Issue a team token",
        request=schemas.TokenIssueIn,
        responses={201: schemas.TokenIssuedOut, **ERROR_RESPONSES},
    )
    @tokens.mapping.post
    def token_issue(self, request: Request, team_id: str) -> Response:
        data = self.validated(schemas.TokenIssueIn)
        team = _team_in_org(self.principal.org, team_id)
        if not team.is_team:
            raise ApiError.invalid_request("Tokens can only be issued for team nodes", field="team_id")
        issued = api_token_issue(
            org=self.principal.org,
            kind=TokenKind.TEAM,
            team=team,
            label=data.get("label") or "",
            read_only=bool(data.get("read_only")),
            expires_in_days=data.get("expires_in_days"),
            meta=self.request_meta(),
        )
        token = issued.token
        body = {
            "token_id": token.token_id,
            "token": issued.plaintext,
            "team_id": team.node_id,
            "label": token.label,
            "permissions": token.permissions,
            "issued_at": iso_z(token.issued_at),
            "issued_by": token.issued_by,
            "expires_at": iso_z(token.expires_at),
        }
        return Response(body, status=201, headers={"Cache-Control": "no-store"})


class AdminTokenViewSet(ApiViewSet):
    """The org's tokens."""

    # ``admin/tokens`` on the router (``tenancy.urls``).

    permission_classes = [AdminAccess]

    @extend_schema(
        summary="Revoke a token of the org",
        request=schemas.TokenRevokeIn,
        responses={200: schemas.TokenRevokeOut, **ERROR_RESPONSES},
    )
    @action(detail=False, methods=["post"])
    def revoke(self, request: Request) -> Response:
        token_id = self.validated(schemas.TokenRevokeIn)["token_id"].split(".", 1)[0]
        token = ApiToken.objects.filter(org=self.principal.org, token_id=token_id).select_related("org", "team").first()
        if token is None:
            raise ApiError.not_found("Token not found")
        token = api_token_revoke(token=token, meta=self.request_meta())
        return Response({"token_id": token.token_id, "status": "revoked", "revoked_at": iso_z(token.revoked_at)})


class AdminAuditView(ApiView):
    permission_classes = [AdminAccess]

    @extend_schema(
        summary="The org's audit log, newest first", responses={200: schemas.AuditListOut, **ERROR_RESPONSES}
    )
    def get(self, request: Request) -> Response:
        params = request.query_params
        page = Page.from_query(params, default=50, maximum=200)
        events = AuditEvent.objects.filter(org=self.principal.org)
        if params.get("event_type"):
            events = events.filter(event_type__in=[t.strip() for t in params["event_type"].split(",") if t.strip()])
        if params.get("team_id"):
            events = events.filter(team_id=params["team_id"])
        if params.get("actor"):
            events = events.filter(actor=params["actor"])
        if params.get("since"):
            events = events.filter(timestamp__gte=parse_input_time(params["since"], field="since"))
        if params.get("until"):
            events = events.filter(timestamp__lt=parse_input_time(params["until"], field="until"))
        total = events.count()
        shown = events.order_by("-timestamp", "-id")[page.rows]
        return Response(
            {
                "events": [
                    {
                        "event_id": e.event_id,
                        "timestamp": iso_z(e.timestamp),
                        "event_type": e.event_type,
                        "actor": e.actor,
                        "team_id": e.team_id or None,
                        "target": e.target or None,
                        "details": e.details,
                        "request_id": e.request_id or None,
                        "ip_address": e.ip_address,
                    }
                    for e in shown
                ],
                "pagination": page.pagination(total),
            }
        )


def settings_out(org: Organization) -> dict[str, Any]:
    return {
        "org_id": org.org_id,
        "rate_limits": {bucket: org.rate_limit(bucket) for bucket in DEFAULT_RATE_LIMITS},
        "token_policy": {"default_expiry_days": org.token_default_expiry_days},
        "oidc": (
            {
                "issuer": org.oidc_issuer,
                "client_id": org.oidc_client_id,
                "jwks_uri": org.oidc_jwks_uri or None,
                "teams_claim": org.oidc_teams_claim,
                "admin_group": org.oidc_admin_group or None,
            }
            if org.oidc_enabled
            else None
        ),
    }


def _object_or_none(data: dict[str, Any], field: str) -> dict[str, Any] | None:
    value = data[field]
    if value is not None and not isinstance(value, dict):
        raise ApiError.validation(field, "must be an object or null")
    return value


def _apply_settings_patch(org: Organization, data: dict[str, Any]) -> list[str]:
    changed: list[str] = []
    if "rate_limits" in data:
        limits = _object_or_none(data, "rate_limits")
        merged = dict(org.rate_limits)
        for bucket, value in (limits or dict.fromkeys(DEFAULT_RATE_LIMITS)).items():
            field = f"rate_limits.{bucket}"
            if bucket not in DEFAULT_RATE_LIMITS:
                raise ApiError.validation(field, "unknown bucket; use read, write or trigger")
            if value is None:
                merged.pop(bucket, None)
            elif isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 100000:
                raise ApiError.validation(field, "must be an integer between 1 and 100000")
            else:
                merged[bucket] = value
            changed.append(field)
        org.rate_limits = merged
    if "token_policy" in data:
        policy = _object_or_none(data, "token_policy") or {"default_expiry_days": None}
        for key in policy:
            if key != "default_expiry_days":
                raise ApiError.validation(f"token_policy.{key}", "unknown field")
        if "default_expiry_days" in policy:
            org.token_default_expiry_days = (
                optional_int(policy, "default_expiry_days", minimum=1, maximum=3650)
                if policy["default_expiry_days"] is not None
                else None
            )
            changed.append("token_policy.default_expiry_days")
    if "oidc" in data:
        oidc = _object_or_none(data, "oidc")
        changed.append("oidc")
        if oidc is None:
            org.oidc_issuer = org.oidc_client_id = org.oidc_jwks_uri = org.oidc_admin_group = ""
            org.oidc_teams_claim = "teams"
        else:
            _apply_oidc(org, oidc)
    return changed


def _apply_oidc(org: Organization, oidc: dict[str, Any]) -> None:
    known = {"issuer", "client_id", "jwks_uri", "teams_claim", "admin_group"}
    for key in oidc:
        if key not in known:
            raise ApiError.validation(f"oidc.{key}", "unknown field")
    issuer = oidc.get("issuer", org.oidc_issuer or None)
    client_id = oidc.get("client_id", org.oidc_client_id or None)
    if not isinstance(issuer, str) or not issuer:
        raise ApiError.validation("oidc.issuer", "is required when OIDC is enabled")
    if not isinstance(client_id, str) or not client_id:
        raise ApiError.validation("oidc.client_id", "is required when OIDC is enabled")
    if len(issuer) > 2048 or urlsplit(issuer).scheme != "https" or not urlsplit(issuer).hostname:
        raise ApiError.validation("oidc.issuer", "must be an https URL")
    if literal_refused(issuer, purpose="oidc"):
        raise ApiError.validation("oidc.issuer", "must not point at a loopback, link-local or refused address")
    jwks_uri = oidc.get("jwks_uri", org.oidc_jwks_uri or None)
    if jwks_uri is not None and (not isinstance(jwks_uri, str) or urlsplit(jwks_uri).scheme != "https"):
        raise ApiError.validation("oidc.jwks_uri", "must be an https URL or null")
    if jwks_uri is not None and literal_refused(jwks_uri, purpose="oidc"):
        raise ApiError.validation("oidc.jwks_uri", "must not point at a loopback, link-local or refused address")
    for field, default in (("teams_claim", "teams"), ("admin_group", "")):
        value = oidc.get(field, getattr(org, f"oidc_{field}"))
        if value is not None and (not isinstance(value, str) or len(value) > 255):
            raise ApiError.validation(f"oidc.{field}", "must be a string or null")
        setattr(org, f"oidc_{field}", value or default)
    org.oidc_issuer, org.oidc_client_id, org.oidc_jwks_uri = issuer, client_id, jwks_uri or ""


class AdminSettingsView(ApiView):
    permission_classes = [AdminAccess]

    @extend_schema(summary="Read the org's settings", responses={200: schemas.SettingsOut, **ERROR_RESPONSES})
    def get(self, request: Request) -> Response:
        return Response(settings_out(self.principal.org))

    @extend_schema(
        summary="Merge-patch the org's settings",
        request=schemas.SettingsPatchIn,
        responses={200: schemas.SettingsOut, **ERROR_RESPONSES},
    )
    def patch(self, request: Request) -> Response:
        org = Organization.objects.get(pk=self.principal.org.pk)
        changed = _apply_settings_patch(org, self.body)
        if org.oidc_enabled and (
            Organization.objects.exclude(pk=org.pk)
            .filter(oidc_issuer=org.oidc_issuer, oidc_client_id=org.oidc_client_id)
            .exists()
        ):
            raise ApiError.conflict("Another organisation already uses this OIDC issuer and client id")
        try:
            with transaction.atomic():
                org.save()
                if changed:
                    audit_record(
                        org=org, event_type="settings.updated", meta=self.request_meta(), details={"changed": changed}
                    )
        except IntegrityError:
            raise ApiError.conflict("Another organisation already uses this OIDC issuer and client id") from None
        return Response(settings_out(org))
