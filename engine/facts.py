"""Structured observations shared by parsers, connectors and analyzers.

Every fact carries ``cites``: the evidence string (``[tool:x] ...`` / ``[attachment:y] ...``) for each
field an analyzer may quote, so findings can cite the exact line that showed it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from engine.parsers.common import quote_line


@dataclass
class ContainerFact:
    name: str
    init: bool = False
    image: str | None = None
    state: str | None = None  # running | waiting | terminated
    reason: str | None = None
    message: str | None = None
    exit_code: int | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    last_reason: str | None = None
    last_exit_code: int | None = None
    last_finished_at: datetime | None = None
    last_message: str | None = None
    restart_count: int = 0
    ready: bool | None = None
    memory_limit: str | None = None
    memory_request: str | None = None
    cpu_limit: str | None = None
    ports: list[int] = field(default_factory=list)  # declared containerPorts
    command: list[str] = field(default_factory=list)
    env_from_refs: list[tuple[str, str]] = field(default_factory=list)  # (ConfigMap|Secret, name)
    env_key_refs: list[tuple[str, str, str, str]] = field(default_factory=list)  # (var, kind, name, key)
    cites: dict[str, str] = field(default_factory=dict)


@dataclass
class ConditionFact:
    type: str
    status: str
    reason: str | None = None
    message: str | None = None
    cite: str = ""


@dataclass
class PodFact:
    name: str
    namespace: str | None = None
    phase: str | None = None
    status_reason: str | None = None
    status_message: str | None = None
    node: str | None = None
    owner_kind: str | None = None
    owner_name: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    node_selector: dict[str, str] = field(default_factory=dict)
    conditions: list[ConditionFact] = field(default_factory=list)
    containers: list[ContainerFact] = field(default_factory=list)
    volumes_claims: list[str] = field(default_factory=list)
    created_at: datetime | None = None
    cites: dict[str, str] = field(default_factory=dict)
    source: str = ""


@dataclass
class EventFact:
    type: str | None
    reason: str
    message: str
    object_kind: str | None = None
    object_name: str | None = None
    namespace: str | None = None
    count: int = 1
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    cite: str = ""


@dataclass
class NodeFact:
    name: str
    conditions: list[ConditionFact] = field(default_factory=list)
    unschedulable: bool = False
    taints: list[str] = field(default_factory=list)
    cites: dict[str, str] = field(default_factory=dict)


@dataclass
class WorkloadFact:
    """A Deployment, StatefulSet, DaemonSet, ReplicaSet, Job or CronJob."""

    kind: str
    name: str
    namespace: str | None = None
    desired: int | None = None
    updated: int | None = None
    ready: int | None = None
    available: int | None = None
    unavailable: int | None = None
    failed: int | None = None
    succeeded: int | None = None
    backoff_limit: int | None = None
    active_deadline_seconds: int | None = None
    images: list[str] = field(default_factory=list)
    revision: str | None = None
    created_at: datetime | None = None
    owner_name: str | None = None
    conditions: list[ConditionFact] = field(default_factory=list)
    cites: dict[str, str] = field(default_factory=dict)


@dataclass
class ServiceFact:
    name: str
    namespace: str | None = None
    selector: dict[str, str] = field(default_factory=dict)
    endpoints: str | None = None  # "<none>" when no pod backs it
    cites: dict[str, str] = field(default_factory=dict)
    ports: list[str] = field(default_factory=list)  # the Service's own ports (numbers and names)
    target_ports: list[str] = field(default_factory=list)  # the pod ports it forwards to (numbers or names)


@dataclass
class ClaimFact:
    name: str
    namespace: str | None = None
    phase: str | None = None
    storage_class: str | None = None
    cite: str = ""


@dataclass
class UsageFact:
    kind: str  # pod | node | container
    name: str
    cpu_millicores: int | None = None
    memory_bytes: int | None = None
    memory_percent: int | None = None
    cite: str = ""
    namespace: str | None = None


@dataclass
class LogDoc:
    """Log text from one pod/container or attachment."""

    label: str  # "[attachment:app.log]" or "[tool:get_pod_logs]"
    lines: list[str]
    pod: str | None = None
    container: str | None = None
    previous: bool = False
    command: str = ""  # the command line that printed it, lowercased ("" when not known)


@dataclass
class SeriesFact:
    """A metric time series for one service: request rate, error ratio, a latency quantile or a saturation."""

    service: str
    kind: str  # engine.analyzers.metrics.MetricKind value
    points: list[tuple[float, float]]  # (unix seconds, value), ascending
    metric: str = ""  # the query or metric name that produced it
    cite: str = ""  # "[tool:query_prometheus_range]"
    smoothing_seconds: float = 0.0  # rate()/period window that smears a step into a ramp
    anomaly_cite: str = ""  # "[tool:detect_anomalies]" once that tool examined this series in this run
    family: str = ""  # the metric family it was derived from ("container_cpu_usage_seconds_total")
    signal: str = ""  # what it measures in words ("CPU usage", "p95 latency"); empty: the kind's words
    direction: str = ""  # which way is trouble ("up", "down", "both"); empty: the kind's default


@dataclass(frozen=True)
class CallEdgeFact:
    """One component calls another, as metric labels (a mesh, a service graph) or the team's config show."""

    caller: str
    callee: str
    cite: str = ""


