"""Log signals computed once per investigation and handed to every analyzer that reads logs.

For each log document: its templates (``engine.logs.templates``), the failure signatures its templates show,
and the decisive lines (``engine.logs.reader``). Built once by the runner, after all tools ran; analyzers look
a document up here instead of re-templating it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from engine.facts import LogDoc
from engine.logs.reader import Candidate, decisive_lines
from engine.logs.signatures import SignatureMatch, match_signatures
from engine.logs.templates import Template, build_templates

MAX_TEMPLATES_MATCHED = 5000


@dataclass
class DocSignals:
    doc: LogDoc
    templates: list[Template]
    total: int  # non-blank lines
    matches: list[tuple[Template, list[SignatureMatch]]] = field(default_factory=list)  # in order of first line
    decisive: list[Candidate] = field(default_factory=list)


def doc_signals(doc: LogDoc) -> DocSignals:
    templates, total = build_templates(doc.lines)
    signals = DocSignals(doc, templates, total)
    for template in sorted(templates[:MAX_TEMPLATES_MATCHED], key=lambda t: t.first_index):
        found = match_signatures(template.example)
        if found:
            signals.matches.append((template, found))
    signals.decisive = decisive_lines(doc.lines, templates)
    return signals


@dataclass
class LogIndex:
    docs: list[DocSignals] = field(default_factory=list)

    @classmethod
    def build(cls, logs: list[LogDoc]) -> LogIndex:
        return cls([doc_signals(doc) for doc in logs])

    def of(self, doc: LogDoc) -> DocSignals:
        """This document's signals (computed here if the document was not indexed, e.g. a tool's own call)."""
        for signals in self.docs:
            if signals.doc is doc:
                return signals
        signals = doc_signals(doc)
        self.docs.append(signals)
        return signals
