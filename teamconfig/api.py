"""Config API adapters (API.md §5.2-§5.6): read the input, call one service or selector, shape the output."""

from __future__ import annotations

import re
from typing import Any

from django.db import transaction
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from incidentfox_web.api.errors import ApiError
from incidentfox_web.api.fields import JsonCharField
from incidentfox_web.api.formats import iso_z, parse_query_bool, parse_query_int
from incidentfox_web.api.permissions import AdminAccess
from incidentfox_web.api.schema import ERROR_RESPONSES, JSON_OBJECT, TEAM_HEADER
from incidentfox_web.api.views import ApiView
from incidentfox_web.ids import is_slug
from teamconfig.bodies import AdminNodeConfigIn, ConfigPatchIn, DataSourceTestIn, DataSourceTestOut
from teamconfig.connection_checks import checkable_sources, data_source_check
from teamconfig.errors import ConfigConflict, ConfigError, ConfigFieldRefused, ConfigInvalid, ConfigTooLarge
from teamconfig.models import ChangeRequest, ChangeStatus, ConfigVersion
from teamconfig.schema import describe_tool_blocks, validate_tool_changes
from teamconfig.selectors import (
    change_requests_for_org,
    config_history_for_node,
    config_raw_for_team,
    effective_config_for_team,
    node_config,
)
from teamconfig.services import (
    ConfigApplied,
    config_change_request_approve,
    config_change_request_reject,
    config_update,
    node_rename,
)
from tenancy.models import Node

CHANGE_REQUEST_ID = re.compile(r"^cr_[A-Za-z0-9]{16}$")
STATUS_FILTERS = (*ChangeStatus.values, "all")
UPDATED = "Configuration updated successfully"
NO_CHANGES = "No changes"

STATUS_PARAM = OpenApiParameter("status", str, enum=list(STATUS_FILTERS), description="default pending_approval")
LIMIT_PARAM = OpenApiParameter("limit", int, description="1-200, default 50")


class ChangeReviewIn(serializers.Serializer):  # type: ignore[type-arg]
    comment = JsonCharField(
        max_length=2000, required=False, allow_null=True, allow_blank=True, trim_whitespace=False, default=""
    )


def _review_comment(view: ApiView) -> str:
    """The reviewer's comment ("" when absent), checked before the change request is looked up (400 first)."""
    return str(view.validated(ChangeReviewIn)["comment"] or "")


class ConfigApiView(ApiView):
    """Maps the domain errors of ``teamconfig`` to the documented error bodies."""

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, ConfigError):
            exc = _api_error(exc)
        return super().handle_exception(exc)


def _api_error(exc: ConfigError) -> ApiError:
    if isinstance(exc, ConfigInvalid):
        return ApiError.validation(exc.field, exc.error, message="Invalid configuration value")
    if isinstance(exc, ConfigFieldRefused):
        return ApiError.invalid_field(exc.field, exc.message)
    if isinstance(exc, ConfigTooLarge):
        return ApiError.too_large(exc.message)
    if isinstance(exc, ConfigConflict):
        return ApiError.conflict(exc.message, details=exc.details)
    return ApiError.invalid_request(exc.message)


def _change_out(change: ChangeRequest, *, with_team: bool) -> dict[str, Any]:
    body: dict[str, Any] = {
        "change_request_id": change.change_request_id,
        "status": change.status,
        "requested_by": change.requested_by,
        "requested_at": iso_z(change.requested_at),
        "changes": change.changes,
        "reviewed_by": change.reviewed_by or None,
        "reviewed_at": iso_z(change.reviewed_at),
        "comment": change.comment or None,
    }
    if with_team:
        body["team_id"] = change.node.node_id
    return body


def _history_out(row: ConfigVersion, *, include_full: bool) -> dict[str, Any]:
    body: dict[str, Any] = {
        "version": row.version,
        "changed_at": iso_z(row.changed_at),
        "changed_by": row.changed_by,
        "change_request_id": row.change_request_id or None,
        "diff": row.diff,
    }
    if include_full:
        body["full_config"] = row.full_config
    return body


def _status_filter(request: Request) -> str:
    status = request.query_params.get("status", ChangeStatus.PENDING)
    if status not in STATUS_FILTERS:
        raise ApiError.validation("status", f"must be one of {', '.join(STATUS_FILTERS)}")
    return status


def _limit(request: Request) -> int:
    return parse_query_int(request.query_params.get("limit"), field="limit", default=50, minimum=1, maximum=200)


class ConfigEffectiveView(ConfigApiView):
    @extend_schema(
        summary="The team's effective config (secrets masked)",
        responses={200: JSON_OBJECT, **ERROR_RESPONSES},
    )
    def get(self, request: Request) -> Response:
        return Response(effective_config_for_team(self.selected_team()))