@dataclass
class AlertFact:
    name: str
    state: str  # firing | pending | resolved
    service: str | None = None
    severity: str | None = None
    active_at: datetime | None = None
    summary: str = ""
    cite: str = ""


@dataclass
class ChangeFact:
    """A deploy, rollout, merged PR, config edit or restart."""

    timestamp: datetime
    kind: str  # engine.analyzers.changes.ChangeKind value
    service: str
    description: str
    ref: str = ""
    touches: list[str] = field(default_factory=list)
    cite: str = ""


@dataclass
class ErrorIssueFact:
    """One grouped error from an error tracker (a Sentry issue): what was thrown, where, since when, how often."""

    tracker: str  # "Sentry"
    issue_id: str
    service: str  # the project, or the service the caller asked about
    title: str
    error_type: str = ""  # the exception type ("KeyError")
    error_value: str = ""  # its message, verbatim
    culprit: str = ""  # where it was raised ("app.payments.charge in capture")
    level: str = "error"
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    count: int = 0
    cite: str = ""


@dataclass
class TargetStateFact:
    """A dependency's own health as its source reports it (RDS status, pod readiness, EC2 state)."""

    target: str
    healthy: bool
    description: str
    timestamp: datetime | None = None
    cite: str = ""


@dataclass
class TextDoc:
    """The lines of one attachment or tool output as read (a describe, a table, flattened JSON), for analyzers
    that look for decisive messages wherever they are printed."""

    label: str
    lines: list[str]
    kind: str = ""  # describe | table | structured | kubernetes-objects
    command: str = ""  # the command line that printed it ("kubectl -n x get ds fluentd -o wide"), lowercased


@dataclass
class ResourceFact:
    """Any Kubernetes API object as parsed from ``-o yaml/json`` (NetworkPolicy, HPA, Ingress, Application...)."""

    kind: str
    name: str
    namespace: str | None
    raw: dict[str, Any]
    label: str  # the source's evidence label, "[attachment:x.yaml]"
    lines: list[str] = field(default_factory=list)  # the source's raw lines, to quote verbatim

    def quote(self, *needles: str, fallback: str = "") -> str:
        """The first source line holding every needle, as evidence; else the fallback paraphrase."""
        return quote_line(self.label, self.lines, needles, fallback or f"{self.kind} {self.name}")


@dataclass
class DocumentFact:
    """A JSON/YAML document that is not a Kubernetes object: a broker's status, a trace search, an alert."""

    label: str
    data: Any
    lines: list[str] = field(default_factory=list)

    def quote(self, *needles: str, fallback: str = "") -> str:
        return quote_line(self.label, self.lines, needles, fallback or "document")


@dataclass
class Observations:
    pods: list[PodFact] = field(default_factory=list)
    events: list[EventFact] = field(default_factory=list)
    nodes: list[NodeFact] = field(default_factory=list)
    workloads: list[WorkloadFact] = field(default_factory=list)
    services: list[ServiceFact] = field(default_factory=list)
    claims: list[ClaimFact] = field(default_factory=list)
    usage: list[UsageFact] = field(default_factory=list)
    logs: list[LogDoc] = field(default_factory=list)
    series: list[SeriesFact] = field(default_factory=list)
    alerts: list[AlertFact] = field(default_factory=list)
    changes: list[ChangeFact] = field(default_factory=list)
    target_states: list[TargetStateFact] = field(default_factory=list)
    texts: list[TextDoc] = field(default_factory=list)
    resources: list[ResourceFact] = field(default_factory=list)
    documents: list[DocumentFact] = field(default_factory=list)
    edges: list[CallEdgeFact] = field(default_factory=list)
    issues: list[ErrorIssueFact] = field(default_factory=list)

    def extend(self, other: Observations) -> None:
        self.pods.extend(other.pods)
        self.events.extend(other.events)
        self.nodes.extend(other.nodes)
        self.workloads.extend(other.workloads)
        self.services.extend(other.services)
        self.claims.extend(other.claims)
        self.usage.extend(other.usage)
        self.logs.extend(other.logs)
        self.series.extend(other.series)
        self.alerts.extend(other.alerts)
        self.changes.extend(other.changes)
        self.target_states.extend(other.target_states)
        self.texts.extend(other.texts)
        self.resources.extend(other.resources)
        self.documents.extend(other.documents)
        self.edges.extend(other.edges)
        self.issues.extend(other.issues)

    def is_empty(self) -> bool:
        return not any(
            (
                self.pods,
                self.events,
                self.nodes,
                self.workloads,
                self.services,
                self.claims,
                self.usage,
                self.logs,
                self.series,
                self.alerts,
                self.changes,
                self.target_states,
                self.texts,
                self.resources,
                self.documents,
                self.issues,
            )
        )
