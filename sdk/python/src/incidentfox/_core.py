"""What the sync and async clients share: settings from arguments or the environment, the ``Call`` an operation
describes, request building, the retry policy, error mapping and response decoding. The two clients differ only
in how they send (``httpx.Client`` or ``httpx.AsyncClient``) and sleep.
"""

from __future__ import annotations

import copy
import os
import random
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import httpx

from incidentfox.errors import (
    APIConnectionError,
    APITimeoutError,
    IncidentFoxError,
    InvalidResponseError,
    RateLimitError,
    error_from_response,
)

__version__ = "0.2.0"
DEFAULT_BASE_URL = "https://api.incidentfox.ai/api/v1"
DEFAULT_TIMEOUT_SECONDS = 30.0
DEFAULT_MAX_RETRIES = 3
BACKOFF_FIRST_SECONDS = 0.5
BACKOFF_MAX_SECONDS = 8.0
# Methods that change nothing, or change nothing more when repeated (RFC 9110 §9.2.2).
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
IDEMPOTENCY_HEADER = "Idempotency-Key"

T = TypeVar("T")


class NotGiven:
    """The default of an option that was not passed (``None`` is a real value: no timeout)."""

    def __repr__(self) -> str:
        return "NOT_GIVEN"


NOT_GIVEN = NotGiven()


@dataclass(frozen=True)
class Call(Generic[T]):
    """One API operation: what to send, and how to turn the JSON answer into ``T``."""

    method: str
    path: str
    parse: Callable[[Any], T]
    params: Mapping[str, Any] | None = None
    json: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)

    @property
    def retry_safe(self) -> bool:
        """Whether repeating the call after an unknown outcome (no answer, 5xx) cannot do anything twice."""
        return self.method in IDEMPOTENT_METHODS or any(k.lower() == "idempotency-key" for k in self.headers)


@dataclass(frozen=True)
class RateLimit:
    """The ``X-RateLimit-*`` headers of one answer (API.md §3): ``reset`` is Unix seconds."""

    limit: int | None
    remaining: int | None
    reset: int | None


@dataclass(frozen=True)
class ResponseMeta:
    """What the last answer said besides its body: ``request_id`` (``X-Request-ID``), the rate limit, whether an
    idempotent start was replayed, how many attempts it took, and every header."""

    status: int
    request_id: str | None
    rate_limit: RateLimit
    idempotent_replayed: bool
    attempts: int
    headers: Mapping[str, str]


def _int_header(headers: httpx.Headers, name: str) -> int | None:
    value = headers.get(name, "").strip()
    return int(value) if value.isdigit() else None


def response_meta(response: httpx.Response, attempts: int) -> ResponseMeta:
    headers = response.headers
    return ResponseMeta(
        status=response.status_code,
        request_id=headers.get("x-request-id"),
        rate_limit=RateLimit(
            limit=_int_header(headers, "x-ratelimit-limit"),
            remaining=_int_header(headers, "x-ratelimit-remaining"),
            reset=_int_header(headers, "x-ratelimit-reset"),
        ),
        idempotent_replayed=headers.get("idempotent-replayed", "").lower() == "true",
        attempts=attempts,
        headers=dict(headers),
    )


def backoff_seconds(attempt: int, rand: Callable[[], float] = random.random) -> float:
    """Exponential backoff with jitter: the ``attempt``-th retry (0-based) waits between half and all of
    0.5 s x 2^attempt, capped at 8 s, so clients that failed together do not retry together."""
    ceiling = min(BACKOFF_FIRST_SECONDS * float(2**attempt), BACKOFF_MAX_SECONDS)
    return ceiling * (0.5 + rand() / 2)


def retry_delay(call: Call[Any], error: IncidentFoxError, attempt: int, max_retries: int) -> float | None:
    """Seconds to wait before retrying ``call`` after ``error`` on its ``attempt``-th retry, or None to raise.

    A 429 is never processed (API.md §3), so any call retries it after ``Retry-After``. No answer (connection
    error, timeout) or a 5xx is retried only for a call that is safe to repeat: GET, HEAD, PUT, DELETE, or a POST
    that carries an ``Idempotency-Key``."""
    if attempt >= max_retries:
        return None
    if isinstance(error, RateLimitError):
        return float(error.retry_after) if error.retry_after is not None else backoff_seconds(attempt)
    unknown_outcome = isinstance(error, APIConnectionError) or (error.status is not None and error.status >= 500)
    if not unknown_outcome or not call.retry_safe:
        return None
    return float(error.retry_after) if error.retry_after is not None else backoff_seconds(attempt)


def transport_error(call: Call[Any], exc: httpx.TransportError) -> APIConnectionError:
    where = f"{call.method} {call.path}"
    if isinstance(exc, httpx.TimeoutException):
        return APITimeoutError(f"{where} timed out ({type(exc).__name__})")
    return APIConnectionError(f"{where} failed: {exc or type(exc).__name__}")


