"""Scenario corpus for latency, error, deploy and dependency incidents (tests/engine/scenarios_part2/*.yaml).

Each scenario is recorded telemetry for the shop (metrics, logs, deploys, alerts, pods) served through the
demo data source, with distractors underneath: a busy, noisy but healthy inventory service and an unrelated
inventory deploy 80 minutes before. The report must name the right component and mechanism.
"""

from datetime import datetime
from pathlib import Path

import pytest
import yaml

from engine import InvestigationContext, InvestigationRequest, investigate

CORPUS = Path(__file__).parent.parent / "scenarios_part2"
SCENARIOS = sorted(CORPUS.glob("*.yaml"))
NOW = datetime.fromisoformat("2024-01-15T15:00:00+00:00")


def request_for(data):
    return InvestigationRequest(
        message=data["message"],
        context=InvestigationContext(**(data.get("context") or {})),
        data_sources={"demo": {"incident": data["incident"]}},
        now=NOW,
    )


def test_the_part2_corpus_has_at_least_twenty_scenarios():
    assert len(SCENARIOS) >= 20


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_scenario_root_cause_names_the_component_and_mechanism(path):
    data = yaml.safe_load(path.read_text())
    expect = data["expect"]
    report = investigate(request_for(data))
    description = report.root_cause.description.lower()
    assert expect["resource"].lower() in description, report.root_cause.description
    assert any(m.lower() in description for m in expect["mechanism"]), report.root_cause.description
    for wrong in expect.get("not", []):
        assert wrong.lower() not in description, report.root_cause.description
    low, high = expect.get("min_confidence", 70), expect.get("max_confidence", 100)
    assert low <= report.root_cause.confidence <= high, (report.root_cause.confidence, report.root_cause.description)
    for line in report.root_cause.evidence:
        label, _, excerpt = line.partition(" ")
        assert excerpt
        assert label.startswith("[tool:")
        assert label.removeprefix("[tool:").removesuffix("]") in report.tools_used
    stamps = [e.timestamp for e in report.timeline]
    assert stamps == sorted(stamps)
    assert report.demo_data
