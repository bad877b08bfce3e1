"""When to try again (API.md §6.3): 5 s, 1 min, 5 min, 30 min, 2 h, 6 h, each ±20 %; a longer Retry-After wins."""

from __future__ import annotations

import random

RETRY_DELAYS_SECONDS = (5, 60, 300, 1800, 7200, 21600)
MAX_ATTEMPTS = len(RETRY_DELAYS_SECONDS) + 1
JITTER = 0.2
RETRY_AFTER_CAP_SECONDS = 6 * 3600


def retry_delay_seconds(attempt: int, *, retry_after: float | None = None) -> float | None:
    """Seconds to wait after failed attempt ``attempt`` (1-based); None when it was the last one."""
    if attempt >= MAX_ATTEMPTS:
        return None
    delay = RETRY_DELAYS_SECONDS[attempt - 1] * random.uniform(1 - JITTER, 1 + JITTER)
    if retry_after is not None:
        delay = max(delay, min(retry_after, RETRY_AFTER_CAP_SECONDS))
    return delay
