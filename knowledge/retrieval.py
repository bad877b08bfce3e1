"""The knowledge base as an investigation sees it: the retriever the worker hands the engine (``kb_retrieve``).

Each retrieval is recorded against the investigation, so its page can show the runbooks it matched.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from knowledge.models import QueryKind
from knowledge.selectors import Passage, documents_for_team, passages_for_team
from knowledge.services import query_record
from tenancy.models import Node

Retriever = Callable[[str, str | None, int], list[dict[str, Any]]]


def engine_passage(passage: Passage) -> dict[str, Any]:
    """A passage in the plain shape of ``engine.KnowledgePassage``."""
    return {
        "document_id": passage.document_id,
        "title": passage.title,
        "passage": passage.passage,
        "score": passage.score,
        "heading": passage.heading,
        "service": passage.service,
        "type": passage.doc_type,
        "tags": list(passage.tags),
        "remediation": list(passage.remediation),
        "date": (passage.occurred_at or passage.updated_at).date().isoformat(),
    }


def investigation_retriever(*, team: Node, investigation_id: str) -> Retriever | None:
    """The team's retriever, or None when the team reads no documents (the engine then skips ``kb_retrieve``)."""
    if not documents_for_team(team).exists():
        return None

    def retrieve(query: str, service: str | None, top_k: int) -> list[dict[str, Any]]:
        passages = passages_for_team(team=team, query=query, service=service, top_k=top_k)
        query_record(
            team=team,
            kind=QueryKind.INVESTIGATION,
            query=query,
            service=service,
            passages=passages,
            actor="system",
            investigation_id=investigation_id,
        )
        return [engine_passage(passage) for passage in passages]

    return retrieve