class ConfigRawView(ConfigApiView):
    @extend_schema(
        summary="Stored overrides of each node in the team's lineage",
        responses={200: JSON_OBJECT, **ERROR_RESPONSES},
    )
    def get(self, request: Request) -> Response:
        return Response(config_raw_for_team(self.selected_team()))


CONFIG_PATCH = (
    "A JSON Merge Patch of the team's config. Data sources are `tools.<name>` blocks, each with `enabled` (false) "
    "and `timeout` (1-300 s, 30) plus its fields (`*` required when enabled, `(s)` a secret given as "
    '`{"secret": "..."}` or a `vault://`/`env://` reference): ' + describe_tool_blocks() + ". "
    "`mcp_servers` items are a built-in "
    'integration name (`"github"`: that data source\'s tools go to every agent) or an MCP server '
    '`{"name", "url", "auth"?}` speaking streamable HTTP: `name` is 1-64 letters, digits, `_` or `-` '
    'and unique, `url` an absolute http(s) URL without user info, `auth` a secret (`{"secret": "…"}`, '
    "`vault://…`, `env://…`) sent as the Authorization header. Its tools are `<server>.<tool>`, which "
    "`agents.<name>.enable_extra_tools` / `disable_default_tools` may name (`<server>.*` for all)."
)


class ConfigMeView(ConfigApiView):
    @extend_schema(
        summary="Merge-patch the team's config (may be held for approval)",
        description=CONFIG_PATCH,
        request=ConfigPatchIn,
        responses={200: JSON_OBJECT, 202: JSON_OBJECT, **ERROR_RESPONSES},
    )
    def put(self, request: Request) -> Response:
        data = self.body  # 415 → 413 → 400 for the body itself
        team = self.selected_team()  # the team selection's 403 before the patch's 400, as before the serializer
        patch = self.validated(ConfigPatchIn, data)
        outcome = config_update(node=team, patch=patch, meta=self.request_meta(), admin=self.principal.is_admin)
        if isinstance(outcome, ConfigApplied):
            return Response(
                {
                    "message": UPDATED if outcome.changed_fields else NO_CHANGES,
                    "version": outcome.version,
                    "changed_fields": outcome.changed_fields,
                    "effective_config": effective_config_for_team(team),
                }
            )
        change = outcome.change_request
        return Response(
            {
                "message": "Configuration change submitted for approval",
                "change_request_id": change.change_request_id,
                "status": change.status,
                "approvers": outcome.approvers,
                "changes": change.changes,
            },
            status=202,
        )

    @extend_schema(
        summary="Alias of PUT",
        description=CONFIG_PATCH,
        request=ConfigPatchIn,
        responses={200: JSON_OBJECT, 202: JSON_OBJECT, **ERROR_RESPONSES},
    )
    def patch(self, request: Request) -> Response:
        return self.put(request)


class DataSourceTestView(ConfigApiView):
    @extend_schema(
        summary="Connect to a data source as an investigation would (200 whatever it answered); nothing is saved",
        parameters=[TEAM_HEADER],
        request=DataSourceTestIn,
        responses={200: DataSourceTestOut, **ERROR_RESPONSES},
    )
    def post(self, request: Request, tool: str) -> Response:
        if tool not in checkable_sources():
            raise ApiError.not_found("No data source with a connection test has this name")
        changes = self.validated(DataSourceTestIn).get("settings") or {}
        validate_tool_changes(tool, changes)
        check = data_source_check(team=self.selected_team(), name=tool, changes=changes)
        return Response({"tool": tool, "ok": check.ok, "message": check.message, "duration_ms": check.duration_ms})


class ConfigAuditView(ConfigApiView):
    @extend_schema(
        summary="The team's config history, newest first",
        parameters=[LIMIT_PARAM, OpenApiParameter("include_full", bool, description="default true")],
        responses={200: JSON_OBJECT, **ERROR_RESPONSES},
    )
    def get(self, request: Request) -> Response:
        limit = _limit(request)
        include_full = parse_query_bool(request.query_params.get("include_full"), field="include_full", default=True)
        rows = config_history_for_node(self.selected_team(), limit=limit)
        return Response({"history": [_history_out(row, include_full=include_full) for row in rows]})


class ConfigPendingView(ConfigApiView):
    @extend_schema(
        summary="The team's config change requests",
        parameters=[STATUS_PARAM, LIMIT_PARAM],
        responses={200: JSON_OBJECT, **ERROR_RESPONSES},
    )
    def get(self, request: Request) -> Response:
        status, limit = _status_filter(request), _limit(request)
        team = self.selected_team()
        changes = change_requests_for_org(self.principal.org, status=status, node=team)[:limit]
        return Response({"changes": [_change_out(change, with_team=False) for change in changes]})


