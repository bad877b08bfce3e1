"""The scenario corpus: each report names the right resource and cause, evidence quoted from the inputs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine import investigate
from tests.engine.scenario_loader import all_scenarios, load, problems

SCENARIOS = all_scenarios()


def test_the_corpus_has_at_least_forty_scenarios():
    assert len(SCENARIOS) >= 40


def _assert_evidence_is_quoted(evidence: list[str], attachments: dict[str, str], tools_used: list[str]) -> None:
    for line in evidence:
        label, _, excerpt = line.partition(" ")
        assert excerpt, line
        if label.startswith("[attachment:"):
            name = label.removeprefix("[attachment:").removesuffix("]")
            assert name in attachments, line
            escaped = json.dumps(excerpt)[1:-1]  # messages quoted from JSON query results are JSON-escaped there
            assert excerpt in attachments[name] or escaped in attachments[name], f"not verbatim in {name}: {excerpt!r}"
        else:
            assert label.startswith("[tool:"), line
            assert label.removeprefix("[tool:").removesuffix("]") in tools_used, line


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_scenario_report_names_the_right_resource_and_cause(path: Path):
    scenario = load(path)
    report = investigate(scenario.request)
    assert problems(scenario, report) == []
    attachments = {a.name: a.content for a in scenario.request.context.attachments}
    _assert_evidence_is_quoted(report.root_cause.evidence, attachments, report.tools_used)
    for hypothesis in report.hypotheses:
        _assert_evidence_is_quoted(hypothesis.evidence, attachments, report.tools_used)
    if report.root_cause.confidence >= 50:
        assert report.root_cause.evidence
        assert report.recommendations
    assert report.tools_used == ["read_attachment"]
    timestamps = [event.timestamp for event in report.timeline]
    assert timestamps == sorted(timestamps)


def test_the_same_input_gives_the_same_report():
    scenario = load(SCENARIOS[0])
    first = investigate(scenario.request).api_result()
    second = investigate(scenario.request).api_result()
    assert first == second


def test_a_missing_variable_that_kills_the_app_explains_the_crash_loop():
    scenario = load(Path(__file__).parent / "scenarios" / "missing_env_python.yaml")
    report = investigate(scenario.request)
    assert "SMTP_HOST" in report.root_cause.description
    assert any("crash-looping" in h.description and h.status == "supported" for h in report.hypotheses)


def test_a_stopped_database_outranks_the_upstream_connection_errors():
    scenario = load(Path(__file__).parent / "scenarios" / "dependency_db_down.yaml")
    report = investigate(scenario.request)
    assert "payments-db" in report.root_cause.description
    assert any("refused" in h.description for h in report.hypotheses)


def test_a_crash_with_a_plain_exit_code_refutes_the_memory_guess():
    scenario = load(Path(__file__).parent / "scenarios" / "pod_yaml_missing_env.yaml")
    report = investigate(scenario.request)
    assert any(h.status == "refuted" and "memory" in h.description for h in report.hypotheses)
