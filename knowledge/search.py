"""Full-text candidates from the database's own engine: PostgreSQL ``tsvector`` ranking or SQLite FTS5 BM25.

Both return the best-matching chunks of the given nodes with a raw text score (higher is better); the
blended ranking (term coverage, service, feedback) is ``knowledge.ranking``'s job. Terms are ORed, so a query
phrased the way an engineer or an alert would still finds a runbook that uses only some of its words.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.db import connection
from django.db.models import F, QuerySet

from knowledge.markdown import query_terms
from knowledge.models import KnowledgeChunk

SEARCH_CONFIG = "english"
CANDIDATES = 60


@dataclass(frozen=True)
class Hit:
    chunk_id: int
    text_score: float


def backend_name() -> str:
    return "postgresql" if connection.vendor == "postgresql" else "sqlite_fts5"


def search_chunks(*, node_ids: Sequence[int], query: str, limit: int = CANDIDATES) -> list[Hit]:
    terms = query_terms(query)
    if not terms or not node_ids:
        return []
    if connection.vendor == "postgresql":
        return _postgres(node_ids, terms, limit)
    return _sqlite(node_ids, terms, limit)


def index_chunks(chunks: QuerySet[KnowledgeChunk]) -> None:
    """Fill ``search_vector`` on PostgreSQL (titles and keywords weigh more than body text); SQLite's triggers
    already did the equivalent."""
    if connection.vendor != "postgresql":
        return
    chunks.update(
        search_vector=SearchVector("heading", "keywords", weight="A", config=SEARCH_CONFIG)
        + SearchVector("text", weight="B", config=SEARCH_CONFIG)
    )


def _postgres(node_ids: Sequence[int], terms: list[str], limit: int) -> list[Hit]:
    query = SearchQuery(" | ".join(terms), search_type="raw", config=SEARCH_CONFIG)
    rows = (
        KnowledgeChunk.objects.filter(node_id__in=node_ids, search_vector=query)
        .annotate(rank=SearchRank(F("search_vector"), query, weights=[0.1, 0.2, 0.4, 1.0]))
        .order_by("-rank", "id")
        .values_list("id", "rank")[:limit]
    )
    return [Hit(chunk_id=chunk_id, text_score=float(rank)) for chunk_id, rank in rows]


def _sqlite(node_ids: Sequence[int], terms: list[str], limit: int) -> list[Hit]:
    match = " OR ".join(f'"{term}"' for term in terms)  # terms are [a-z0-9] only: no FTS5 syntax can leak in
    with connection.cursor() as cursor:
        cursor.execute(_SQLITE_SEARCH, [match, json.dumps(list(node_ids)), limit])
        return [Hit(chunk_id=int(row[0]), text_score=float(row[1])) for row in cursor.fetchall()]


_SQLITE_SEARCH = (
    "SELECT c.id, -bm25(knowledge_chunk_fts, 4.0, 4.0, 1.0) AS score "
    "FROM knowledge_chunk_fts JOIN knowledge_knowledgechunk c ON c.id = knowledge_chunk_fts.rowid "
    "WHERE knowledge_chunk_fts MATCH %s AND c.node_id IN (SELECT value FROM json_each(%s)) "
    "ORDER BY score DESC, c.id LIMIT %s"
)
