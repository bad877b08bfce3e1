"""Every API operation once, as a function returning the ``Call`` to send (API.md §2-§10). The sync and async
clients' resource methods are one line each over these, so paths, bodies and models are defined in one place."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

from incidentfox._core import IDEMPOTENCY_HEADER, Call, new_idempotency_key
from incidentfox.models import (
    Agent,
    AlertDeliveryPage,
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
    Postmortem,
    RawConfig,
    Retrieval,
    TaughtDocument,
    Team,
    TokenInfo,
    TreeStats,
    WebhookDeliveryPage,
    WebhookSecret,
    WebhookTestResult,
)

StrList = str | Sequence[str] | None


def _id(value: str) -> str:
    return quote(value, safe="")


def _csv(value: StrList) -> str | None:
    return value if value is None or isinstance(value, str) else ",".join(value)


def _bool(value: bool | None) -> str | None:
    return None if value is None else ("true" if value else "false")


def _drop_none(**fields: Any) -> dict[str, Any]:
    return {name: value for name, value in fields.items() if value is not None}


def _nothing(body: Any) -> None:
    return None


def _list_of(cls: Any, key: str) -> Any:
    def parse(body: Any) -> list[Any]:
        items = body.get(key) if isinstance(body, Mapping) else None
        return [cls.from_dict(item) for item in items or []]

    return parse


# -- investigations -----------------------------------------------------------------------------------------------


def investigation_start(
    message: str,
    agent: str,
    context: Mapping[str, Any] | None,
    timeout: int | None,
    max_turns: int | None,
    idempotency_key: str | None,
) -> Call[Investigation]:
    """``POST /agents/run`` with ``async: true``. A start always carries an ``Idempotency-Key`` (a fresh one when
    the caller gave none), so a retry after a lost answer replays the same run instead of starting another."""
    body: dict[str, Any] = {"agent_name": agent, "message": message, "async": True}
    body.update(
        _drop_none(context=dict(context) if context is not None else None, timeout=timeout, max_turns=max_turns)
    )
    headers = {IDEMPOTENCY_HEADER: idempotency_key or new_idempotency_key()}
    return Call("POST", "/agents/run", Investigation.from_dict, json=body, headers=headers)


def investigation_get(investigation_id: str) -> Call[Investigation]:
    return Call("GET", f"/agents/status/{_id(investigation_id)}", Investigation.from_dict)


def investigation_list(
    limit: int,
    offset: int,
    status: StrList,
    agent: str | None,
    since: str | None,
    until: str | None,
    q: str | None,
) -> Call[InvestigationPage]:
    params = {"limit": limit, "offset": offset, "status": _csv(status), "agent": agent, "since": since}
    params.update({"until": until, "q": q})
    return Call("GET", "/agents/investigations", InvestigationPage.from_dict, params=params)


def investigation_cancel(investigation_id: str) -> Call[Investigation]:
    return Call("POST", f"/agents/status/{_id(investigation_id)}/cancel", Investigation.from_dict)


def investigation_postmortem(investigation_id: str, save: bool, markdown: str | None) -> Call[Postmortem]:
    body = {"markdown": markdown} if markdown is not None else None
    params = {"save": "true"} if save else None
    path = f"/agents/status/{_id(investigation_id)}/postmortem"
    return Call("POST", path, Postmortem.from_dict, params=params, json=body)


def agents() -> Call[list[Agent]]:
    return Call("GET", "/agents", _list_of(Agent, "agents"))


def me() -> Call[Identity]:
    return Call("GET", "/auth/me", Identity.from_dict)


# -- config -------------------------------------------------------------------------------------------------------


def config_effective() -> Call[EffectiveConfig]:
    return Call("GET", "/config/me/effective", lambda body: EffectiveConfig(body or {}))


def config_raw() -> Call[RawConfig]:
    return Call("GET", "/config/me/raw", RawConfig.from_dict)


def config_update(patch: Mapping[str, Any]) -> Call[ConfigChange]:
    return Call("PUT", "/config/me", ConfigChange.from_dict, json=dict(patch))


def config_audit(limit: int, include_full: bool) -> Call[list[ConfigAuditEntry]]:
    params = {"limit": limit, "include_full": _bool(include_full)}
    return Call("GET", "/config/me/audit", _list_of(ConfigAuditEntry, "history"), params=params)


def config_pending(status: str) -> Call[list[ChangeRequest]]:
    return Call("GET", "/config/me/pending", _list_of(ChangeRequest, "changes"), params={"status": status})


# -- webhooks and inbound alert deliveries --------------------------------------------------------------------------


def webhook_secret() -> Call[WebhookSecret]:
    return Call("GET", "/webhooks/secret", WebhookSecret.from_dict)


def webhook_secret_rotate() -> Call[WebhookSecret]:
    return Call("POST", "/webhooks/secret/rotate", WebhookSecret.from_dict)


def webhook_deliveries(
    limit: int, offset: int, investigation_id: str | None, outcome: str | None
) -> Call[WebhookDeliveryPage]:
    params = {"limit": limit, "offset": offset, "investigation_id": investigation_id, "outcome": outcome}
    return Call("GET", "/webhooks/deliveries", WebhookDeliveryPage.from_dict, params=params)


def webhook_test(url: str | None) -> Call[WebhookTestResult]:
    body = {"url": url} if url is not None else None
    return Call("POST", "/webhooks/test", WebhookTestResult.from_dict, json=body)


def alert_deliveries(limit: int, offset: int, provider: str | None) -> Call[AlertDeliveryPage]:
    params = {"limit": limit, "offset": offset, "provider": provider}
    return Call("GET", "/integrations/deliveries", AlertDeliveryPage.from_dict, params=params)


# -- knowledge ------------------------------------------------------------------------------------------------------


def knowledge_teach(
    content: str,
    type: str,
    title: str | None,
    service: str | None,
    tags: Sequence[str] | None,
    key: str | None,
    node_id: str | None,
) -> Call[TaughtDocument]:
    body: dict[str, Any] = {"content": content, "type": type}
    body.update(_drop_none(title=title, service=service, key=key, node_id=node_id))
    if tags is not None:
        body["tags"] = list(tags)
    return Call("POST", "/kb/teach", TaughtDocument.from_dict, json=body)


def knowledge_retrieve(query: str, service: str | None, top_k: int) -> Call[Retrieval]:
    body = {"query": query, "top_k": top_k, **_drop_none(service=service)}
    return Call("POST", "/kb/retrieve", Retrieval.from_dict, json=body)


def knowledge_answer(question: str, service: str | None, include_sources: bool) -> Call[KnowledgeAnswer]:
    body = {"question": question, "include_sources": include_sources, **_drop_none(service=service)}
    return Call("POST", "/kb/answer", KnowledgeAnswer.from_dict, json=body)


def knowledge_feedback(query_id: str, helpful: bool, comment: str | None) -> Call[None]:
    body = {"query_id": query_id, "helpful": helpful, **_drop_none(comment=comment)}
    return Call("POST", "/kb/feedback", _nothing, json=body)


def knowledge_documents(
    limit: int, offset: int, type: str | None, service: str | None, q: str | None
) -> Call[KnowledgeDocumentPage]:
    params = {"limit": limit, "offset": offset, "type": type, "service": service, "q": q}
    return Call("GET", "/kb/documents", KnowledgeDocumentPage.from_dict, params=params)


def knowledge_get(document_id: str) -> Call[KnowledgeDocument]:
    return Call("GET", f"/kb/documents/{_id(document_id)}", KnowledgeDocument.from_dict)


def knowledge_delete(document_id: str) -> Call[None]:
    return Call("DELETE", f"/kb/documents/{_id(document_id)}", _nothing)


def knowledge_tree_stats() -> Call[TreeStats]:
    return Call("GET", "/kb/tree/stats", TreeStats.from_dict)


def knowledge_status() -> Call[KnowledgeStatus]:
    return Call("GET", "/kb/status", KnowledgeStatus.from_dict)


# -- admin (org-admin credentials) -----------------------------------------------------------------------------------


def admin_teams(node_type: str | None) -> Call[list[Team]]:
    return Call("GET", "/admin/teams", _list_of(Team, "teams"), params={"node_type": node_type})


def admin_team_create(team_id: str, name: str, parent_id: str | None, node_type: str) -> Call[Team]:
    body = {"team_id": team_id, "name": name, "node_type": node_type, **_drop_none(parent_id=parent_id)}
    return Call("POST", "/admin/teams", Team.from_dict, json=body)


def admin_token_issue(
    team_id: str, label: str | None, expires_in_days: int | None, read_only: bool
) -> Call[IssuedToken]:
    body = {"read_only": read_only, **_drop_none(label=label, expires_in_days=expires_in_days)}
    return Call("POST", f"/admin/teams/{_id(team_id)}/tokens", IssuedToken.from_dict, json=body)


def admin_tokens(team_id: str) -> Call[list[TokenInfo]]:
    return Call("GET", f"/admin/teams/{_id(team_id)}/tokens", _list_of(TokenInfo, "tokens"))


def admin_token_revoke(token_id: str) -> Call[TokenInfo]:
    return Call("POST", "/admin/tokens/revoke", TokenInfo.from_dict, json={"token_id": token_id})


def admin_audit(
    limit: int,
    offset: int,
    event_type: StrList,
    team_id: str | None,
    actor: str | None,
    since: str | None,
    until: str | None,
) -> Call[AuditPage]:
    params = {"limit": limit, "offset": offset, "event_type": _csv(event_type), "team_id": team_id, "actor": actor}
    params.update({"since": since, "until": until})
    return Call("GET", "/admin/audit", AuditPage.from_dict, params=params)


def admin_settings() -> Call[OrgSettings]:
    return Call("GET", "/admin/settings", OrgSettings.from_dict)


def admin_settings_update(patch: Mapping[str, Any]) -> Call[OrgSettings]:
    return Call("PATCH", "/admin/settings", OrgSettings.from_dict, json=dict(patch))


def admin_changes(status: str, team_id: str | None) -> Call[list[ChangeRequest]]:
    params = {"status": status, "team_id": team_id}
    return Call("GET", "/admin/changes", _list_of(ChangeRequest, "changes"), params=params)


def admin_change_decide(change_request_id: str, decision: str, comment: str | None) -> Call[ChangeDecision]:
    body = _drop_none(comment=comment) or None
    path = f"/admin/changes/{_id(change_request_id)}/{decision}"
    return Call("POST", path, ChangeDecision.from_dict, json=body)


def admin_node_config(node_id: str) -> Call[NodeConfig]:
    return Call("GET", f"/admin/teams/{_id(node_id)}/config", NodeConfig.from_dict)


def admin_node_config_update(node_id: str, patch: Mapping[str, Any]) -> Call[NodeConfig]:
    return Call("PUT", f"/admin/teams/{_id(node_id)}/config", NodeConfig.from_dict, json=dict(patch))
