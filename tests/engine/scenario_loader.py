"""Load scenario files (tests/engine/scenarios/*.yaml) into requests and expectations."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from engine import Attachment, InvestigationContext, InvestigationRequest, Report

SCENARIO_DIR = Path(__file__).parent / "scenarios"


@dataclass
class Scenario:
    name: str
    request: InvestigationRequest
    resource: str
    causes: list[str]
    max_confidence: int
    min_confidence: int


def load(path: Path) -> Scenario:
    data: dict[str, Any] = yaml.safe_load(path.read_text())
    context = dict(data.get("context") or {})
    context["attachments"] = [Attachment(**item) for item in data.get("attachments", [])]
    now = data.get("now")
    request = InvestigationRequest(
        message=data["message"],
        context=InvestigationContext(**context),
        now=datetime.fromisoformat(now.replace("Z", "+00:00"))
        if now
        else datetime.fromisoformat("2024-01-15T15:00:00+00:00"),
    )
    expect = data["expect"]
    return Scenario(
        name=path.stem,
        request=request,
        resource=expect.get("resource", ""),
        causes=list(expect["cause"]),
        max_confidence=int(expect.get("max_confidence", 100)),
        min_confidence=int(expect.get("min_confidence", 50 if expect.get("max_confidence") is None else 0)),
    )


def all_scenarios() -> list[Path]:
    return sorted(SCENARIO_DIR.glob("*.yaml"))


def problems(scenario: Scenario, report: Report) -> list[str]:
    """Why the report does not match the scenario's expectation (empty when it does)."""
    found: list[str] = []
    description = report.root_cause.description.lower()
    if scenario.resource and scenario.resource.lower() not in description:
        found.append(f"resource {scenario.resource!r} not in {report.root_cause.description!r}")
    if not any(cause.lower() in description for cause in scenario.causes):
        found.append(f"none of {scenario.causes} in {report.root_cause.description!r}")
    confidence = report.root_cause.confidence
    if not scenario.min_confidence <= confidence <= scenario.max_confidence:
        found.append(f"confidence {confidence} outside {scenario.min_confidence}..{scenario.max_confidence}")
    return found
