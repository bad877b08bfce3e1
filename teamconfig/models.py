"""Per-node config overrides, their version history and change requests awaiting approval.

Secrets inside ``overrides`` and ``ChangeRequest.patch`` are ciphertexts or references, never plaintext;
``ConfigVersion`` and ``ChangeRequest.changes`` are stored already masked.
"""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.utils import timezone

from incidentfox_web.ids import new_id
from tenancy.models import Node, Organization


class NodeConfig(models.Model):
    """One node's own overrides (a JSON Merge Patch target) and the counter bumped by every applied change."""

    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="node_configs")
    node = models.OneToOneField(Node, on_delete=models.CASCADE, related_name="config_override")
    overrides = models.JSONField(default=dict, blank=True)
    version = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.CharField(max_length=255, blank=True)

    def __str__(self) -> str:
        return f"config of {self.node_id} v{self.version}"


class ConfigVersion(models.Model):
    """A history row: who changed which dotted paths of a node's overrides, and the masked result."""

    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="config_versions")
    node = models.ForeignKey(Node, on_delete=models.CASCADE, related_name="config_versions")
    version = models.PositiveIntegerField()
    changed_at = models.DateTimeField(default=timezone.now)
    changed_by = models.CharField(max_length=255)
    approved_by = models.CharField(max_length=255, blank=True)
    change_request_id = models.CharField(max_length=24, blank=True)
    reason = models.CharField(max_length=2000, blank=True)
    diff = models.JSONField(default=dict)
    full_config = models.JSONField(default=dict)

    class Meta:
        ordering = ["-version"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["node", "version"], name="config_version_unique_per_node")
        ]

    def __str__(self) -> str:
        return f"{self.node_id} v{self.version}"


def _change_request_id() -> str:
    return new_id("cr_", 16)


class ChangeStatus(models.TextChoices):
    PENDING = "pending_approval", "Pending approval"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"


class ChangeRequest(models.Model):
    """A team's config write held for an org admin's decision (API.md §5.6)."""

    change_request_id = models.CharField(max_length=24, unique=True, default=_change_request_id, editable=False)
    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="config_change_requests")
    node = models.ForeignKey(Node, on_delete=models.CASCADE, related_name="config_change_requests")
    patch = models.JSONField(default=dict)  # prepared: secrets already encrypted
    changes = models.JSONField(default=dict)  # masked dotted-path diff against the overrides at request time
    status = models.CharField(max_length=20, choices=ChangeStatus.choices, default=ChangeStatus.PENDING)
    requested_by = models.CharField(max_length=255)
    requested_at = models.DateTimeField(default=timezone.now)
    base_version = models.PositiveIntegerField(default=0)
    reviewed_by = models.CharField(max_length=255, blank=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    comment = models.CharField(max_length=2000, blank=True)
    applied_version = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        indexes: ClassVar = [
            models.Index(fields=["org", "status", "-requested_at"], name="change_request_org_status"),
        ]

    def __str__(self) -> str:
        return self.change_request_id
