"""Every dev-corpus case and every scenario runs without an exception and reads as an SRE would write it.

Accuracy is measured by ``tests/engine/corpus/score.py`` and ``bench/engine_bench.py``, not asserted here; these
tests guard the report's form on realistic inputs: no template debris (a ``?`` standing in for a missing name,
unfilled ``{fields}``, "This explains Most ..."), no sentence said twice, evidence quoted from this run.
"""

from __future__ import annotations

import re

import pytest

from engine import Report, investigate
from tests.engine.corpus.score import load_cases
from tests.engine.scenario_loader import all_scenarios, load

DEV_CASES = load_cases("dev")
SCENARIOS = all_scenarios()
_PLACEHOLDER = re.compile(
    r"\b(?:image|container|pod|secret|configmap|key|host|variable|service|node|job|deployment|target) \?(?=\s|$|[.,:;])"
)
_UNFILLED = re.compile(r"\{[a-z_]+\}|: \?(?:\s|$)")
_DEBRIS = re.compile(r"(?:This explains|explains why) (?:Most|The logs show|It )|\bNone\b(?= [a-z])|[a-z]\.\. [A-Z]")


def debris(report: Report) -> list[str]:
    """What in the report's prose is template debris rather than a sentence a person would write."""
    found: list[str] = []
    texts = {"summary": report.summary, "root cause": report.root_cause.description}
    texts |= {f"hypothesis {i}": h.description for i, h in enumerate(report.hypotheses)}
    for where, text in texts.items():
        for pattern in (_PLACEHOLDER, _UNFILLED, _DEBRIS):
            match = pattern.search(text)
            if match:
                found.append(f"{where}: {match.group(0)!r} in {text[:200]!r}")
    sentences = [s.strip() for s in re.split(r"(?<=[.!?])\s+(?=[A-Z])", report.summary) if len(s.strip()) > 20]
    doubled = {s for s in sentences if sentences.count(s) > 1}
    found += [f"summary says twice: {s!r}" for s in sorted(doubled)]
    return found


def test_the_dev_corpus_is_there():
    assert len(DEV_CASES) >= 40


@pytest.mark.parametrize("case", DEV_CASES, ids=[c.id for c in DEV_CASES])
def test_dev_case_runs_and_reads_cleanly(case):
    report = investigate(case.request())
    assert report.summary.strip()
    assert report.root_cause.description.strip()
    assert debris(report) == []
    assert len(report.api_result()["hypotheses"]) <= 5
    if report.hypotheses:
        assert report.hypotheses[0].subject
    names = {a.name: a.content for a in case.attachments}
    for line in report.root_cause.evidence:
        label, _, _ = line.partition(" ")
        assert label.startswith("[attachment:"), line
        assert label.removeprefix("[attachment:").removesuffix("]") in names, line


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_scenario_report_reads_cleanly(path):
    report = investigate(load(path).request)
    assert debris(report) == []


def test_the_debris_check_catches_the_garbled_sentences_it_is_for():
    garbled = Report.model_validate(
        {
            "summary": "api: image ? cannot be pulled. This explains Most significant error in the logs (1x): x. "
            "The pod restarts often. The pod restarts often.",
            "root_cause": {"description": "Required environment variable {var} is not set", "confidence": 50},
        }
    )
    problems = debris(garbled)
    assert any("image ?" in p for p in problems)
    assert any("{var}" in p for p in problems)
    assert any("This explains Most" in p for p in problems)
    assert any("twice" in p for p in problems)
