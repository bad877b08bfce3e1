"""``IncidentFoxClient``: the API's operations as methods (API.md §8).

    client = IncidentFoxClient(token="ift_…", base_url="https://incidentfox.example.com/api/v1")
    inv = client.investigate("High error rate in checkout", context={"service": "checkout"})
    print(inv.status, inv.summary, inv.root_cause.description)

Every error answer raises the ``IncidentFoxError`` subclass of its code. A 429 is retried after ``Retry-After``
seconds, up to ``max_retries`` times. ``investigate(wait=True)`` starts the run asynchronously and polls with the
documented backoff (1 s, doubling up to 10 s), so no HTTP request stays open for the whole investigation.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import httpx

from incidentfox.errors import IncidentFoxError, RateLimitError, WaitTimeout, error_from_response
from incidentfox.knowledge import Knowledge
from incidentfox.models import ConfigChange, Investigation, InvestigationPage, Record

__version__ = "0.1.0"
DEFAULT_BASE_URL = "https://api.incidentfox.ai/api/v1"
POLL_FIRST_SECONDS = 1.0
POLL_MAX_SECONDS = 10.0


def poll_delays() -> Iterator[float]:
    """1, 2, 4, 8, 10, 10, … seconds (API.md §4.2)."""
    delay = POLL_FIRST_SECONDS
    while True:
        yield delay
        delay = min(delay * 2, POLL_MAX_SECONDS)


class IncidentFoxClient:
    def __init__(
        self,
        token: str | None = None,
        base_url: str | None = None,
        *,
        team_id: str | None = None,
        max_retries: int = 3,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """``token`` defaults to ``INCIDENTFOX_API_KEY`` (or ``INCIDENTFOX_TOKEN``) and ``base_url`` to
        ``INCIDENTFOX_BASE_URL`` (else the hosted API). ``team_id`` selects a team for OIDC and org-admin credentials
        (``X-Team-Id``); ``transport`` and ``sleep`` exist for tests."""
        token = token or os.environ.get("INCIDENTFOX_API_KEY") or os.environ.get("INCIDENTFOX_TOKEN")
        if not token:
            raise IncidentFoxError(
                "No API token: pass token=... or set INCIDENTFOX_API_KEY (or INCIDENTFOX_TOKEN)",
                code="missing_token",
                status=0,
            )
        base_url = base_url or os.environ.get("INCIDENTFOX_BASE_URL") or DEFAULT_BASE_URL
        headers = {
            "Authorization": f"Bearer {token}",
            "Accept": "application/json",
            "User-Agent": f"incidentfox-python/{__version__}",
        }
        if team_id is not None:
            headers["X-Team-Id"] = team_id
        self._http = httpx.Client(base_url=base_url.rstrip("/"), headers=headers, timeout=timeout, transport=transport)
        self.max_retries = max_retries
        self._sleep = sleep
        self.investigations = Investigations(self)
        self.config = Config(self)
        self.knowledge = Knowledge(self)

    # -- plumbing ----------------------------------------------------------------------------------------------
    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        """One API call; returns the parsed body or raises the error's exception (retrying 429s)."""
        query = {name: value for name, value in (params or {}).items() if value is not None}
        retries = 0
        while True:
            response = self._http.request(method, path, json=json, params=query or None, headers=headers)
            if response.status_code < 400:
                return response.json() if response.content else None
            error = error_from_response(response.status_code, _json_or_none(response), dict(response.headers))
            if not isinstance(error, RateLimitError) or retries >= self.max_retries:
                raise error
            retries += 1
            self._sleep(float(error.retry_after or 1))

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> IncidentFoxClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- investigations ----------------------------------------------------------------------------------------
    def investigate(
        self,
        message: str,
        agent: str = "planner",
        context: Mapping[str, Any] | None = None,
        wait: bool = True,
        *,
        timeout: int | None = None,
        max_turns: int | None = None,
        idempotency_key: str | None = None,
        wait_timeout: float | None = None,
    ) -> Investigation:
        """Start an investigation. With ``wait`` (default) return it once it is completed, failed or cancelled;
        otherwise return the accepted run (``pending``). ``timeout`` is the server-side deadline in seconds."""
        body: dict[str, Any] = {"agent_name": agent, "message": message, "async": True}
        if context is not None:
            body["context"] = dict(context)
        if timeout is not None:
            body["timeout"] = timeout
        if max_turns is not None:
            body["max_turns"] = max_turns
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        investigation_id = self.request("POST", "/agents/run", json=body, headers=headers)["investigation_id"]
        if not wait:
            return self.investigations.get(investigation_id)
        return self.investigations.wait(investigation_id, timeout=wait_timeout)

    def agents(self) -> list[Record]:
        """The team's agents with the tools each can call now (``GET /agents``)."""
        return [Record(agent) for agent in self.request("GET", "/agents")["agents"]]

    def me(self) -> Record:
        """Who the credential is (``GET /auth/me``)."""
        return Record(self.request("GET", "/auth/me"))


