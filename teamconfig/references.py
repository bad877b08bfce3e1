"""Which secret references a team's config may hold: an operator decision (README "Security model").

``{"secret": ...}`` (encrypted at rest) is always open to teams. A reference resolves something the deployment
can read, so it is confined:

- ``env://NAME`` only for names starting with ``TEAM_SECRET_ENV_PREFIX`` (default ``INCIDENTFOX_TEAM_SECRET_``;
  empty turns ``env://`` off), so never one of the deployment's own settings;
- ``vault://path`` only under the org's prefix, ``VAULT_ORG_PATH_TEMPLATE`` with ``{org_id}`` filled in (default
  ``incidentfox/{org_id}/``), read with the org's own token from ``VAULT_ORG_TOKENS`` when it has one;
- ``file://`` not at all.

Who may write a reference is ``SECRET_REFERENCE_WRITERS``: ``org_admins`` (default) or ``teams``. The same rules
are checked on write (``validation_error``), at run time (``configuration_error``, never resolved) and by
``manage.py config_references_check`` for references stored before the rules existed.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from typing import Literal

from django.conf import settings

DEFAULT_ENV_PREFIX = "INCIDENTFOX_TEAM_SECRET_"
DEFAULT_VAULT_TEMPLATE = "incidentfox/{org_id}/"
Writers = Literal["org_admins", "teams"]


@dataclass(frozen=True)
class ReferenceRules:
    env_prefix: str
    vault_template: str
    writers: Writers

    def vault_prefix(self, org_id: str) -> str:
        return self.vault_template.replace("{org_id}", org_id).strip("/") + "/"


def reference_rules() -> ReferenceRules:
    """The operator's rules, read from settings now."""
    writers = str(getattr(settings, "SECRET_REFERENCE_WRITERS", "org_admins"))
    return ReferenceRules(
        env_prefix=str(getattr(settings, "TEAM_SECRET_ENV_PREFIX", DEFAULT_ENV_PREFIX) or ""),
        vault_template=str(getattr(settings, "VAULT_ORG_PATH_TEMPLATE", DEFAULT_VAULT_TEMPLATE) or ""),
        writers="teams" if writers == "teams" else "org_admins",
    )


def reference_problem(value: str, *, org_id: str, rules: ReferenceRules) -> str | None:
    """Why the reference ``value`` may not be used by ``org_id``'s config, or None when it is allowed.

    The message names the rule, never the referenced name or path.
    """
    if value.startswith("env://"):
        name = value.removeprefix("env://")
        if not rules.env_prefix:
            return "env:// references are turned off on this deployment"
        if not name.startswith(rules.env_prefix):
            return f"env:// names must start with {rules.env_prefix}"
        if name in _deployment_names():
            return "env:// may not name one of the deployment's own settings"
        return None
    if value.startswith("vault://"):
        if not rules.vault_template:
            return "vault:// references are turned off on this deployment"
        path = value.removeprefix("vault://").partition("#")[0]
        normalised = posixpath.normpath("/" + path).lstrip("/")
        prefix = rules.vault_prefix(org_id)
        if normalised != path.strip("/") or not (normalised + "/").startswith(prefix) or normalised + "/" == prefix:
            return f"vault:// paths must be under {prefix}"
        return None
    if value.startswith("file://"):
        return "file:// references are not supported"
    return "the value is not a supported reference"


def _deployment_names() -> frozenset[str]:
    """The deployment's own settings and the environment variables they come from (``NAME`` and ``NAME_FILE``),
    refused even under a prefix an operator chose too broadly (``INCIDENTFOX_``)."""
    names = {name for name in dir(settings) if name.isupper()}
    return frozenset(names | {f"{name}_FILE" for name in names} | {"INCIDENTFOX_ENV_FILE", "DJANGO_SETTINGS_MODULE"})


def may_write_references(*, admin: bool, rules: ReferenceRules) -> bool:
    return admin or rules.writers == "teams"
