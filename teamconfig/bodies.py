"""Request bodies of the Config API: the serializers validate requests and drf-spectacular documents the same
classes, so each shape is defined once.

The config write bodies (``PUT/PATCH /config/me``, ``PUT/PATCH /admin/teams/{node_id}/config``) are JSON Merge
Patches whose documented top-level keys come from ``schema.SYSTEM_DEFAULTS``. The serializers keep every value
exactly as sent (unknown keys included: the schema names them in its error) and delegate their rules to
``teamconfig.schema``: the checks of the patch itself here (immutable and admin-only keys, key names, the node
name), the checks of the would-be effective config in ``config_update``, which needs the stored overrides. Those
rules raise the domain's ``ConfigError``; the config views map it to the documented error bodies ("Invalid
configuration value", ``invalid_field``), exactly as when the service raises it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.fields import empty

from teamconfig.schema import MAX_NODE_NAME_CHARS, SYSTEM_DEFAULTS, check_node_name, check_patch_keys
from tenancy.principal import Principal

REMOVES = "null removes this node's own value, so the inherited one shows through"


@extend_schema_field(OpenApiTypes.ANY)
class PatchValue(serializers.Field):  # type: ignore[type-arg]
    """A value of the merge patch, kept exactly as sent; ``teamconfig.schema`` checks it in the merged config."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(required=False, allow_null=True, **kwargs)

    def to_internal_value(self, data: Any) -> Any:
        return data

    def to_representation(self, value: Any) -> Any:
        return value


@extend_schema_field({"type": "object", "additionalProperties": {}})
class PatchObject(PatchValue):
    pass


@extend_schema_field({"type": "array", "items": {}})
class PatchArray(PatchValue):
    pass


def patch_field(default: Any) -> PatchValue:
    """The documented field of a top-level key, typed after its system default (null defaults take any JSON)."""
    if isinstance(default, dict):
        return PatchObject(help_text=f"Merged key by key into the inherited object; {REMOVES}")
    if isinstance(default, list):
        return PatchArray(help_text=f"Replaces the inherited array; {REMOVES}")
    return PatchValue(help_text=f"Replaces the inherited value; {REMOVES}")


class ConfigPatchIn(serializers.Serializer):  # type: ignore[type-arg]
    """A JSON Merge Patch of the team's configuration (API.md §5.4, §5.7)."""

    def get_fields(self) -> dict[str, serializers.Field]:  # type: ignore[type-arg]
        documented = {key: patch_field(default) for key, default in SYSTEM_DEFAULTS.items()}
        declared: dict[str, serializers.Field] = super().get_fields()  # type: ignore[type-arg]
        return {**documented, **declared}

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        known: Mapping[str, Any] = super().to_internal_value(data)
        return {key: known.get(key, value) for key, value in data.items()}  # as sent, in its order

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        check_patch_keys(self.config_patch(attrs), admin=self.writes_as_admin())
        return attrs

    def config_patch(self, attrs: Mapping[str, Any]) -> dict[str, Any]:
        """The part of the body that patches the stored overrides."""
        return dict(attrs)

    def writes_as_admin(self) -> bool:
        """Org admins may write ``approval_workflows`` (API.md §5.6); the caller is the request's principal."""
        request = self.context.get("request")
        principal = getattr(request, "user", None)
        return isinstance(principal, Principal) and principal.is_admin


@extend_schema_field({"type": "string", "minLength": 1, "maxLength": MAX_NODE_NAME_CHARS})
class NodeNameField(serializers.Field):  # type: ignore[type-arg]
    """The node's new name, checked by ``schema.check_node_name`` (null and blank included)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(required=False, **kwargs)

    def run_validation(self, data: Any = empty) -> str:
        if data is empty:
            super().run_validation(data)  # absent: skipped (``SkipField``)
        return check_node_name(data)

    def to_representation(self, value: Any) -> Any:
        return value


class AdminNodeConfigIn(ConfigPatchIn):
    """A JSON Merge Patch of a node's own overrides, written by an org admin with no approval step (API.md §5.6)."""

    team_name = NodeNameField(help_text="Renames the node, in the same transaction as the config change")

    def config_patch(self, attrs: Mapping[str, Any]) -> dict[str, Any]:
        return {key: value for key, value in attrs.items() if key != "team_name"}

    def writes_as_admin(self) -> bool:
        return True


class DataSourceTestIn(serializers.Serializer):  # type: ignore[type-arg]
    settings = serializers.DictField(
        required=False,
        help_text=(
            'Unsaved settings laid over the saved ones, in the config\'s shape ({"url": …, "auth": {"secret": …}}); '
            "secrets left out or ******** keep the stored value, null tests without it. Nothing is saved."
        ),
    )


class DataSourceTestOut(serializers.Serializer):  # type: ignore[type-arg]
    tool = serializers.CharField()
    ok = serializers.BooleanField()
    message = serializers.CharField(
        help_text="What answered (version, metric names, documents …) or why nothing did; never a secret"
    )
    duration_ms = serializers.IntegerField()
