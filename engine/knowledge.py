"""The team's knowledge base in an investigation: runbooks and postmortems that explain what the data shows.

The engine never reaches a database: the caller passes a retriever (``KnowledgeRetriever``: query, service,
top_k → passages), which the ``kb_retrieve`` tool calls, so every retrieval is logged like any tool call.
``consult_knowledge`` runs after the analyzers and only adds to the report:

- evidence ``[tool:kb_retrieve] …`` where a passage explains the finding: the runbook of the alert being
  investigated (what the alert means), a runbook or note describing the failure the evidence shows, or an
  earlier postmortem of the same service recording the same failure;
- the remediation steps of the runbooks it cited, as recommendations naming their source, after the
  recommendations drawn from the data.

A runbook never overrides evidence: the root cause, its confidence and the data's recommendations stay as the
analyzers left them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from pydantic import BaseModel, Field

from engine.connectors import ToolFailure
from engine.models import InvestigationRequest, Recommendation, Report
from engine.registry import ToolResult, tool

KNOWLEDGE_SOURCE = "knowledge"  # the pseudo data source whose "connector" is the caller's retriever
TOP_K = 3
MAX_KB_EVIDENCE = 3
MAX_STEPS_PER_RUNBOOK = 3
MAX_KB_RECOMMENDATIONS = 4
MIN_SHARED_TERMS = 3
MIN_SHARED_SHARE = 0.2
EXCERPT_CHARS = 220
_PRIORITY = {"high": 0, "medium": 1, "low": 2}
_GENERIC = frozenset(
    [
        "the",
        "and",
        "for",
        "with",
        "from",
        "that",
        "this",
        "was",
        "were",
        "are",
        "has",
        "have",
        "not",
        "but",
        "its",
        "into",
        "than",
        "then",
        "them",
        "they",
        "when",
        "what",
        "which",
        "will",
        "would",
        "could",
        "should",
        "because",
        "after",
        "before",
        "while",
        "over",
        "under",
        "about",
        "container",
        "pod",
        "pods",
        "service",
        "services",
        "namespace",
        "error",
        "errors",
        "failed",
        "failing",
        "failure",
        "true",
        "false",
        "none",
        "null",
    ]
)


class KnowledgePassage(BaseModel):
    """One passage the knowledge base returned (the caller's retriever builds these)."""

    document_id: str
    title: str
    passage: str
    score: float = 0.0
    heading: str = ""
    service: str = ""
    type: str = "runbook"
    tags: list[str] = Field(default_factory=list)
    remediation: list[str] = Field(default_factory=list)
    date: str = ""  # YYYY-MM-DD the document was last written


KnowledgeRetriever = Callable[[str, str | None, int], Sequence[KnowledgePassage]]


class KnowledgeRun(Protocol):
    """What consulting the knowledge base needs of the engine's run (``engine.runner._Run``)."""

    request: InvestigationRequest

    def call(self, tool: str, params: dict[str, Any], *, from_model: bool = False) -> ToolResult | None: ...
    def checkpoint(self, title: str, remaining: int) -> None: ...


@tool("kb_retrieve")
def kb_retrieve(retriever: KnowledgeRetriever, params: dict[str, Any]) -> ToolResult:
    """The team's runbooks, notes and postmortems most relevant to ``query`` (service-aware)."""
    query = str(params["query"])
    service = params.get("service") or None
    top_k = max(1, min(int(params.get("top_k", TOP_K)), 10))
    try:
        passages = list(retriever(query, str(service) if service else None, top_k))
    except Exception as exc:  # the knowledge base is an aid: its failure is this call's, not the investigation's
        raise ToolFailure(f"The knowledge base could not be searched ({type(exc).__name__})") from exc
    lines = [f"{p.document_id} [{p.type}] {p.title} (score {p.score:.2f}): {_excerpt(p.passage)}" for p in passages]
    return ToolResult(text="\n".join(lines) or "No matching documents", data=passages)


def consult_knowledge(run: KnowledgeRun, report: Report) -> Report:
    """Retrieve for the alert, the subject and the top hypothesis; cite what explains the finding."""
    request = run.request
    subject = request.context.service or (report.affected_systems[0] if report.affected_systems else None)
    alert = _alert_name(request)
    has_finding = bool(report.hypotheses)
    queries: list[tuple[str, str]] = []
    if alert:
        queries.append(("alert", alert))
    if subject:
        queries.append(("subject", f"{subject} {request.message}"))
    if has_finding:
        queries.append(("finding", report.root_cause.description))
    seen: dict[str, KnowledgePassage] = {}
    for index, (_kind, query) in enumerate(queries):
        run.checkpoint("Searching the team's runbooks", len(queries) - index + 1)
        result = run.call("kb_retrieve", {"query": query[:500], "service": subject, "top_k": TOP_K})
        for passage in result.data if result is not None else []:
            seen.setdefault(passage.document_id, passage)
    finding_terms = _terms(" ".join([report.root_cause.description, *report.root_cause.evidence[:3]]))
    evidence: list[str] = []
    cited: list[KnowledgePassage] = []
    for passage in seen.values():
        line = _citation(passage, alert=alert, subject=subject, finding_terms=finding_terms if has_finding else None)
        if line is not None and len(evidence) < MAX_KB_EVIDENCE:
            evidence.append(line)
            cited.append(passage)
    if not evidence:
        return report
    root = report.root_cause.model_copy(update={"evidence": [*report.root_cause.evidence, *evidence]})
    return report.model_copy(
        update={"root_cause": root, "recommendations": _with_runbook_steps(report.recommendations, cited)}
    )


def _alert_name(request: InvestigationRequest) -> str | None:
    """The alert's name: inbound alert webhooks put it in ``context.alert_name`` (``related_alert`` then holds the
    provider's fingerprint); API callers name it in ``related_alert``."""
    extra = request.context.model_extra or {}
    name = extra.get("alert_name")
    return str(name) if isinstance(name, str) and name.strip() else request.context.related_alert


def _citation(
    passage: KnowledgePassage, *, alert: str | None, subject: str | None, finding_terms: set[str] | None
) -> str | None:
    """The evidence line for a passage that explains the finding, else None."""
    label = f'{passage.type.capitalize()} "{passage.title}" ({passage.document_id})'
    excerpt = _excerpt(passage.passage)
    if alert and passage.type != "postmortem" and _names(alert, passage):
        return f"[tool:kb_retrieve] {label}, the runbook of alert {alert}: {excerpt}"
    if finding_terms is None or not _explains(finding_terms, passage):
        return None
    if passage.type == "postmortem":
        if not subject or passage.service.lower() != subject.lower():
            return None
        when = f" on {passage.date}" if passage.date else ""
        return f"[tool:kb_retrieve] This looked the same{when}: {label} recorded: {excerpt}"
    if passage.service and subject and passage.service.lower() != subject.lower():
        return None
    return f"[tool:kb_retrieve] {label} describes this failure: {excerpt}"


def _with_runbook_steps(recommendations: list[Recommendation], cited: list[KnowledgePassage]) -> list[Recommendation]:
    """The data's recommendations first, then the cited runbooks' remediation steps naming their source."""
    added: list[Recommendation] = []
    known = {rec.action for rec in recommendations}
    for passage in cited:
        if passage.type == "postmortem":
            action = f"Check the action items of the earlier postmortem ({passage.title}, {passage.document_id})"
            steps = [action]
        else:
            steps = [
                f"{step.rstrip('.')} (runbook: {passage.title}, {passage.document_id})"
                for step in passage.remediation[:MAX_STEPS_PER_RUNBOOK]
            ]
        for action in steps:
            if action not in known and len(added) < MAX_KB_RECOMMENDATIONS:
                known.add(action)
                added.append(Recommendation(priority="medium", action=action))
    merged = [*recommendations, *added]
    return sorted(merged, key=lambda rec: _PRIORITY[rec.priority])  # stable: the data's come first per priority


def _names(alert: str, passage: KnowledgePassage) -> bool:
    """The passage's document is about this alert: its name is in the title, a tag or the heading."""
    wanted = _squash(alert)
    return bool(wanted) and any(wanted in _squash(text) for text in [passage.title, passage.heading, *passage.tags])


def _explains(finding_terms: set[str], passage: KnowledgePassage) -> bool:
    passage_terms = _terms(f"{passage.title} {passage.heading} {passage.passage}")
    shared = finding_terms & passage_terms
    return len(shared) >= MIN_SHARED_TERMS and len(shared) / max(len(finding_terms), 1) >= MIN_SHARED_SHARE


def _squash(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def _terms(text: str) -> set[str]:
    words = re.findall(r"[a-z][a-z0-9]+", re.sub(r"([a-z])([A-Z])", r"\1 \2", text).lower())
    return {_stem(word) for word in words if len(word) >= 3 and word not in _GENERIC}


def _stem(word: str) -> str:
    for suffix in ("ations", "ation", "ings", "ing", "ies", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def _excerpt(text: str) -> str:
    flat = " ".join(re.sub(r"[#*`>]+", " ", text).split())
    return flat if len(flat) <= EXCERPT_CHARS else flat[: EXCERPT_CHARS - 1].rsplit(" ", 1)[0] + "…"
