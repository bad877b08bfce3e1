"""The API reference pages render in a real browser under the app's own Content-Security-Policy (nonces, no
'unsafe-inline'): Swagger UI at /api/docs/ and Redoc at /api/redoc/ show the operations of the schema.

Swagger UI runs without a single CSP report. On Redoc no script or worker is refused; what the browser does refuse
is cosmetic: a little CSS its bundle inserts while it loads (before it has been given the nonce) and its footer logo
from the vendor's CDN."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def _violations(page: Any) -> list[str]:
    found: list[str] = []
    page.on(
        "console", lambda message: found.append(message.text) if "Content Security Policy" in message.text else None
    )
    return found


def test_swagger_ui_renders_the_operations_under_the_csp(page: Any, live_server: Any, screenshot: Any) -> None:
    violations = _violations(page)
    response = page.goto(f"{live_server.url}/api/docs/")
    assert "'unsafe-inline'" not in response.headers["content-security-policy"]
    operation = page.locator(".opblock-summary-path", has_text="/api/v1/agents/run").first
    operation.wait_for(state="visible")
    assert page.locator(".opblock").count() > 20
    screenshot("swagger")
    assert violations == []


def test_redoc_renders_the_operations_under_the_csp(page: Any, live_server: Any, screenshot: Any) -> None:
    violations = _violations(page)
    response = page.goto(f"{live_server.url}/api/redoc/")
    assert "'unsafe-inline'" not in response.headers["content-security-policy"]
    page.locator("h2", has_text="Start an investigation (sync: 200").wait_for(state="visible")
    assert page.get_by_text("Something went wrong").count() == 0
    assert page.locator("h2", has_text="Cancel an investigation").count() == 1
    screenshot("redoc")
    assert [text for text in violations if "script-src" in text or "worker-src" in text] == []
