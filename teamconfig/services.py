"""Writes to team configuration: apply a patch, hold it for approval, approve or reject, rename, re-encrypt.

Every applied change bumps the node's version with a compare-and-set UPDATE inside a transaction that first
locks the node's row (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite runs ``BEGIN IMMEDIATE``), so two
concurrent writers are serialised and neither change is lost. If the version still moved, the whole change is
re-planned against the new overrides, and after a few attempts the caller gets a 409.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from teamconfig.errors import ConfigConflict, ConfigInvalid, ConfigTooLarge
from teamconfig.events import config_changed
from teamconfig.models import ChangeRequest, ChangeStatus, ConfigVersion, NodeConfig
from teamconfig.patching import (
    ChangePlan,
    ReferenceWrite,
    build_effective,
    mask_diff,
    mask_document,
    plan_change,
    prepare_secret_inputs,
)
from teamconfig.readers import reads
from teamconfig.references import reference_rules
from teamconfig.schema import check_node_name, check_patch_keys
from teamconfig.secrets import current_key_version, decrypt, encrypt, is_ciphertext, key_version_of
from tenancy.audit import RequestMeta, audit_record
from tenancy.models import Node

logger = logging.getLogger("incidentfox.teamconfig")

MAX_WRITE_ATTEMPTS = 5


class _VersionMoved(Exception):
    """Another writer bumped the version between our read and our write."""


@dataclass(frozen=True)
class ConfigApplied:
    node: Node
    version: int
    changed_fields: list[str]


@dataclass(frozen=True)
class ConfigChangeRequested:
    change_request: ChangeRequest
    approvers: list[str]


@dataclass(frozen=True)
class ChangeRequestApproved:
    change_request: ChangeRequest
    version: int
    changed_fields: list[str]


def _allow_private_webhooks() -> bool:
    return bool(getattr(settings, "WEBHOOKS_ALLOW_PRIVATE_TARGETS", False))


def _locked_config(node: Node) -> NodeConfig:
    config, _ = NodeConfig.objects.select_for_update().get_or_create(node=node, defaults={"org_id": node.org_id})
    return config


def ancestor_layers(node: Node) -> list[dict[str, Any]]:
    """The stored overrides of the node's ancestors, root first (one query)."""
    rows = dict(
        NodeConfig.objects.filter(org_id=node.org_id, node__node_id__in=node.path[:-1]).values_list(
            "node__node_id", "overrides"
        )
    )
    return [rows[node_id] for node_id in node.path[:-1] if node_id in rows]


@reads("approval_workflows.config_changes")
def _approval(effective: Mapping[str, Any]) -> tuple[bool, list[str]]:
    changes = effective.get("approval_workflows", {}).get("config_changes", {})
    return changes.get("enabled") is True, list(changes.get("approvers", []))


def _write(
    row: NodeConfig,
    plan: ChangePlan,
    *,
    changed_by: str,
    approved_by: str = "",
    change_request_id: str = "",
    reason: str = "",
) -> int:
    """Compare-and-set the overrides and write the masked history row; returns the new version."""
    now = timezone.now()
    version = row.version + 1
    updated = NodeConfig.objects.filter(pk=row.pk, version=row.version).update(
        overrides=plan.overrides, version=version, updated_at=now, updated_by=changed_by
    )
    if updated != 1:
        raise _VersionMoved
    ConfigVersion.objects.create(
        org_id=row.org_id,
        node_id=row.node_id,
        version=version,
        changed_at=now,
        changed_by=changed_by,
        approved_by=approved_by,
        change_request_id=change_request_id,
        reason=reason,
        diff=mask_diff(plan.diff),
        full_config=mask_document(plan.overrides),
    )
    return version


def _audit_updated(node: Node, meta: RequestMeta, version: int, changed_fields: list[str], cr_id: str = "") -> None:
    details: dict[str, Any] = {"version": version, "changed_fields": changed_fields}
    if cr_id:
        details["change_request_id"] = cr_id
    audit_record(
        org=node.org,
        event_type="config.updated",
        meta=meta,
        team_id=node.node_id,
        target="config",
        details=details,
    )


