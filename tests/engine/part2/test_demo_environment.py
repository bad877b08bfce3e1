"""The demo shop: every incident, investigated by the planner through the CLI, yields its intended cause."""

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from engine import InvestigationContext, InvestigationRequest, investigate
from engine.demo import demo_incidents, pick_incident
from engine.demo.shop import INCIDENTS

ROOT = Path(__file__).resolve().parents[3]


def run_cli(*args):
    out = subprocess.run(
        [sys.executable, "-m", "engine", "investigate", *args, "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(out.stdout)


@pytest.mark.parametrize("incident", list(INCIDENTS.values()), ids=list(INCIDENTS))
def test_each_demo_incident_suggested_message_yields_the_intended_root_cause(incident):
    report = run_cli(incident.message, "--demo")
    assert incident.expected_cause.lower() in report["root_cause"]["description"].lower()
    assert report["root_cause"]["confidence"] >= 80
    assert report["demo_data"] is True
    assert report["summary"].endswith("(demo data)")
    for line in report["root_cause"]["evidence"]:
        tool = line.split(" ", 1)[0].removeprefix("[tool:").removesuffix("]")
        assert tool in report["tools_used"]


def test_the_incident_can_be_chosen_explicitly():
    report = run_cli("what is going on?", "--demo", "node-memory-pressure")
    assert "memorypressure" in report["root_cause"]["description"].lower()


def test_the_demo_incident_list_is_exposed_for_one_click_examples():
    listed = demo_incidents()
    assert [i.name for i in listed] == list(INCIDENTS)
    assert all(i.message and i.service and i.namespace == "shop" for i in listed)


def test_the_service_in_context_picks_the_incident():
    request = InvestigationRequest(message="something is off", context=InvestigationContext(service="inventory"))
    assert pick_incident({}, request).name == "node-memory-pressure"


def test_demo_timestamps_follow_the_reference_time_and_repeat_exactly():
    now = datetime(2030, 6, 1, 12, 0, tzinfo=UTC)
    request = InvestigationRequest(message="checkout errors are up", data_sources={"demo": {}}, now=now)
    first, second = investigate(request), investigate(request)
    assert first.model_dump(exclude={"tool_calls"}) == second.model_dump(exclude={"tool_calls"})
    assert all(now.timestamp() - 3 * 3600 <= e.timestamp.timestamp() <= now.timestamp() for e in first.timeline)
    assert first.demo_data
