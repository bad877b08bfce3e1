"""The documented config keys (API.md §5.7, §5.8): system defaults, where secrets live, and validation.

Validation runs on the would-be effective config and raises :class:`ConfigInvalid` for the first problem,
naming the dotted field (``mcp_servers[2].url`` inside arrays). Messages never contain submitted values.
"""

from __future__ import annotations

import copy
import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

from engine import BUILTIN_AGENTS, TOOL_CATALOG
from engine.registry import is_implemented
from incidentfox_web.egress import is_public, parse_ip_literal
from teamconfig.errors import ConfigFieldRefused, ConfigInvalid
from teamconfig.merge import merge_two
from teamconfig.secrets import SECRET_MASK, is_ciphertext, is_reference

INJECTED_KEYS = ("team_name", "org_id", "team_node_id")
ADMIN_ONLY_KEYS = ("approval_workflows",)
CUSTOM_AGENT_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
SERVER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
# An MCP server's name prefixes its tools' names (``runbooks.lookup``), so it has no dot.
MCP_SERVER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
# ``<server>.<tool>`` or ``<server>.*`` in an agent's enable_extra_tools / disable_default_tools.
MCP_TOOL_REFERENCE = re.compile(r"^([A-Za-z0-9][A-Za-z0-9_-]{0,63})\.(\*|[A-Za-z0-9_][A-Za-z0-9_./-]{0,127})$")
MAX_URL_LENGTH = 2048
MAX_OVERRIDES_BYTES = 256 * 1024
MAX_NODE_NAME_CHARS = 200  # Node.name's column

FieldKind = Literal["string", "url", "secret", "strings", "choice"]


@dataclass(frozen=True)
class FieldSpec:
    kind: FieldKind
    required: bool = False  # required in the effective config when the entry is enabled
    default: str | None = None
    choices: tuple[str, ...] = ()


S, URL, SECRET, STRINGS = FieldSpec("string"), FieldSpec("url"), FieldSpec("secret"), FieldSpec("strings")

TOOL_FIELDS: dict[str, dict[str, FieldSpec]] = {
    "kubernetes": {
        "kubeconfig": SECRET,
        "default_namespace": FieldSpec("string", default="default"),
        "default_context": S,
    },
    "aws": {
        "region": FieldSpec("string", default="us-east-1"),
        "assume_role": S,
        "external_id": S,
        "access_key_id": SECRET,
        "secret_access_key": SECRET,
    },
    "cloudwatch": {"region": S, "log_groups": STRINGS},
    "prometheus": {"url": FieldSpec("url", required=True), "auth": SECRET},
    "loki": {"url": FieldSpec("url", required=True), "auth": SECRET},
    "elasticsearch": {
        "url": FieldSpec("url", required=True),
        "api_key": SECRET,
        "index_pattern": FieldSpec("string", default="logs-*"),
    },
    "datadog": {
        "api_key": FieldSpec("secret", required=True),
        "app_key": FieldSpec("secret", required=True),
        "site": FieldSpec("string", default="datadoghq.com"),
        "base_url": URL,
    },
    "grafana": {
        "url": FieldSpec("url", required=True),
        "api_key": FieldSpec("secret", required=True),
        "default_datasource": S,
        "logs_datasource": S,
        "logs_service_label": FieldSpec("string", default="app"),
    },
    "coralogix": {
        "api_key": FieldSpec("secret", required=True),
        "domain": FieldSpec("string", required=True),
        "default_application": S,
        "default_subsystem": S,
        "base_url": URL,
    },
    "sentry": {
        "token": FieldSpec("secret", required=True),
        "organization": FieldSpec("string", required=True),
        "projects": STRINGS,
        "base_url": FieldSpec("url", default="https://sentry.io"),
    },
    "github": {
        "token": FieldSpec("secret", required=True),
        "base_url": FieldSpec("url", default="https://api.github.com"),
        "default_org": S,
        "default_repo": S,
    },
    "demo": {"scenario": S},
}


