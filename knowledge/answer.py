"""``/kb/answer``: the best passages, and an answer built from them that cites them.

Deterministic (extractive) by default: the sentences of the top passages that share the most words with the
question, each followed by its source number. With ``llm`` in the team's config the team's model writes the
answer from the same passages and must cite them the same way; the passages stay the sources either way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from investigations.engine_bridge import EngineFailure, write_with_team_model
from investigations.team_settings import TeamSettingsUnavailable, team_engine_settings
from knowledge.markdown import expanded_words, query_terms, stem
from knowledge.models import QueryKind
from knowledge.selectors import Passage, passages_for_team
from knowledge.services import query_record
from tenancy.models import Node

SOURCES = 3
MAX_SENTENCES = 3
NOTHING_FOUND = "The knowledge base has nothing on this yet. Teach it a runbook or note that answers the question."
INSTRUCTIONS = (
    "You answer an on-call engineer's question using only the numbered passages from their team's runbooks, "
    "notes and postmortems. Answer in a few sentences of Markdown. After each statement cite the passage it "
    "comes from as [1], [2], .... If the passages do not answer the question, say so; never add facts that are "
    "not in them."
)
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")


class AnswerUnavailable(Exception):
    """The team's model could not write the answer (its settings or the provider failed); names the model."""


@dataclass(frozen=True)
class Answered:
    query_id: str
    answer: str
    sources: list[Passage]
    written_by: str | None


def answer_question(*, team: Node, question: str, service: str | None, actor: str) -> Answered:
    sources = passages_for_team(team=team, query=question, service=service, top_k=SOURCES)
    query = query_record(
        team=team, kind=QueryKind.ANSWER, query=question, service=service, passages=sources, actor=actor
    )
    if not sources:
        return Answered(query_id=query.query_id, answer=NOTHING_FOUND, sources=[], written_by=None)
    written = _written_by_model(team, question, sources)
    if written is not None:
        return Answered(query_id=query.query_id, answer=written[0], sources=sources, written_by=written[1])
    return Answered(
        query_id=query.query_id, answer=extractive_answer(question, sources), sources=sources, written_by=None
    )


def extractive_answer(question: str, sources: list[Passage]) -> str:
    """The question's best-matching sentences across the sources, in source order, each cited as ``[n]``."""
    terms = {stem(term) for term in query_terms(question)}
    scored: list[tuple[float, int, int, str]] = []
    for number, source in enumerate(sources, start=1):
        for position, sentence in enumerate(_sentences(source.passage)):
            words = {stem(word) for word in expanded_words(sentence)}
            overlap = len(terms & words)
            if overlap:
                # Earlier sources and earlier sentences win ties: the ranking already put the best first.
                scored.append((overlap - 0.2 * (number - 1), number, position, sentence))
    if not scored:
        first = _sentences(sources[0].passage)
        return f"{first[0]} [1]" if first else f"See {sources[0].title} [1]."
    picked = sorted(scored, key=lambda item: (-item[0], item[1], item[2]))[:MAX_SENTENCES]
    picked.sort(key=lambda item: (item[1], item[2]))
    return " ".join(f"{sentence} [{number}]" for _, number, _, sentence in picked)


def _sentences(text: str) -> list[str]:
    plain = re.sub(r"^\s*(?:[-*+]|\d+[.)]|#+)\s+", "", text, flags=re.MULTILINE)
    return [" ".join(part.split()) for part in _SENTENCE.split(plain) if len(part.split()) >= 3]


def _written_by_model(team: Node, question: str, sources: list[Passage]) -> tuple[str, str] | None:
    try:
        llm = team_engine_settings(team).llm
    except TeamSettingsUnavailable as exc:
        raise AnswerUnavailable(str(exc)) from exc
    if not llm:
        return None
    numbered = "\n\n".join(
        f"[{number}] {source.title} — {source.heading}\n{source.passage}" for number, source in enumerate(sources, 1)
    )
    try:
        written = write_with_team_model(
            llm, instructions=INSTRUCTIONS, prompt=f"Question: {question}\n\nPassages:\n\n{numbered}"
        )
    except EngineFailure as failure:
        raise AnswerUnavailable(failure.message) from failure
    return (written.markdown, written.written_by) if written is not None else None
