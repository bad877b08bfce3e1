"""Planning one config change without touching the database: secret inputs, the merge, validation, the diff.

The services load rows and lock; this module decides what the new overrides are and whether they are valid.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from teamconfig.errors import ConfigInvalid, ConfigTooLarge
from teamconfig.merge import apply_merge_patch, leaf_diff, merge_layers
from teamconfig.references import ReferenceRules, may_write_references, reference_problem
from teamconfig.schema import (
    MAX_OVERRIDES_BYTES,
    SYSTEM_DEFAULTS,
    complete_defaults,
    is_secret_path,
    validate_effective,
)
from teamconfig.secrets import (
    MAX_SECRET_LENGTH,
    SECRET_MASK,
    decrypt,
    encrypt,
    is_ciphertext,
    is_reference,
    mask_value,
)

_KEEP = object()  # "********": leave the current value alone
KUBECONFIG_PATH = ("tools", "kubernetes", "kubeconfig")


@dataclass(frozen=True)
class ReferenceWrite:
    """Who writes and under which rules: a new reference must pass ``reference_problem`` for ``org_id``, and
    only writers the rules allow may write one at all."""

    org_id: str
    admin: bool
    rules: ReferenceRules


def build_effective(layers: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """System defaults, then each stored layer root first, then per-entry defaults. Unmasked."""
    return complete_defaults(merge_layers([SYSTEM_DEFAULTS, *layers]))


# -- masking -------------------------------------------------------------------------------------------------
def mask_document(value: Any, path: tuple[str, ...] = ()) -> Any:
    """A copy with each ciphertext, and each non-reference value of a secret field, as ``********``."""
    if is_secret_path(path) or is_ciphertext(value):
        return mask_value(value)
    if isinstance(value, dict):
        return {key: mask_document(item, (*path, key)) for key, item in value.items()}
    if isinstance(value, list):
        return [mask_document(item, (*path, "[]")) for item in value]
    return value


def mask_diff(diff: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """Mask both sides of each dotted-path entry: a changed secret reads ``********`` → ``********``."""
    return {
        dotted: {side: mask_document(change[side], tuple(dotted.split("."))) for side in ("old", "new")}
        for dotted, change in diff.items()
    }


# -- secret inputs -------------------------------------------------------------------------------------------
def prepare_secret_inputs(
    patch: Mapping[str, Any], *, stored: Mapping[str, Any], effective: Mapping[str, Any], writer: ReferenceWrite
) -> dict[str, Any]:
    """Encrypt ``{"secret": v}``, resolve ``********`` to "keep", refuse plain strings in secret fields and
    references the writer may not write (restating the current value is not a write).

    ``stored`` is the node's own overrides and ``effective`` its current effective config (both unmasked).
    Sending the same plaintext again keeps the stored ciphertext, so it is not counted as a change.
    """
    prepared = _prepare(dict(patch), (), "", stored, effective, writer)
    assert isinstance(prepared, dict)
    return prepared


def _child(value: Any, key: str) -> Any:
    return value.get(key) if isinstance(value, dict) else None


def _prepare(value: Any, path: tuple[str, ...], field: str, stored: Any, effective: Any, writer: ReferenceWrite) -> Any:
    free_form = bool(path) and path[0] not in SYSTEM_DEFAULTS  # undocumented top-level keys may hold secrets too
    if (
        is_secret_path(path)
        or (free_form and _is_secret_input(value))
        or (value == SECRET_MASK and is_ciphertext(effective))
    ):
        return _secret_input(value, path, field, stored, effective, writer)
    if isinstance(value, dict):
        prepared: dict[str, Any] = {}
        for key, item in value.items():
            result = _prepare(
                item,
                (*path, key),
                f"{field}.{key}" if field else key,
                _child(stored, key),
                _child(effective, key),
                writer,
            )
            if result is not _KEEP:
                prepared[key] = result
        return prepared
    if isinstance(value, list):
        # Arrays replace as a whole; a restated item keeps its masked secret via the current item's name.
        current = {
            item["name"]: item
            for item in (effective if isinstance(effective, list) else [])
            if isinstance(item, dict) and isinstance(item.get("name"), str)
        }
        items = []
        for index, item in enumerate(value):
            match = current.get(item.get("name")) if isinstance(item, dict) else None
            result = _prepare(item, (*path, "[]"), f"{field}[{index}]", match, match, writer)
            items.append(item if result is _KEEP else result)
        return items
    return value


def _is_secret_input(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {"secret"} and isinstance(value["secret"], str)


def _check_reference(value: str, field: str, effective: Any, writer: ReferenceWrite) -> None:
    if value == effective:
        return  # the current value restated: nothing new is written
    if not may_write_references(admin=writer.admin, rules=writer.rules):
        raise ConfigInvalid(field, 'only org admins may write secret references; send {"secret": "..."}')
    problem = reference_problem(value, org_id=writer.org_id, rules=writer.rules)
    if problem is not None:
        raise ConfigInvalid(field, problem)


def _secret_input(
    value: Any, path: tuple[str, ...], field: str, stored: Any, effective: Any, writer: ReferenceWrite
) -> Any:
    if value is None:
        return None
    if value == SECRET_MASK:
        if effective is None:
            raise ConfigInvalid(field, "there is no current secret to keep")
        return effective if "[]" in path else _KEEP
    if is_reference(value):
        _check_reference(value, field, effective, writer)
        return value
    if _is_secret_input(value):
        plaintext = value["secret"]
        if not plaintext:
            raise ConfigInvalid(f"{field}.secret", "must be a non-empty string")
        if len(plaintext) > MAX_SECRET_LENGTH:
            raise ConfigInvalid(f"{field}.secret", f"must be at most {MAX_SECRET_LENGTH} characters")
        if path == ("integrations", "incidentio", "webhook_secret") and not plaintext.startswith("whsec_"):
            raise ConfigInvalid(f"{field}.secret", "must be an incident.io signing secret (whsec_...)")
        if path == KUBECONFIG_PATH and "\n" not in plaintext and "clusters:" not in plaintext:
            raise ConfigInvalid(f"{field}.secret", "must be the kubeconfig's content, not a path on the server")
        if is_ciphertext(stored) and _decrypts_to(stored, plaintext):
            return stored
        return encrypt(plaintext)
    raise ConfigInvalid(field, 'must be a reference (vault://, env://) or an object {"secret": "..."}')


def _decrypts_to(ciphertext: str, plaintext: str) -> bool:
    try:
        return decrypt(ciphertext) == plaintext
    except ValueError:
        return False


# -- the plan ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ChangePlan:
    overrides: dict[str, Any]  # the node's new stored overrides
    diff: dict[str, dict[str, Any]]  # unmasked; mask before it leaves the service
    effective: dict[str, Any]  # the node's would-be effective config, unmasked

    @property
    def changed_fields(self) -> list[str]:
        return sorted(self.diff)


def plan_change(
    *,
    ancestors: Sequence[Mapping[str, Any]],
    stored: Mapping[str, Any],
    prepared_patch: Mapping[str, Any],
    allow_private_webhooks: bool,
) -> ChangePlan:
    overrides = apply_merge_patch(stored, prepared_patch)
    size = len(json.dumps(overrides, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))
    if size > MAX_OVERRIDES_BYTES:
        raise ConfigTooLarge(f"A node's overrides may be at most {MAX_OVERRIDES_BYTES} bytes")
    effective = build_effective([*ancestors, overrides])
    validate_effective(effective, allow_private_webhooks=allow_private_webhooks)
    return ChangePlan(overrides=overrides, diff=leaf_diff(stored, overrides), effective=effective)