class AdminChangesView(ConfigApiView):
    permission_classes = [AdminAccess]

    @extend_schema(
        summary="The org's config change requests",
        parameters=[STATUS_PARAM, LIMIT_PARAM, OpenApiParameter("team_id", str)],
        responses={200: JSON_OBJECT, **ERROR_RESPONSES},
    )
    def get(self, request: Request) -> Response:
        status, limit = _status_filter(request), _limit(request)
        team_id = request.query_params.get("team_id") or None
        changes = change_requests_for_org(self.principal.org, status=status, team_id=team_id)[:limit]
        return Response({"changes": [_change_out(change, with_team=True) for change in changes]})


def _change_request_in_org(view: ApiView, change_request_id: str) -> ChangeRequest:
    change = None
    if CHANGE_REQUEST_ID.match(change_request_id):
        change = (
            ChangeRequest.objects.filter(org=view.principal.org, change_request_id=change_request_id)
            .select_related("node")
            .first()
        )
    if change is None:
        raise ApiError.not_found("Change request not found")
    return change


class AdminChangeApproveView(ConfigApiView):
    permission_classes = [AdminAccess]

    @extend_schema(
        summary="Approve and apply a held config change",
        request=ChangeReviewIn,
        responses={200: JSON_OBJECT, **ERROR_RESPONSES},
    )
    def post(self, request: Request, change_request_id: str) -> Response:
        comment = _review_comment(self)
        change = _change_request_in_org(self, change_request_id)
        approved = config_change_request_approve(change_request=change, meta=self.request_meta(), comment=comment)
        done = approved.change_request
        return Response(
            {
                "change_request_id": done.change_request_id,
                "status": done.status,
                "team_id": change.node.node_id,
                "reviewed_by": done.reviewed_by,
                "reviewed_at": iso_z(done.reviewed_at),
                "version": approved.version,
                "changed_fields": approved.changed_fields,
            }
        )


class AdminChangeRejectView(ConfigApiView):
    permission_classes = [AdminAccess]

    @extend_schema(
        summary="Reject a held config change",
        request=ChangeReviewIn,
        responses={200: JSON_OBJECT, **ERROR_RESPONSES},
    )
    def post(self, request: Request, change_request_id: str) -> Response:
        comment = _review_comment(self)
        change = _change_request_in_org(self, change_request_id)
        done = config_change_request_reject(change_request=change, meta=self.request_meta(), comment=comment)
        return Response(
            {
                "change_request_id": done.change_request_id,
                "status": done.status,
                "reviewed_by": done.reviewed_by,
                "reviewed_at": iso_z(done.reviewed_at),
                "comment": done.comment,
            }
        )


class AdminNodeConfigView(ConfigApiView):
    """Org and group defaults, and any team's overrides, with no approval step (API.md §5.6)."""

    permission_classes = [AdminAccess]

    def _node(self, node_id: str) -> Node:
        node = Node.objects.filter(org=self.principal.org, node_id=node_id).first() if is_slug(node_id) else None
        if node is None:
            raise ApiError.not_found("Node not found")
        return node

    @extend_schema(summary="A node's own overrides", responses={200: JSON_OBJECT, **ERROR_RESPONSES})
    def get(self, request: Request, node_id: str) -> Response:
        node = self._node(node_id)
        version, config = node_config(node)
        return Response({"node_id": node.node_id, "node_type": node.node_type, "version": version, "config": config})

    @extend_schema(
        summary="Merge-patch a node's overrides; team_name renames the node",
        request=AdminNodeConfigIn,
        responses={200: JSON_OBJECT, **ERROR_RESPONSES},
    )
    def put(self, request: Request, node_id: str) -> Response:
        data = self.body
        node = self._node(node_id)  # an unknown node's 404 before the patch's 400, as before the serializer
        patch = self.validated(AdminNodeConfigIn, data)
        meta = self.request_meta()
        with transaction.atomic():  # a rename and a config change land together or not at all
            renamed = "team_name" in patch and node_rename(node=node, name=patch.pop("team_name"), meta=meta)
            outcome = config_update(node=node, patch=patch, meta=meta, admin=True)
        assert isinstance(outcome, ConfigApplied)
        changed = sorted([*outcome.changed_fields, *(["team_name"] if renamed else [])])
        version, config = node_config(node)
        return Response(
            {
                "message": UPDATED if changed else NO_CHANGES,
                "version": version,
                "changed_fields": changed,
                "config": config,
            }
        )

    @extend_schema(summary="Alias of PUT", request=AdminNodeConfigIn, responses={200: JSON_OBJECT, **ERROR_RESPONSES})
    def patch(self, request: Request, node_id: str) -> Response:
        return self.put(request, node_id)