def describe_tool_blocks() -> str:
    """The ``tools.<name>`` blocks and their fields (``*`` required when enabled, ``(s)`` secret), for the API docs."""

    def field(name: str, spec: FieldSpec) -> str:
        marks = ("*" if spec.required else "") + (" (s)" if spec.kind == "secret" else "")
        default = f" = {spec.default}" if spec.default is not None else ""
        return f"{name}{marks}{default}"

    return "; ".join(
        f"`{tool}`: " + (", ".join(field(name, spec) for name, spec in fields.items()) or "no fields")
        for tool, fields in TOOL_FIELDS.items()
    )


# Names a string item of mcp_servers / a2a_agents may use: the documented integrations (not the demo source).
KNOWN_INTEGRATIONS = frozenset(TOOL_FIELDS) - {"demo"}

INTEGRATION_FIELDS: dict[str, dict[str, FieldSpec]] = {
    "alertmanager": {"bearer_token": SECRET},
    "pagerduty": {
        "webhook_secret": SECRET,
        "urgency_filter": FieldSpec("choice", default="all", choices=("all", "high")),
    },
    "incidentio": {
        "webhook_secret": SECRET,
        "severity_threshold": FieldSpec("choice", default="low", choices=("low", "medium", "high")),
    },
    # Outbound only: the bot that posts each investigation to slack_channel (webhooks/slack.py).
    "slack": {"bot_token": FieldSpec("secret", required=True)},
}
OUTBOUND_INTEGRATIONS = frozenset({"slack"})  # no alerts come in, so no auto_investigate
LLM_FIELDS: dict[str, FieldSpec] = {
    "provider": FieldSpec("choice", choices=("openai", "anthropic", "azure_openai", "openai_compatible", "none")),
    "model": S,
    "base_url": URL,
    "api_key": SECRET,
}
AGENT_KEYS = frozenset(
    {
        "enabled",
        "prompt",
        "description",
        "disable_default_tools",
        "enable_extra_tools",
        "model",
        "max_turns",
        "timeout",
    }
)
KNOWN_FEATURE_FLAGS = {
    "enable_auto_mitigation": False,
    "enable_write_actions": False,
    "require_approval": True,
}


def default_max_turns(agent: str) -> int:
    return {"planner": 50, "investigation_agent": 25}.get(agent, 15)


def _agent_defaults(name: str) -> dict[str, Any]:
    return {
        "enabled": True,
        "disable_default_tools": [],
        "enable_extra_tools": [],
        "max_turns": default_max_turns(name),
        "timeout": 300,
    }


SYSTEM_DEFAULTS: dict[str, Any] = {
    "slack_channel": None,
    "slack_group_to_ping": None,
    "mcp_servers": [],
    "a2a_agents": [],
    "agents": {name: _agent_defaults(name) for name in BUILTIN_AGENTS},
    "tools": {},
    "knowledge_source": {},
    "feature_flags": dict(KNOWN_FEATURE_FLAGS),
    "alerts": {"disabled": []},
    "webhooks": {"investigation_complete": None},
    "approval_workflows": {"config_changes": {"enabled": False, "approvers": []}, "actions": {}},
    "integrations": {},
    "llm": None,
}


def complete_defaults(merged: Mapping[str, Any]) -> dict[str, Any]:
    """Fill per-entry defaults for the tools, integrations and custom agents an effective config mentions."""
    config = copy.deepcopy(dict(merged))
    for section, defaults_for in (
        ("tools", lambda name: _entry_defaults(TOOL_FIELDS.get(name, {}), {"enabled": False, "timeout": 30})),
        (
            "integrations",
            lambda name: _entry_defaults(
                INTEGRATION_FIELDS.get(name, {}),
                {"enabled": False} if name in OUTBOUND_INTEGRATIONS else {"enabled": False, "auto_investigate": True},
            ),
        ),
        ("agents", _agent_defaults),
    ):
        entries = config.get(section)
        if isinstance(entries, dict):
            for name, value in entries.items():
                if isinstance(value, dict):
                    entries[name] = merge_two(defaults_for(name), value)
    return config


