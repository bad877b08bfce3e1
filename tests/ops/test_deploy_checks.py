"""``check --deploy`` still guards the protections Django finds by name, now that our middleware subclasses them."""

from __future__ import annotations

from django.conf import settings
from django.test import override_settings

from ops.checks import check_protective_middleware, check_security_settings


def test_the_installed_middleware_subclasses_satisfy_the_protective_middleware_check() -> None:
    assert check_protective_middleware(None) == []


def test_a_stack_without_csrf_and_clickjacking_middleware_is_reported() -> None:
    stack = [p for p in settings.MIDDLEWARE if not p.endswith(("CsrfViewMiddleware", "XFrameOptionsMiddleware"))]
    with override_settings(MIDDLEWARE=stack):
        ids = [warning.id for warning in check_protective_middleware(None)]
    assert ids == ["ops.W002", "ops.W003"]


def test_django_s_own_security_middleware_by_name_also_satisfies_it() -> None:
    with override_settings(MIDDLEWARE=["django.middleware.security.SecurityMiddleware"]):
        ids = [warning.id for warning in check_protective_middleware(None)]
    assert "ops.W001" not in ids


def test_settings_that_are_not_production_values_are_reported() -> None:
    with override_settings(
        SECURE_HSTS_SECONDS=0, SECURE_SSL_REDIRECT=False, X_FRAME_OPTIONS="SAMEORIGIN", SECURE_CONTENT_TYPE_NOSNIFF=True
    ):
        ids = [warning.id for warning in check_security_settings(None)]
    assert ids == ["ops.W004", "ops.W008", "ops.W019"]
