"""Reading fields of a JSON body with the documented error codes: missing → invalid_request, bad → validation_error."""

from __future__ import annotations

from typing import Any

from incidentfox_web.api.errors import ApiError

_MISSING = object()


def required_str(data: dict[str, Any], field: str, *, max_length: int) -> str:
    value = data.get(field, _MISSING)
    if value is _MISSING or value is None or (isinstance(value, str) and not value.strip()):
        raise ApiError.invalid_request(f"{field} is required", field=field)
    if not isinstance(value, str):
        raise ApiError.validation(field, "must be a string")
    if len(value) > max_length:
        raise ApiError.validation(field, f"must be at most {max_length} characters")
    return value


def optional_str(data: dict[str, Any], field: str, *, max_length: int, default: str | None = None) -> str | None:
    value = data.get(field)
    if value is None:
        return default
    if not isinstance(value, str):
        raise ApiError.validation(field, "must be a string")
    if len(value) > max_length:
        raise ApiError.validation(field, f"must be at most {max_length} characters")
    return value


def optional_int(data: dict[str, Any], field: str, *, minimum: int, maximum: int) -> int | None:
    value = data.get(field)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ApiError.validation(field, "must be an integer")
    if not minimum <= value <= maximum:
        raise ApiError.validation(field, f"must be between {minimum} and {maximum}")
    return value


def optional_bool(data: dict[str, Any], field: str, *, default: bool) -> bool:
    value = data.get(field)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise ApiError.validation(field, "must be a boolean")
    return value


def optional_choice(data: dict[str, Any], field: str, choices: tuple[str, ...], *, default: str) -> str:
    value = data.get(field)
    if value is None:
        return default
    if value not in choices:
        raise ApiError.validation(field, f"must be one of {', '.join(choices)}")
    return str(value)