def _entry_defaults(fields: Mapping[str, FieldSpec], base: dict[str, Any]) -> dict[str, Any]:
    return {**base, **{name: spec.default for name, spec in fields.items() if spec.default is not None}}


# -- where secrets live ------------------------------------------------------------------------------------
def is_secret_path(path: tuple[str, ...]) -> bool:
    """``path`` is a key path; ``"[]"`` stands for any array index."""
    match path:
        case ("tools", tool, field):
            spec = TOOL_FIELDS.get(tool, {}).get(field)
        case ("integrations", provider, field):
            spec = INTEGRATION_FIELDS.get(provider, {}).get(field)
        case ("llm", field):
            spec = LLM_FIELDS.get(field)
        case ("mcp_servers" | "a2a_agents", "[]", "auth"):
            return True
        case _:
            return False
    return spec is not None and spec.kind == "secret"


# Keys nothing reads yet, each with what to do instead. A patch giving one a value other than unset (null, [], {}) or
# its system default is refused with "not supported yet"; stored configs keep loading. Every other documented key
# has a reader (teamconfig/readers.py), which tests/teamconfig/test_config_readers.py checks against this schema.
NOT_SUPPORTED: dict[str, str] = {
    "a2a_agents": "agent-to-agent delegation is not built yet",
    "knowledge_source.*": "teach documents with POST /api/v1/kb/teach or on the team's Knowledge page",
    "feature_flags.*": "no feature reads this flag yet",
    "approval_workflows.actions.*": "no action runs through an approval workflow yet",
}


def documented_keys() -> list[str]:
    """Every key the schema accepts, dotted, down to one entry (``tools.prometheus``, ``agents.*.prompt``);
    ``*`` stands for a name the user chooses. Derived from the tables above, so a new field shows up here."""
    keys: list[str] = []
    for key, default in SYSTEM_DEFAULTS.items():
        if key == "agents":
            keys += [f"agents.*.{field}" for field in sorted(AGENT_KEYS)]
        elif key == "tools":
            keys += [f"tools.{name}" for name in TOOL_FIELDS]
        elif key == "integrations":
            keys += [f"integrations.{name}" for name in INTEGRATION_FIELDS]
        elif key == "feature_flags":
            keys += [*(f"feature_flags.{name}" for name in KNOWN_FEATURE_FLAGS), "feature_flags.*"]
        elif key == "knowledge_source":
            keys.append("knowledge_source.*")
        elif key == "approval_workflows":
            keys += ["approval_workflows.config_changes", "approval_workflows.actions.*"]
        elif isinstance(default, dict):
            keys += [f"{key}.{name}" for name in default]
        else:
            keys.append(key)
    return keys


def not_supported_reason(key: str) -> str | None:
    """Why ``key`` (a documented key) is refused, or None when something reads it."""
    parts = key.split(".")
    for pattern, reason in NOT_SUPPORTED.items():
        expected = pattern.split(".")
        if len(expected) == len(parts) and all(e in ("*", k) for e, k in zip(expected, parts, strict=True)):
            return reason
    return None


# -- checks on the submitted patch itself ------------------------------------------------------------------
def check_patch_keys(patch: Mapping[str, Any], *, admin: bool) -> None:
    """Injected keys are immutable; ``approval_workflows`` is admin-only; keys may not contain ``.``; keys nothing
    reads yet (:data:`NOT_SUPPORTED`) cannot be given a value."""
    for key in INJECTED_KEYS:
        if key in patch:
            raise ConfigFieldRefused(key, f"{key} is immutable and cannot be changed")
    _refuse_not_supported(patch)
    if not admin:
        for key in ADMIN_ONLY_KEYS:
            if key in patch:
                raise ConfigFieldRefused(key, f"{key} can only be changed by an org admin")
    _check_key_names(patch, "")


def check_node_name(name: Any) -> str:
    """The name an org admin gives a node by writing ``team_name`` to the admin config endpoint (§5.6)."""
    if not isinstance(name, str) or not name.strip():
        raise ConfigInvalid("team_name", "must be a non-empty string")
    if len(name) > MAX_NODE_NAME_CHARS:
        raise ConfigInvalid("team_name", f"must be at most {MAX_NODE_NAME_CHARS} characters")
    return name


