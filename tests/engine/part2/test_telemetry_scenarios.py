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


def scenario_problems(data, report):
    """What is wrong with ``report`` for scenario ``data`` (empty when it is right); the bench uses it too."""
    expect = data["expect"]
    description = report.root_cause.description.lower()
    problems = []
    if expect["resource"].lower() not in description:
        problems.append(f"root cause does not name {expect['resource']}")
    if not any(m.lower() in description for m in expect["mechanism"]):
        problems.append(f"root cause names none of the mechanisms {expect['mechanism']}")
    problems += [
        f"root cause names the distractor {wrong}" for wrong in expect.get("not", []) if wrong.lower() in description
    ]
    low, high = expect.get("min_confidence", 70), expect.get("max_confidence", 100)
    if not low <= report.root_cause.confidence <= high:
        problems.append(f"confidence {report.root_cause.confidence} outside {low}-{high}")
    for line in report.root_cause.evidence:
        label, _, excerpt = line.partition(" ")
        if not excerpt or not label.startswith("[tool:") or label[6:-1] not in report.tools_used:
            problems.append(f"evidence does not cite a tool of this run: {line}")
    stamps = [e.timestamp for e in report.timeline]
    if stamps != sorted(stamps):
        problems.append("timeline is not in time order")
    if not report.demo_data:
        problems.append("report is not marked as demo data")
    return problems


def load_part2(path):
    return yaml.safe_load(path.read_text())


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_scenario_root_cause_names_the_component_and_mechanism(path):
    data = load_part2(path)
    report = investigate(request_for(data))
    assert scenario_problems(data, report) == [], report.root_cause.description
