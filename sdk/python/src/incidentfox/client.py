"""``IncidentFoxClient``: the API's operations as methods (API.md §8).

    client = IncidentFoxClient()  # INCIDENTFOX_API_KEY and INCIDENTFOX_BASE_URL
    inv = client.investigate("High error rate in checkout", context={"service": "checkout"})
    print(inv.status, inv.summary)

Every error answer raises the ``IncidentFoxError`` subclass of its code. A 429 is retried after ``Retry-After``;
no answer or a 5xx is retried with exponential backoff and jitter when the call is safe to repeat; at most
``max_retries`` times. ``investigate(wait=True)`` starts the run asynchronously and polls with the documented
backoff (1 s, doubling up to 10 s), so no HTTP request stays open for the whole investigation.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

import httpx

from incidentfox import _operations as ops
from incidentfox._core import (
    DEFAULT_BASE_URL,
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT_SECONDS,
    NOT_GIVEN,
    BaseClient,
    Call,
    NotGiven,
    __version__,
    build_request,
    decode,
    error_of,
    poll_delays,
    resolve_settings,
    response_meta,
    transport_error,
)
from incidentfox.errors import IncidentFoxError, WaitTimeout
from incidentfox.models import (
    Agent,
    AlertDelivery,
    AlertDeliveryPage,
    AuditEvent,
    AuditPage,
    ChangeDecision,
    ChangeRequest,
    ConfigAuditEntry,
    ConfigChange,
    EffectiveConfig,
    Identity,
    Investigation,
    InvestigationPage,
    IssuedToken,
    KnowledgeAnswer,
    KnowledgeDocument,
    KnowledgeDocumentPage,
    KnowledgeStatus,
    NodeConfig,
    OrgSettings,
    Paged,
    Postmortem,
    RawConfig,
    Retrieval,
    TaughtDocument,
    Team,
    TokenInfo,
    TreeStats,
    WebhookDelivery,
    WebhookDeliveryPage,
    WebhookSecret,
    WebhookTestResult,
)

__all__ = ["DEFAULT_BASE_URL", "IncidentFoxClient", "__version__", "poll_delays"]

T = TypeVar("T")
P = TypeVar("P", bound=Paged[Any])
StrList = str | Sequence[str] | None


class IncidentFoxClient(BaseClient):
    def __init__(
        self,
        token: str | None = None,
        base_url: str | None = None,
        *,
        team_id: str | None = None,
        max_retries: int = DEFAULT_MAX_RETRIES,
        timeout: float | None = DEFAULT_TIMEOUT_SECONDS,
        transport: httpx.BaseTransport | None = None,
        http_client: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """``token`` defaults to ``INCIDENTFOX_API_KEY`` (or ``INCIDENTFOX_TOKEN``) and ``base_url`` to
        ``INCIDENTFOX_BASE_URL`` (else the hosted API). ``team_id`` selects a team for OIDC and org-admin
        credentials (``X-Team-Id``). ``timeout`` is per request, in seconds. ``http_client`` lets you bring your
        own ``httpx.Client`` (proxies, certificates); ``transport`` and ``sleep`` exist for tests."""
        url, headers = resolve_settings(token, base_url, team_id)
        self._init_options(max_retries)
        if http_client is None:
            http_client = httpx.Client(timeout=timeout, transport=transport)
        http_client.base_url = httpx.URL(url + "/")
        http_client.headers.update(headers)
        self._http = http_client
        self._sleep = sleep
        self._bind_resources()

    def _bind_resources(self) -> None:
        self.investigations = Investigations(self)
        self.config = Config(self)
        self.webhooks = Webhooks(self)
        self.integrations = Integrations(self)
        self.knowledge = Knowledge(self)
        self.admin = Admin(self)

    # -- plumbing ----------------------------------------------------------------------------------------------
    def _run(self, call: Call[T]) -> T:
        """Send ``call``, retrying as the policy allows; its parsed body, or the error's exception."""
        attempt = 0
        while True:
            error: IncidentFoxError
            try:
                response = self._http.send(build_request(self._http, call, self._options))
            except httpx.TransportError as exc:
                error = transport_error(call, exc)
            else:
                self.last_response = response_meta(response, attempt + 1)
                if response.status_code < 400:
                    return decode(call, response)
                error = error_of(response)
            delay = self._retry_delay(call, error, attempt)
            if delay is None:
                raise error
            attempt += 1
            self._sleep(delay)

    def _pages(self, page: Callable[[int], Call[P]]) -> Iterator[P]:
        """Every page from offset 0 on, until ``pagination.total`` is reached or a page comes back empty."""
        offset = 0
        while True:
            current = self._run(page(offset))
            yield current
            offset += len(current.items)
            if not current.items or offset >= current.pagination.total:
                return

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | NotGiven | None = NOT_GIVEN,
    ) -> Any:
        """Any API call (``path`` relative to the base URL) with this client's retries; returns the parsed JSON
        body. ``timeout`` (seconds) applies to this call only."""
        call = Call(method.upper(), path, lambda body: body, params=params, json=json, headers=headers or {})
        view = self if isinstance(timeout, NotGiven) else self.with_options(timeout=timeout)
        try:
            return view._run(call)
        finally:
            self.last_response = view.last_response

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> IncidentFoxClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- top level -----------------------------------------------------------------------------------------------
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
        on_progress: Callable[[Investigation], None] | None = None,
    ) -> Investigation:
        """Start an investigation. With ``wait`` (default) return it once it is completed, failed or cancelled
        (``on_progress`` sees each poll); otherwise return the accepted run (``pending``). ``timeout`` is the
        server-side deadline in seconds; ``wait_timeout`` bounds the wait here (``WaitTimeout``)."""
        accepted = self._run(ops.investigation_start(message, agent, context, timeout, max_turns, idempotency_key))
        if not wait:
            return self.investigations.get(accepted.investigation_id)
        return self.investigations.wait(accepted.investigation_id, timeout=wait_timeout, on_progress=on_progress)

    def agents(self) -> list[Agent]:
        """The team's agents with the tools each can call now (``GET /agents``)."""
        return self._run(ops.agents())

    def me(self) -> Identity:
        """Who the credential is (``GET /auth/me``)."""
        return self._run(ops.me())


