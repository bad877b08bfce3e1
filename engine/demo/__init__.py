"""The demo environment: a small shop with recorded incidents, served through the normal connector interfaces.

A team whose config enables the ``demo`` data source (and nothing else) can investigate the incidents below
from the UI or API with the built-in agents. Reports from it set ``demo_data`` and say "(demo data)".

Pick an incident with ``data_sources={"demo": {"scenario": "bad-deploy"}}``; otherwise it is chosen from
``context.service`` and the words of the message ("checkout errors are up" -> bad-deploy).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from engine.demo.shop import INCIDENTS, NAMESPACE, ORG, Incident, incident_from_dict
from engine.models import InvestigationRequest

__all__ = ["DemoIncident", "demo_client", "demo_incidents", "demo_plan_settings", "pick_incident"]


@dataclass(frozen=True)
class DemoIncident:
    """What the web app shows as a one-click example."""

    name: str
    title: str
    message: str
    service: str
    namespace: str


def demo_incidents() -> list[DemoIncident]:
    return [DemoIncident(i.name, i.title, i.message, i.service, NAMESPACE) for i in INCIDENTS.values()]


def pick_incident(settings: Mapping[str, Any], request: InvestigationRequest) -> Incident:
    recorded = settings.get("incident")
    if isinstance(recorded, dict):
        return incident_from_dict(recorded)
    chosen = settings.get("scenario")
    if isinstance(chosen, str) and chosen in INCIDENTS:
        return INCIDENTS[chosen]
    text = " ".join(filter(None, [request.message, request.context.hint, request.context.related_alert])).lower()
    service = (request.context.service or "").lower()

    def score(incident: Incident) -> tuple[int, int]:
        words = sum(1 for k in incident.keywords if k in text)
        return (
            words + (2 if service and service == incident.service else 0),
            -list(INCIDENTS).index(incident.name),
        )

    return max(INCIDENTS.values(), key=score)


def demo_client(source: str, settings: Mapping[str, Any], request: InvestigationRequest) -> Any:
    """The demo stand-in for ``source``'s client, anchored on the request's reference time."""
    from engine.connectors import ToolFailure
    from engine.demo.clients import DemoGitHub, DemoKubernetes, DemoLogs, DemoPrometheus

    incident = pick_incident(settings, request)
    now = request.reference_now().timestamp()
    factories: dict[str, Any] = {
        "prometheus": DemoPrometheus,
        "loki": DemoLogs,
        "github": DemoGitHub,
        "kubernetes": DemoKubernetes,
    }
    factory = factories.get(source)
    if factory is None:
        raise ToolFailure(f"The demo environment has no {source} data")
    return factory(incident, now)


def demo_plan_settings(sources: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """Settings the plans see for the sources the demo stands in for (real ones configured win)."""
    virtual: dict[str, dict[str, Any]] = {
        "kubernetes": {"default_namespace": NAMESPACE},
        "prometheus": {},
        "loki": {},
        "github": {"default_org": ORG},
    }
    return {**virtual, **{k: dict(v) for k, v in sources.items()}}
