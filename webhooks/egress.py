"""The one HTTP client that opens sockets to customer URLs (STYLE.md §5, API.md §6.3).

The host is resolved once and every address vetted (public only, unless
``settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS``); the connection then goes to the first vetted address while the
``Host`` header and TLS SNI/certificate check keep the original name, so a DNS answer that changes between the
check and the connect (rebinding) cannot move the request. Redirects are never followed, proxies from the
environment are ignored, the whole attempt is bounded by a deadline and at most 64 KiB of the answer is read.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import SplitResult, urlsplit

import httpx
from django.conf import settings

USER_AGENT = "IncidentFox-Webhooks/1"
TOTAL_SECONDS = 10.0
CONNECT_SECONDS = 5.0
READ_CAP_BYTES = 64 * 1024
BLOCKED_ADDRESS = "blocked_address"

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class EgressRefused(Exception):
    """The URL may not be called: bad scheme, no host, or an address that is not public."""


@dataclass(frozen=True)
class EgressResult:
    status: int | None
    error: str  # "" on success; "HTTP 503", "timeout", "blocked_address", ...
    duration_ms: int
    retryable: bool
    retry_after_seconds: float | None = None

    @property
    def success(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def is_public(address: IpAddress) -> bool:
    """Globally routable unicast only: refuses loopback, RFC 1918, 100.64/10, link-local, ULA, multicast, reserved."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour or (address.teredo[1] if address.teredo else None)
        if embedded is not None and not is_public(embedded):
            return False
    return address.is_global and not (
        address.is_multicast or address.is_reserved or address.is_unspecified or address.is_loopback
    )


def private_targets_allowed() -> bool:
    return bool(getattr(settings, "WEBHOOKS_ALLOW_PRIVATE_TARGETS", False))


def _split(url: str) -> tuple[SplitResult, str, int]:
    try:
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port
    except ValueError:
        raise EgressRefused("invalid_url") from None
    if parts.scheme not in ("http", "https") or not host or parts.username is not None or parts.password is not None:
        raise EgressRefused("invalid_url")
    return parts, host, port or (443 if parts.scheme == "https" else 80)


def _lookup(host: str, port: int) -> list[str]:
    """The host's addresses, asked once per attempt; the connection then uses one of these, never a new answer."""
    try:
        return [str(info[4][0]) for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]
    except OSError:
        raise EgressRefused("dns_error") from None


def resolve_vetted(host: str, port: int, *, allow_private: bool) -> list[IpAddress]:
    """Every address ``host`` resolves to, all vetted; raises ``EgressRefused`` if any is not allowed."""
    try:
        addresses: list[IpAddress] = [ipaddress.ip_address(host)]
    except ValueError:
        addresses = []
        for found in _lookup(host, port):
            address = ipaddress.ip_address(found.split("%", 1)[0])
            if address not in addresses:
                addresses.append(address)
    if not addresses:
        raise EgressRefused("dns_error")
    if not allow_private and not all(is_public(a) for a in addresses):
        raise EgressRefused(BLOCKED_ADDRESS)
    return addresses


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or an HTTP date); None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def _elapsed_ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def post_json(url: str, body: bytes, headers: dict[str, str]) -> EgressResult:
    """POST ``body`` to ``url`` once; never raises for what the target or the network did."""
    started = time.monotonic()
    deadline = started + TOTAL_SECONDS
    try:
        parts, host, port = _split(url)
        addresses = resolve_vetted(host, port, allow_private=private_targets_allowed())
    except EgressRefused as exc:
        # A refused address is permanent; a DNS failure may be temporary.
        retryable = str(exc) == "dns_error"
        return EgressResult(None, str(exc), _elapsed_ms(started), retryable=retryable)
    pinned = addresses[0]
    pinned_host = f"[{pinned}]" if pinned.version == 6 else str(pinned)
    pinned_url = parts._replace(netloc=f"{pinned_host}:{port}").geturl()
    default_port = port == (443 if parts.scheme == "https" else 80)
    host_header = host if default_port else f"{host}:{port}"
    if ":" in host and not default_port:
        host_header = f"[{host}]:{port}"
    elif ":" in host:
        host_header = f"[{host}]"
    request_headers = {
        **headers,
        "Host": host_header,
        "User-Agent": USER_AGENT,
        "Content-Type": "application/json",
        "Accept-Encoding": "identity",
    }
    extensions = {"sni_hostname": host} if parts.scheme == "https" else {}
    remaining = max(0.1, deadline - time.monotonic())
    timeout = httpx.Timeout(remaining, connect=min(CONNECT_SECONDS, remaining))
    try:
        with (
            httpx.Client(follow_redirects=False, trust_env=False, timeout=timeout) as client,
            client.stream("POST", pinned_url, content=body, headers=request_headers, extensions=extensions) as response,
        ):
            received = 0
            for chunk in response.iter_raw():
                received += len(chunk)
                if received >= READ_CAP_BYTES or time.monotonic() > deadline:
                    break
            status = response.status_code
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
    except httpx.TimeoutException:
        return EgressResult(None, "timeout", _elapsed_ms(started), retryable=True)
    except httpx.HTTPError as exc:
        return EgressResult(None, f"network error: {type(exc).__name__}", _elapsed_ms(started), retryable=True)
    duration = _elapsed_ms(started)
    if 200 <= status < 300:
        return EgressResult(status, "", duration, retryable=False)
    retryable = status == 429 or status >= 500
    return EgressResult(status, f"HTTP {status}", duration, retryable=retryable, retry_after_seconds=retry_after)
