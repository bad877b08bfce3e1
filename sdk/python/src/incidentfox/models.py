"""Typed response bodies: frozen dataclasses built from the API's JSON (API.md), plus ``Record`` for free-form
objects such as team config.

Every model keeps the body it was built from: ``model.to_dict()`` returns it exactly as sent and
``model["key"]`` reads it (nested objects as ``Record``), so fields the API adds later stay reachable.
"""

from __future__ import annotations

import dataclasses
import types
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, TypeVar, Union, get_args, get_origin, get_type_hints

from incidentfox.errors import InvalidResponseError

TERMINAL_STATUSES = frozenset({"completed", "failed", "cancelled"})

InvestigationStatus = Literal["pending", "running", "completed", "failed", "cancelled"]
Priority = Literal["high", "medium", "low"]
HypothesisStatus = Literal["supported", "refuted", "inconclusive"]
DeliveryOutcome = Literal["success", "retryable_failure", "permanent_failure", "skipped"]

M = TypeVar("M", bound="Model")
T_co = TypeVar("T_co", covariant=True)


def _wrap(value: Any) -> Any:
    if isinstance(value, dict):
        return Record(value)
    if isinstance(value, list):
        return [_wrap(item) for item in value]
    return value


class Record(Mapping[str, Any]):
    """A free-form JSON object: ``record.summary`` and ``record["summary"]`` both work; nested objects are Records
    too. A key the API did not send is an ``AttributeError`` (``.get()`` returns None)."""

    __slots__ = ("_data",)

    def __init__(self, data: Mapping[str, Any]) -> None:
        object.__setattr__(self, "_data", dict(data))

    def __getitem__(self, key: str) -> Any:
        return _wrap(self._data[key])

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __getattr__(self, name: str) -> Any:
        try:
            return _wrap(self._data[name])
        except KeyError:
            raise AttributeError(f"{type(self).__name__} has no field {name!r}") from None

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is read-only")

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._data!r})"

    def to_dict(self) -> dict[str, Any]:
        """The body exactly as the API sent it."""
        return dict(self._data)


class EffectiveConfig(Record):
    """``GET /config/me/effective``: the merged config (secrets masked). Any key reads as an attribute; the
    injected and common keys are typed."""

    __slots__ = ()

    @property
    def team_name(self) -> str:
        return str(self._data.get("team_name", ""))

    @property
    def org_id(self) -> str:
        return str(self._data.get("org_id", ""))

    @property
    def team_node_id(self) -> str:
        return str(self._data.get("team_node_id", ""))

    @property
    def mcp_servers(self) -> list[Any]:
        value = self._data.get("mcp_servers")
        return _wrap(value) if isinstance(value, list) else []


@dataclass(frozen=True, kw_only=True)
class Model:
    """Base of the typed bodies: ``raw`` is the JSON object as sent."""

    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls: type[M], data: Any) -> M:
        if not isinstance(data, Mapping):
            raise InvalidResponseError(
                f"expected a JSON object for {cls.__name__}, got {type(data).__name__}",
                code="invalid_response",
                status=None,
            )
        values: dict[str, Any] = {}
        for name, (hint, required) in _field_hints(cls).items():
            if name in data:
                values[name] = _convert(hint, data[name])
            elif required:
                raise InvalidResponseError(f"{cls.__name__} body has no {name!r}", code="invalid_response", status=None)
        return cls(raw=dict(data), **values)

    def __getitem__(self, key: str) -> Any:
        return _wrap(self.raw[key])

    def get(self, key: str, default: Any = None) -> Any:
        return _wrap(self.raw[key]) if key in self.raw else default

    def __contains__(self, key: object) -> bool:
        return key in self.raw

    def to_dict(self) -> dict[str, Any]:
        """The body exactly as the API sent it."""
        return dict(self.raw)


_HINTS: dict[type[Model], dict[str, tuple[Any, bool]]] = {}


def _field_hints(cls: type[Model]) -> dict[str, tuple[Any, bool]]:
    """Each field's type and whether the body must have it (no default), worked out once per class."""
    if cls not in _HINTS:
        hints = get_type_hints(cls)
        _HINTS[cls] = {
            f.name: (hints[f.name], f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING)
            for f in dataclasses.fields(cls)
            if f.name != "raw"
        }
    return _HINTS[cls]


