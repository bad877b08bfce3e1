"""JSON-only request bodies with a per-view size limit (API.md §1.1)."""

from __future__ import annotations

import json
from typing import IO, Any, Protocol

from rest_framework.parsers import BaseParser

from incidentfox_web.api.errors import ApiError

DEFAULT_MAX_BODY_BYTES = 1024 * 1024


def _reject_constant(value: str) -> None:
    raise ValueError(value)


class StrictJSONParser(BaseParser):
    media_type = "application/json"

    def parse(self, stream: IO[bytes] | None, media_type: str | None = None, parser_context: Any = None) -> Any:
        view = (parser_context or {}).get("view")
        limit = getattr(view, "max_body_bytes", DEFAULT_MAX_BODY_BYTES)
        return parse_json_object(read_limited(stream, limit))


class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


def read_limited(stream: Readable | None, limit: int) -> bytes:
    """The whole body, or ``413 payload_too_large`` as soon as it exceeds ``limit`` bytes."""
    raw = stream.read(limit + 1) if stream is not None else b""
    if len(raw) > limit:
        raise ApiError.too_large(f"Request body exceeds {limit} bytes")
    return raw


def parse_json_object(raw: bytes) -> dict[str, Any]:
    """A JSON object (``{}`` for an empty body); ``400 invalid_request`` for anything else, NaN included."""
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError):
        raise ApiError.invalid_request("Request body is not valid JSON") from None
    if not isinstance(data, dict):
        raise ApiError.invalid_request("Request body must be a JSON object")
    return data
