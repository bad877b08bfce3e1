"""SDK test fixtures shared by the JavaScript SDK's test modules."""

from __future__ import annotations

import re
import subprocess

import pytest

from tests.support.tools import binary, skip_or_fail


@pytest.fixture(scope="module")
def node() -> str:
    path = binary(
        "node",
        reason="NODE NOT FOUND: the JavaScript SDK tests did not run. Install Node.js 18 or newer (Debian 'nodejs').",
    )
    version = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=30).stdout.strip()
    match = re.match(r"v(\d+)\.", version)
    if match is None or int(match.group(1)) < 18:
        skip_or_fail(f"NODE TOO OLD: the JavaScript SDK needs Node.js 18 or newer, found {version!r}.")
    return path