class Investigations:
    def __init__(self, client: IncidentFoxClient) -> None:
        self._client = client

    def get(self, investigation_id: str) -> Investigation:
        return Investigation(self._client.request("GET", f"/agents/status/{investigation_id}"))

    def list(
        self,
        limit: int = 20,
        offset: int = 0,
        *,
        status: str | list[str] | None = None,
        agent: str | None = None,
        since: str | None = None,
        until: str | None = None,
        q: str | None = None,
    ) -> InvestigationPage:
        """The team's investigations, newest first; ``status`` may be a list (sent comma-separated)."""
        statuses = ",".join(status) if isinstance(status, list) else status
        params = {"limit": limit, "offset": offset, "status": statuses, "agent": agent, "since": since}
        params.update({"until": until, "q": q})
        return InvestigationPage(self._client.request("GET", "/agents/investigations", params=params))

    def cancel(self, investigation_id: str) -> Investigation:
        """Cancel at once if pending; a running one stops at its next step (``cancel_requested``)."""
        return Investigation(self._client.request("POST", f"/agents/status/{investigation_id}/cancel"))

    def postmortem(self, investigation_id: str, *, save: bool = False, markdown: str | None = None) -> Record:
        """A blameless postmortem draft of a completed investigation (``markdown`` and ``sections``). With
        ``save``, store it (or the edited ``markdown``) in the knowledge base; ``document_id`` names it."""
        body = {"markdown": markdown} if markdown is not None else None
        params = {"save": "true"} if save else None
        path = f"/agents/status/{investigation_id}/postmortem"
        return Record(self._client.request("POST", path, json=body, params=params))

    def wait(self, investigation_id: str, timeout: float | None = None) -> Investigation:
        """Poll until completed, failed or cancelled (1 s, doubling up to 10 s). With ``timeout`` (seconds),
        raise ``WaitTimeout`` when it passes first."""
        deadline = None if timeout is None else time.monotonic() + timeout
        delays = poll_delays()
        while True:
            investigation = self.get(investigation_id)
            if investigation.done:
                return investigation
            delay = next(delays)
            if deadline is not None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise WaitTimeout(f"{investigation_id} is still {investigation['status']}")
                delay = min(delay, remaining)
            self._client._sleep(delay)


class Config:
    def __init__(self, client: IncidentFoxClient) -> None:
        self._client = client

    def get_effective(self) -> Record:
        """The team's merged configuration, secrets masked (``GET /config/me/effective``)."""
        return Record(self._client.request("GET", "/config/me/effective"))

    def get_raw(self) -> Record:
        """Each node's own overrides along the team's lineage, and the team's ``version``."""
        return Record(self._client.request("GET", "/config/me/raw"))

    def update(self, patch: Mapping[str, Any]) -> ConfigChange:
        """Merge-patch the team's config (RFC 7396: arrays replace, ``None`` removes the team's override)."""
        return ConfigChange(self._client.request("PUT", "/config/me", json=dict(patch)))


def _json_or_none(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None
