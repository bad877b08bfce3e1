"""Waiting out the edge of a fixed rate-limit window, for tests whose requests must share one window."""

from __future__ import annotations

import time


def wait_for_a_fresh_minute(needed_seconds: float) -> None:
    """Return at once if the current Unix minute has ``needed_seconds`` left, else sleep into the next one."""
    left = 60 - time.time() % 60
    if left < needed_seconds:
        time.sleep(left + 0.2)
