"""The corpus loads, follows its format, and the scorer's checks mean what the README says."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.engine.corpus.score import (
    PARTS,
    Case,
    CaseError,
    Expectation,
    check,
    load_case,
    load_cases,
    percentile,
)


def _case(all_patterns: tuple[str, ...], none: tuple[str, ...] = ()) -> Case:
    return Case(
        id="t",
        category="app_logs",
        part="dev",
        path=Path("dev/app_logs/t.yaml"),
        provenance="test",
        message="why?",
        now=datetime(2026, 11, 3, tzinfo=UTC),
        expect=Expectation(all=all_patterns, none=none),
    )


def _report(description: str, summary: str) -> SimpleNamespace:
    return SimpleNamespace(root_cause=SimpleNamespace(description=description), summary=summary)


def test_every_case_of_both_parts_loads_with_an_id_unique_across_the_corpus() -> None:
    ids: list[str] = []
    for part in PARTS:
        cases = load_cases(part)
        assert cases, f"the {part} part has no cases"
        ids += [case.id for case in cases]
    assert len(ids) == len(set(ids))


def test_each_category_exists_in_both_parts() -> None:
    dev = {case.category for case in load_cases("dev")}
    blind = {case.category for case in load_cases("blind")}
    assert dev == blind


def test_check_passes_when_every_pattern_matches_description_or_summary_case_insensitively() -> None:
    case = _case(("orders-api", "SECRET.*orders-db"))
    assert check(case, _report("orders-api cannot start", "the secret orders-db is missing")) == []


def test_check_names_each_missing_pattern() -> None:
    reasons = check(_case(("orders-api", "orders-db")), _report("something else", ""))
    assert len(reasons) == 2
    assert "orders-db" in reasons[1]


def test_forbidden_pattern_applies_to_the_root_cause_only() -> None:
    case = _case(("api",), none=("frontend",))
    assert check(case, _report("api fails", "also noticed: frontend restarts")) == []
    assert check(case, _report("frontend fails", "api")) != []


def test_crlf_attachments_get_windows_line_endings(tmp_path: Path) -> None:
    folder = tmp_path / "odd_attachments"
    folder.mkdir()
    path = folder / "c.yaml"
    path.write_text(
        "id: c\ncategory: odd_attachments\nprovenance: p\nmessage: m\nnow: '2026-11-03T07:50:00Z'\n"
        "attachments:\n  - name: a.txt\n    line_endings: crlf\n    content: |\n      one\n      two\n"
        "expect:\n  all: [x]\n",
        encoding="utf-8",
    )
    case = load_case(path, "dev")
    assert case.attachments[0].content == "one\r\ntwo\r\n"


_NOW = "now: '2026-11-03T07:50:00Z'\n"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("id: c\ncategory: other\nprovenance: p\nmessage: m\n" + _NOW + "expect: {all: [x]}\n", "folder"),
        ("id: c\ncategory: f\nprovenance: p\nmessage: m\n" + _NOW + "expect: {all: ['(']}\n", "regex"),
        ("id: c\ncategory: f\nprovenance: p\nmessage: m\n" + _NOW + "expect: {all: []}\n", "at least"),
        ("id: c\ncategory: f\nprovenance: p\nmessage: m\nexpect: {all: [x]}\n", "now"),
        ("id: c\ncategory: f\nmessage: m\n" + _NOW + "expect: {all: [x]}\n", "provenance"),
    ],
)
def test_a_malformed_case_is_rejected_with_the_reason(tmp_path: Path, body: str, message: str) -> None:
    folder = tmp_path / "f"
    folder.mkdir()
    path = folder / "c.yaml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(CaseError, match=message):
        load_case(path, "dev")


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 0.95) == 95.0
    assert percentile([3.0], 0.95) == 3.0
