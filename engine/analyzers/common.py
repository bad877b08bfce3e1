"""Small helpers shared by the Kubernetes analyzers."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from engine.analysis_context import AnalysisContext
from engine.facts import ContainerFact, EventFact, LogDoc, Observations, PodFact, TextDoc
from engine.findings import Finding, workload_of
from engine.logs.templates import level_of
from engine.models import Priority, Recommendation
from engine.parsers.common import excerpt


def rec(priority: Priority, action: str) -> Recommendation:
    return Recommendation(priority=priority, action=action)


def workload_cause(
    kind: str, *, owner: str | None, fallback: str, title: str, weight: int, evidence: list[str], fix: str
) -> Finding:
    """A cause about one workload (``owner``, or ``fallback`` in the subject when none is known) with one
    high-priority fix: the shape of the detail analyzers' findings."""
    return Finding(
        kind=kind,
        subject=f"{owner or fallback}:{kind}",
        role="cause",
        title=title,
        weight=weight,
        evidence=evidence,
        workload=owner,
        recommendations=[rec("high", fix)],
        affected=[owner] if owner else [],
    )


def finding_time(event: EventFact | None) -> datetime | None:
    return (event.first_seen or event.last_seen) if event is not None else None


def events_for(name: str, events: list[EventFact], ctx: AnalysisContext) -> list[EventFact]:
    return [e for e in events if e.object_name == name and not ctx.is_stale(e.last_seen)]


def workload_name(pod: PodFact) -> str:
    if pod.owner_kind == "ReplicaSet" and pod.owner_name:
        return workload_of(pod.owner_name)
    if pod.owner_name and pod.owner_kind not in ("Node", None):
        return workload_of(pod.owner_name) if pod.owner_kind == "Job" else pod.owner_name
    for label in ("app.kubernetes.io/name", "app", "k8s-app", "name"):
        if pod.labels.get(label):
            return pod.labels[label]
    return workload_of(pod.name)


def logs_for(pod: PodFact, container: ContainerFact | None, logs: list[LogDoc]) -> list[LogDoc]:
    """The log documents that belong to a pod/container: by name, else an unattributed one that names it."""
    workload = workload_name(pod)
    exact = [
        doc
        for doc in logs
        if doc.pod == pod.name
        and (container is None or doc.container in (None, container.name) or container.name == "?")
    ]
    if exact:
        return sorted(exact, key=lambda doc: not doc.previous)
    loose = [doc for doc in logs if doc.pod is None and (pod.name in doc.label or workload in doc.label)]
    if loose:
        return sorted(loose, key=lambda doc: not doc.previous)
    unattributed = [doc for doc in logs if doc.pod is None]
    return unattributed if len(unattributed) == 1 else []


def crash_log_lines(pod: PodFact, container: ContainerFact, logs: list[LogDoc], limit: int = 3) -> list[str]:
    """The decisive last lines a crashing container printed (error-level lines preferred)."""
    docs = logs_for(pod, container, logs)
    if not docs:
        return []
    doc = docs[0]
    tail = [line for line in doc.lines[-40:] if line.strip()]
    errors = [line for line in tail if level_of(line) in ("error", "fatal")]
    chosen = errors[-limit:] if errors else tail[-2:]
    return [f"{doc.label} {excerpt(line.strip())}" for line in chosen]


def observed_names(obs: Observations) -> list[str]:
    """Names of observed pods, workloads, nodes and other objects, longest first (so a line naming
    ``api-gateway`` is attributed to it, not to ``api``)."""
    names = {p.name for p in obs.pods} | {workload_name(p) for p in obs.pods} | {w.name for w in obs.workloads}
    names |= {n.name for n in obs.nodes} | {s.name for s in obs.services}
    names |= {r.name for r in obs.resources if r.kind not in ("Event", "NetworkPolicy", "Namespace")}
    return sorted((n for n in names if n and len(n) >= 3 and n != "?"), key=len, reverse=True)


def text_docs(obs: Observations) -> list[TextDoc | LogDoc]:
    """Every text and log document read in this run, texts first."""
    return [*obs.texts, *obs.logs]


def every_line(obs: Observations) -> Iterator[tuple[str, str]]:
    """(label, line) of every text, log and Kubernetes object source read in this run."""
    for doc in text_docs(obs):
        for line in doc.lines:
            yield doc.label, line
    for resource in obs.resources:
        for line in resource.lines:
            yield resource.label, line


def secret_waiting_workload(obs: Observations, ctx: AnalysisContext, fallback: str | None) -> str:
    """The workload whose pods wait for a Secret: the one whose pods are stuck in CreateContainerConfigError, else
    the object the question names, else ``fallback`` (the ExternalSecret or SealedSecret that should create it)."""
    stuck = {
        workload_of(p.name)
        for p in obs.pods
        if p.status_reason == "CreateContainerConfigError"
        or any(c.reason == "CreateContainerConfigError" for c in p.containers)
    }
    if len(stuck) == 1:
        return stuck.pop()
    question = ctx.question
    return question.named if question and question.named else fallback or "the workload"
