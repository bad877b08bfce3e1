"""JSON-only request bodies with a per-view size limit (API.md §1.1), and the rules every stored string obeys.

A body is refused with ``400`` (naming the field) when it holds what the database cannot store or the code cannot
walk safely: a NUL character, a lone surrogate, a number beyond double range (``1e400``) or nesting deeper than
``MAX_DEPTH``.
"""

from __future__ import annotations

import json
import math
from typing import IO, Any, Protocol

from rest_framework.parsers import BaseParser

from incidentfox_web.api.errors import ApiError

DEFAULT_MAX_BODY_BYTES = 1024 * 1024
MAX_DEPTH = 64  # objects and arrays inside each other; configuration needs a handful


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
    """A JSON object (``{}`` for an empty body); ``400`` for anything else, NaN and the values above included."""
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
    except RecursionError:
        raise ApiError.invalid_request(f"Request body is nested more than {MAX_DEPTH} levels deep") from None
    except (UnicodeDecodeError, ValueError):
        raise ApiError.invalid_request("Request body is not valid JSON") from None
    if not isinstance(data, dict):
        raise ApiError.invalid_request("Request body must be a JSON object")
    check_json_value(data)
    return data


def check_text(value: str, *, field: str) -> None:
    """``400 validation_error`` for text no database column can hold."""
    if "\x00" in value:
        raise ApiError.validation(_printable(field), "must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ApiError.validation(_printable(field), "must be valid Unicode (no lone surrogates)") from None


def _printable(field: str) -> str:
    """A field path that can be echoed in an error body even when a key itself holds the offending text."""
    return field.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00")


def check_json_value(data: Any) -> None:
    """Walk a parsed body without recursion and refuse what ``check_text`` refuses, non-finite numbers and
    nesting deeper than ``MAX_DEPTH``; the error names the dotted path of the value."""
    stack: list[tuple[Any, str, int]] = [(data, "", 0)]
    while stack:
        value, path, depth = stack.pop()
        if isinstance(value, str):
            check_text(value, field=path or "body")
        elif isinstance(value, float) and not math.isfinite(value):
            raise ApiError.validation(path or "body", "must be a finite number")
        elif isinstance(value, dict | list):
            if depth >= MAX_DEPTH:
                raise ApiError.validation(path or "body", f"must not be nested more than {MAX_DEPTH} levels deep")
            if isinstance(value, dict):
                for key, item in value.items():
                    child = f"{path}.{key}" if path else str(key)
                    check_text(key, field=child)
                    stack.append((item, child, depth + 1))
            else:
                stack.extend((item, f"{path}[{index}]", depth + 1) for index, item in enumerate(value))
