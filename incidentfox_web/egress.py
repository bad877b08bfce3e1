"""The one egress policy for every outbound call to a URL a tenant chose (STYLE.md §5, API.md §6.3).

Data sources (the engine's connectors get their transport from here), Vault, OIDC discovery and JWKS, the LLM
``base_url`` and outbound webhooks all go through :class:`PinnedTransport` (or its async twin for the LLM SDKs).
Each host is resolved once per transport (one investigation's connector, one delivery) and every address vetted
against :func:`policy_for`; the connection then goes to the first vetted address while the ``Host`` header and TLS
SNI/certificate check keep the original name, so a DNS answer that changes between the check and the connect
(rebinding) cannot move the request. Every hop of a redirect is a new request through the transport, so a redirect
can never reach a refused address; the clients built here do not follow redirects at all. Proxies from the
environment are ignored.

The rules, in order (the operator's settings in capitals):

1. an address or host in ``EGRESS_DENIED_NETWORKS`` is refused;
2. one of the deployment's own addresses (its host name's addresses and ``EGRESS_DEPLOYMENT_ADDRESSES``) is
   refused unless ``EGRESS_ALLOWED_NETWORKS`` names it;
3. an address or host in ``EGRESS_ALLOWED_NETWORKS`` is allowed;
4. loopback is refused unless ``EGRESS_ALLOW_LOOPBACK`` (tests and single-machine development only);
5. a globally routable unicast address is allowed;
6. a private address (RFC 1918, 100.64/10, fc00::/7) is allowed for data sources, Vault, OIDC and the LLM when
   ``EGRESS_ALLOWED_NETWORKS`` is empty, and for webhooks only with ``WEBHOOKS_ALLOW_PRIVATE_TARGETS``;
7. everything else (link-local and cloud metadata, multicast, reserved, unspecified) is refused.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from functools import lru_cache
from typing import Literal
from urllib.parse import urlsplit

import httpx
import httpx2
from django.conf import settings

USER_AGENT = "IncidentFox-Webhooks/1"
TOTAL_SECONDS = 10.0
CONNECT_SECONDS = 5.0
READ_CAP_BYTES = 64 * 1024
BLOCKED_ADDRESS = "blocked_address"
DNS_ERROR = "dns_error"
INVALID_URL = "invalid_url"

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Purpose = Literal["data_source", "webhook", "vault", "oidc", "llm"]

_PRIVATE = tuple(
    ipaddress.ip_network(cidr)
    for cidr in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7")
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
# What inet_aton reads: dotted parts in decimal, octal (leading 0) or hex (0x), 1 to 4 of them ("127.1", "2130706433").
_LEGACY_IPV4 = re.compile(r"^(?:0[xX][0-9a-fA-F]*|[0-9]+)(?:\.(?:0[xX][0-9a-fA-F]*|[0-9]+)){0,3}$")
_REFUSALS = {
    BLOCKED_ADDRESS: "resolves to a refused address",
    DNS_ERROR: "could not be resolved",
    INVALID_URL: "is not an absolute http(s) URL without user info",
}


class EgressRefused(Exception):
    """The URL may not be called: bad scheme, no host, an unresolvable name or a refused address."""


class _Refusal:
    """``reason`` is the code (``blocked_address``); ``egress_refusal`` says why in words a user can read next to
    the source's name ("Prometheus URL resolves to a refused address")."""

    reason: str
    egress_refusal: str

    def _describe(self, reason: str) -> str:
        self.reason = reason
        self.egress_refusal = _REFUSALS.get(reason, reason)
        return self.egress_refusal


class EgressRefusedError(_Refusal, httpx.TransportError):
    """What :class:`PinnedTransport` raises for a refused request."""

    def __init__(self, reason: str) -> None:
        super().__init__(self._describe(reason))


class AsyncEgressRefusedError(_Refusal, httpx2.TransportError):
    """The same refusal, for the LLM SDKs' ``httpx2`` clients."""

    def __init__(self, reason: str) -> None:
        super().__init__(self._describe(reason))


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