def _retrying[T](work: Callable[[], T]) -> T:
    """Run ``work`` in a transaction; again when another writer moved the version first (``_VersionMoved``)."""
    for _attempt in range(MAX_WRITE_ATTEMPTS):
        try:
            with transaction.atomic():
                return work()
        except _VersionMoved:
            continue
    raise ConfigConflict("The configuration was changed concurrently; retry the request")


def config_update(
    *, node: Node, patch: Mapping[str, Any], meta: RequestMeta, admin: bool
) -> ConfigApplied | ConfigChangeRequested:
    """Apply a JSON Merge Patch to ``node``'s overrides (API.md §5.4), or hold it for approval (§5.6).

    ``admin`` is true for org-admin credentials: they may write ``approval_workflows`` and never wait for
    approval. Raises ``ConfigInvalid``, ``ConfigFieldRefused``, ``ConfigTooLarge`` or ``ConfigConflict``.
    """
    check_patch_keys(patch, admin=admin)

    def apply() -> ConfigApplied | ConfigChangeRequested:
        row = _locked_config(node)
        ancestors = ancestor_layers(node)
        current = build_effective([*ancestors, row.overrides])
        writer = ReferenceWrite(org_id=node.path[0], admin=admin, rules=reference_rules())
        prepared = prepare_secret_inputs(patch, stored=row.overrides, effective=current, writer=writer)
        plan = plan_change(
            ancestors=ancestors,
            stored=row.overrides,
            prepared_patch=prepared,
            allow_private_webhooks=_allow_private_webhooks(),
        )
        if not plan.diff:
            return ConfigApplied(node=node, version=row.version, changed_fields=[])
        needs_approval, approvers = _approval(current)
        if needs_approval and not admin:
            change_request = _change_request_create(node=node, row=row, prepared=prepared, plan=plan, meta=meta)
            return ConfigChangeRequested(change_request=change_request, approvers=approvers)
        version = _write(row, plan, changed_by=meta.actor)
        _audit_updated(node, meta, version, plan.changed_fields)
        config_changed.send(sender=Node, node=node, changed_fields=plan.changed_fields)
        logger.info("config of %s/%s updated to v%s", node.path[0], node.node_id, version)
        return ConfigApplied(node=node, version=version, changed_fields=plan.changed_fields)

    return _retrying(apply)


def _change_request_create(
    *, node: Node, row: NodeConfig, prepared: dict[str, Any], plan: ChangePlan, meta: RequestMeta
) -> ChangeRequest:
    change_request = ChangeRequest.objects.create(
        org_id=node.org_id,
        node=node,
        patch=prepared,
        changes=mask_diff(plan.diff),
        requested_by=meta.actor,
        base_version=row.version,
    )
    audit_record(
        org=node.org,
        event_type="config.change_requested",
        meta=meta,
        team_id=node.node_id,
        target=change_request.change_request_id,
        details={
            "change_request_id": change_request.change_request_id,
            "changed_fields": plan.changed_fields,
        },
    )
    return change_request


def _pending_or_conflict(change_request: ChangeRequest) -> ChangeRequest:
    locked = ChangeRequest.objects.select_for_update().select_related("node", "org").get(pk=change_request.pk)
    if locked.status != ChangeStatus.PENDING:
        raise ConfigConflict(f"Change request is already {locked.status}", details={"status": locked.status})
    return locked


