"""Shared pieces for connectors that speak HTTP: client construction, auth headers and error mapping.

Connectors take an ``httpx.Client`` from their caller (the factory builds one from settings; tests build one
pointed at loopback). The transport under every client comes from the caller too: the runner installs the
caller's :class:`Egress` (``using_egress``) while a connector is built, so a web deployment vets and pins every
address a tenant's URL resolves to, and a refusal becomes a ``ToolFailure`` naming the source ("Prometheus URL
resolves to a refused address"). Error messages name the data source and the HTTP status, never the URL's host or
credentials, so they are safe to show in a report.
"""

from __future__ import annotations

import base64
import json as jsonlib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Protocol

import httpx

from engine.connectors import ToolFailure

DEFAULT_TIMEOUT = 30.0
MAX_RESPONSE_BYTES = 20 * 1024 * 1024
USER_AGENT = "IncidentFox-engine/0.1"


class Egress(Protocol):
    """What the caller provides for outbound calls to the URLs in a team's settings."""

    def transport(self) -> httpx.BaseTransport:
        """A transport that vets and pins each request; it raises an ``httpx.TransportError`` carrying an
        ``egress_refusal`` attribute ("resolves to a refused address") for a refused one."""
        ...

    def async_transport(self) -> Any:
        """The same for async clients, the LLM vendors' SDKs and MCP's (an ``httpx2.AsyncBaseTransport``)."""
        ...

    def pin(self, url: str) -> tuple[str, str | None]:
        """For clients that cannot take a transport (the Kubernetes client): ``url`` with its host replaced by the
        vetted address, and the name TLS must check (None for http or a literal IP). Raises an exception carrying
        ``egress_refusal`` when the URL is refused."""
        ...


_egress: ContextVar[Egress | None] = ContextVar("incidentfox_engine_egress", default=None)


@contextmanager
def using_egress(egress: Egress | None) -> Iterator[None]:
    """Connectors built inside this block take their transport from ``egress`` (None: direct connections)."""
    token = _egress.set(egress)
    try:
        yield
    finally:
        _egress.reset(token)


def current_egress() -> Egress | None:
    return _egress.get()


def egress_refusal(exc: BaseException) -> str | None:
    """The refusal an egress transport raised, or None for an ordinary network error."""
    refusal = getattr(exc, "egress_refusal", None)
    return refusal if isinstance(refusal, str) else None


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
    """A client with explicit connect/read timeouts, no redirects, a fixed User-Agent and the caller's egress."""
    timeout = timeout_from(settings)
    egress = current_egress()
    return httpx.Client(
        base_url=base_url.rstrip("/"),
        timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
        headers={"User-Agent": USER_AGENT, **(headers or {})},
        follow_redirects=False,
        transport=egress.transport() if egress is not None else None,
        trust_env=egress is None,
    )


@dataclass(frozen=True)
class Answer:
    """A response read in full (up to the size cap): for connectors that need the status or headers."""

    status: int
    headers: httpx.Headers
    content: bytes
    reason_phrase: str
    links: Mapping[str | None, Mapping[str, str]]  # the parsed ``Link`` header, by ``rel`` (``links["next"]["url"]``)

    def json(self, *, source: str) -> Any:
        try:
            return jsonlib.loads(self.content)
        except ValueError as exc:
            raise ToolFailure(f"{source} returned a response that is not JSON") from exc


def fetch(
    client: httpx.Client,
    method: str,
    path: str,
    *,
    source: str,
    params: Any = None,
    json: Any = None,
    headers: Mapping[str, str] | None = None,
) -> Answer:
    """Send one request and read its body, turning a missing answer into a ``ToolFailure`` naming ``source``.

    The body is read as it arrives and reading stops at ``MAX_RESPONSE_BYTES`` (after decompression).
    """
    try:
        with client.stream(method, path, params=params, json=json, headers=headers) as response:
            content = _read_capped(response, source=source)
    except httpx.HTTPError as exc:
        raise transport_failure(exc, source=source) from exc
    return Answer(response.status_code, response.headers, content, response.reason_phrase, response.links)


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
    answer = fetch(client, method, path, source=source, params=params, json=json, headers=headers)
    if answer.status >= 300:  # a redirect is not followed: it is the source's answer, and not data
        raise ToolFailure(f"{source} returned {answer.status} {reason(answer)}".rstrip())
    return answer.json(source=source)


def transport_failure(exc: httpx.HTTPError, *, source: str) -> ToolFailure:
    """The ``ToolFailure`` for a request that got no answer: a timeout, an egress refusal or a network error."""
    if isinstance(exc, httpx.TimeoutException):
        return ToolFailure(f"{source} did not answer in time", unreachable=True)
    refusal = egress_refusal(exc)
    if refusal is not None:
        return ToolFailure(f"{source} URL {refusal}", unreachable=True)
    return ToolFailure(f"Unable to connect to {source}", unreachable=True)


def _read_capped(response: httpx.Response, *, source: str) -> bytes:
    chunks: list[bytes] = []
    received = 0
    for chunk in response.iter_bytes():
        received += len(chunk)
        if received > MAX_RESPONSE_BYTES:
            raise ToolFailure(f"{source} returned a response larger than {MAX_RESPONSE_BYTES // (1024 * 1024)} MiB")
        chunks.append(chunk)
    return b"".join(chunks)


def reason(answer: Answer) -> str:
    """The reason phrase, with the source's own error message when its JSON body carries one."""
    try:
        body = jsonlib.loads(answer.content)
    except ValueError:
        return answer.reason_phrase
    if isinstance(body, dict):
        for key in ("error", "message", "detail"):
            value = body.get(key)
            if isinstance(value, str):
                return f"{answer.reason_phrase}: {value[:200]}"
            if isinstance(value, dict) and isinstance(value.get("reason"), str):
                return f"{answer.reason_phrase}: {value['reason'][:200]}"
    return answer.reason_phrase
