"""Wire formats shared by every endpoint: output times, input times, query booleans, choices and limits, list
pages."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from incidentfox_web.api.errors import ApiError

_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def iso_z(value: datetime | None) -> str | None:
    """UTC, whole seconds, ``Z``: ``2024-01-15T14:45:00Z``."""
    if value is None:
        return None
    return value.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_input_time(value: str, *, field: str) -> datetime:
    """ISO-8601 with ``Z`` or an offset; no offset means UTC; a bare date means midnight UTC."""
    try:
        if _DATE_ONLY.match(value):
            day = date.fromisoformat(value)
            return datetime(day.year, day.month, day.day, tzinfo=UTC)
        if "T" not in value and " " not in value:
            raise ValueError(value)
        parsed = datetime.fromisoformat(value.replace("z", "Z"))
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    except ValueError:
        raise ApiError.validation(field, "must be an ISO-8601 date or time") from None
    except OverflowError:  # an offset that moves the time past year 1 or 9999
        raise ApiError.validation(field, "must be between years 1 and 9999 in UTC") from None


def parse_query_bool(value: str | None, *, field: str, default: bool) -> bool:
    if value is None:
        return default
    if value in ("true", "1"):
        return True
    if value in ("false", "0"):
        return False
    raise ApiError.validation(field, "must be true, false, 1 or 0")


def parse_query_choice(value: str | None, *, field: str, choices: Sequence[str]) -> str | None:
    """An optional filter that must be one of ``choices``; None when absent."""
    if value is not None and value not in choices:
        raise ApiError.validation(field, f"must be one of {', '.join(choices)}")
    return value


def parse_query_int(value: str | None, *, field: str, default: int, minimum: int, maximum: int | None) -> int:
    if value is None:
        return default
    if not re.fullmatch(r"-?\d{1,12}", value):
        raise ApiError.validation(field, "must be an integer")
    number = int(value)
    if number < minimum or (maximum is not None and number > maximum):
        bound = f"between {minimum} and {maximum}" if maximum is not None else f"at least {minimum}"
        raise ApiError.validation(field, f"must be {bound}")
    return number


@dataclass(frozen=True)
class Page:
    """A list endpoint's ``limit``/``offset`` query parameters, and the ``pagination`` object it answers with."""

    limit: int
    offset: int

    @classmethod
    def from_query(cls, params: Mapping[str, str], *, default: int, maximum: int) -> Page:
        limit = parse_query_int(params.get("limit"), field="limit", default=default, minimum=1, maximum=maximum)
        offset = parse_query_int(params.get("offset"), field="offset", default=0, minimum=0, maximum=None)
        return cls(limit=limit, offset=offset)

    @property
    def rows(self) -> slice:
        """The slice of the full, ordered result that this page shows."""
        return slice(self.offset, self.offset + self.limit)

    def pagination(self, total: int) -> dict[str, int]:
        return {"total": total, "limit": self.limit, "offset": self.offset}
