"""Results computed once per investigation and shared by the planner, the charts and the analyzers.

A run owns one :class:`RunMemo` (it travels in the ``AnalysisContext``); an entry is keyed by what was computed
and the object it was computed from, and keeps that object alive, so an id is never reused while it is cached
and nothing outlives the investigation.

Tool calls are remembered the same way, per run: a :class:`MadeCall` under its :func:`call_key`, so the runner
never makes the same call (same tool, same parameters) twice in one investigation.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from engine.registry import ToolResult

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


@dataclass(frozen=True)
class MadeCall:
    """A call the run made: its number among the run's tool calls and its outcome (None and the error if failed)."""

    seq: int
    result: ToolResult | None
    error: str | None


def call_key(tool: str, params: dict[str, Any]) -> str:
    """What makes two calls the same call: the tool and its parameters, whatever their key order."""
    return json.dumps([tool, params], sort_keys=True, default=str)
