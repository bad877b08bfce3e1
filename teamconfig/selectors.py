"""Reads of team configuration for the API, the investigations app and the webhooks app.

A team's lineage is known from ``Node.path`` (root → team), so its effective config costs one query however
deep the tree is: the ``NodeConfig`` rows of every node on the path.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings as django_settings
from django.db.models import QuerySet

from engine.registry import served_sources
from teamconfig.models import ChangeRequest, ChangeStatus, ConfigVersion, NodeConfig
from teamconfig.patching import build_effective, mask_document
from teamconfig.readers import reads, reads_lazily
from teamconfig.references import reference_problem, reference_rules
from teamconfig.schema import TOOL_FIELDS, is_secret_path
from teamconfig.secrets import SecretResolver, is_reference
from tenancy.models import Node, Organization


@dataclass(frozen=True)
class EngineSettings:
    """What one investigation runs with: resolved secrets, so build it at run time and never log it."""

    data_sources: dict[str, dict[str, Any]]  # enabled tools only, without "enabled", secrets resolved
    agents: dict[str, dict[str, Any]]  # effective agents.<name> objects, built-in and custom
    llm: dict[str, Any] | None  # None or {"provider": "none"} = deterministic mode
    webhook_url: str | None  # effective webhooks.investigation_complete; "" and null → None
    alerts_disabled: list[str]
    secrets: list[str] = field(default_factory=list, repr=False)  # every value resolved, to mask in tool output
    # mcp_servers: integration names and {name, url, auth} objects, auth resolved (never logged: repr=False)
    mcp_servers: list[str | dict[str, Any]] = field(default_factory=list, repr=False)


def lineage_configs(node: Node) -> dict[str, NodeConfig]:
    """node id → stored ``NodeConfig`` for each node of the lineage that has one (one query)."""
    rows = NodeConfig.objects.filter(org_id=node.org_id, node__node_id__in=node.path).select_related("node")
    return {row.node.node_id: row for row in rows}


def effective_unmasked(team: Node) -> dict[str, Any]:
    configs = lineage_configs(team)
    return build_effective([configs[node_id].overrides for node_id in team.path if node_id in configs])


def _injected(team: Node) -> dict[str, Any]:
    # The root node's id is the org id (API.md §1.1), so no query for the organisation.
    return {"team_name": team.name, "org_id": team.path[0], "team_node_id": team.node_id}


def effective_config_for_team(team: Node) -> dict[str, Any]:
    """The bare body of ``GET /config/me/effective``: merged, secrets masked, injected keys first."""
    return {**_injected(team), **mask_document(effective_unmasked(team))}


def config_raw_for_team(team: Node) -> dict[str, Any]:
    """``GET /config/me/raw``: each lineage node's masked overrides, root first, and the team's version."""
    configs = lineage_configs(team)
    own = configs.get(team.node_id)
    return {
        "lineage": list(team.path),
        "version": own.version if own else 0,
        "configs": {
            node_id: mask_document(configs[node_id].overrides) if node_id in configs else {} for node_id in team.path
        },
    }


def node_config(node: Node) -> tuple[int, dict[str, Any]]:
    """A node's own version and masked overrides (``GET /admin/teams/{node_id}/config``)."""
    row = NodeConfig.objects.filter(node=node).first()
    return (row.version, mask_document(row.overrides)) if row else (0, {})


@reads("agents")
def agent_settings_for_team(team: Node) -> dict[str, dict[str, Any]]:
    """The effective ``agents`` object (built-ins with defaults, custom agents); no secret is resolved."""
    return copy.deepcopy(effective_unmasked(team)["agents"])


