"""The blended ranking of full-text candidates: an explainable score in keyword-only pure functions.

``score = (0.4 · text + 0.35 · coverage + 0.25 · name) · service · feedback``

- ``text``: the database's rank, relative to the best candidate (0-1].
- ``coverage``: the share of query terms found anywhere in the passage (its heading path included).
- ``name``: the share of query terms found in the document's title, service and tags, so an alert name or a
  service name in the question lifts the runbook that is about it.
- ``service``: ×1.3 when the document is about the asked service, ×0.8 when it is about another one.
- ``feedback``: between ×0.75 and ×1.25 from the helpful / not helpful votes on the document as a top result.

One passage per document (its best), most relevant first.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from knowledge.markdown import query_terms, stem

SAME_SERVICE = 1.3
OTHER_SERVICE = 0.8
FEEDBACK_WEIGHT = 0.25


@dataclass(frozen=True)
class Candidate:
    document_id: str
    title: str
    doc_type: str
    service: str
    tags: tuple[str, ...]
    heading: str
    keywords: str
    text: str
    text_score: float
    helpful: int
    unhelpful: int


@dataclass(frozen=True)
class Ranked:
    candidate: Candidate
    score: float


def term_patterns(terms: Sequence[str]) -> list[re.Pattern[str]]:
    """One pattern per query term: a word starting with the term's stem ('restarting' finds 'restarts')."""
    return [re.compile(rf"(?<![a-z0-9]){re.escape(stem(term))}") for term in terms]


def term_share(patterns: Sequence[re.Pattern[str]], text: str) -> float:
    """The share of query terms found in ``text`` (lower case)."""
    if not patterns:
        return 0.0
    return sum(1 for pattern in patterns if pattern.search(text)) / len(patterns)


def feedback_factor(*, helpful: int, unhelpful: int) -> float:
    return 1 + FEEDBACK_WEIGHT * (helpful - unhelpful) / (helpful + unhelpful + 2)


def service_factor(*, asked: str | None, document: str) -> float:
    if not asked or not document:
        return 1.0
    return SAME_SERVICE if asked.lower() == document.lower() else OTHER_SERVICE


def rank_candidates(candidates: Sequence[Candidate], *, query: str, service: str | None, top_k: int) -> list[Ranked]:
    terms = query_terms(query)
    if not candidates or not terms:
        return []
    patterns = term_patterns(terms)
    best_text = max(c.text_score for c in candidates) or 1.0
    best: dict[str, Ranked] = {}
    for candidate in candidates:
        # keywords hold the service, the tags and the title's split names (CamelCase alert names in words)
        name = f"{candidate.title} {candidate.keywords}".lower()
        passage = f"{name} {candidate.heading} {candidate.text}".lower()
        base = (
            0.4 * max(candidate.text_score, 0.0) / best_text
            + 0.35 * term_share(patterns, passage)
            + 0.25 * term_share(patterns, name)
        )
        score = (
            base
            * service_factor(asked=service, document=candidate.service)
            * feedback_factor(helpful=candidate.helpful, unhelpful=candidate.unhelpful)
        )
        current = best.get(candidate.document_id)
        if current is None or score > current.score:
            best[candidate.document_id] = Ranked(candidate=candidate, score=score)
    ordered = sorted(best.values(), key=lambda r: (-r.score, r.candidate.document_id))
    return ordered[:top_k]