# -- addresses ---------------------------------------------------------------------------------------------
def parse_ip_literal(host: str) -> IpAddress | None:
    """``host`` as an IP address if it is one in any form a resolver reads as one, else None.

    Besides the canonical forms this reads what ``inet_aton`` (and so ``getaddrinfo``) accepts: decimal
    ``2130706433``, hex ``0x7f000001``, octal ``017700000001``, short ``127.1`` and ``0``. The write-time URL
    check and the send-time vetting both use it, so a form cannot pass one and be refused by the other.
    """
    candidate = host.strip("[]").split("%", 1)[0]
    try:
        return ipaddress.ip_address(candidate)
    except ValueError:
        pass
    if _LEGACY_IPV4.match(candidate):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(candidate))
        except OSError:
            return None
    return None


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def _unwrap(address: IpAddress) -> IpAddress:
    """The IPv4 address an IPv6 one carries (mapped, 6to4, Teredo, NAT64), or the address itself."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            return embedded
    return address


def is_public(address: IpAddress) -> bool:
    """Globally routable unicast only: refuses loopback, RFC 1918, 100.64/10, link-local, ULA, multicast, reserved."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None and not is_public(embedded):
            return False
    return address.is_global and not (
        address.is_multicast or address.is_reserved or address.is_unspecified or address.is_loopback
    )


def is_private_range(address: IpAddress) -> bool:
    inner = _unwrap(address)
    return any(inner.version == net.version and inner in net for net in _PRIVATE)


# -- the policy --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class EgressPolicy:
    allow_private: bool
    allow_loopback: bool
    allowed_networks: tuple[IpNetwork, ...] = ()
    allowed_hosts: frozenset[str] = frozenset()
    denied_networks: tuple[IpNetwork, ...] = ()
    denied_hosts: frozenset[str] = frozenset()
    own_addresses: frozenset[IpAddress] = frozenset()

    def allows(self, host: str, address: IpAddress) -> bool:
        """Whether a request for ``host`` may connect to ``address`` (the rules of the module docstring)."""
        name = host.lower().rstrip(".")
        inner = _unwrap(address)
        candidates = {address, inner}
        if name in self.denied_hosts or _in_any(candidates, self.denied_networks):
            return False
        listed = name in self.allowed_hosts or _in_any(candidates, self.allowed_networks)
        if candidates & self.own_addresses and not listed:
            return False
        if listed:
            return True
        if inner.is_loopback or address.is_loopback:
            return self.allow_loopback
        if is_public(address):
            return True
        narrowed = bool(self.allowed_networks or self.allowed_hosts)
        return self.allow_private and not narrowed and is_private_range(address)


def _in_any(addresses: Iterable[IpAddress], networks: Iterable[IpNetwork]) -> bool:
    nets = tuple(networks)
    return any(a.version == n.version and a in n for a in addresses for n in nets)


def _split_entries(entries: Iterable[str]) -> tuple[tuple[IpNetwork, ...], frozenset[str]]:
    networks: list[IpNetwork] = []
    hosts: set[str] = set()
    for entry in entries:
        value = entry.strip()
        if not value:
            continue
        try:
            networks.append(ipaddress.ip_network(value, strict=False))
        except ValueError:
            hosts.add(value.lower().rstrip("."))
    return tuple(networks), frozenset(hosts)


@lru_cache(maxsize=1)
def _host_addresses() -> frozenset[IpAddress]:
    """The addresses this machine's own name resolves to (asked once per process)."""
    found: set[IpAddress] = set()
    try:
        infos = socket.getaddrinfo(socket.gethostname(), None, type=socket.SOCK_STREAM)
    except OSError:
        return frozenset()
    for info in infos:
        address = parse_ip_literal(str(info[4][0]))
        if address is not None and not address.is_loopback:
            found.add(address)
    return frozenset(found)


