"""The team's effective engine configuration, through team config's selectors when they are installed.

This is the one adapter between investigations and ``teamconfig``. While ``teamconfig.selectors`` does not
provide the functions yet, every team runs with empty settings: the built-in agents and no data sources.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tenancy.models import Node


class TeamSettingsUnavailable(Exception):
    """A secret the team's configuration refers to could not be resolved; the message names the source.

    ``code`` is the investigation's error code: ``configuration_error`` for a reference outside the operator's
    rules (never resolved), ``data_source_unavailable`` when the secret's store could not give it.
    """

    def __init__(self, message: str, *, code: str = "data_source_unavailable") -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class TeamEngineSettings:
    data_sources: dict[str, dict[str, Any]] = field(default_factory=dict)
    agents: dict[str, dict[str, Any]] = field(default_factory=dict)
    llm: dict[str, Any] | None = None
    secrets: list[str] = field(default_factory=list, repr=False)  # resolved values, masked in tool output
    mcp_servers: list[Any] = field(default_factory=list, repr=False)  # integration names and {name, url, auth}


def team_agent_settings(team: Node) -> dict[str, dict[str, Any]]:
    """``agents.<name>`` from the effective config (no secrets): custom agents, enabled flags, defaults."""
    try:
        from teamconfig.selectors import agent_settings_for_team
    except ImportError:
        return {}
    return dict(agent_settings_for_team(team))


def team_engine_settings(team: Node) -> TeamEngineSettings:
    """Everything the worker hands the engine, secrets resolved. Raises ``TeamSettingsUnavailable``."""
    try:
        from teamconfig.secrets import SecretNotAllowed, SecretUnavailable
        from teamconfig.selectors import engine_settings_for_team
    except ImportError:
        return TeamEngineSettings()
    try:
        resolved = engine_settings_for_team(team)
    except SecretNotAllowed as exc:
        raise TeamSettingsUnavailable(str(exc), code="configuration_error") from exc
    except SecretUnavailable as exc:
        raise TeamSettingsUnavailable(str(exc)) from exc
    return TeamEngineSettings(
        data_sources={name: dict(value) for name, value in dict(resolved.data_sources).items()},
        agents={name: dict(value) for name, value in dict(resolved.agents).items()},
        llm=dict(resolved.llm) if resolved.llm else None,
        secrets=list(resolved.secrets),
        mcp_servers=list(resolved.mcp_servers),
    )