class _Resource:
    def __init__(self, client: IncidentFoxClient) -> None:
        self._client = client


class Investigations(_Resource):
    def get(self, investigation_id: str) -> Investigation:
        return self._client._run(ops.investigation_get(investigation_id))

    def list(
        self,
        limit: int = 20,
        offset: int = 0,
        *,
        status: StrList = None,
        agent: str | None = None,
        since: str | None = None,
        until: str | None = None,
        q: str | None = None,
    ) -> InvestigationPage:
        """One page of the team's investigations, newest first; ``status`` may be a list."""
        return self._client._run(ops.investigation_list(limit, offset, status, agent, since, until, q))

    def iterate(
        self,
        *,
        status: StrList = None,
        agent: str | None = None,
        since: str | None = None,
        until: str | None = None,
        q: str | None = None,
        page_size: int = 100,
    ) -> Iterator[Investigation]:
        """Every matching investigation, newest first, fetching pages of ``page_size`` as the loop needs them."""
        for page in self._client._pages(lambda o: ops.investigation_list(page_size, o, status, agent, since, until, q)):
            yield from page.investigations

    def cancel(self, investigation_id: str) -> Investigation:
        """Cancel at once if pending; a running one stops at its next step (``cancel_requested``)."""
        return self._client._run(ops.investigation_cancel(investigation_id))

    def postmortem(self, investigation_id: str, *, save: bool = False, markdown: str | None = None) -> Postmortem:
        """A blameless postmortem draft of a completed investigation (``markdown`` and ``sections``). With
        ``save``, store it (or the edited ``markdown``) in the knowledge base; ``document_id`` names it."""
        return self._client._run(ops.investigation_postmortem(investigation_id, save, markdown))

    def wait(
        self,
        investigation_id: str,
        timeout: float | None = None,
        *,
        on_progress: Callable[[Investigation], None] | None = None,
    ) -> Investigation:
        """Poll until completed, failed or cancelled (1 s, doubling up to 10 s); ``on_progress`` sees every poll.
        With ``timeout`` (seconds), raise ``WaitTimeout`` when it passes first."""
        deadline = None if timeout is None else time.monotonic() + timeout
        delays = poll_delays()
        while True:
            investigation = self.get(investigation_id)
            if on_progress is not None:
                on_progress(investigation)
            if investigation.done:
                return investigation
            delay = next(delays)
            if deadline is not None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise WaitTimeout(f"{investigation_id} is still {investigation.status}", investigation)
                delay = min(delay, remaining)
            self._client._sleep(delay)


