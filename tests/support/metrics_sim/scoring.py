"""Scoring a report against a case's true root cause.

- top-1: the first of the case's components named in ``report.root_cause.description`` is the true one.
- top-3: the true component is the first component named in one of the first three hypotheses that are not
  ``refuted`` (in its ``subject``, else its ``description``).

A component is named by its name as a whole word, or in a Kubernetes pod form: ``<name>-<replicaset hash>-<suffix>``,
``<name>-<suffix>`` or ``<name>-<ordinal>``; where names overlap (``cart`` and ``cart-redis``) the longest match
counts. A text naming at least half of the components (and at least four) names none of them: a report cannot score
by listing everything.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

_HASH = "[bcdfghjklmnpqrstvwxz2456789]"
_POD_SUFFIX = rf"(?:-{_HASH}{{6,10}}-{_HASH}{{5}}|-{_HASH}{{5}}|-\d{{1,3}}|-\d{{6,10}}-{_HASH}{{5}})?"


class RootCause(Protocol):
    @property
    def description(self) -> str: ...


class Hypothesis(Protocol):
    @property
    def description(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def subject(self) -> str | None: ...


class Report(Protocol):
    @property
    def root_cause(self) -> RootCause | None: ...
    @property
    def hypotheses(self) -> Sequence[Hypothesis]: ...


def _pattern(name: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![A-Za-z0-9_]){re.escape(name)}{_POD_SUFFIX}(?![A-Za-z0-9_])", re.IGNORECASE)


def components_named(text: str | None, components: Sequence[str]) -> list[str]:
    """The components ``text`` names, in order of first mention (longest match wins where names overlap)."""
    if not text:
        return []
    spans: list[tuple[int, int, str]] = []
    for name in components:
        spans.extend((m.start(), m.end(), name) for m in _pattern(name).finditer(text))
    spans.sort(key=lambda s: (s[0], -(s[1] - s[0])))
    kept: list[tuple[int, int, str]] = []
    for start, end, name in spans:
        if any(k[0] <= start and end <= k[1] for k in kept):
            continue  # inside a longer name's match
        kept.append((start, end, name))
    ordered: list[str] = []
    for _, _, name in sorted(kept):
        if name not in ordered:
            ordered.append(name)
    if len(ordered) >= max(4, len(components) // 2):
        return []  # naming everything names nothing
    return ordered


def first_named(text: str | None, components: Sequence[str]) -> str | None:
    named = components_named(text, components)
    return named[0] if named else None


@dataclass(frozen=True)
class Score:
    top1: bool
    top3: bool
    named: str | None  # the component the root cause names first
    candidates: tuple[str | None, ...]  # the component each of the first three non-refuted hypotheses names


def score(report: Report, truth: str, components: Sequence[str]) -> Score:
    description = report.root_cause.description if report.root_cause is not None else ""
    named = first_named(description, components)
    live = [h for h in report.hypotheses if str(getattr(h.status, "value", h.status)) != "refuted"][:3]
    candidates = tuple(first_named(h.subject, components) or first_named(h.description, components) for h in live)
    return Score(top1=named == truth, top3=truth in candidates, named=named, candidates=candidates)
