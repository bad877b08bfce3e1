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
_QUOTED = re.compile(r"(?<![A-Za-z])'[^']{3,}'(?![A-Za-z])")
_TEMPLATE_LINK = re.compile(r"\b(?:This|It) explains\b")  # "<root cause>. This explains <symptom>" is a template
_REPEAT = 40  # a passage this long said twice in one summary is the root cause repeated, not a paragraph
_DEBRIS = re.compile(r"(?:This explains|explains why) (?:Most|The logs show|It )|\bNone\b(?= [a-z])|[a-z]\.\. [A-Z]")


def debris(report: Report, rca: bool = True) -> list[str]:
    """What in the report's prose is template debris rather than a sentence a person would write.

    ``rca``: the report is a root-cause answer, whose summary must not repeat its root cause (a log summary lists
    lines that may share long passages)."""
    found: list[str] = []
    texts = {"summary": report.summary, "root cause": report.root_cause.description}
    texts |= {f"hypothesis {i}": h.description for i, h in enumerate(report.hypotheses)}
    for where, text in texts.items():
        prose = _QUOTED.sub("'…'", text)  # a quoted log line may hold braces and question marks verbatim
        for pattern in (_PLACEHOLDER, _UNFILLED, _DEBRIS):
            match = pattern.search(prose)
            if match:
                found.append(f"{where}: {match.group(0)!r} in {text[:200]!r}")
    link = _TEMPLATE_LINK.search(report.summary)
    if link:
        found.append(f"summary: template link {link.group(0)!r} in {report.summary[:200]!r}")
    repeated = _repeated_passage(report.root_cause.description, report.summary) if rca else None
    if repeated:
        found.append(f"summary repeats {repeated!r}")
    sentences = [s.strip() for s in re.split(r"(?<=[.!?])\s+(?=[A-Z])", report.summary) if len(s.strip()) > 20]
    doubled = {s for s in sentences if sentences.count(s) > 1}
    found += [f"summary says twice: {s!r}" for s in sorted(doubled)]
    return found


def _repeated_passage(root_cause: str, summary: str) -> str | None:
    """A passage of the root cause that the summary says more often than the root cause itself does."""
    for start in range(0, max(len(root_cause) - _REPEAT, 0) + 1, 5):
        passage = root_cause[start : start + _REPEAT]
        if len(passage) == _REPEAT and summary.count(passage) > max(1, root_cause.count(passage)):
            return passage
    return None


def test_the_dev_corpus_is_there():
    assert len(DEV_CASES) >= 40


@pytest.mark.parametrize("case", DEV_CASES, ids=[c.id for c in DEV_CASES])
def test_dev_case_runs_and_reads_cleanly(case):
    report = investigate(case.request())
    assert report.summary.strip()
    assert report.root_cause.description.strip()
    assert debris(report, rca=case.expect.intent == "rca") == []
    assert len(report.api_result()["hypotheses"]) <= 5
    if report.hypotheses:
        assert report.hypotheses[0].subject
    names = {"message": case.message} | {a.name: a.content for a in case.attachments}  # output pasted in the question
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


def test_the_debris_check_catches_a_summary_that_repeats_its_root_cause_with_a_template_link():
    repeated = Report.model_validate(
        {
            "summary": "api: Secret 'payments-db' referenced by the pod does not exist. It explains why its container "
            "is crash-looping: secret 'payments-db' referenced by the pod does not exist.",
            "root_cause": {
                "description": "Secret 'payments-db' referenced by the pod does not exist",
                "confidence": 90,
            },
        }
    )
    problems = debris(repeated)
    assert any("template link 'It explains'" in p for p in problems)
    assert any("repeats" in p for p in problems)


def test_a_plain_paragraph_summary_passes_the_debris_check():
    plain = Report.model_validate(
        {
            "summary": "payments-api: Secret 'payments-db' referenced by the pod does not exist, so its container "
            "cannot start. KubePodCrashLooping fires when a container of the pod keeps restarting.",
            "root_cause": {"description": "Secret 'payments-db' does not exist", "confidence": 90},
        }
    )
    assert debris(plain) == []
