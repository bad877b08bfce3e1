"""The same failure in the other formats and phrasings real clusters print it: each variant is answered."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine import investigate
from tests.engine.corpus.score import check, load_case

VARIANTS = sorted((Path(__file__).parent / "variants").rglob("*.yaml"))


def test_variants_are_there():
    assert len(VARIANTS) >= 10


@pytest.mark.parametrize("path", VARIANTS, ids=[p.stem for p in VARIANTS])
def test_variant_root_cause_names_the_subject_and_the_decisive_detail(path):
    case = load_case(path, "dev")
    report = investigate(case.request())
    assert check(case, report) == []
    # output pasted into the question is read as an attachment named "message"
    contents = {"message": case.message} | {a.name: a.content for a in case.attachments}
    for line in report.root_cause.evidence:
        label, _, excerpt = line.partition("] ")
        name = label.removeprefix("[attachment:")
        assert name in contents, line
        text, quoted = contents[name].replace("\r", ""), excerpt.strip().split("...")[0]
        # a verbatim line, or a paraphrase ("HPA api AbleToScale=False: <message>") ending in what was printed
        assert quoted[:60] in text or quoted[-25:] in text or quoted.rsplit(" ", 1)[-1] in text, line