def config_change_request_approve(
    *, change_request: ChangeRequest, meta: RequestMeta, comment: str = ""
) -> ChangeRequestApproved:
    """Re-validate the held patch against the node's current overrides and apply it as a new version.

    If it no longer applies, raise ``ConfigConflict`` and leave the request pending.
    """

    def approve() -> ChangeRequestApproved:
        cr = _pending_or_conflict(change_request)
        node = cr.node
        row = _locked_config(node)
        try:
            plan = plan_change(
                ancestors=ancestor_layers(node),
                stored=row.overrides,
                prepared_patch=cr.patch,
                allow_private_webhooks=_allow_private_webhooks(),
            )
        except ConfigInvalid as exc:
            raise ConfigConflict(
                "The change no longer applies to the current configuration",
                details={"field": exc.field, "error": exc.error},
            ) from None
        except ConfigTooLarge as exc:
            raise ConfigConflict(exc.message) from None
        version = row.version
        if plan.diff:
            version = _write(
                row,
                plan,
                changed_by=cr.requested_by,
                approved_by=meta.actor,
                change_request_id=cr.change_request_id,
                reason=comment,
            )
            _audit_updated(node, meta, version, plan.changed_fields, cr.change_request_id)
            config_changed.send(sender=Node, node=node, changed_fields=plan.changed_fields)
        now = timezone.now()
        ChangeRequest.objects.filter(pk=cr.pk).update(
            status=ChangeStatus.APPROVED,
            reviewed_by=meta.actor,
            reviewed_at=now,
            comment=comment,
            applied_version=version if plan.diff else None,
        )
        cr.refresh_from_db()
        audit_record(
            org=cr.org,
            event_type="config.change_approved",
            meta=meta,
            team_id=node.node_id,
            target=cr.change_request_id,
            details={
                "change_request_id": cr.change_request_id,
                "requested_by": cr.requested_by,
                "version": version,
                "changed_fields": plan.changed_fields,
            },
        )
        return ChangeRequestApproved(change_request=cr, version=version, changed_fields=plan.changed_fields)

    return _retrying(approve)


def config_change_request_reject(
    *, change_request: ChangeRequest, meta: RequestMeta, comment: str = ""
) -> ChangeRequest:
    with transaction.atomic():
        cr = _pending_or_conflict(change_request)
        ChangeRequest.objects.filter(pk=cr.pk).update(
            status=ChangeStatus.REJECTED, reviewed_by=meta.actor, reviewed_at=timezone.now(), comment=comment
        )
        cr.refresh_from_db()
        audit_record(
            org=cr.org,
            event_type="config.change_rejected",
            meta=meta,
            team_id=cr.node.node_id,
            target=cr.change_request_id,
            details={"change_request_id": cr.change_request_id, "requested_by": cr.requested_by},
        )
        return cr


def node_rename(*, node: Node, name: str, meta: RequestMeta) -> bool:
    """Org admins rename a node by writing ``team_name`` to the admin config endpoint; True if it changed."""
    check_node_name(name)
    if name == node.name:
        return False
    old = node.name
    with transaction.atomic():
        Node.objects.filter(pk=node.pk).update(name=name)
        node.name = name
        audit_record(
            org=node.org,
            event_type="config.updated",
            meta=meta,
            team_id=node.node_id,
            target="config",
            details={"changed_fields": ["team_name"], "team_name": {"old": old, "new": name}},
        )
    return True


def _reencrypt(value: Any, version: str) -> Any:
    if is_ciphertext(value) and key_version_of(value) != version:
        return encrypt(decrypt(value))
    if isinstance(value, dict):
        return {key: _reencrypt(item, version) for key, item in value.items()}
    if isinstance(value, list):
        return [_reencrypt(item, version) for item in value]
    return value


def config_secrets_reencrypt() -> int:
    """Re-encrypt every stored secret with the newest key (run after adding a key); returns rows rewritten.

    Values do not change, so versions and history stay as they are; older keys can be removed afterwards.
    """
    version = current_key_version()
    rewritten = 0
    for model in (NodeConfig, ChangeRequest):
        field = "overrides" if model is NodeConfig else "patch"
        for pk in model.objects.values_list("pk", flat=True):
            with transaction.atomic():
                obj = model.objects.select_for_update().get(pk=pk)
                current = getattr(obj, field)
                updated = _reencrypt(current, version)
                if updated != current:
                    model.objects.filter(pk=pk).update(**{field: updated})
                    rewritten += 1
    return rewritten