class Config(_Resource):
    def get_effective(self) -> EffectiveConfig:
        """The team's merged configuration, secrets masked (``GET /config/me/effective``)."""
        return self._client._run(ops.config_effective())

    def get_raw(self) -> RawConfig:
        """Each node's own overrides along the team's lineage, and the team's ``version``."""
        return self._client._run(ops.config_raw())

    def update(self, patch: Mapping[str, Any]) -> ConfigChange:
        """Merge-patch the team's config (RFC 7396: arrays replace, ``None`` removes the team's override)."""
        return self._client._run(ops.config_update(patch))

    def audit(self, limit: int = 50, *, include_full: bool = True) -> list[ConfigAuditEntry]:
        """The team's applied config changes, newest first, each with its ``diff``."""
        return self._client._run(ops.config_audit(limit, include_full))

    def pending(self, status: str = "pending_approval") -> list[ChangeRequest]:
        """The team's change requests: ``pending_approval`` (default), ``approved``, ``rejected`` or ``all``."""
        return self._client._run(ops.config_pending(status))


class Webhooks(_Resource):
    def secret(self) -> WebhookSecret:
        """The team's ``whsec_…`` signing secret (``GET /webhooks/secret``)."""
        return self._client._run(ops.webhook_secret())

    def rotate_secret(self) -> WebhookSecret:
        """A new secret; the old one co-signs for 24 h."""
        return self._client._run(ops.webhook_secret_rotate())

    def deliveries(
        self,
        limit: int = 50,
        offset: int = 0,
        *,
        investigation_id: str | None = None,
        outcome: str | None = None,
    ) -> WebhookDeliveryPage:
        """One page of delivery attempts, newest first."""
        return self._client._run(ops.webhook_deliveries(limit, offset, investigation_id, outcome))

    def iterate_deliveries(
        self, *, investigation_id: str | None = None, outcome: str | None = None, page_size: int = 100
    ) -> Iterator[WebhookDelivery]:
        """Every matching delivery attempt, newest first, page by page."""
        for page in self._client._pages(lambda o: ops.webhook_deliveries(page_size, o, investigation_id, outcome)):
            yield from page.deliveries

    def test(self, url: str | None = None) -> WebhookTestResult:
        """Send one signed ``webhook.test`` event now (to ``url``, else the configured URL) and report the answer."""
        return self._client._run(ops.webhook_test(url))


class Integrations(_Resource):
    def deliveries(self, limit: int = 50, offset: int = 0, *, provider: str | None = None) -> AlertDeliveryPage:
        """One page of the inbound alert webhooks the team received, newest first, with each alert's fate."""
        return self._client._run(ops.alert_deliveries(limit, offset, provider))

    def iterate_deliveries(self, *, provider: str | None = None, page_size: int = 100) -> Iterator[AlertDelivery]:
        for page in self._client._pages(lambda o: ops.alert_deliveries(page_size, o, provider)):
            yield from page.deliveries