def _convert(hint: Any, value: Any) -> Any:
    origin = get_origin(hint)
    if origin in (Union, types.UnionType):
        if value is None:
            return None
        options = [arg for arg in get_args(hint) if arg is not type(None)]
        return _convert(options[0], value) if len(options) == 1 else value
    if origin is list:
        (item,) = get_args(hint)
        return [_convert(item, v) for v in value] if isinstance(value, list) else value
    if isinstance(hint, type) and issubclass(hint, Model):
        return hint.from_dict(value) if isinstance(value, Mapping) else value
    if isinstance(hint, type) and issubclass(hint, Record):
        return hint(value) if isinstance(value, Mapping) else value
    return value


@dataclass(frozen=True, kw_only=True)
class Pagination(Model):
    total: int
    limit: int
    offset: int


class Paged(Protocol[T_co]):
    """A page of a list endpoint: its ``items`` and ``pagination`` (``total`` counts every match)."""

    @property
    def items(self) -> Sequence[T_co]: ...

    @property
    def pagination(self) -> Pagination: ...


# -- investigations (API.md §4) ---------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class RootCause(Model):
    description: str
    confidence: int = 0
    evidence: list[str] = field(default_factory=list)


@dataclass(frozen=True, kw_only=True)
class TimelineEvent(Model):
    timestamp: str
    event: str


@dataclass(frozen=True, kw_only=True)
class Recommendation(Model):
    priority: Priority
    action: str


@dataclass(frozen=True, kw_only=True)
class Hypothesis(Model):
    """An alternative the investigation weighed (``supported``, ``refuted`` or ``inconclusive``)."""

    description: str
    confidence: int = 0
    status: HypothesisStatus = "inconclusive"
    subject: str | None = None
    evidence: list[str] = field(default_factory=list)


@dataclass(frozen=True, kw_only=True)
class InvestigationResult(Model):
    summary: str
    root_cause: RootCause
    timeline: list[TimelineEvent] = field(default_factory=list)
    affected_systems: list[str] = field(default_factory=list)
    recommendations: list[Recommendation] = field(default_factory=list)
    hypotheses: list[Hypothesis] = field(default_factory=list)


@dataclass(frozen=True, kw_only=True)
class Progress(Model):
    current_step: str | None = None
    steps_completed: int = 0
    steps_total: int = 0


@dataclass(frozen=True, kw_only=True)
class InvestigationFailure(Model):
    """Why a run failed: ``code`` is ``timeout``, ``data_source_unavailable``, ``llm_unavailable``,
    ``invalid_attachment`` or ``internal_error``."""

    code: str
    message: str


@dataclass(frozen=True, kw_only=True)
class Investigation(Model):
    """A status body (API.md §4.2), an accepted run (``poll_url``) or a list item. ``summary``, ``root_cause``,
    ``timeline``, ``affected_systems``, ``recommendations`` and ``hypotheses`` read from ``result`` and are None
    (or empty) until the investigation has completed."""

    investigation_id: str
    status: InvestigationStatus
    agent: str | None = None
    message: str | None = None
    trigger_source: str | None = None
    created_at: str | None = None
    poll_url: str | None = None
    started_at: str | None = None
    elapsed_seconds: int | None = None
    progress: Progress | None = None
    cancel_requested: bool = False
    completed_at: str | None = None
    duration_seconds: int | None = None
    failed_at: str | None = None
    cancelled_at: str | None = None
    result: InvestigationResult | None = None
    error: InvestigationFailure | None = None
    tools_used: list[str] = field(default_factory=list)

    @property
    def id(self) -> str:
        return self.investigation_id

    @property
    def done(self) -> bool:
        return self.status in TERMINAL_STATUSES

    @property
    def summary(self) -> str | None:
        return self.result.summary if self.result else None

    @property
    def root_cause(self) -> RootCause | None:
        return self.result.root_cause if self.result else None

    @property
    def timeline(self) -> list[TimelineEvent] | None:
        return self.result.timeline if self.result else None

    @property
    def affected_systems(self) -> list[str] | None:
        return self.result.affected_systems if self.result else None

    @property
    def recommendations(self) -> list[Recommendation] | None:
        return self.result.recommendations if self.result else None

    @property
    def hypotheses(self) -> list[Hypothesis] | None:
        return self.result.hypotheses if self.result else None


@dataclass(frozen=True, kw_only=True)
class InvestigationPage(Model):
    """``GET /agents/investigations``: ``investigations`` (newest first, messages cut to 100 chars) and
    ``pagination``."""

    investigations: list[Investigation]
    pagination: Pagination

    @property
    def items(self) -> list[Investigation]:
        return self.investigations

    @property
    def total(self) -> int:
        """How many investigations match the filters, on every page."""
        return self.pagination.total


