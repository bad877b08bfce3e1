"""Software outside Python that some tests drive (Prometheus, Alertmanager, Chromium, an OIDC provider).

A missing tool skips its tests with a loud reason, except under ``CI=true``, where it fails them: CI never silently
skips what it is meant to test. ``scripts/install-test-deps.sh`` installs them (``make test`` runs it).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from typing import NoReturn

import pytest


def skip_or_fail(reason: str) -> NoReturn:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(reason)
    pytest.skip(reason)


def binary(*names: str, reason: str) -> str:
    """The first of ``names`` on PATH, or a loud skip (a failure under CI) with ``reason``."""
    for name in names:
        path = shutil.which(name)
        if path is not None:
            return path
    skip_or_fail(reason)


def stop(process: subprocess.Popen[bytes] | subprocess.Popen[str], timeout: float = 10) -> None:
    """SIGTERM, then SIGKILL if it has not exited within ``timeout`` seconds."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)