def enabled_data_sources(effective: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Enabled tools' stored settings (secrets unresolved); ``cloudwatch`` borrows the ``aws`` credentials."""
    tools = effective.get("tools", {})
    sources = {
        name: {key: value for key, value in settings.items() if key != "enabled"}
        for name, settings in tools.items()
        if isinstance(settings, dict) and settings.get("enabled") is True
    }
    if "cloudwatch" in sources:
        borrow_aws_credentials(sources["cloudwatch"], tools.get("aws"))
    return sources


AWS_CREDENTIAL_KEYS = ("region", "assume_role", "external_id", "access_key_id", "secret_access_key")


def borrow_aws_credentials(cloudwatch: dict[str, Any], aws: Any) -> None:
    """CloudWatch reads with the ``aws`` tool's credentials (and region) wherever it sets none of its own."""
    if not isinstance(aws, dict):
        return
    for key in AWS_CREDENTIAL_KEYS:
        if aws.get(key) is not None and cloudwatch.get(key) is None:
            cloudwatch[key] = aws[key]


def _resolve_secrets(value: Any, path: tuple[str, ...], source: str, resolver: SecretResolver) -> Any:
    if isinstance(value, str) and is_secret_path(path):
        return resolver.resolve(value, source=source)
    if isinstance(value, dict):
        return {key: _resolve_secrets(item, (*path, key), source, resolver) for key, item in value.items()}
    if isinstance(value, list):
        return [_resolve_secrets(item, (*path, "[]"), source, resolver) for item in value]
    return value


# The engine reads a data source's settings only through a registered connector (or the demo source).
reads_lazily("teamconfig.selectors.engine_settings_for_team", lambda: [f"tools.{name}" for name in served_sources()])

AMBIENT_SOURCES = frozenset({"kubernetes", "aws", "cloudwatch"})


def ambient_allowed() -> bool:
    return bool(getattr(django_settings, "ALLOW_AMBIENT_CLOUD_CREDENTIALS", False))


@reads("llm", "webhooks.investigation_complete", "alerts.disabled", "agents", "mcp_servers")
def engine_settings_for_team(team: Node) -> EngineSettings:
    """Everything the engine needs for one run, secrets decrypted or fetched now.

    Raises ``teamconfig.secrets.SecretUnavailable(source)`` when a reference cannot be resolved, and its subclass
    ``SecretNotAllowed`` when a reference is outside the operator's rules. Kubernetes and AWS get the
    ``ambient_credentials`` mark (the server's own identity may serve them) only from the operator's
    ``ALLOW_AMBIENT_CLOUD_CREDENTIALS``, whatever the config says.
    """
    effective = effective_unmasked(team)
    resolver = SecretResolver(org_id=team.path[0])
    ambient = ambient_allowed()
    data_sources = {
        # cloudwatch's borrowed aws fields are secrets of the aws tool's shape
        name: _resolve_secrets(settings, ("tools", "aws" if name == "cloudwatch" else name), name, resolver)
        for name, settings in enabled_data_sources(effective).items()
        if name in TOOL_FIELDS
    }
    for name in AMBIENT_SOURCES & set(data_sources):
        data_sources[name]["ambient_credentials"] = ambient
    llm = effective.get("llm")
    if isinstance(llm, dict):
        llm = _resolve_secrets(llm, ("llm",), "llm", resolver)
    webhook = effective.get("webhooks", {}).get("investigation_complete")
    mcp_servers = [_mcp_server(item, resolver) for item in effective.get("mcp_servers") or []]
    return EngineSettings(
        data_sources=data_sources,
        agents=copy.deepcopy(effective["agents"]),
        llm=llm if isinstance(llm, dict) else None,
        webhook_url=webhook or None,
        alerts_disabled=list(effective.get("alerts", {}).get("disabled", [])),
        secrets=list(resolver.resolved),
        mcp_servers=mcp_servers,
    )


def _mcp_server(item: Any, resolver: SecretResolver) -> str | dict[str, Any]:
    """An ``mcp_servers`` item for the engine: a string as is, an object with its ``auth`` resolved."""
    if not isinstance(item, dict):
        return str(item)
    resolved = _resolve_secrets(item, ("mcp_servers", "[]"), f"MCP server {item.get('name')}", resolver)
    assert isinstance(resolved, dict)
    return resolved


@dataclass(frozen=True)
class InboundIntegration:
    """What an inbound alert webhook needs from one read of the team's config."""

    settings: dict[str, Any]  # integrations.<provider>, secrets resolved
    alerts_disabled: list[str]
    agents: dict[str, dict[str, Any]]  # effective agents.<name> objects, for starting the runs


def inbound_integration_for_team(team: Node, provider: str) -> InboundIntegration | None:
    """``integrations.<provider>`` (secrets resolved) with the rules its alerts follow; None when the integration is
    absent or disabled. Raises ``SecretUnavailable`` when its secret cannot be read."""
    effective = effective_unmasked(team)
    settings = effective.get("integrations", {}).get(provider)
    if not isinstance(settings, dict) or settings.get("enabled") is not True:
        return None
    resolved = _resolve_secrets(settings, ("integrations", provider), provider, SecretResolver(org_id=team.path[0]))
    assert isinstance(resolved, dict)
    return InboundIntegration(
        settings=resolved,
        alerts_disabled=list(effective.get("alerts", {}).get("disabled", [])),
        agents=copy.deepcopy(effective["agents"]),
    )


@dataclass(frozen=True)
class SlackTarget:
    """Where a team's investigations are posted: ``slack_channel`` through the ``integrations.slack`` bot."""

    channel: str
    group_to_ping: str | None
    bot_token: str = field(repr=False)


def _slack_settings(effective: dict[str, Any]) -> dict[str, Any] | None:
    settings = effective.get("integrations", {}).get("slack")
    if not effective.get("slack_channel") or not isinstance(settings, dict) or settings.get("enabled") is not True:
        return None
    return settings


def slack_configured_for_team(team: Node) -> bool:
    """The team posts its investigations to Slack (no secret is read)."""
    return _slack_settings(effective_unmasked(team)) is not None


@reads("slack_channel", "slack_group_to_ping", "integrations.slack")
def slack_target_for_team(team: Node) -> SlackTarget | None:
    """None when the team has no channel or the Slack integration is off. Raises ``SecretUnavailable`` when the bot
    token cannot be read."""
    effective = effective_unmasked(team)
    settings = _slack_settings(effective)
    channel = effective.get("slack_channel")
    if settings is None:
        return None
    resolved = _resolve_secrets(settings, ("integrations", "slack"), "slack", SecretResolver(org_id=team.path[0]))
    group = effective.get("slack_group_to_ping") or None
    return SlackTarget(channel=str(channel), group_to_ping=group, bot_token=resolved["bot_token"])


def config_history_for_node(node: Node, *, limit: int) -> list[ConfigVersion]:
    return list(ConfigVersion.objects.filter(node=node).order_by("-version")[:limit])


def change_requests_for_org(
    org: Organization, *, status: str, node: Node | None = None, team_id: str | None = None
) -> QuerySet[ChangeRequest]:
    """Newest first; ``status`` is a ``ChangeStatus`` value or ``all``."""
    requests = ChangeRequest.objects.filter(org=org).select_related("node")
    if node is not None:
        requests = requests.filter(node=node)
    if team_id is not None:
        requests = requests.filter(node__node_id=team_id)
    if status != "all":
        requests = requests.filter(status=ChangeStatus(status))
    return requests.order_by("-requested_at", "-id")


@dataclass(frozen=True)
class ReferenceFinding:
    """A stored reference the operator's rules no longer allow (``manage.py config_references_check``)."""

    org_id: str
    node_id: str
    where: str  # "config" or the change request id
    field: str
    reference: str
    problem: str


def _references(value: Any, field: str) -> list[tuple[str, str]]:
    if isinstance(value, str) and is_reference(value):
        return [(field, value)]
    if isinstance(value, dict):
        return [found for key, item in value.items() for found in _references(item, f"{field}.{key}" if field else key)]
    if isinstance(value, list):
        return [found for index, item in enumerate(value) for found in _references(item, f"{field}[{index}]")]
    return []


def stored_reference_problems() -> list[ReferenceFinding]:
    """Every reference in stored overrides and pending change requests that breaks the operator's rules."""
    rules = reference_rules()
    stored = [
        (row.node.path[0], row.node.node_id, "config", row.overrides)
        for row in NodeConfig.objects.select_related("node").order_by("org_id", "node__node_id")
    ] + [
        (cr.node.path[0], cr.node.node_id, cr.change_request_id, cr.patch)
        for cr in ChangeRequest.objects.filter(status=ChangeStatus.PENDING).select_related("node").order_by("id")
    ]
    findings = []
    for org_id, node_id, where, document in stored:
        for field_path, reference in _references(document, ""):
            problem = reference_problem(reference, org_id=org_id, rules=rules)
            if problem is not None:
                findings.append(ReferenceFinding(org_id, node_id, where, field_path, reference, problem))
    return findings
