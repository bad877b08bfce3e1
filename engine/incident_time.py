"""When the incident started, as the question or its alert states it: the time the analysis is anchored on.

"an anomaly started at 07:43Z", "errors since 14:02 UTC", "2024-05-03T07:43:10Z", "10 minutes ago", or an
alert's ``startsAt`` in the request context. A time of day without a date is the latest such time not after
the request's reference ``now``. Nothing stated: ``None``, and the analysis reads the window ending now.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from engine.models import InvestigationRequest

# Context keys an alert integration or a caller may put the start time under.
CONTEXT_KEYS = ("started_at", "starts_at", "startsAt", "incident_time", "incident_start", "onset", "fired_at")

_ISO = re.compile(r"\b(\d{4}-\d{2}-\d{2})[T ](\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)\s*(Z|UTC|GMT|[+-]\d{2}:?\d{2})?")
_CLOCK = re.compile(
    r"(?<![\d:])(\d{1,2}):(\d{2})(?::(\d{2}))?(?:\.\d+)?(?![\d:])\s*(Z\b|UTC\b|GMT\b|[+-]\d{2}:?\d{2}\b)?"
)
# A time of day without a zone counts when a word like "at" or "since" introduces it (UTC is assumed).
_CLOCK_CUE = re.compile(r"(?:\b(?:at|since|around|about|from|after|began|started|starting)|~|@)\s*$", re.IGNORECASE)
_AGO = re.compile(
    r"\b(?:(\d+(?:\.\d+)?)|(an?|one)|(half an?))\s*(seconds?|secs?|s|minutes?|mins?|m|hours?|hrs?|h)\s+ago\b",
    re.IGNORECASE,
)
_UNIT = {"s": 1, "m": 60, "h": 3600}


def incident_start(request: InvestigationRequest) -> datetime | None:
    """The stated start of the incident, from the context first (an alert's start), else from the question."""
    now = request.reference_now()
    stated = from_context(request.context.model_extra or {}, now)
    if stated is None and request.context.hint:
        stated = parse_incident_time(request.context.hint, now)
    return stated if stated is not None else parse_incident_time(request.message, now)


def from_context(extra: Mapping[str, Any], now: datetime) -> datetime | None:
    for key in CONTEXT_KEYS:
        value = extra.get(key)
        if value is None and isinstance(extra.get("alert"), Mapping):
            value = extra["alert"].get(key)
        if isinstance(value, datetime):
            return value if value.tzinfo else value.replace(tzinfo=UTC)
        if isinstance(value, int | float) and value > 0:
            return datetime.fromtimestamp(float(value), UTC)
        if isinstance(value, str) and value.strip():
            parsed = parse_incident_time(value, now)
            if parsed is not None:
                return parsed
    return None


def parse_incident_time(text: str, now: datetime) -> datetime | None:
    """The first time stated in ``text`` (absolute, time of day or relative), or None."""
    match = _ISO.search(text)
    if match is not None:
        return _iso(match, now)
    for match in _CLOCK.finditer(text):
        zone = match.group(4)
        if zone is None and not _CLOCK_CUE.search(text[: match.start()]):
            continue
        hour, minute = int(match.group(1)), int(match.group(2))
        second = int(match.group(3) or 0)
        if hour < 24 and minute < 60 and second < 60:
            offset = _offset(zone) if zone and zone[0] in "+-" else timedelta(0)
            local_now = now.astimezone(UTC) + offset
            stated = local_now.replace(hour=hour, minute=minute, second=second, microsecond=0)
            if stated > local_now + timedelta(minutes=5):
                stated -= timedelta(days=1)
            return (stated - offset).replace(tzinfo=UTC)
    match = _AGO.search(text)
    if match is not None:
        if match.group(3):
            amount = 0.5
        elif match.group(2):
            amount = 1.0
        else:
            amount = float(match.group(1))
        unit = _UNIT[match.group(4)[0].lower()]
        return now.astimezone(UTC) - timedelta(seconds=amount * unit)
    return None


def _iso(match: re.Match[str], now: datetime) -> datetime | None:
    zone = match.group(3)
    text = f"{match.group(1)}T{match.group(2)}"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    offset = _offset(zone) if zone and zone[0] in "+-" else timedelta(0)
    return (parsed - offset).replace(tzinfo=UTC)


def _offset(zone: str) -> timedelta:
    sign = -1 if zone.startswith("-") else 1
    digits = zone[1:].replace(":", "")
    return sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:4] or 0))
