"""What every analyzer is told about the investigation: the reference time, the window, the focus.

Its own module so analyzers, planners, the series charting and the runner share it without importing each
other (the analyzers package imports its analyzers; none of them imports the package back).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from engine.run_memo import RunMemo

if TYPE_CHECKING:  # types only: the question and log index modules import nothing from here at run time
    from engine.focus import Focus
    from engine.logs.index import LogIndex
    from engine.question import Question

DEFAULT_WINDOW = timedelta(hours=6)
_WINDOW = re.compile(r"([1-9]\d*)([mhd])")


def parse_window(text: str | None) -> timedelta:
    """``context.time_window`` (``15m``, ``2h``, ``1d``) as a span of at least an hour; the default otherwise."""
    match = _WINDOW.fullmatch(text or "")
    if not match:
        return DEFAULT_WINDOW
    amount, unit = int(match.group(1)), match.group(2)
    span = {"m": timedelta(minutes=amount), "h": timedelta(hours=amount), "d": timedelta(days=amount)}[unit]
    return max(span, timedelta(hours=1))


@dataclass(frozen=True)
class AnalysisContext:
    now: datetime
    window: timedelta  # events older than now - window are treated as history, not as the incident
    service: str | None = None
    namespace: str | None = None
    anchor: datetime | None = None  # when the question or its alert says the incident started
    memo: RunMemo = field(default_factory=RunMemo, compare=False, repr=False)  # this investigation's results
    question: Question | None = None
    logs: LogIndex | None = field(default=None, compare=False)  # templates and signatures, computed once per run
    focus: Focus | None = field(default=None, compare=False)  # the subject resolved against the observations

    def is_stale(self, when: datetime | None) -> bool:
        return when is not None and when < self.now - self.window
