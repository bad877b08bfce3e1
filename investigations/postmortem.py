"""A blameless postmortem draft written from a completed investigation, and saving it to the knowledge base.

The draft is deterministic: every statement comes from the investigation's own result (summary, root cause and
its evidence, the other hypotheses, timeline, recommendations) or its record (who or what started it, when).
What went well and badly is left for the people who were there. With ``llm`` in the team's config the team's
model rewrites the Markdown from the draft; the JSON sections stay the draft's. Saving stores the Markdown as a
``postmortem`` document of the team, keyed by the investigation, so a later investigation of the same service
finds it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils.dateparse import parse_datetime

from incidentfox_web.api.formats import iso_z
from investigations.engine_bridge import write_with_team_model
from investigations.models import Investigation, Status, TriggerSource
from investigations.team_settings import team_engine_settings
from knowledge.models import DocType, KnowledgeDocument
from knowledge.services import DocumentInput, document_teach
from tenancy.audit import RequestMeta

LEFT_FOR_PEOPLE = "_For the people who handled the incident to write: this draft only knows what the data showed._"
INSTRUCTIONS = (
    "You edit a blameless incident postmortem. Rewrite the draft below into clear, concise Markdown for "
    "engineers, keeping every section heading, every timestamp, every evidence line (verbatim, with its [tool:…] "
    "or [attachment:…] prefix) and every action item. Add no facts that are not in the draft, name no person as "
    "a cause, and leave the 'What went well' and 'What went badly' sections for people to fill in."
)


class PostmortemUnavailable(Exception):
    """The investigation has not completed, so there is nothing to write up."""

    def __init__(self, status: str) -> None:
        super().__init__(f"Investigation is {status}: only a completed investigation has a postmortem")
        self.status = status


@dataclass(frozen=True)
class Postmortem:
    investigation_id: str
    title: str
    markdown: str
    sections: dict[str, Any]
    service: str
    occurred_at: datetime
    written_by: str | None = None


def postmortem_draft(*, investigation: Investigation) -> Postmortem:
    """The deterministic draft. Raises ``PostmortemUnavailable`` unless the investigation completed."""
    if investigation.status != Status.COMPLETED or not investigation.result:
        raise PostmortemUnavailable(investigation.status)
    result: dict[str, Any] = investigation.result
    context: dict[str, Any] = investigation.context or {}
    timeline = list(result.get("timeline") or [])
    occurred_at = _first_time(timeline) or investigation.created_at
    root = result.get("root_cause") or {}
    affected = list(result.get("affected_systems") or [])
    service = str(context.get("service") or (affected[0] if affected else ""))
    sections = {
        "summary": result.get("summary", ""),
        "impact": _impact(context, affected, timeline),
        "detection": _detection(investigation, context),
        "timeline": [{"timestamp": e["timestamp"], "event": e["event"]} for e in timeline],
        "root_cause": {
            "description": root.get("description", ""),
            "confidence": root.get("confidence", 0),
            "evidence": list(root.get("evidence") or []),
        },
        "contributing_factors": _contributing(result, root.get("description", "")),
        "what_went_well": [],
        "what_went_badly": [],
        "action_items": [
            {"priority": rec["priority"], "action": rec["action"], "owner": None}
            for rec in result.get("recommendations") or []
        ],
    }
    title = f"Postmortem {occurred_at.date().isoformat()}: {root.get('description') or result.get('summary', '')}"
    title = title[:300]
    return Postmortem(
        investigation_id=investigation.id,
        title=title,
        markdown=_markdown(title, investigation, sections),
        sections=sections,
        service=service,
        occurred_at=occurred_at,
    )


def postmortem_write(*, investigation: Investigation) -> Postmortem:
    """The draft, rewritten by the team's model in LLM mode. Raises ``EngineFailure`` if the provider fails."""
    draft = postmortem_draft(investigation=investigation)
    written = write_with_team_model(
        team_engine_settings(investigation.team).llm, instructions=INSTRUCTIONS, prompt=draft.markdown
    )
    if written is None:
        return draft
    return Postmortem(
        investigation_id=draft.investigation_id,
        title=draft.title,
        markdown=written.markdown,
        sections=draft.sections,
        service=draft.service,
        occurred_at=draft.occurred_at,
        written_by=written.written_by,
    )


def postmortem_save(*, investigation: Investigation, postmortem: Postmortem, meta: RequestMeta) -> KnowledgeDocument:
    """Store the postmortem as the team's ``postmortem`` document for this investigation (saving again updates it)."""
    taught = document_teach(
        node=investigation.team,
        key=f"postmortem:{investigation.id}",
        data=DocumentInput(
            content=postmortem.markdown,
            doc_type=DocType.POSTMORTEM,
            title=postmortem.title,
            service=postmortem.service,
            tags=["postmortem"],
            source_investigation_id=investigation.id,
            occurred_at=postmortem.occurred_at,
        ),
        meta=meta,
    )
    return taught.document


