"""Reads of the knowledge base, always through a team: its lineage is the tenancy boundary."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Count, Max, Q

from knowledge.models import DocType, DocumentQuerySet, KnowledgeChunk, KnowledgeDocument, KnowledgeQuery
from knowledge.ranking import Candidate, rank_candidates
from knowledge.search import backend_name, search_chunks
from tenancy.models import Node

PASSAGE_MAX_CHARS = 1200


@dataclass(frozen=True)
class Passage:
    document_id: str
    title: str
    heading: str
    passage: str
    score: float
    service: str
    doc_type: str
    tags: list[str]
    remediation: list[str]
    updated_at: datetime
    occurred_at: datetime | None
    source_investigation_id: str

    def as_result(self) -> dict[str, Any]:
        """The §10 ``results`` item."""
        return {
            "document_id": self.document_id,
            "title": self.title,
            "passage": self.passage,
            "score": round(self.score, 4),
            "service": self.service or None,
            "type": self.doc_type,
        }


def lineage(team: Node) -> list[Node]:
    """The team's node and every node above it, root first."""
    nodes = {node.node_id: node for node in Node.objects.filter(org_id=team.org_id, node_id__in=team.path)}
    return [nodes[node_id] for node_id in team.path if node_id in nodes]


def documents_for_team(
    team: Node, *, doc_type: str | None = None, service: str | None = None, q: str | None = None
) -> DocumentQuerySet:
    rows = KnowledgeDocument.objects.for_team(team).select_related("node")
    if doc_type:
        rows = rows.filter(doc_type=doc_type)
    if service:
        rows = rows.filter(service__iexact=service)
    if q:
        rows = rows.filter(Q(title__icontains=q) | Q(service__icontains=q))
    return rows


def document_for_team(team: Node, document_id: str) -> KnowledgeDocument | None:
    return documents_for_team(team).filter(document_id=document_id).first()


def passages_for_team(*, team: Node, query: str, service: str | None, top_k: int) -> list[Passage]:
    """The best passage of each of the ``top_k`` most relevant documents the team can read."""
    hits = search_chunks(team=team, query=query)
    if not hits:
        return []
    scores = {hit.chunk_id: hit.text_score for hit in hits}
    chunks = (
        KnowledgeChunk.objects.filter(pk__in=scores)
        .select_related("document")
        .defer("search_vector", "document__content")
    )
    by_id = {chunk.pk: chunk for chunk in chunks}
    candidates = [
        Candidate(
            document_id=chunk.document.document_id,
            title=chunk.document.title,
            doc_type=chunk.document.doc_type,
            service=chunk.document.service,
            tags=tuple(chunk.document.tags),
            heading=chunk.heading,
            keywords=chunk.keywords,
            text=chunk.text,
            text_score=scores[chunk.pk],
            helpful=chunk.document.helpful_count,
            unhelpful=chunk.document.unhelpful_count,
        )
        for chunk in by_id.values()
    ]
    documents = {chunk.document.document_id: chunk.document for chunk in by_id.values()}
    ranked = rank_candidates(candidates, query=query, service=service, top_k=top_k)
    passages: list[Passage] = []
    for item in ranked:
        candidate, document = item.candidate, documents[item.candidate.document_id]
        passages.append(
            Passage(
                document_id=candidate.document_id,
                title=candidate.title,
                heading=candidate.heading,
                passage=candidate.text[:PASSAGE_MAX_CHARS],
                score=item.score,
                service=candidate.service,
                doc_type=candidate.doc_type,
                tags=list(candidate.tags),
                remediation=list(document.remediation),
                updated_at=document.updated_at,
                occurred_at=document.occurred_at,
                source_investigation_id=document.source_investigation_id,
            )
        )
    return passages


def query_for_team(team: Node, query_id: str) -> KnowledgeQuery | None:
    return KnowledgeQuery.objects.filter(org_id=team.org_id, team=team, query_id=query_id).first()


def queries_for_investigation(team: Node, investigation_id: str) -> list[KnowledgeQuery]:
    """What an investigation asked the knowledge base and found, in order."""
    return list(
        KnowledgeQuery.objects.filter(team=team, investigation_id=investigation_id).order_by("created_at", "id")
    )


def matches_for_investigation(team: Node, investigation_id: str) -> list[dict[str, Any]]:
    """The documents an investigation's retrievals found, best score first, each with the query that found it."""
    best: dict[str, dict[str, Any]] = {}
    for query in queries_for_investigation(team, investigation_id):
        for result in query.results:
            current = best.get(result["document_id"])
            if current is None or result["score"] > current["score"]:
                best[result["document_id"]] = {**result, "query": query.query}
    return sorted(best.values(), key=lambda match: (-match["score"], match["document_id"]))


def tree_stats(team: Node) -> dict[str, Any]:
    """Documents per node of the team's lineage and per type, with chunk counts."""
    nodes = lineage(team)
    counts = {
        (row["node_id"], row["doc_type"]): row["n"]
        for row in KnowledgeDocument.objects.filter(node__in=nodes)
        .values("node_id", "doc_type")
        .annotate(n=Count("id"))
    }
    chunks = {
        row["node_id"]: row["n"]
        for row in KnowledgeChunk.objects.filter(node__in=nodes).values("node_id").annotate(n=Count("id"))
    }
    out = []
    for node in nodes:
        by_type = {choice.value: counts.get((node.pk, choice.value), 0) for choice in DocType}
        out.append(
            {
                "node_id": node.node_id,
                "name": node.name,
                "node_type": node.node_type,
                "documents": sum(by_type.values()),
                "by_type": by_type,
                "chunks": chunks.get(node.pk, 0),
            }
        )
    totals = {choice.value: sum(node["by_type"][choice.value] for node in out) for choice in DocType}
    return {"nodes": out, "total": {"documents": sum(totals.values()), "by_type": totals}}


def index_status(team: Node) -> dict[str, Any]:
    """The index behind the team's documents: the engine, counts, and chunks not yet searchable (PostgreSQL
    fills ``search_vector`` in the same transaction as the chunk, so a non-zero count means a failed write)."""
    nodes = lineage(team)
    documents = KnowledgeDocument.objects.filter(node__in=nodes).aggregate(n=Count("id"), last=Max("updated_at"))
    chunks = KnowledgeChunk.objects.filter(node__in=nodes)
    unindexed = chunks.filter(search_vector__isnull=True).count() if backend_name() == "postgresql" else 0
    return {
        "backend": backend_name(),
        "state": "indexing" if unindexed else "ready",
        "documents": documents["n"],
        "chunks": chunks.count(),
        "unindexed_chunks": unindexed,
        "last_updated_at": documents["last"],
    }