def policy_for(purpose: Purpose) -> EgressPolicy:
    """The operator's policy for one kind of outbound call, read from settings now."""
    allowed, allowed_hosts = _split_entries(getattr(settings, "EGRESS_ALLOWED_NETWORKS", []) or [])
    denied, denied_hosts = _split_entries(getattr(settings, "EGRESS_DENIED_NETWORKS", []) or [])
    own = {a for a in (parse_ip_literal(x) for x in getattr(settings, "EGRESS_DEPLOYMENT_ADDRESSES", []) or []) if a}
    allow_private = purpose != "webhook" or bool(getattr(settings, "WEBHOOKS_ALLOW_PRIVATE_TARGETS", False))
    return EgressPolicy(
        allow_private=allow_private,
        allow_loopback=bool(getattr(settings, "EGRESS_ALLOW_LOOPBACK", False)),
        allowed_networks=allowed,
        allowed_hosts=allowed_hosts,
        denied_networks=denied,
        denied_hosts=denied_hosts,
        own_addresses=frozenset(own) | _host_addresses(),
    )


def literal_refused(url: str, *, purpose: Purpose) -> bool:
    """Whether ``url``'s host is an IP address (in any form :func:`parse_ip_literal` reads) the policy refuses:
    the write-time check of a URL, before any name is resolved."""
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return False
    address = parse_ip_literal(host)
    return address is not None and not policy_for(purpose).allows(host, address)


def _lookup(host: str, port: int) -> list[str]:
    """The host's addresses, asked once per request; the connection then uses one of these, never a new answer."""
    try:
        return [str(info[4][0]) for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]
    except (OSError, UnicodeError):
        raise EgressRefused(DNS_ERROR) from None


def resolve_vetted(host: str, port: int, *, policy: EgressPolicy) -> list[IpAddress]:
    """Every address ``host`` resolves to, all vetted; raises ``EgressRefused`` if any is not allowed."""
    literal = parse_ip_literal(host)
    addresses: list[IpAddress] = []
    if literal is not None:
        addresses = [literal]
    else:
        for found in _lookup(host, port):
            address = parse_ip_literal(found)
            if address is not None and address not in addresses:
                addresses.append(address)
    if not addresses:
        raise EgressRefused(DNS_ERROR)
    if not all(policy.allows(host, a) for a in addresses):
        raise EgressRefused(BLOCKED_ADDRESS)
    return addresses


# -- pinned transports -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Pin:
    address: str  # the vetted IP to connect to
    sni: str | None  # the original name, for TLS


def _pin(scheme: str, host: str, port: int | None, userinfo: bytes, policy: EgressPolicy) -> _Pin:
    if scheme not in ("http", "https") or not host or userinfo:
        raise EgressRefused(INVALID_URL)
    addresses = resolve_vetted(host, port or (443 if scheme == "https" else 80), policy=policy)
    literal = parse_ip_literal(host) is not None
    return _Pin(address=str(addresses[0]), sni=host if scheme == "https" and not literal else None)


class _Pins:
    """The vetted address of each (scheme, host, port) a transport has called: asked once for the transport's life
    (one investigation's connector, one delivery), so a later DNS answer cannot move it and the lookup is not
    repeated for every query of a run."""

    def __init__(self, policy: EgressPolicy) -> None:
        self.policy = policy
        self._pins: dict[tuple[str, str, int | None], _Pin] = {}

    def apply(self, request: httpx.Request | httpx2.Request) -> None:
        """Point ``request`` at its vetted address, keeping the name for the Host header (set already) and TLS."""
        url = request.url
        if url.userinfo:
            raise EgressRefused(INVALID_URL)
        key = (url.scheme, url.host, url.port)
        pin = self._pins.get(key)
        if pin is None:
            pin = _pin(url.scheme, url.host, url.port, url.userinfo, self.policy)
            self._pins[key] = pin
        _point(request, pin)


def _point(request: httpx.Request | httpx2.Request, pin: _Pin) -> None:
    url = request.url
    request.url = url.copy_with(host=pin.address)
    if pin.sni:
        request.extensions = {**request.extensions, "sni_hostname": pin.sni}


class PinnedTransport(httpx.BaseTransport):
    """An ``httpx`` transport that vets and pins every request under ``policy`` (see the module docstring)."""

    def __init__(self, policy: EgressPolicy, *, verify: bool | str = True) -> None:
        self._pins = _Pins(policy)
        self._inner = httpx.HTTPTransport(verify=verify, retries=0)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        try:
            self._pins.apply(request)
        except EgressRefused as exc:
            raise EgressRefusedError(str(exc)) from None
        return self._inner.handle_request(request)

    def close(self) -> None:
        self._inner.close()