def _refuse_not_supported(patch: Mapping[str, Any]) -> None:
    for pattern, reason in NOT_SUPPORTED.items():
        for path, value in _values_at(patch, pattern.split("."), ()):
            if value in (None, [], {}) or value == _default_at(path):
                continue
            raise ConfigInvalid(".".join(path), f"not supported yet: {reason}")


def _values_at(value: Any, pattern: list[str], path: tuple[str, ...]) -> list[tuple[tuple[str, ...], Any]]:
    if not pattern:
        return [(path, value)]
    if not isinstance(value, Mapping):
        return []
    head, rest = pattern[0], pattern[1:]
    names = list(value) if head == "*" else [head] if head in value else []
    return [found for name in names for found in _values_at(value[name], rest, (*path, name))]


def _default_at(path: tuple[str, ...]) -> Any:
    value: Any = SYSTEM_DEFAULTS
    for name in path:
        if not isinstance(value, dict) or name not in value:
            return _NO_DEFAULT
        value = value[name]
    return value


_NO_DEFAULT = object()


def _check_key_names(value: Any, prefix: str) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            path = f"{prefix}.{key}" if prefix else key
            if "." in key:
                raise ConfigInvalid(path, "keys may not contain '.'")
            if not key:
                raise ConfigInvalid(path or "config", "keys may not be empty")
            _check_key_names(item, path)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_key_names(item, f"{prefix}[{index}]")


# -- validation of the effective config --------------------------------------------------------------------
TOP_LEVEL_KEYS = frozenset({*SYSTEM_DEFAULTS, *INJECTED_KEYS})


def validate_effective(config: Mapping[str, Any], *, allow_private_webhooks: bool) -> None:
    _only_keys(config, TOP_LEVEL_KEYS, "")
    _optional_string(config, "slack_channel", 255)
    _optional_string(config, "slack_group_to_ping", 255)
    _slack_needs_its_bot(config)
    _servers(config.get("mcp_servers"), "mcp_servers", name_pattern=MCP_SERVER_NAME)
    _servers(config.get("a2a_agents"), "a2a_agents")
    _agents(config.get("agents"), mcp_servers=mcp_server_names(config.get("mcp_servers")))
    _tools(config.get("tools"))
    _knowledge_sources(config.get("knowledge_source"))
    _feature_flags(config.get("feature_flags"))
    _alerts(config.get("alerts"))
    _webhooks(config.get("webhooks"), allow_private=allow_private_webhooks)
    _approval_workflows(config.get("approval_workflows"))
    _integrations(config.get("integrations"))
    _llm(config.get("llm"))


def _slack_needs_its_bot(config: Mapping[str, Any]) -> None:
    """A channel with no bot to post to it would be a setting nothing acts on."""
    slack = (config.get("integrations") or {}).get("slack") if isinstance(config.get("integrations"), dict) else None
    enabled = isinstance(slack, dict) and slack.get("enabled") is True
    for key in ("slack_channel", "slack_group_to_ping"):
        if config.get(key) and not enabled:
            raise ConfigInvalid(key, "needs integrations.slack enabled with a bot_token to post with")


