"""Organisations, their team tree, people's memberships, API tokens and the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from incidentfox_web.ids import SLUG_RE, new_id

MAX_TREE_DEPTH = 10
DEFAULT_RATE_LIMITS = {"read": 100, "write": 20, "trigger": 10, "integration": 60}


def _validate_slug(value: str) -> None:
    if not SLUG_RE.match(value):
        raise ValidationError("must be 1-64 lowercase letters, digits or inner hyphens")


class Organization(models.Model):
    """A tenant. Its ``org_id`` is also the id of the root node of its tree."""

    org_id = models.CharField(max_length=64, unique=True, validators=[_validate_slug])
    name = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)
    # Settings (API.md §2.6). Rate limits hold only overrides; missing buckets use DEFAULT_RATE_LIMITS.
    rate_limits = models.JSONField(default=dict, blank=True)
    token_default_expiry_days = models.PositiveIntegerField(null=True, blank=True)
    oidc_issuer = models.CharField(max_length=2048, blank=True)
    oidc_client_id = models.CharField(max_length=255, blank=True)
    oidc_jwks_uri = models.CharField(max_length=2048, blank=True)
    oidc_teams_claim = models.CharField(max_length=100, default="teams")
    oidc_admin_group = models.CharField(max_length=255, blank=True)
    # Web SSO: e-mail domains allowed to sign in (empty = any verified e-mail from the org's issuer).
    allowed_email_domains = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["org_id"]
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["oidc_issuer", "oidc_client_id"],
                condition=~models.Q(oidc_issuer=""),
                name="org_unique_oidc_issuer_client",
            )
        ]

    def __str__(self) -> str:
        return self.org_id

    def rate_limit(self, bucket: str) -> int:
        value = self.rate_limits.get(bucket)
        return int(value) if isinstance(value, int) else DEFAULT_RATE_LIMITS[bucket]

    @property
    def oidc_enabled(self) -> bool:
        return bool(self.oidc_issuer and self.oidc_client_id)


class NodeType(models.TextChoices):
    ORG = "org", "Organisation"
    GROUP = "group", "Group"
    TEAM = "team", "Team"


class NodeQuerySet(models.QuerySet["Node"]):
    def teams(self) -> NodeQuerySet:
        return self.filter(node_type=NodeType.TEAM)


class Node(models.Model):
    """A node of an org's tree: the root (one per org), groups (inner nodes) and teams (leaves).

    ``path`` holds the node ids from the root down to this node, so the whole lineage is one indexed query
    and cycles cannot exist: a node's path is fixed when it is created and nodes are never re-parented.
    """

    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="nodes")
    node_id = models.CharField(max_length=64, validators=[_validate_slug])
    name = models.CharField(max_length=200)
    node_type = models.CharField(max_length=8, choices=NodeType.choices)
    parent = models.ForeignKey("self", on_delete=models.CASCADE, null=True, blank=True, related_name="children")
    path = models.JSONField(default=list, editable=False)
    created_at = models.DateTimeField(default=timezone.now)

    objects = NodeQuerySet.as_manager()

    class Meta:
        ordering = ["org", "node_id"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["org", "node_id"], name="node_unique_id_in_org"),
        ]

    def __str__(self) -> str:
        return f"{self.org.org_id}/{self.node_id}"

    def save(self, *args: object, **kwargs: object) -> None:
        if not self.path:
            self.path = [*self.parent.path, self.node_id] if self.parent else [self.node_id]
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    @property
    def is_team(self) -> bool:
        return self.node_type == NodeType.TEAM

    @property
    def depth(self) -> int:
        return len(self.path)

    def clean(self) -> None:
        if self.node_type == NodeType.ORG:
            if self.parent_id is not None:
                raise ValidationError({"parent": "the root node has no parent"})
            return
        if self.parent is None:
            raise ValidationError({"parent": "groups and teams need a parent"})
        if self.parent.org_id != self.org_id:
            raise ValidationError({"parent": "the parent belongs to another organisation"})
        if self.parent.node_type == NodeType.TEAM:
            raise ValidationError({"parent": "teams are leaves and cannot have children"})
        if len(self.parent.path) + 1 > MAX_TREE_DEPTH:
            raise ValidationError({"parent": f"the tree is at most {MAX_TREE_DEPTH} levels deep"})


class Role(models.TextChoices):
    VIEWER = "viewer", "Viewer"
    OPERATOR = "operator", "Operator"
    ADMIN = "admin", "Team admin"
    ORG_ADMIN = "org_admin", "Org admin"


ROLE_RANK = {Role.VIEWER: 0, Role.OPERATOR: 1, Role.ADMIN: 2, Role.ORG_ADMIN: 3}


class Membership(models.Model):
    """A person's role on a node. An ``org_admin`` membership sits on the org's root node."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    node = models.ForeignKey(Node, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.OPERATOR)
    # "claims" memberships are re-derived from the identity provider at every login; "manual" ones are kept.
    source = models.CharField(max_length=8, default="manual")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints: ClassVar = [models.UniqueConstraint(fields=["user", "node"], name="membership_unique")]

    def __str__(self) -> str:
        return f"{self.user} {self.role} on {self.node}"


