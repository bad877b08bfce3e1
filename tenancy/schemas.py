"""The tenancy endpoints' bodies: the ``*In`` serializers validate requests, and drf-spectacular documents the
same classes, so each shape is defined once."""

from __future__ import annotations

from rest_framework import serializers

from incidentfox_web.api.fields import JsonBooleanField, JsonCharField, JsonChoiceField, JsonIntegerField
from incidentfox_web.api.schema import pagination_serializer
from incidentfox_web.ids import is_slug


class AuthMeOut(serializers.Serializer):  # type: ignore[type-arg]
    role = serializers.ChoiceField(["team", "admin", "user"])
    auth_kind = serializers.ChoiceField(
        ["team_token", "admin_token", "oidc_jwt", "session"],
        help_text="session (an addition to the contract): a signed-in browser session, by password or SSO",
    )
    org_id = serializers.CharField()
    team_node_id = serializers.CharField(allow_null=True)
    subject = serializers.CharField(allow_null=True)
    email = serializers.CharField(allow_null=True)
    can_write = serializers.BooleanField()
    permissions = serializers.ListField(child=serializers.CharField())
    token_id = serializers.CharField(required=False, help_text="Tokens only")
    expires_at = serializers.DateTimeField(required=False, allow_null=True, help_text="Tokens only")
    teams = serializers.ListField(
        child=serializers.CharField(), required=False, help_text="OIDC users and browser sessions only"
    )


class NodeOut(serializers.Serializer):  # type: ignore[type-arg]
    team_id = serializers.CharField()
    name = serializers.CharField()
    node_type = serializers.ChoiceField(["org", "group", "team"])
    parent_id = serializers.CharField(allow_null=True)
    created_at = serializers.DateTimeField()


class NodeListOut(serializers.Serializer):  # type: ignore[type-arg]
    teams = NodeOut(many=True)
    total = serializers.IntegerField()


def slug_validator(value: str) -> None:
    if not is_slug(value):
        raise serializers.ValidationError("must be a slug: lowercase letters, digits and inner hyphens")


class NodeCreateIn(serializers.Serializer):  # type: ignore[type-arg]
    team_id = JsonCharField(
        max_length=64, help_text="A slug: lowercase letters, digits and inner hyphens", validators=[slug_validator]
    )
    name = JsonCharField(max_length=200)
    parent_id = JsonCharField(
        max_length=64, required=False, allow_null=True, help_text="The org or a group; defaults to the root"
    )
    node_type = JsonChoiceField(["team", "group"], default="team", allow_null=True)


class TokenIssueIn(serializers.Serializer):  # type: ignore[type-arg]
    label = JsonCharField(max_length=100, required=False, allow_null=True, allow_blank=True)  # type: ignore[assignment]
    expires_in_days = JsonIntegerField(min_value=1, max_value=3650, required=False, allow_null=True)
    read_only = JsonBooleanField(default=False, allow_null=True)  # type: ignore[assignment]


class TokenIssuedOut(serializers.Serializer):  # type: ignore[type-arg]
    token_id = serializers.CharField()
    token = serializers.CharField(help_text="The full secret token; shown only in this response")
    team_id = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]
    permissions = serializers.ListField(child=serializers.CharField())
    issued_at = serializers.DateTimeField()
    issued_by = serializers.CharField()
    expires_at = serializers.DateTimeField(allow_null=True)


class TokenOut(serializers.Serializer):  # type: ignore[type-arg]
    token_id = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]
    permissions = serializers.ListField(child=serializers.CharField())
    status = serializers.ChoiceField(["active", "expired", "revoked"])
    issued_at = serializers.DateTimeField()
    issued_by = serializers.CharField()
    expires_at = serializers.DateTimeField(allow_null=True)
    revoked_at = serializers.DateTimeField(allow_null=True)
    last_used_at = serializers.DateTimeField(allow_null=True)


class TokenListOut(serializers.Serializer):  # type: ignore[type-arg]
    tokens = TokenOut(many=True)


class TokenRevokeIn(serializers.Serializer):  # type: ignore[type-arg]
    token_id = JsonCharField(
        max_length=200, help_text="A token id, or a full token (only the part before the dot is used)"
    )


class TokenRevokeOut(serializers.Serializer):  # type: ignore[type-arg]
    token_id = serializers.CharField()
    status = serializers.ChoiceField(["revoked"])
    revoked_at = serializers.DateTimeField()


class AuditEventOut(serializers.Serializer):  # type: ignore[type-arg]
    event_id = serializers.CharField()
    timestamp = serializers.DateTimeField()
    event_type = serializers.CharField()
    actor = serializers.CharField()
    team_id = serializers.CharField(allow_null=True)
    target = serializers.CharField(allow_null=True)
    details = serializers.DictField()
    request_id = serializers.CharField(allow_null=True)
    ip_address = serializers.CharField(allow_null=True)


class AuditListOut(serializers.Serializer):  # type: ignore[type-arg]
    events = AuditEventOut(many=True)
    pagination = pagination_serializer()


class RateLimits(serializers.Serializer):  # type: ignore[type-arg]
    read = serializers.IntegerField(min_value=1, max_value=100000)
    write = serializers.IntegerField(min_value=1, max_value=100000)
    trigger = serializers.IntegerField(min_value=1, max_value=100000)
    integration = serializers.IntegerField(min_value=1, max_value=100000)


class TokenPolicy(serializers.Serializer):  # type: ignore[type-arg]
    default_expiry_days = serializers.IntegerField(min_value=1, max_value=3650, allow_null=True)


class OidcSettings(serializers.Serializer):  # type: ignore[type-arg]
    issuer = serializers.URLField(help_text="https only")
    client_id = serializers.CharField()
    jwks_uri = serializers.URLField(allow_null=True, required=False)
    teams_claim = serializers.CharField(default="teams")
    admin_group = serializers.CharField(allow_null=True, required=False)


class SettingsOut(serializers.Serializer):  # type: ignore[type-arg]
    org_id = serializers.CharField()
    rate_limits = RateLimits()
    token_policy = TokenPolicy()
    oidc = OidcSettings(allow_null=True)


class SettingsPatchIn(serializers.Serializer):  # type: ignore[type-arg]
    rate_limits = RateLimits(required=False, allow_null=True, partial=True)
    token_policy = TokenPolicy(required=False, allow_null=True)
    oidc = OidcSettings(required=False, allow_null=True)