def _object(value: Any, field: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ConfigInvalid(field, "must be an object")
    return value


def unknown_key_error(key: str, allowed: Any) -> str:
    """``is not a known setting``, with the nearest valid key when one is close enough to be a typo."""
    nearest = difflib.get_close_matches(key, sorted(str(name) for name in allowed), n=1, cutoff=0.6)
    return f"is not a known setting; did you mean '{nearest[0]}'?" if nearest else "is not a known setting"


def _only_keys(value: Mapping[str, Any], allowed: Any, field: str) -> None:
    for key in value:
        if key not in allowed:
            raise ConfigInvalid(f"{field}.{key}" if field else key, unknown_key_error(key, allowed))


def _string(value: Any, field: str, max_length: int = 2000) -> str:
    if not isinstance(value, str):
        raise ConfigInvalid(field, "must be a string")
    if len(value) > max_length:
        raise ConfigInvalid(field, f"must be at most {max_length} characters")
    return value


def _optional_string(config: Mapping[str, Any], key: str, max_length: int) -> None:
    if config.get(key) is not None:
        _string(config[key], key, max_length)


def _bool(value: Any, field: str) -> None:
    if not isinstance(value, bool):
        raise ConfigInvalid(field, "must be a boolean")


def _int(value: Any, field: str, minimum: int, maximum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigInvalid(field, "must be a positive integer")
    if not minimum <= value <= maximum:
        raise ConfigInvalid(field, f"must be between {minimum} and {maximum}")


def _strings(value: Any, field: str, *, max_length: int = 2000) -> list[str]:
    if not isinstance(value, list):
        raise ConfigInvalid(field, "must be an array of strings")
    for index, item in enumerate(value):
        _string(item, f"{field}[{index}]", max_length)
    return value


def _url(value: Any, field: str, *, allow_private: bool = True) -> None:
    _string(value, field, MAX_URL_LENGTH)
    try:
        parts = urlsplit(value)
        host = parts.hostname
        _ = parts.port
    except ValueError:
        raise ConfigInvalid(field, "must be an absolute http or https URL") from None
    if parts.scheme not in ("http", "https") or not host:
        raise ConfigInvalid(field, "must be an absolute http or https URL")
    if parts.username is not None or parts.password is not None:
        raise ConfigInvalid(field, "must not contain user info")
    if not allow_private:
        address = parse_ip_literal(host)  # every form the send-time check reads: 2130706433, 0x7f000001, 127.1 ...
        if address is not None and not is_public(address):
            raise ConfigInvalid(field, "must not point at a private, loopback or reserved address")


def _secret(value: Any, field: str) -> None:
    if not (is_reference(value) or is_ciphertext(value)):
        raise ConfigInvalid(field, 'must be a reference (vault://, env://) or an object {"secret": "..."}')


def _fields(entry: Mapping[str, Any], specs: Mapping[str, FieldSpec], field: str) -> None:
    for name, spec in specs.items():
        value = entry.get(name)
        path = f"{field}.{name}"
        if value is None:
            continue
        if spec.kind == "string":
            _string(value, path)
        elif spec.kind == "url":
            _url(value, path)
        elif spec.kind == "secret":
            _secret(value, path)
        elif spec.kind == "strings":
            _strings(value, path)
        elif value not in spec.choices:
            raise ConfigInvalid(path, f"must be one of {', '.join(spec.choices)}")


def _required_when_enabled(entry: Mapping[str, Any], specs: Mapping[str, FieldSpec], field: str) -> None:
    if entry.get("enabled") is not True:
        return
    for name, spec in specs.items():
        if spec.required and entry.get(name) in (None, ""):
            raise ConfigInvalid(f"{field}.{name}", "is required when the tool is enabled")


def mcp_server_names(value: Any) -> frozenset[str]:
    """The names of the MCP server objects in an ``mcp_servers`` value (string items name integrations)."""
    items = value if isinstance(value, list) else []
    return frozenset(item["name"] for item in items if isinstance(item, dict) and isinstance(item.get("name"), str))


def _servers(value: Any, field: str, *, name_pattern: re.Pattern[str] = SERVER_NAME) -> None:
    if value is None:
        return
    if not isinstance(value, list):
        raise ConfigInvalid(field, "must be an array")
    seen: set[str] = set()
    for index, item in enumerate(value):
        path = f"{field}[{index}]"
        if isinstance(item, str):
            if item not in KNOWN_INTEGRATIONS:
                raise ConfigInvalid(path, f"must be a known integration ({', '.join(sorted(KNOWN_INTEGRATIONS))})")
            name = item
        elif isinstance(item, dict):
            _only_keys(item, ("name", "url", "auth"), path)
            name = _string(item.get("name"), f"{path}.name", 64)
            if not name_pattern.match(name):
                allowed = "'_', '.' or '-'" if name_pattern is SERVER_NAME else "'_' or '-'"
                raise ConfigInvalid(f"{path}.name", f"must be 1-64 letters, digits, {allowed}")
            _url(item.get("url"), f"{path}.url")
            if item.get("auth") is not None:
                _secret(item["auth"], f"{path}.auth")
        else:
            raise ConfigInvalid(path, "must be an integration name or an object {name, url, auth}")
        if name in seen:
            raise ConfigInvalid(path, "names must be unique")
        seen.add(name)


def _agents(value: Any, *, mcp_servers: frozenset[str]) -> None:
    agents = _object(value, "agents")
    for name, settings in agents.items():
        field = f"agents.{name}"
        if name not in BUILTIN_AGENTS and not CUSTOM_AGENT_NAME.match(name):
            raise ConfigInvalid(field, "custom agent names must match ^[a-z][a-z0-9_]{0,63}$")
        entry = _object(settings, field)
        _only_keys(entry, AGENT_KEYS, field)
        _bool(entry.get("enabled", True), f"{field}.enabled")
        if entry.get("prompt") is not None:
            _string(entry["prompt"], f"{field}.prompt", 20000)
        elif name not in BUILTIN_AGENTS:
            raise ConfigInvalid(f"{field}.prompt", "is required for a custom agent")
        if entry.get("description") is not None:
            _string(entry["description"], f"{field}.description", 500)
        if entry.get("model") is not None:
            _string(entry["model"], f"{field}.model", 200)
        for key in ("disable_default_tools", "enable_extra_tools"):
            for index, tool in enumerate(_strings(entry.get(key, []), f"{field}.{key}", max_length=200)):
                if "." in tool:
                    _mcp_tool_reference(tool, f"{field}.{key}[{index}]", mcp_servers)
                    continue
                if tool not in TOOL_CATALOG:
                    raise ConfigInvalid(f"{field}.{key}[{index}]", "is not a known tool")
                if key == "enable_extra_tools" and not is_implemented(tool):
                    raise ConfigInvalid(f"{field}.{key}[{index}]", "not supported yet: this tool is not built yet")
        if "max_turns" in entry:
            _int(entry["max_turns"], f"{field}.max_turns", 1, 100)
        if "timeout" in entry:
            _int(entry["timeout"], f"{field}.timeout", 10, 1800)


def _mcp_tool_reference(tool: str, field: str, servers: frozenset[str]) -> None:
    """An MCP tool is named ``<server>.<tool>`` (or ``<server>.*``) after a server object of ``mcp_servers``; whether
    the server lists that tool is known only when it is asked, so an unlisted name is simply never offered."""
    match = MCP_TOOL_REFERENCE.match(tool)
    if match is None:
        raise ConfigInvalid(field, "is not a known tool; an MCP tool is named <server>.<tool> or <server>.*")
    if match.group(1) not in servers:
        raise ConfigInvalid(field, "names an MCP server that is not in mcp_servers")


def _tools(value: Any) -> None:
    tools = _object(value, "tools")
    for name, settings in tools.items():
        field = f"tools.{name}"
        if name not in TOOL_FIELDS:
            known = ", ".join(sorted(TOOL_FIELDS))
            raise ConfigInvalid(field, f"{unknown_key_error(name, TOOL_FIELDS)} (known: {known})")
        entry = _object(settings, field)
        specs = TOOL_FIELDS[name]
        _only_keys(entry, {"enabled", "timeout", *specs}, field)
        _bool(entry.get("enabled", False), f"{field}.enabled")
        _int(entry.get("timeout", 30), f"{field}.timeout", 1, 300)
        _fields(entry, specs, field)
        _required_when_enabled(entry, specs, field)


def validate_tool_changes(name: str, changes: Mapping[str, Any]) -> None:
    """Unsaved settings of one data source (for a connection test): known keys, each of its kind. Secrets come as
    ``{"secret": "…"}``, or are left out (or ``********``) to keep the stored value, or null to test without it;
    references are saved first."""
    field = f"tools.{name}"
    specs = TOOL_FIELDS[name]
    _only_keys(changes, {"enabled", "timeout", *specs}, field)
    if changes.get("timeout") is not None:
        _int(changes["timeout"], f"{field}.timeout", 1, 300)
    secrets = {key for key, spec in specs.items() if spec.kind == "secret"}
    _fields({key: value for key, value in changes.items() if key not in secrets}, specs, field)
    for key in secrets & set(changes):
        value = changes[key]
        if value not in (None, "", SECRET_MASK) and not (
            isinstance(value, dict) and set(value) == {"secret"} and isinstance(value["secret"], str)
        ):
            raise ConfigInvalid(f"{field}.{key}", 'must be an object {"secret": "..."}, or left out to keep it')


def _knowledge_sources(value: Any) -> None:
    for name, sources in _object(value, "knowledge_source").items():
        _strings(sources, f"knowledge_source.{name}", max_length=MAX_URL_LENGTH)


def _feature_flags(value: Any) -> None:
    for name, flag in _object(value, "feature_flags").items():
        _bool(flag, f"feature_flags.{name}")


def _alerts(value: Any) -> None:
    alerts = _object(value, "alerts")
    _only_keys(alerts, ("disabled",), "alerts")
    _strings(alerts.get("disabled", []), "alerts.disabled", max_length=500)


def _webhooks(value: Any, *, allow_private: bool) -> None:
    webhooks = _object(value, "webhooks")
    _only_keys(webhooks, ("investigation_complete",), "webhooks")
    url = webhooks.get("investigation_complete")
    if url not in (None, ""):
        _url(url, "webhooks.investigation_complete", allow_private=allow_private)


def _approval_workflows(value: Any) -> None:
    workflows = _object(value, "approval_workflows")
    _only_keys(workflows, ("config_changes", "actions"), "approval_workflows")
    changes = _object(workflows.get("config_changes", {}), "approval_workflows.config_changes")
    _only_keys(changes, ("enabled", "approvers"), "approval_workflows.config_changes")
    _bool(changes.get("enabled", False), "approval_workflows.config_changes.enabled")
    _strings(changes.get("approvers", []), "approval_workflows.config_changes.approvers", max_length=255)
    for name, action in _object(workflows.get("actions", {}), "approval_workflows.actions").items():
        field = f"approval_workflows.actions.{name}"
        entry = _object(action, field)
        _only_keys(entry, ("required_approvers", "timeout_minutes", "notify_channel"), field)
        if "required_approvers" in entry:
            _int(entry["required_approvers"], f"{field}.required_approvers", 1, 10)
        if "timeout_minutes" in entry:
            _int(entry["timeout_minutes"], f"{field}.timeout_minutes", 1, 10080)
        if entry.get("notify_channel") is not None:
            _string(entry["notify_channel"], f"{field}.notify_channel", 255)


def _integrations(value: Any) -> None:
    for name, settings in _object(value, "integrations").items():
        field = f"integrations.{name}"
        if name not in INTEGRATION_FIELDS:
            known = ", ".join(sorted(INTEGRATION_FIELDS))
            raise ConfigInvalid(field, f"{unknown_key_error(name, INTEGRATION_FIELDS)} (known: {known})")
        entry = _object(settings, field)
        specs = INTEGRATION_FIELDS[name]
        inbound = () if name in OUTBOUND_INTEGRATIONS else ("auto_investigate",)
        _only_keys(entry, {"enabled", *inbound, *specs}, field)
        _bool(entry.get("enabled", False), f"{field}.enabled")
        _bool(entry.get("auto_investigate", True), f"{field}.auto_investigate")
        _fields(entry, specs, field)
        _required_when_enabled(entry, specs, field)


def _llm(value: Any) -> None:
    if value is None:
        return
    llm = _object(value, "llm")
    _only_keys(llm, LLM_FIELDS, "llm")
    if llm.get("provider") is None:
        raise ConfigInvalid("llm.provider", "is required when llm is set")
    _fields(llm, LLM_FIELDS, "llm")
