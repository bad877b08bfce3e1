"""Full-text candidates from the database's own engine: PostgreSQL ``tsvector`` ranking or SQLite FTS5 BM25.

Both return the best-matching chunks of a team's lineage with a raw text score (higher is better); the
blended ranking (term coverage, service, feedback) is ``knowledge.ranking``'s job. Terms are ORed, so a query
phrased the way an engineer or an alert would still finds a runbook that uses only some of its words.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from django.contrib.postgres.search import SearchVector
from django.db import connection
from django.db.models import QuerySet

from knowledge.markdown import query_terms
from knowledge.models import KnowledgeChunk
from tenancy.models import Node

SEARCH_CONFIG = "english"
CANDIDATES = 60
COMMON_SHARE = 0.02


@dataclass(frozen=True)
class Hit:
    chunk_id: int
    text_score: float


def backend_name() -> str:
    return "postgresql" if connection.vendor == "postgresql" else "sqlite_fts5"


def search_chunks(*, team: Node, query: str, limit: int = CANDIDATES) -> list[Hit]:
    """The best-matching chunks of the team's lineage (its node and every node above it)."""
    terms = query_terms(query)
    if not terms:
        return []
    if connection.vendor == "postgresql":
        return _postgres(team, terms, limit)
    return _sqlite(team, terms, limit)


def index_chunks(chunks: QuerySet[KnowledgeChunk]) -> None:
    """Fill ``search_vector`` on PostgreSQL (titles and keywords weigh more than body text); SQLite's triggers
    already did the equivalent."""
    if connection.vendor != "postgresql":
        return
    chunks.update(
        search_vector=SearchVector("heading", "keywords", weight="A", config=SEARCH_CONFIG)
        + SearchVector("text", weight="B", config=SEARCH_CONFIG)
    )


def _postgres(team: Node, terms: list[str], limit: int) -> list[Hit]:
    """One statement: ``kb_search`` (migration 0003) resolves the lineage, matches through the GIN index and
    ranks with ``ts_rank`` (title and keyword words weigh more than body text)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT chunk_id, score FROM kb_search(to_tsquery(%s::regconfig, %s), %s, %s, %s)",
            [SEARCH_CONFIG, " | ".join(_selective_terms(terms)), team.org_id, list(team.path), limit],
        )
        return [Hit(chunk_id=int(row[0]), text_score=float(row[1])) for row in cursor.fetchall()]


def _selective_terms(terms: list[str]) -> list[str]:
    """The query's terms without those in more than ``COMMON_SHARE`` of all chunks, by the planner's own
    statistics (``pg_stats.most_common_elems``, kept by ANALYZE): a word in every other runbook ("pod") would
    make the ORed query match and rank half the table. At least the two rarest terms stay. The blended ranking
    still counts every term; without statistics (a fresh table) nothing is dropped."""
    with connection.cursor() as cursor:
        cursor.execute(_TERM_FREQUENCIES, [terms])
        share: dict[str, float | None] = dict(cursor.fetchall())
    kept = [term for term in terms if (share.get(term) or 0.0) <= COMMON_SHARE]
    if len(kept) >= min(2, len(terms)):
        return kept
    return sorted(terms, key=lambda term: share.get(term) or 0.0)[:2]


# Each term with the share of chunks holding its lexeme, when the column statistics list it as common.
_TERM_FREQUENCIES = (
    "SELECT q.term, s.freq FROM unnest(%s::text[]) AS q(term) LEFT JOIN ("
    "  SELECT e.elem, e.freq FROM pg_stats p,"
    "  unnest(p.most_common_elems::text::text[], p.most_common_elem_freqs) AS e(elem, freq)"
    "  WHERE p.schemaname = current_schema() AND p.tablename = 'knowledge_knowledgechunk'"
    "  AND p.attname = 'search_vector'"
    ") s ON s.elem = (ts_lexize('english_stem', q.term))[1]"
)


def _sqlite(team: Node, terms: list[str], limit: int) -> list[Hit]:
    match = " OR ".join(f'"{term}"' for term in terms)  # terms are [a-z0-9] only: no FTS5 syntax can leak in
    with connection.cursor() as cursor:
        cursor.execute(_SQLITE_SEARCH, [match, team.org_id, json.dumps(list(team.path)), limit])
        return [Hit(chunk_id=int(row[0]), text_score=float(row[1])) for row in cursor.fetchall()]


_SQLITE_SEARCH = (
    "SELECT c.id, -bm25(knowledge_chunk_fts, 4.0, 4.0, 1.0) AS score "
    "FROM knowledge_chunk_fts JOIN knowledge_knowledgechunk c ON c.id = knowledge_chunk_fts.rowid "
    "WHERE knowledge_chunk_fts MATCH %s AND c.node_id IN ("
    "  SELECT n.id FROM tenancy_node n WHERE n.org_id = %s AND n.node_id IN (SELECT value FROM json_each(%s))"
    ") ORDER BY score DESC, c.id LIMIT %s"
)
