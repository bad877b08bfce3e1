"""The team's effective config as a table of leaves, each with the level it comes from (pure functions)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from teamconfig.merge import flatten_leaves

INJECTED_KEYS = ("team_name", "org_id", "team_node_id")
MISSING = object()


@dataclass(frozen=True)
class ConfigRow:
    path: str
    value: str  # compact JSON, secrets already masked by the selector
    source: str  # "injected", "default" or the node id whose overrides set it


def _lookup(document: Any, parts: list[str]) -> Any:
    current = document
    for part in parts:
        if not isinstance(current, dict) or part not in current:
            return MISSING
        current = current[part]
    return current


def source_of(path: str, lineage: list[str], configs: dict[str, dict[str, Any]]) -> str:
    """The deepest lineage node whose stored overrides hold this leaf or one of its parent objects' values."""
    parts = path.split(".")
    for node_id in reversed(lineage):
        stored = configs.get(node_id) or {}
        for depth in range(len(parts), 0, -1):
            found = _lookup(stored, parts[:depth])
            if found is MISSING:
                continue
            if depth == len(parts) or not isinstance(found, dict):
                return node_id
            break
    return "default"


def config_rows(effective: dict[str, Any], raw: dict[str, Any]) -> list[ConfigRow]:
    lineage = list(raw.get("lineage") or [])
    configs = raw.get("configs") or {}
    rows = []
    for path, value in sorted(flatten_leaves(effective).items()):
        source = "injected" if path in INJECTED_KEYS else source_of(path, lineage, configs)
        rows.append(ConfigRow(path=path, value=json.dumps(value, ensure_ascii=False), source=source))
    return rows


def merge_patch_between(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """The RFC 7396 merge patch that turns ``old`` into ``new`` (removed keys become null)."""
    patch: dict[str, Any] = {}
    for key in old.keys() - new.keys():
        patch[key] = None
    for key, value in new.items():
        before = old.get(key, MISSING)
        if isinstance(before, dict) and isinstance(value, dict):
            nested = merge_patch_between(before, value)
            if nested:
                patch[key] = nested
        elif before is MISSING or json.dumps(before, sort_keys=True) != json.dumps(value, sort_keys=True):
            patch[key] = value
    return patch
