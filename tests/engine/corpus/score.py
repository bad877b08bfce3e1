"""Score the engine against the incident corpus.

Usage (from the repository root)::

    python tests/engine/corpus/score.py dev|blind [--verbose] [--category NAME]

Every case of the chosen part (``dev/`` or ``blind/``, all categories, all authors) is run through
``engine.investigate``; a case passes when every ``expect.all`` pattern matches the root cause description
plus the summary and no ``expect.none`` pattern matches the root cause description. An exception raised by
the engine is a failure. The script prints accuracy per category and overall, and the median and p95 time
per investigation. ``load_cases`` and ``check`` are reused by ``bench/engine_bench.py`` and the tests.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

CORPUS_DIR = Path(__file__).resolve().parent
REPO_ROOT = CORPUS_DIR.parents[2]
if str(REPO_ROOT) not in sys.path:  # run as a script: make the repository's packages importable
    sys.path.append(str(REPO_ROOT))

from engine import Attachment, InvestigationContext, InvestigationRequest, investigate  # noqa: E402

PARTS = ("dev", "blind")
INTENTS = ("rca", "health", "log_search", "log_summary", "ranking")
LINE_ENDINGS = {"lf": "\n", "crlf": "\r\n", "cr": "\r"}
_CASE_KEYS = {"id", "category", "provenance", "message", "now", "context", "attachments", "expect"}


class CaseError(ValueError):
    """A case file that does not follow the corpus format (see README.md)."""


@dataclass(frozen=True)
class CaseAttachment:
    name: str
    content: str


@dataclass(frozen=True)
class Expectation:
    all: tuple[str, ...]
    none: tuple[str, ...] = ()
    intent: str = "rca"


@dataclass(frozen=True)
class Case:
    id: str
    category: str
    part: str
    path: Path
    provenance: str
    message: str
    now: datetime
    expect: Expectation
    context: dict[str, Any] = field(default_factory=dict)
    attachments: tuple[CaseAttachment, ...] = ()

    def request(self) -> InvestigationRequest:
        """The engine request this case describes."""
        attachments = [Attachment(name=a.name, content=a.content) for a in self.attachments]
        context = InvestigationContext(**self.context, attachments=attachments)
        return InvestigationRequest(message=self.message, now=self.now, context=context)


def _require(data: dict[str, Any], key: str, kind: type, path: Path) -> Any:
    value = data.get(key)
    if not isinstance(value, kind):
        raise CaseError(f"{path}: '{key}' must be a {kind.__name__}")
    return value


def _patterns(raw: Any, key: str, path: Path) -> tuple[str, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(p, str) for p in raw):
        raise CaseError(f"{path}: expect.{key} must be a list of strings")
    for pattern in raw:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise CaseError(f"{path}: expect.{key} pattern {pattern!r} is not a valid regex: {exc}") from exc
    return tuple(raw)


def _attachment(raw: Any, path: Path) -> CaseAttachment:
    if not isinstance(raw, dict):
        raise CaseError(f"{path}: each attachment must be a mapping")
    name = _require(raw, "name", str, path)
    content = _require(raw, "content", str, path)
    ending = raw.get("line_endings", "lf")
    if ending not in LINE_ENDINGS:
        raise CaseError(f"{path}: attachment {name!r} line_endings must be one of {sorted(LINE_ENDINGS)}")
    return CaseAttachment(name=name, content=content.replace("\n", LINE_ENDINGS[ending]))


def _parse_now(raw: Any, path: Path) -> datetime:
    if isinstance(raw, datetime):
        return raw
    if isinstance(raw, str):
        try:
            return datetime.fromisoformat(raw)
        except ValueError as exc:
            raise CaseError(f"{path}: 'now' is not an ISO 8601 timestamp: {raw!r}") from exc
    raise CaseError(f"{path}: 'now' is required (ISO 8601 timestamp)")


def load_case(path: Path, part: str) -> Case:
    """Parse one case file; raise CaseError when it does not follow the format."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise CaseError(f"{path}: invalid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise CaseError(f"{path}: a case is a YAML mapping")
    unknown = set(data) - _CASE_KEYS
    if unknown:
        raise CaseError(f"{path}: unknown keys {sorted(unknown)}")
    category = _require(data, "category", str, path)
    if category != path.parent.name:
        raise CaseError(f"{path}: category {category!r} differs from its folder {path.parent.name!r}")
    expect = _require(data, "expect", dict, path)
    all_patterns = _patterns(expect.get("all"), "all", path)
    if not all_patterns:
        raise CaseError(f"{path}: expect.all needs at least one pattern")
    intent = expect.get("intent", "rca")
    if intent not in INTENTS:
        raise CaseError(f"{path}: expect.intent must be one of {INTENTS}")
    context = data.get("context") or {}
    if not isinstance(context, dict) or "attachments" in context:
        raise CaseError(f"{path}: 'context' must be a mapping without attachments")
    attachments = data.get("attachments") or []
    if not isinstance(attachments, list):
        raise CaseError(f"{path}: 'attachments' must be a list")
    return Case(
        id=_require(data, "id", str, path),
        category=category,
        part=part,
        path=path,
        provenance=_require(data, "provenance", str, path),
        message=_require(data, "message", str, path),
        now=_parse_now(data.get("now"), path),
        expect=Expectation(all=all_patterns, none=_patterns(expect.get("none"), "none", path), intent=intent),
        context=dict(context),
        attachments=tuple(_attachment(a, path) for a in attachments),
    )


