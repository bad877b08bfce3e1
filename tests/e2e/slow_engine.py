"""The real engine, slowed down between steps so a browser can watch a run progress and cancel it mid-way.

Selected with ``settings.INVESTIGATIONS_ENGINE_FUNCTION = "tests.e2e.slow_engine.investigate"``; the fixture
sets ``STEP_DELAY_SECONDS``. Everything else (demo data, analysis, report) is the engine's own work.
"""

from __future__ import annotations

import time
from typing import Any

import engine

STEP_DELAY_SECONDS = 0.0


def investigate(request: Any, *, on_progress: Any = None, **kwargs: Any) -> Any:
    def slow_progress(update: Any) -> None:
        if on_progress is not None:
            on_progress(update)
        time.sleep(STEP_DELAY_SECONDS)

    return engine.investigate(request, on_progress=slow_progress, **kwargs)