@dataclass(frozen=True, kw_only=True)
class Postmortem(Model):
    investigation_id: str
    markdown: str
    sections: dict[str, Any] = field(default_factory=dict)
    document_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class Agent(Model):
    name: str
    description: str = ""
    enabled: bool = True
    builtin: bool = True
    tools: list[str] = field(default_factory=list)


@dataclass(frozen=True, kw_only=True)
class Identity(Model):
    """``GET /auth/me``."""

    role: Literal["team", "admin", "user"]
    auth_kind: Literal["team_token", "admin_token", "oidc_jwt"]
    org_id: str
    team_node_id: str | None = None
    subject: str | None = None
    email: str | None = None
    can_write: bool = False
    permissions: list[str] = field(default_factory=list)
    token_id: str | None = None
    expires_at: str | None = None
    teams: list[str] = field(default_factory=list)


# -- config (API.md §5) -----------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class ConfigChange(Model):
    """``PUT /config/me``: applied (``applied`` is True; ``version``, ``changed_fields``, ``effective_config``) or
    submitted for approval (``applied`` is False; ``change_request_id``, ``status``, ``approvers``, ``changes``)."""

    message: str = ""
    version: int | None = None
    changed_fields: list[str] = field(default_factory=list)
    effective_config: EffectiveConfig | None = None
    change_request_id: str | None = None
    status: str | None = None
    approvers: list[str] = field(default_factory=list)
    changes: dict[str, Any] = field(default_factory=dict)

    @property
    def applied(self) -> bool:
        return self.change_request_id is None


@dataclass(frozen=True, kw_only=True)
class RawConfig(Model):
    """``GET /config/me/raw``: each lineage node's stored overrides (root first) and the team's ``version``."""

    lineage: list[str]
    version: int
    configs: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class ConfigAuditEntry(Model):
    """One applied change: ``diff`` maps a dotted path to ``{old, new}``; ``full_config`` (masked) unless
    ``include_full=False``."""

    version: int
    changed_at: str
    changed_by: str
    change_request_id: str | None = None
    diff: dict[str, Any] = field(default_factory=dict)
    full_config: dict[str, Any] | None = None


@dataclass(frozen=True, kw_only=True)
class ChangeRequest(Model):
    """A config change held for approval (``GET /config/me/pending``, ``GET /admin/changes``)."""

    change_request_id: str
    status: Literal["pending_approval", "approved", "rejected"]
    requested_by: str | None = None
    requested_at: str | None = None
    changes: dict[str, Any] = field(default_factory=dict)
    team_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class ChangeDecision(Model):
    """``POST /admin/changes/{id}/approve`` or ``/reject``."""

    change_request_id: str
    status: Literal["approved", "rejected"]
    team_id: str | None = None
    reviewed_by: str | None = None
    reviewed_at: str | None = None
    version: int | None = None
    changed_fields: list[str] = field(default_factory=list)
    comment: str | None = None


@dataclass(frozen=True, kw_only=True)
class NodeConfig(Model):
    """``GET /admin/teams/{node_id}/config`` (the node's own overrides) or the answer to writing them."""

    node_id: str | None = None
    node_type: str | None = None
    version: int = 0
    config: dict[str, Any] = field(default_factory=dict)
    message: str | None = None
    changed_fields: list[str] = field(default_factory=list)


# -- webhooks and inbound alerts (API.md §6, §7) ------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class WebhookSecret(Model):
    secret: str
    created_at: str | None = None
    previous_secret_expires_at: str | None = None


@dataclass(frozen=True, kw_only=True)
class WebhookDelivery(Model):
    delivery_id: str
    webhook_id: str
    event: str
    outcome: DeliveryOutcome
    url: str = ""
    investigation_id: str | None = None
    attempt: int = 1
    attempted_at: str | None = None
    response_status: int | None = None
    error: str | None = None
    duration_ms: int | None = None
    next_attempt_at: str | None = None


@dataclass(frozen=True, kw_only=True)
class WebhookDeliveryPage(Model):
    deliveries: list[WebhookDelivery]
    pagination: Pagination

    @property
    def items(self) -> list[WebhookDelivery]:
        return self.deliveries


@dataclass(frozen=True, kw_only=True)
class WebhookTestResult(Model):
    success: bool
    url: str
    delivery_id: str | None = None
    webhook_id: str | None = None
    response_status: int | None = None
    duration_ms: int | None = None
    error: str | None = None