class Knowledge(_Resource):
    def teach(
        self,
        content: str,
        type: str = "runbook",
        *,
        title: str | None = None,
        service: str | None = None,
        tags: Sequence[str] | None = None,
        key: str | None = None,
        node_id: str | None = None,
    ) -> TaughtDocument:
        """Create a document (``runbook``, ``note`` or ``postmortem``); the same ``key`` updates it.
        ``node_id`` (org admins) puts it on a group or the org above the team."""
        return self._client._run(ops.knowledge_teach(content, type, title, service, tags, key, node_id))

    def retrieve(self, query: str, *, service: str | None = None, top_k: int = 5) -> Retrieval:
        """``query_id`` and ``results``: the best passage of each of the ``top_k`` most relevant documents."""
        return self._client._run(ops.knowledge_retrieve(query, service, top_k))

    def answer(self, question: str, *, service: str | None = None, include_sources: bool = True) -> KnowledgeAnswer:
        """``answer`` citing ``sources`` as [1], [2], …; written by the team's model in LLM mode."""
        return self._client._run(ops.knowledge_answer(question, service, include_sources))

    def feedback(self, query_id: str, helpful: bool, comment: str | None = None) -> None:
        """Whether a retrieval or answer helped; it lifts or lowers the top document in later rankings."""
        self._client._run(ops.knowledge_feedback(query_id, helpful, comment))

    def documents(
        self,
        limit: int = 20,
        offset: int = 0,
        *,
        type: str | None = None,
        service: str | None = None,
        q: str | None = None,
    ) -> KnowledgeDocumentPage:
        """One page of the documents the team reads (its own and those above it)."""
        return self._client._run(ops.knowledge_documents(limit, offset, type, service, q))

    def iterate_documents(
        self, *, type: str | None = None, service: str | None = None, q: str | None = None, page_size: int = 100
    ) -> Iterator[KnowledgeDocument]:
        for page in self._client._pages(lambda o: ops.knowledge_documents(page_size, o, type, service, q)):
            yield from page.documents

    def get(self, document_id: str) -> KnowledgeDocument:
        return self._client._run(ops.knowledge_get(document_id))

    def delete(self, document_id: str) -> None:
        self._client._run(ops.knowledge_delete(document_id))

    def tree_stats(self) -> TreeStats:
        """Documents per node of the team's lineage and per type."""
        return self._client._run(ops.knowledge_tree_stats())

    def status(self) -> KnowledgeStatus:
        """The search index: engine, counts and state."""
        return self._client._run(ops.knowledge_status())


class Admin(_Resource):
    """Org-admin operations (an ``ifa_`` token or an OIDC admin), all within the caller's org."""

    def teams(self, node_type: str | None = None) -> list[Team]:
        return self._client._run(ops.admin_teams(node_type))

    def create_team(self, team_id: str, name: str, *, parent_id: str | None = None, node_type: str = "team") -> Team:
        return self._client._run(ops.admin_team_create(team_id, name, parent_id, node_type))

    def issue_token(
        self, team_id: str, *, label: str | None = None, expires_in_days: int | None = None, read_only: bool = False
    ) -> IssuedToken:
        """A new team token; ``token`` is the plaintext, returned this once."""
        return self._client._run(ops.admin_token_issue(team_id, label, expires_in_days, read_only))

    def tokens(self, team_id: str) -> list[TokenInfo]:
        return self._client._run(ops.admin_tokens(team_id))

    def revoke_token(self, token_id: str) -> TokenInfo:
        return self._client._run(ops.admin_token_revoke(token_id))

    def audit(
        self,
        limit: int = 50,
        offset: int = 0,
        *,
        event_type: StrList = None,
        team_id: str | None = None,
        actor: str | None = None,
        since: str | None = None,
        until: str | None = None,
    ) -> AuditPage:
        return self._client._run(ops.admin_audit(limit, offset, event_type, team_id, actor, since, until))

    def iterate_audit(
        self,
        *,
        event_type: StrList = None,
        team_id: str | None = None,
        actor: str | None = None,
        since: str | None = None,
        until: str | None = None,
        page_size: int = 200,
    ) -> Iterator[AuditEvent]:
        pages = self._client._pages(lambda o: ops.admin_audit(page_size, o, event_type, team_id, actor, since, until))
        for page in pages:
            yield from page.events

    def settings(self) -> OrgSettings:
        return self._client._run(ops.admin_settings())

    def update_settings(self, patch: Mapping[str, Any]) -> OrgSettings:
        return self._client._run(ops.admin_settings_update(patch))

    def changes(self, status: str = "pending_approval", *, team_id: str | None = None) -> list[ChangeRequest]:
        return self._client._run(ops.admin_changes(status, team_id))

    def approve(self, change_request_id: str, comment: str | None = None) -> ChangeDecision:
        return self._client._run(ops.admin_change_decide(change_request_id, "approve", comment))

    def reject(self, change_request_id: str, comment: str | None = None) -> ChangeDecision:
        return self._client._run(ops.admin_change_decide(change_request_id, "reject", comment))

    def node_config(self, node_id: str) -> NodeConfig:
        return self._client._run(ops.admin_node_config(node_id))

    def update_node_config(self, node_id: str, patch: Mapping[str, Any]) -> NodeConfig:
        return self._client._run(ops.admin_node_config_update(node_id, patch))