def decode(call: Call[T], response: httpx.Response) -> T:
    """The parsed body of a success answer; raises ``InvalidResponseError`` when it is not JSON."""
    body: Any = None
    if response.content:
        try:
            body = response.json()
        except ValueError:
            raise InvalidResponseError(
                f"HTTP {response.status_code} with a body that is not JSON",
                code="invalid_response",
                status=response.status_code,
                request_id=response.headers.get("x-request-id"),
                headers=response.headers,
            ) from None
    return call.parse(body)


def error_of(response: httpx.Response) -> IncidentFoxError:
    try:
        body = response.json()
    except ValueError:
        body = None
    return error_from_response(response.status_code, body, response.headers)


def resolve_settings(token: str | None, base_url: str | None, team_id: str | None) -> tuple[str, dict[str, str]]:
    """The base URL and default headers: ``token`` defaults to ``INCIDENTFOX_API_KEY`` (or ``INCIDENTFOX_TOKEN``),
    ``base_url`` to ``INCIDENTFOX_BASE_URL`` (else the hosted API)."""
    token = token or os.environ.get("INCIDENTFOX_API_KEY") or os.environ.get("INCIDENTFOX_TOKEN")
    if not token:
        raise IncidentFoxError(
            "No API token: pass token=... or set INCIDENTFOX_API_KEY (or INCIDENTFOX_TOKEN)",
            code="missing_token",
            status=None,
        )
    base_url = base_url or os.environ.get("INCIDENTFOX_BASE_URL") or DEFAULT_BASE_URL
    headers = {
        "Authorization": f"Bearer {token}",
        "Accept": "application/json",
        "User-Agent": f"incidentfox-python/{__version__}",
    }
    if team_id is not None:
        headers["X-Team-Id"] = team_id
    return base_url.rstrip("/"), headers


@dataclass(frozen=True)
class RequestOptions:
    """Options of one client view (``with_options``): ``timeout`` in seconds (None waits forever) and headers
    added to every request."""

    timeout: float | NotGiven | None = NOT_GIVEN
    extra_headers: Mapping[str, str] = field(default_factory=dict)


def build_request(http: httpx.Client | httpx.AsyncClient, call: Call[Any], options: RequestOptions) -> httpx.Request:
    params = {name: value for name, value in (call.params or {}).items() if value is not None}
    headers = {**call.headers, **options.extra_headers}
    timeout = http.timeout if isinstance(options.timeout, NotGiven) else httpx.Timeout(options.timeout)
    return http.build_request(
        call.method,
        call.path,
        params=params or None,
        json=call.json,
        headers=headers or None,
        timeout=timeout,
    )


def new_idempotency_key() -> str:
    """A fresh key for a start that the caller gave none: retries of it then cannot start a second run."""
    return f"ifpy_{uuid.uuid4().hex}"


POLL_FIRST_SECONDS = 1.0
POLL_MAX_SECONDS = 10.0


def poll_delays() -> Iterator[float]:
    """1, 2, 4, 8, 10, 10, … seconds (API.md §4.2)."""
    delay = POLL_FIRST_SECONDS
    while True:
        yield delay
        delay = min(delay * 2, POLL_MAX_SECONDS)


Self = TypeVar("Self", bound="BaseClient")


class BaseClient:
    """The state both clients keep: options, retries, and the last answer's metadata."""

    max_retries: int
    last_response: ResponseMeta | None
    _options: RequestOptions

    def _init_options(self, max_retries: int) -> None:
        if max_retries < 0:
            raise ValueError("max_retries must be 0 or more")
        self.max_retries = max_retries
        self.last_response = None
        self._options = RequestOptions()

    def _bind_resources(self) -> None:
        raise NotImplementedError

    def with_options(
        self: Self,
        *,
        timeout: float | NotGiven | None = NOT_GIVEN,
        extra_headers: Mapping[str, str] | None = None,
        max_retries: int | None = None,
    ) -> Self:
        """A view of this client (same connection pool) whose requests use this ``timeout`` (seconds; None
        waits forever), add ``extra_headers`` and retry ``max_retries`` times:
        ``client.with_options(timeout=5).investigations.get(inv_id)``. Its ``last_response`` is its own."""
        view = copy.copy(self)
        view._options = RequestOptions(
            timeout=self._options.timeout if isinstance(timeout, NotGiven) else timeout,
            extra_headers={**self._options.extra_headers, **(extra_headers or {})},
        )
        if max_retries is not None:
            if max_retries < 0:
                raise ValueError("max_retries must be 0 or more")
            view.max_retries = max_retries
        view.last_response = None
        view._bind_resources()
        return view

    def _retry_delay(self, call: Call[Any], error: IncidentFoxError, attempt: int) -> float | None:
        return retry_delay(call, error, attempt, self.max_retries)