class AsyncPinnedTransport(httpx2.AsyncBaseTransport):
    """The same vetting and pinning for the ``httpx2`` clients of the LLM vendors' SDKs."""

    def __init__(self, policy: EgressPolicy, *, verify: object = True) -> None:
        self._pins = _Pins(policy)
        self._inner = httpx2.AsyncHTTPTransport(verify=verify, retries=0)  # type: ignore[arg-type]

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        try:
            self._pins.apply(request)
        except EgressRefused as exc:
            raise AsyncEgressRefusedError(str(exc)) from None
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


def egress_client(purpose: Purpose, *, timeout: float, headers: dict[str, str] | None = None) -> httpx.Client:
    """An ``httpx`` client whose every request goes through the policy for ``purpose``; redirects not followed."""
    return httpx.Client(
        transport=PinnedTransport(policy_for(purpose)),
        timeout=httpx.Timeout(timeout, connect=min(CONNECT_SECONDS, timeout)),
        headers=headers,
        follow_redirects=False,
        trust_env=False,
    )


# -- outbound webhooks -------------------------------------------------------------------------------------
def private_targets_allowed() -> bool:
    return bool(getattr(settings, "WEBHOOKS_ALLOW_PRIVATE_TARGETS", False))


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
    """POST ``body`` to ``url`` once under the webhook policy; never raises for what the target or network did.

    The whole attempt is bounded by ``TOTAL_SECONDS`` and at most ``READ_CAP_BYTES`` of the answer is read.
    """
    started = time.monotonic()
    deadline = started + TOTAL_SECONDS
    request_headers = {
        **headers,
        "User-Agent": USER_AGENT,
        "Content-Type": "application/json",
        "Accept-Encoding": "identity",
    }
    try:
        with (
            egress_client("webhook", timeout=TOTAL_SECONDS) as client,
            client.stream("POST", url, content=body, headers=request_headers) as response,
        ):
            received = 0
            for chunk in response.iter_raw():
                received += len(chunk)
                if received >= READ_CAP_BYTES or time.monotonic() > deadline:
                    break
            status = response.status_code
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
    except EgressRefusedError as exc:
        # A refused address is permanent; a DNS failure may be temporary.
        return EgressResult(None, exc.reason, _elapsed_ms(started), retryable=exc.reason == DNS_ERROR)
    except (httpx.InvalidURL, httpx.UnsupportedProtocol, ValueError):
        return EgressResult(None, INVALID_URL, _elapsed_ms(started), retryable=False)
    except httpx.TimeoutException:
        return EgressResult(None, "timeout", _elapsed_ms(started), retryable=True)
    except httpx.HTTPError as exc:
        return EgressResult(None, f"network error: {type(exc).__name__}", _elapsed_ms(started), retryable=True)
    duration = _elapsed_ms(started)
    if 200 <= status < 300:
        return EgressResult(status, "", duration, retryable=False)
    retryable = status == 429 or status >= 500
    return EgressResult(status, f"HTTP {status}", duration, retryable=retryable, retry_after_seconds=retry_after)


# -- the engine's egress ------------------------------------------------------------------------------------
class TenantEgress:
    """What the engine gets for one investigation (``engine.connectors.http.Egress``): every data-source client
    and the LLM SDK client go through the operator's policy."""

    def __init__(self) -> None:
        self._data_sources = policy_for("data_source")
        self._llm = policy_for("llm")

    def transport(self) -> httpx.BaseTransport:
        return PinnedTransport(self._data_sources)

    def async_transport(self) -> AsyncPinnedTransport:
        return AsyncPinnedTransport(self._llm)

    def pin(self, url: str) -> tuple[str, str | None]:
        try:
            parts = httpx.URL(url)
            pin = _pin(parts.scheme, parts.host, parts.port, parts.userinfo, self._data_sources)
        except httpx.InvalidURL:
            raise EgressRefusedError(INVALID_URL) from None
        except EgressRefused as exc:
            raise EgressRefusedError(str(exc)) from None
        return str(parts.copy_with(host=pin.address)), pin.sni
