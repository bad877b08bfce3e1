"""Test a team's data source before (or after) saving it: the settings an investigation would run with, with the
submitted changes laid over them, checked through the engine's connector and the one egress policy.

Secrets: a submitted ``{"secret": v}`` is used as is (never stored or shown), an omitted or ``********`` one keeps
the stored value, which is decrypted or fetched now, exactly as at run time.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.connection_check import ConnectionCheck, can_check, check_connection
from incidentfox_web.egress import TenantEgress
from teamconfig.merge import merge_two
from teamconfig.schema import NOT_SUPPORTED, TOOL_FIELDS
from teamconfig.secrets import SECRET_MASK, SecretResolver, SecretUnavailable
from teamconfig.selectors import AMBIENT_SOURCES, ambient_allowed, borrow_aws_credentials, effective_unmasked
from tenancy.models import Node


def checkable_sources() -> list[str]:
    """The data sources with a connection check, in the schema's order (not the demo, not the unbuilt ones)."""
    return [name for name in TOOL_FIELDS if f"tools.{name}" not in NOT_SUPPORTED and can_check(name)]


def _without_kept_secrets(name: str, changes: Mapping[str, Any]) -> dict[str, Any]:
    specs = TOOL_FIELDS[name]
    return {
        key: value
        for key, value in changes.items()
        if not (key in specs and specs[key].kind == "secret" and value in ("", SECRET_MASK))
    }


def _settings_to_check(team: Node, name: str, changes: Mapping[str, Any]) -> dict[str, Any]:
    tools = effective_unmasked(team).get("tools", {})
    current = tools.get(name) if isinstance(tools.get(name), dict) else {}
    settings = merge_two(current, _without_kept_secrets(name, changes))
    assert isinstance(settings, dict)
    settings.pop("enabled", None)
    if name == "cloudwatch":
        borrow_aws_credentials(settings, tools.get("aws"))
    return settings


def data_source_check(*, team: Node, name: str, changes: Mapping[str, Any] | None = None) -> ConnectionCheck:
    """Connect to the team's data source ``name`` (a ``checkable_sources`` entry) as an investigation would.

    ``changes`` are unsaved settings in the config's own shape (``{"url": …, "auth": {"secret": …}}``).
    """
    settings = _settings_to_check(team, name, changes or {})
    resolver = SecretResolver(org_id=team.path[0])
    shape = TOOL_FIELDS["aws" if name == "cloudwatch" else name]  # cloudwatch's borrowed fields are aws secrets
    secret_keys = {key for key, spec in shape.items() if spec.kind == "secret"}
    submitted: list[str] = []
    try:
        for key in secret_keys & set(settings):
            value = settings[key]
            if isinstance(value, dict) and isinstance(value.get("secret"), str):
                settings[key] = value["secret"]
                submitted.append(value["secret"])
            elif isinstance(value, str) and value:
                settings[key] = resolver.resolve(value, source=name)
    except SecretUnavailable as exc:
        return ConnectionCheck(ok=False, message=str(exc), duration_ms=0)
    if name in AMBIENT_SOURCES:
        settings["ambient_credentials"] = ambient_allowed()
    return check_connection(name, settings, egress=TenantEgress(), secrets=[*resolver.resolved, *submitted])
