"""Pure JSON merging for the config hierarchy (API.md §5.1). Standard library only; no Django.

Two operations, deliberately different:

- :func:`merge_layers` folds stored override documents, root first: an object meeting an object merges
  recursively, anything else is replaced by the later layer. Stored documents never hold ``null``.
- :func:`apply_merge_patch` applies a client's write (RFC 7396) to one node's stored overrides: ``null``
  deletes, and objects left empty are dropped, so stored overrides never hold ``null`` or ``{}``.

:func:`leaf_diff` compares two documents leaf by leaf (an array is one leaf) for history rows and
``changed_fields``.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable, Mapping
from typing import Any

JsonObject = dict[str, Any]


def merge_two(base: Any, overlay: Any) -> Any:
    """``overlay`` on top of ``base``: objects merge key by key, everything else is replaced."""
    if not isinstance(base, dict) or not isinstance(overlay, dict):
        return copy.deepcopy(overlay)
    merged = copy.deepcopy(base)
    for key, value in overlay.items():
        merged[key] = merge_two(base[key], value) if key in base else copy.deepcopy(value)
    return merged


def merge_layers(layers: Iterable[Mapping[str, Any]]) -> JsonObject:
    """Fold ``layers`` left to right (system defaults, root, groups..., team) into one object."""
    merged: JsonObject = {}
    for layer in layers:
        merged = merge_two(merged, dict(layer))
    return merged


def apply_merge_patch(target: Mapping[str, Any], patch: Mapping[str, Any]) -> JsonObject:
    """RFC 7396 on a stored override document; the result holds no ``null`` and no empty object."""
    result = _patch_value(dict(target), dict(patch))
    assert isinstance(result, dict)
    return result


def _patch_value(target: Any, patch: Any) -> Any:
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
            continue
        patched = _patch_value(result.get(key), value)
        if isinstance(patched, dict) and not patched:
            result.pop(key, None)
        else:
            result[key] = patched
    return result


def flatten_leaves(document: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Dotted path → leaf value. Objects recurse; arrays, scalars and empty objects are leaves."""
    leaves: dict[str, Any] = {}
    for key, value in document.items():
        path = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict) and value:
            leaves.update(flatten_leaves(value, path))
        else:
            leaves[path] = value
    return leaves


def same_json(left: Any, right: Any) -> bool:
    """JSON equality that tells ``1`` from ``1.0`` and ``true`` (Python's ``==`` does not)."""
    return json.dumps(left, sort_keys=True) == json.dumps(right, sort_keys=True)


def leaf_diff(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Dotted path → ``{"old", "new"}`` for every leaf added, changed or removed; the missing side is None."""
    old_leaves = flatten_leaves(old)
    new_leaves = flatten_leaves(new)
    diff: dict[str, dict[str, Any]] = {}
    for path in sorted(old_leaves.keys() | new_leaves.keys()):
        before = old_leaves.get(path)
        after = new_leaves.get(path)
        if path in old_leaves and path in new_leaves and same_json(before, after):
            continue
        diff[path] = {"old": copy.deepcopy(before), "new": copy.deepcopy(after)}
    return diff


def value_at(document: Mapping[str, Any], path: Iterable[str]) -> Any:
    """The value at a key path, or None when any step is missing or not an object."""
    current: Any = document
    for key in path:
        if not isinstance(current, dict) or key not in current:
            return None
        current = current[key]
    return current
