"""Start-up checks for the web app's settings that ``settings.py`` cannot validate without importing models."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, register

from incidentfox_web.oidc import parse_group_roles


@register()
def check_oidc_group_roles(app_configs: Any, **kwargs: Any) -> list[Error]:
    try:
        parse_group_roles(settings.OIDC_GROUP_ROLES)
    except ValueError as exc:
        return [Error(str(exc), id="web.E001")]
    return []