def load_cases(part: str, category: str | None = None) -> list[Case]:
    """Every case of one part of the corpus, sorted by category then id; ids must be unique corpus-wide."""
    if part not in PARTS:
        raise ValueError(f"part must be one of {PARTS}, not {part!r}")
    paths = sorted((CORPUS_DIR / part).glob("*/*.yaml"))
    cases = [load_case(p, part) for p in paths if category is None or p.parent.name == category]
    seen: dict[str, Path] = {}
    for case in cases:
        if case.id in seen:
            raise CaseError(f"{case.path}: id {case.id!r} already used by {seen[case.id]}")
        seen[case.id] = case.path
    return cases


def check(case: Case, report: Any) -> list[str]:
    """Reasons the report fails the case's answer key; an empty list means it passes."""
    description = str(report.root_cause.description or "")
    text = f"{description}\n{report.summary or ''}"
    reasons = [
        f"missing /{pattern}/ in root cause + summary"
        for pattern in case.expect.all
        if not re.search(pattern, text, re.IGNORECASE)
    ]
    reasons += [
        f"root cause matches forbidden /{pattern}/"
        for pattern in case.expect.none
        if re.search(pattern, description, re.IGNORECASE)
    ]
    return reasons


@dataclass
class Outcome:
    case: Case
    reasons: list[str]
    seconds: float
    summary: str = ""
    root_cause: str = ""


def run_case(case: Case) -> Outcome:
    """Investigate one case; an exception from the engine is recorded as a failure."""
    started = time.perf_counter()
    try:
        report = investigate(case.request())
    except Exception as exc:  # any engine exception is a failed case, reported not raised
        return Outcome(case, [f"engine raised {type(exc).__name__}: {exc}"], time.perf_counter() - started)
    seconds = time.perf_counter() - started
    return Outcome(case, check(case, report), seconds, str(report.summary), str(report.root_cause.description))


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of a non-empty sequence."""
    ordered = sorted(values)
    rank = max(1, round(fraction * len(ordered) + 0.5 - 1e-9))
    return ordered[min(rank, len(ordered)) - 1]


def _print_outcomes(part: str, outcomes: list[Outcome], verbose: bool) -> None:
    by_category: dict[str, list[Outcome]] = defaultdict(list)
    for outcome in outcomes:
        by_category[outcome.case.category].append(outcome)
    for category in sorted(by_category):
        group = by_category[category]
        passed = sum(1 for o in group if not o.reasons)
        print(f"  {category:<28} {passed:>3}/{len(group):<3} = {100 * passed / len(group):5.1f}%")
    for outcome in outcomes:
        if outcome.reasons and (verbose or outcome.reasons[0].startswith("engine raised")):
            print(f"FAIL {outcome.case.category}/{outcome.case.id} ({outcome.case.path.relative_to(CORPUS_DIR)})")
            for reason in outcome.reasons:
                print(f"     - {reason}")
            if verbose and outcome.summary:
                print(f"     root cause: {outcome.root_cause}")
                print(f"     summary:    {outcome.summary}")
    passed = sum(1 for o in outcomes if not o.reasons)
    print(f"{part}: {passed}/{len(outcomes)} = {100 * passed / len(outcomes):.1f}%")
    times = [o.seconds for o in outcomes]
    print(f"time per investigation: median {statistics.median(times):.3f}s, p95 {percentile(times, 0.95):.3f}s")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Score the engine against one part of the incident corpus.")
    parser.add_argument("part", choices=PARTS)
    parser.add_argument("--verbose", action="store_true", help="print every failure with the report's text")
    parser.add_argument("--category", help="score only this category")
    args = parser.parse_args(argv)
    cases = load_cases(args.part, args.category)
    if not cases:
        print(f"{args.part}: no cases" + (f" in category {args.category!r}" if args.category else ""))
        return 1
    _print_outcomes(args.part, [run_case(case) for case in cases], args.verbose)
    return 0


if __name__ == "__main__":
    sys.exit(main())
