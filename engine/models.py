"""Public request/report models of the investigation engine (API.md §4.1 and §4.6)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

OUTPUT_EXCERPT_LIMIT = 4096

Priority = Literal["high", "medium", "low"]
HypothesisStatus = Literal["supported", "refuted", "inconclusive"]


class Attachment(BaseModel):
    name: str
    source: str | None = None
    content: str


class InvestigationContext(BaseModel):
    model_config = ConfigDict(extra="allow")

    service: str | None = None
    environment: str | None = None
    namespace: str | None = None
    severity: str | None = None
    related_alert: str | None = None
    time_window: str | None = None
    hint: str | None = None
    attachments: list[Attachment] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _alert_object(cls, data: Any) -> Any:
        """A caller that passes the whole alert as ``related_alert`` (``{labels: {alertname: ...}, annotations:
        {...}}``) gets it read as its name, with its labels and annotations as context keys it did not set."""
        if not isinstance(data, dict) or not isinstance(data.get("related_alert"), dict):
            return data
        alert = data["related_alert"]
        labels = alert.get("labels") if isinstance(alert.get("labels"), dict) else {}
        name = labels.get("alertname") or alert.get("alertname") or alert.get("name")
        merged = {**data, "related_alert": str(name) if name else None}
        merged.setdefault("alert_name", str(name) if name else None)
        if labels:
            merged.setdefault("labels", labels)
        if isinstance(alert.get("annotations"), dict):
            merged.setdefault("annotations", alert["annotations"])
        return merged


class AgentSettings(BaseModel):
    """Team-config overrides for a built-in agent, or the definition of a custom one."""

    model_config = ConfigDict(extra="ignore")

    enabled: bool = True
    prompt: str | None = None
    description: str | None = None
    disable_default_tools: list[str] = Field(default_factory=list)
    enable_extra_tools: list[str] = Field(default_factory=list)
    max_turns: int | None = None
    timeout: int | None = None
    model: str | None = None


class McpServerSettings(BaseModel):
    """One ``mcp_servers`` object: a streamable-HTTP MCP server whose tools the agents may call."""

    name: str
    url: str
    auth: str | None = Field(default=None, repr=False, exclude=True)  # resolved secret: never shown or serialised


class InvestigationRequest(BaseModel):
    agent: str = "planner"
    message: str
    context: InvestigationContext = Field(default_factory=InvestigationContext)
    data_sources: dict[str, dict[str, Any]] = Field(default_factory=dict)
    agents: dict[str, AgentSettings] = Field(default_factory=dict)
    deadline: datetime | None = None
    max_steps: int = 25
    now: datetime | None = None
    llm: dict[str, Any] | None = None
    # ``mcp_servers``: integration names (their tools go to every agent) and MCP servers (engine/connectors/mcp.py).
    mcp_servers: list[str | McpServerSettings] = Field(default_factory=list)
    # Every secret value resolved for this run: masked in tool outputs, errors and the report; never serialised.
    secrets: list[str] = Field(default_factory=list, repr=False, exclude=True)

    def enabled_sources(self) -> dict[str, dict[str, Any]]:
        """Data sources that are present and not switched off."""
        return {
            name: settings
            for name, settings in sorted(self.data_sources.items())
            if isinstance(settings, dict) and settings.get("enabled", True) is not False
        }

    def reference_now(self) -> datetime:
        return self.now if self.now is not None else datetime.now(UTC)


class Progress(BaseModel):
    current_step: str
    steps_completed: int
    steps_total: int


class MetricSeries(BaseModel):
    """A metric series a tool fetched (or examined), for a chart next to its evidence.

    ``points`` are ``(unix seconds, value)``, ascending, downsampled to at most ``MAX_SERIES_POINTS``;
    ``onset`` is the anomaly onset the metrics analyzer found in the full-resolution series, or None.
    """

    title: str
    service: str = ""
    kind: str = ""
    unit: str = ""
    points: list[tuple[float, float]] = Field(default_factory=list)
    onset: float | None = None


MAX_SERIES_PER_CALL = 6
MAX_SERIES_POINTS = 240
MAX_API_HYPOTHESES = 5  # API.md §4.6: at most 5 ranked alternatives in the result


class ToolCall(BaseModel):
    seq: int
    tool: str
    params: dict[str, Any] = Field(default_factory=dict)
    started_at: datetime
    duration_ms: int
    ok: bool
    error: str | None = None
    output_excerpt: str = ""
    series: list[MetricSeries] = Field(default_factory=list)


class RootCause(BaseModel):
    description: str
    confidence: int = Field(ge=0, le=100)
    evidence: list[str] = Field(default_factory=list)


class TimelineEvent(BaseModel):
    timestamp: datetime
    event: str


class Recommendation(BaseModel):
    priority: Priority
    action: str


class Hypothesis(BaseModel):
    description: str
    status: HypothesisStatus
    confidence: int = Field(ge=0, le=100)
    subject: str = ""  # what the hypothesis is about: "pod/checkout-7d9f", "deployment/payments", a component name
    evidence: list[str] = Field(default_factory=list)


class Report(BaseModel):
    summary: str
    root_cause: RootCause
    timeline: list[TimelineEvent] = Field(default_factory=list)
    affected_systems: list[str] = Field(default_factory=list)
    recommendations: list[Recommendation] = Field(default_factory=list)
    hypotheses: list[Hypothesis] = Field(default_factory=list)
    tools_used: list[str] = Field(default_factory=list)
    tool_calls: list[ToolCall] = Field(default_factory=list)
    demo_data: bool = False
    written_by: str | None = None  # LLM mode: the provider and model that wrote the report; None: deterministic
    llm_usage: dict[str, int] | None = None  # LLM mode: requests, input_tokens, output_tokens
    skipped_attachments: list[dict[str, str]] = Field(default_factory=list)

    def api_result(self) -> dict[str, Any]:
        """The §4.1 ``result`` object."""
        return {
            "summary": self.summary,
            "root_cause": self.root_cause.model_dump(),
            "timeline": [
                {"timestamp": format_timestamp(event.timestamp), "event": event.event} for event in self.timeline
            ],
            "affected_systems": list(self.affected_systems),
            "recommendations": [rec.model_dump() for rec in self.recommendations],
            "hypotheses": [
                hypothesis.model_dump(include={"description", "confidence", "status", "subject", "evidence"})
                for hypothesis in self.hypotheses[:MAX_API_HYPOTHESES]
            ],
        }


def format_timestamp(value: datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