@dataclass(frozen=True, kw_only=True)
class AlertDelivery(Model):
    """One inbound alert webhook the team received (``GET /integrations/deliveries``) and each alert's fate."""

    received_at: str
    provider: str
    request_id: str | None = None
    status_code: int | None = None
    error: str | None = None
    received: int = 0
    started: int = 0
    alerts: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True, kw_only=True)
class AlertDeliveryPage(Model):
    deliveries: list[AlertDelivery]
    pagination: Pagination

    @property
    def items(self) -> list[AlertDelivery]:
        return self.deliveries


# -- knowledge (API.md §10) -------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class TaughtDocument(Model):
    document_id: str
    version: int
    title: str | None = None
    type: str | None = None
    node_id: str | None = None
    changed: bool = True


@dataclass(frozen=True, kw_only=True)
class Passage(Model):
    document_id: str
    title: str
    passage: str
    score: float = 0.0
    service: str | None = None
    type: str | None = None


@dataclass(frozen=True, kw_only=True)
class Retrieval(Model):
    query_id: str
    results: list[Passage]


@dataclass(frozen=True, kw_only=True)
class KnowledgeAnswer(Model):
    query_id: str
    answer: str
    sources: list[Passage] = field(default_factory=list)
    written_by: str | None = None


@dataclass(frozen=True, kw_only=True)
class KnowledgeDocument(Model):
    document_id: str
    title: str
    type: str
    service: str | None = None
    tags: list[str] = field(default_factory=list)
    key: str | None = None
    node_id: str | None = None
    version: int = 1
    helpful_count: int = 0
    unhelpful_count: int = 0
    created_by: str | None = None
    created_at: str | None = None
    updated_by: str | None = None
    updated_at: str | None = None
    content: str | None = None


@dataclass(frozen=True, kw_only=True)
class KnowledgeDocumentPage(Model):
    documents: list[KnowledgeDocument]
    pagination: Pagination

    @property
    def items(self) -> list[KnowledgeDocument]:
        return self.documents


@dataclass(frozen=True, kw_only=True)
class NodeStats(Model):
    node_id: str
    name: str = ""
    node_type: str = ""
    documents: int = 0
    by_type: dict[str, int] = field(default_factory=dict)
    chunks: int = 0


@dataclass(frozen=True, kw_only=True)
class TreeStats(Model):
    nodes: list[NodeStats]
    total: Record


@dataclass(frozen=True, kw_only=True)
class KnowledgeStatus(Model):
    backend: str
    state: str
    documents: int = 0
    chunks: int = 0
    unindexed_chunks: int = 0
    last_updated_at: str | None = None


# -- admin (API.md §2.6) ------------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Team(Model):
    """A node of the org tree: ``node_type`` is ``org``, ``group`` or ``team``."""

    team_id: str
    name: str
    node_type: Literal["org", "group", "team"] = "team"
    parent_id: str | None = None
    created_at: str | None = None


@dataclass(frozen=True, kw_only=True)
class IssuedToken(Model):
    """A new team token: ``token`` is the plaintext, shown this once."""

    token_id: str
    token: str
    team_id: str
    label: str = ""
    permissions: list[str] = field(default_factory=list)
    issued_at: str | None = None
    issued_by: str | None = None
    expires_at: str | None = None


@dataclass(frozen=True, kw_only=True)
class TokenInfo(Model):
    """A token without its secret; ``status`` is ``active``, ``expired`` or ``revoked``."""

    token_id: str
    status: str
    label: str = ""
    permissions: list[str] = field(default_factory=list)
    issued_at: str | None = None
    issued_by: str | None = None
    expires_at: str | None = None
    revoked_at: str | None = None
    last_used_at: str | None = None


@dataclass(frozen=True, kw_only=True)
class AuditEvent(Model):
    event_id: str
    timestamp: str
    event_type: str
    actor: str | None = None
    team_id: str | None = None
    target: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    request_id: str | None = None
    ip_address: str | None = None


@dataclass(frozen=True, kw_only=True)
class AuditPage(Model):
    events: list[AuditEvent]
    pagination: Pagination

    @property
    def items(self) -> list[AuditEvent]:
        return self.events


@dataclass(frozen=True, kw_only=True)
class OrgSettings(Model):
    org_id: str
    rate_limits: dict[str, int] = field(default_factory=dict)
    token_policy: dict[str, Any] = field(default_factory=dict)
    oidc: dict[str, Any] | None = None
