"""Results computed once per investigation and shared by the planner, the charts and the analyzers.

A run owns one :class:`RunMemo` (it travels in the ``AnalysisContext``); an entry is keyed by what was computed
and the object it was computed from, and keeps that object alive, so an id is never reused while it is cached
and nothing outlives the investigation.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


class RunMemo:
    def __init__(self) -> None:
        self._store: dict[tuple[str, int], tuple[object, Any]] = {}

    def get(self, what: str, source: object, compute: Callable[[], T]) -> T:
        key = (what, id(source))
        hit = self._store.get(key)
        if hit is not None and hit[0] is source:
            result: T = hit[1]
            return result
        value = compute()
        self._store[key] = (source, value)
        return value
