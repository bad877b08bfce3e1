"""Deployment checks for the middleware stack.

Django's ``check --deploy`` finds its security, CSRF and clickjacking middleware by dotted path
(``security.W001``/``W002``/``W003``) and skips the checks that depend on them when the path is absent. Our stack
names subclasses of those classes (``incidentfox_web.middleware``: the same hooks, run on the event loop under
ASGI), so those three warnings are silenced in settings and this module checks the same things itself: each
protection is in ``MIDDLEWARE`` as Django's class or a subclass of it, and the settings the silenced checks would
otherwise have looked at hold production values.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Tags, Warning, register
from django.middleware.clickjacking import XFrameOptionsMiddleware
from django.middleware.csrf import CsrfViewMiddleware
from django.middleware.security import SecurityMiddleware
from django.utils.module_loading import import_string

REQUIRED: tuple[tuple[type, str], ...] = (
    (SecurityMiddleware, "ops.W001"),
    (CsrfViewMiddleware, "ops.W002"),
    (XFrameOptionsMiddleware, "ops.W003"),
)


def _installed() -> list[type]:
    classes: list[type] = []
    for path in settings.MIDDLEWARE:
        loaded = import_string(path)
        if isinstance(loaded, type):
            classes.append(loaded)
    return classes


@register(Tags.security, deploy=True)
def check_protective_middleware(app_configs: Any, **kwargs: Any) -> list[Warning]:
    """Each protection Django's own deploy checks look for by name is installed (as its class or a subclass)."""
    installed = _installed()
    return [
        Warning(f"{base.__module__}.{base.__name__} (or a subclass) is not in MIDDLEWARE", id=check_id)
        for base, check_id in REQUIRED
        if not any(issubclass(cls, base) for cls in installed)
    ]


@register(Tags.security, deploy=True)
def check_security_settings(app_configs: Any, **kwargs: Any) -> list[Warning]:
    """The settings Django checks only when it finds ``SecurityMiddleware`` by name (security.W004/6/8/19/22)."""
    found: list[Warning] = []
    if not settings.SECURE_HSTS_SECONDS:
        found.append(Warning("SECURE_HSTS_SECONDS is not set: browsers are not told to keep to HTTPS", id="ops.W004"))
    if not settings.SECURE_CONTENT_TYPE_NOSNIFF:
        found.append(Warning("SECURE_CONTENT_TYPE_NOSNIFF is off", id="ops.W006"))
    if not settings.SECURE_SSL_REDIRECT:
        found.append(Warning("SECURE_SSL_REDIRECT is off: plain-HTTP requests are served", id="ops.W008"))
    if settings.X_FRAME_OPTIONS != "DENY":
        found.append(Warning("X_FRAME_OPTIONS is not 'DENY'", id="ops.W019"))
    if not settings.SECURE_REFERRER_POLICY:
        found.append(Warning("SECURE_REFERRER_POLICY is not set", id="ops.W022"))
    return found
