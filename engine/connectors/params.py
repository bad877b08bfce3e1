"""Reading tool parameters shared by the telemetry connectors (time windows, limits)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from engine.connectors import ToolFailure


def flag(params: Mapping[str, Any], key: str) -> bool:
    """A yes/no parameter: true, 1, "true", "yes" and "1" are yes (``bool("false")`` would be yes too)."""
    value = params.get(key, False)
    if isinstance(value, str):
        return value.strip().lower() in ("true", "yes", "1")
    return value is True or value == 1


def to_epoch(value: Any) -> float:
    """Seconds since the epoch from a datetime, an ISO-8601 string or a number."""
    if isinstance(value, datetime):
        dt = value if value.tzinfo else value.replace(tzinfo=UTC)
        return dt.timestamp()
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            pass
        try:
            dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError as exc:
            raise ToolFailure(f"Invalid time {value!r}") from exc
        return (dt if dt.tzinfo else dt.replace(tzinfo=UTC)).timestamp()
    raise ToolFailure(f"Invalid time {value!r}")


def window(params: Mapping[str, Any], *, default_minutes: float = 60.0) -> tuple[float, float]:
    """``(start, end)`` from ``start``/``end``, or ``end`` (default ``now``) minus ``minutes``."""
    end = to_epoch(params.get("end", params.get("now", datetime.now(UTC))))
    if "start" in params:
        start = to_epoch(params["start"])
    else:
        start = end - 60.0 * float(params.get("minutes", default_minutes))
    if start >= end:
        raise ToolFailure("The time window is empty (start is not before end)")
    return start, end


def limit(params: Mapping[str, Any], *, default: int, maximum: int) -> int:
    try:
        value = int(params.get("limit", default))
    except (TypeError, ValueError):
        return default
    return max(1, min(value, maximum))


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
