"""The team's effective config as a table of leaves, each with the level it comes from (pure functions)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from teamconfig.merge import flatten_leaves

INJECTED_KEYS = ("team_name", "org_id", "team_node_id")
MISSING = object()


# What each top-level setting does (API.md §5.7), shown next to its rows on the config page.
SECTION_DESCRIPTIONS: dict[str, str] = {
    "team_name": "The team's display name (set by admins, read-only here).",
    "org_id": "The organisation this team belongs to (read-only).",
    "team_node_id": "The team's id in the org tree (read-only).",
    "slack_channel": "Slack channel where investigation summaries are posted.",
    "slack_group_to_ping": "Slack group mentioned on high-severity results.",
    "mcp_servers": "MCP servers the agents may call: known integration names or {name, url, auth}.",
    "a2a_agents": "Remote agents (A2A) the planner may delegate to.",
    "agents": "Built-in agents (enable, prompt, tools, max_turns, timeout) and the team's custom agents.",
    "tools": "Data sources the investigation reads: Kubernetes, Prometheus, Loki, logs, cloud, Datadog, Sentry, "
    "Coralogix, GitHub, the demo.",
    "knowledge_source": "Not supported yet: teach documents on the Knowledge page.",
    "feature_flags": "Switches for write actions, auto-mitigation and approvals.",
    "alerts": "Alert names in alerts.disabled start no investigation.",
    "webhooks": "webhooks.investigation_complete: the URL that receives signed investigation events.",
    "approval_workflows": "Whether config changes need an org admin's approval, and per-action approvals.",
    "integrations": "Inbound alert webhooks (Alertmanager, PagerDuty, incident.io) and their secrets.",
    "llm": "The team's model (provider, model, base_url, api_key); empty: the built-in deterministic engine.",
}


@dataclass(frozen=True)
class ConfigRow:
    path: str
    value: str  # compact JSON, secrets already masked by the selector
    source: str  # "injected", "default" or the node id whose overrides set it

    @property
    def section(self) -> str:
        return self.path.split(".", 1)[0].split("[", 1)[0]

    @property
    def description(self) -> str:
        return SECTION_DESCRIPTIONS.get(self.section, "")


@dataclass(frozen=True)
class DiffLine:
    path: str
    old: str
    new: str


def diff_lines(diff: Any) -> list[DiffLine]:
    """A stored dotted-path diff (``{path: {"old", "new"}}``, secrets masked) as lines for the page."""
    if not isinstance(diff, dict):
        return []
    lines = []
    for path, change in sorted(diff.items()):
        change = change if isinstance(change, dict) else {}
        lines.append(
            DiffLine(
                path=str(path),
                old=json.dumps(change.get("old"), ensure_ascii=False),
                new=json.dumps(change.get("new"), ensure_ascii=False),
            )
        )
    return lines


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