def _first_time(timeline: list[dict[str, Any]]) -> datetime | None:
    times = [t for t in (parse_datetime(str(e.get("timestamp", ""))) for e in timeline) if t is not None]
    return min(times) if times else None


def _impact(context: dict[str, Any], affected: list[str], timeline: list[dict[str, Any]]) -> dict[str, Any]:
    times = sorted(t for t in (parse_datetime(str(e.get("timestamp", ""))) for e in timeline) if t is not None)
    duration = int((times[-1] - times[0]).total_seconds()) if len(times) > 1 else None
    return {
        "affected_systems": affected,
        "started_at": iso_z(times[0]) if times else None,
        "last_observed_at": iso_z(times[-1]) if times else None,
        "observed_duration_seconds": duration,
        "environment": context.get("environment"),
        "severity": context.get("severity"),
    }


def _detection(investigation: Investigation, context: dict[str, Any]) -> dict[str, Any]:
    alerting = investigation.trigger_source not in (TriggerSource.API, TriggerSource.WEB)
    return {
        "alert": context.get("alert_name") or context.get("related_alert"),  # webhooks: name + fingerprint
        "trigger_source": investigation.trigger_source,
        "started_by": investigation.requested_by,
        "investigation_started_at": iso_z(investigation.created_at),
        "investigation_completed_at": iso_z(investigation.finished_at),
        "automatic": alerting,
    }


def _contributing(result: dict[str, Any], root_description: str) -> list[dict[str, Any]]:
    return [
        {
            "description": h["description"],
            "status": h.get("status", "inconclusive"),
            "confidence": h.get("confidence", 0),
            "evidence": list(h.get("evidence") or []),
        }
        for h in result.get("hypotheses") or []
        if h.get("description") != root_description
    ]


def _markdown(title: str, investigation: Investigation, sections: dict[str, Any]) -> str:
    impact, detection, root = sections["impact"], sections["detection"], sections["root_cause"]
    lines = [
        f"# {title}",
        "",
        f"_Blameless draft written from investigation {investigation.id}: it describes systems, signals and "
        "decisions, not people._",
        "",
        "## Summary",
        "",
        sections["summary"] or "No summary was recorded.",
        "",
        "## Impact",
        "",
        f"- Affected systems: {', '.join(impact['affected_systems']) or 'none identified'}",
    ]
    if impact["started_at"]:
        duration = impact["observed_duration_seconds"]
        span = f" ({_duration(duration)})" if duration else ""
        lines.append(f"- Observed from {impact['started_at']} to {impact['last_observed_at']}{span}")
    for key in ("environment", "severity"):
        if impact[key]:
            lines.append(f"- {key.capitalize()}: {impact[key]}")
    source = TriggerSource(detection["trigger_source"]).label
    lines += ["", "## Detection", ""]
    if detection["alert"]:
        lines.append(f"- Alert: {detection['alert']}")
    lines += [
        f"- Investigation started {detection['investigation_started_at']} from {source} by {detection['started_by']}",
        "",
        "## Timeline",
        "",
    ]
    if sections["timeline"]:
        lines += ["| Time (UTC) | Event |", "| --- | --- |"]
        lines += [f"| {e['timestamp']} | {_cell(e['event'])} |" for e in sections["timeline"]]
    else:
        lines.append("No timestamped events were observed.")
    lines += ["", "## Root cause", "", f"{root['description']} (confidence {root['confidence']}%)", ""]
    if root["evidence"]:
        lines += ["Evidence:", "", *[f"- {line}" for line in root["evidence"]]]
    lines += ["", "## Contributing factors", ""]
    factors = sections["contributing_factors"]
    lines += [f"- {f['description']} ({f['status']}, confidence {f['confidence']}%)" for f in factors] or [
        "No other hypotheses were weighed."
    ]
    lines += ["", "## What went well", "", LEFT_FOR_PEOPLE, "", "## What went badly", "", LEFT_FOR_PEOPLE, ""]
    lines += ["## Action items", ""]
    if sections["action_items"]:
        lines += ["| Priority | Action | Owner |", "| --- | --- | --- |"]
        lines += [f"| {item['priority']} | {_cell(item['action'])} |  |" for item in sections["action_items"]]
    else:
        lines.append("No action items were recommended.")
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _duration(seconds: int) -> str:
    minutes, secs = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    parts = [
        f"{hours} h" if hours else "",
        f"{minutes} min" if minutes else "",
        f"{secs} s" if secs and not hours else "",
    ]
    return " ".join(part for part in parts if part) or "0 s"
