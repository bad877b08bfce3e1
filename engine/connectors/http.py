"""Shared pieces for connectors that speak HTTP: client construction, auth headers and error mapping.

Connectors take an ``httpx.Client`` from their caller (the factory builds one from settings; tests build one
pointed at loopback). Error messages name the data source and the HTTP status, never the URL's host or
credentials, so they are safe to show in a report.
"""

from __future__ import annotations

import base64
import gc
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import httpx

from engine.connectors import ToolFailure

DEFAULT_TIMEOUT = 30.0
MAX_RESPONSE_BYTES = 20 * 1024 * 1024
USER_AGENT = "IncidentFox-engine/0.1"


def timeout_from(settings: Mapping[str, Any]) -> float:
    """The per-tool ``timeout`` setting (1-300 s, default 30)."""
    raw = settings.get("timeout", DEFAULT_TIMEOUT)
    try:
        value = float(raw)
    except (TypeError, ValueError):
        return DEFAULT_TIMEOUT
    return min(max(value, 1.0), 300.0)


def auth_header(auth: str | None, *, scheme: str = "Bearer") -> dict[str, str]:
    """``auth`` as an Authorization header: a full header value, ``user:password`` (Basic) or a bare token."""
    if not auth:
        return {}
    value = auth.strip()
    if value.split(" ", 1)[0] in {"Bearer", "Basic", "ApiKey", "token"}:
        return {"Authorization": value}
    if ":" in value and " " not in value:
        return {"Authorization": "Basic " + base64.b64encode(value.encode()).decode()}
    return {"Authorization": f"{scheme} {value}"}


def required_setting(settings: Mapping[str, Any], key: str, *, source: str) -> str:
    """A non-empty string setting, or a ``ToolFailure`` saying the source is enabled without it."""
    value = settings.get(key)
    if not isinstance(value, str) or not value:
        raise ToolFailure(f"{source} is enabled but has no {key}")
    return value


def optional_setting(settings: Mapping[str, Any], key: str) -> str | None:
    """A string setting, or None when it is absent or empty."""
    value = settings.get(key)
    return value if isinstance(value, str) and value else None


def build_client(
    settings: Mapping[str, Any], *, base_url: str, headers: Mapping[str, str] | None = None
) -> httpx.Client:
    """A client with explicit connect/read timeouts, no redirects and a fixed User-Agent."""
    timeout = timeout_from(settings)
    return httpx.Client(
        base_url=base_url.rstrip("/"),
        timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
        headers={"User-Agent": USER_AGENT, **(headers or {})},
        follow_redirects=False,
    )


def request_json(
    client: httpx.Client,
    method: str,
    path: str,
    *,
    source: str,
    params: Any = None,
    json: Any = None,
    headers: Mapping[str, str] | None = None,
) -> Any:
    """Send one request and decode JSON, turning every failure into a ``ToolFailure`` naming ``source``."""
    try:
        response = client.request(method, path, params=params, json=json, headers=headers)
    except httpx.TimeoutException as exc:
        raise ToolFailure(f"{source} did not answer in time", unreachable=True) from exc
    except httpx.HTTPError as exc:
        raise ToolFailure(f"Unable to connect to {source}", unreachable=True) from exc
    if response.status_code >= 400:
        raise ToolFailure(f"{source} returned {response.status_code} {_reason(response)}".rstrip())
    if len(response.content) > MAX_RESPONSE_BYTES:
        raise ToolFailure(f"{source} returned a response larger than {MAX_RESPONSE_BYTES // (1024 * 1024)} MiB")
    try:
        return response.json()
    except ValueError as exc:
        raise ToolFailure(f"{source} returned a response that is not JSON") from exc


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while decoding a large answer.

    A day of 15 s samples for 50 services is millions of small lists and tuples; without the pause the
    collector re-scans them again and again and decoding takes twice as long. Nothing decoded holds cycles.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _reason(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.reason_phrase
    if isinstance(body, dict):
        for key in ("error", "message"):
            value = body.get(key)
            if isinstance(value, str):
                return f"{response.reason_phrase}: {value[:200]}"
            if isinstance(value, dict) and isinstance(value.get("reason"), str):
                return f"{response.reason_phrase}: {value['reason'][:200]}"
    return response.reason_phrase