class OidcIdentity(models.Model):
    """Links a Django user to (issuer, subject): users are matched on this pair, never on e-mail alone."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="oidc_identities")
    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="oidc_identities")
    issuer = models.CharField(max_length=2048)
    subject = models.CharField(max_length=255)
    email = models.EmailField(blank=True)
    last_login_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["issuer", "subject"], name="oidc_identity_unique_subject")
        ]

    def __str__(self) -> str:
        return f"{self.subject} at {self.issuer}"


class TokenKind(models.TextChoices):
    TEAM = "team", "Team token"
    ADMIN = "admin", "Org-admin token"


TOKEN_PREFIX = {TokenKind.TEAM: "ift_", TokenKind.ADMIN: "ifa_"}


class ApiTokenQuerySet(models.QuerySet["ApiToken"]):
    def active(self) -> ApiTokenQuerySet:
        now = timezone.now()
        return self.filter(revoked_at__isnull=True).filter(
            models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=now)
        )


class ApiToken(models.Model):
    """An opaque bearer token. Only an HMAC of the secret is stored, keyed with a versioned pepper."""

    token_id = models.CharField(max_length=16, unique=True)  # prefix + 12 base62, shown in clear
    kind = models.CharField(max_length=8, choices=TokenKind.choices)
    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="tokens")
    team = models.ForeignKey(Node, on_delete=models.CASCADE, null=True, blank=True, related_name="tokens")
    label = models.CharField(max_length=100, blank=True)
    digest = models.CharField(max_length=64, editable=False)
    pepper_version = models.CharField(max_length=8, editable=False)
    read_only = models.BooleanField(default=False)
    issued_at = models.DateTimeField(default=timezone.now)
    issued_by = models.CharField(max_length=255)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.CharField(max_length=255, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-issued_at", "-id"]
        indexes: ClassVar = [models.Index(fields=["team", "-issued_at"], name="token_team_issued")]
        verbose_name = "API token"
        verbose_name_plural = "API tokens"

    def __str__(self) -> str:
        return self.token_id

    @property
    def permissions(self) -> list[str]:
        if self.kind == TokenKind.ADMIN:
            return ["admin:read", "admin:write"]
        return ["team:read"] if self.read_only else ["team:read", "team:write"]

    def status_at(self, now: datetime) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= now:
            return "expired"
        return "active"

    @property
    def status(self) -> str:
        return self.status_at(timezone.now())


def _event_id() -> str:
    return new_id("evt_", 20)


class AuditEvent(models.Model):
    """An append-only record of security-relevant actions. ``details`` never holds secrets."""

    event_id = models.CharField(max_length=24, unique=True, default=_event_id, editable=False)
    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="audit_events")
    timestamp = models.DateTimeField(default=timezone.now)
    event_type = models.CharField(max_length=64)
    actor = models.CharField(max_length=255)
    team_id = models.CharField(max_length=64, blank=True)
    target = models.CharField(max_length=255, blank=True)
    details = models.JSONField(default=dict, blank=True)
    request_id = models.CharField(max_length=128, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-timestamp", "-id"]
        indexes: ClassVar = [models.Index(fields=["org", "-timestamp", "-id"], name="audit_org_time")]

    def __str__(self) -> str:
        return f"{self.event_type} by {self.actor}"


class RateLimitCounter(models.Model):
    """One fixed one-minute window of one rate-limit key, for the database-backed limiter store."""

    key = models.CharField(max_length=255)
    minute = models.BigIntegerField()  # Unix time // 60
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints: ClassVar = [models.UniqueConstraint(fields=["key", "minute"], name="ratelimit_key_minute")]
        indexes: ClassVar = [models.Index(fields=["minute"], name="ratelimit_minute")]

    def __str__(self) -> str:
        return f"{self.key}@{self.minute}: {self.count}"
