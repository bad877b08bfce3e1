"""Which code reads each documented config key: a registry filled by the readers themselves.

A function that consumes part of the effective config is decorated with :func:`reads` naming the dotted keys it
reads (``"llm"``, ``"alerts.disabled"``; a key covers everything under it). Readers whose keys depend on what is
installed (the engine's data-source connectors) register a provider with :func:`reads_lazily`. Validation refuses
keys nothing reads (``teamconfig.schema.NOT_SUPPORTED``), and a test walks the schema to check every accepted key
has a reader here, so a setting cannot be stored and displayed while nothing happens.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar

F = TypeVar("F", bound=Callable[..., object])

_READERS: dict[str, set[str]] = {}
_LAZY: list[tuple[str, Callable[[], Iterable[str]]]] = []


def _add(key: str, reader: str) -> None:
    _READERS.setdefault(key, set()).add(reader)


def reads(*keys: str) -> Callable[[F], F]:
    """Record that the decorated function reads these config keys."""

    def register(func: F) -> F:
        for key in keys:
            _add(key, f"{func.__module__}.{func.__qualname__}")
        return func

    return register


def reads_lazily(reader: str, keys: Callable[[], Iterable[str]]) -> None:
    """Record that ``reader`` reads the keys ``keys()`` returns (computed on the first lookup)."""
    _LAZY.append((reader, keys))


def _resolve_lazy() -> None:
    while _LAZY:
        reader, keys = _LAZY.pop()
        for key in keys():
            _add(key, reader)


def readers_of(key: str) -> list[str]:
    """The readers of ``key``: those registered for it, for a key above it, or for a wildcard segment (``*``)."""
    _resolve_lazy()
    parts = key.split(".")
    found: set[str] = set()
    for registered, readers in _READERS.items():
        pattern = registered.split(".")
        if len(pattern) <= len(parts) and all(p in ("*", k) for p, k in zip(pattern, parts, strict=False)):
            found |= readers
    return sorted(found)
