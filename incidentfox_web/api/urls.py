"""Routing helpers: every API route tolerates one trailing slash and never redirects."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.urls import URLPattern, re_path


def api_route(route: str, view: Callable[..., Any], name: str) -> URLPattern:
    """``api_route("agents/status/<id>", ...)``: ``<name>`` segments match one path segment."""
    pattern = "".join(f"(?P<{part[1:-1]}>[^/]+)" if part.startswith("<") else part for part in _split_params(route))
    return re_path(rf"^{pattern}/?$", view, name=name)


def _split_params(route: str) -> list[str]:
    parts: list[str] = []
    buffer = ""
    for char in route:
        if char == "<":
            parts.append(buffer)
            buffer = "<"
        elif char == ">":
            parts.append(buffer + ">")
            buffer = ""
        else:
            buffer += char
    parts.append(buffer)
    return [p for p in parts if p]
