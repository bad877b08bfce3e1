"""The investigation result as the page shows it: confidence level, evidence linked to its tool call, charts.

Result semantics are API.md §4.6. Evidence strings start with ``[tool:<name>]`` or ``[attachment:<name>]``;
tool evidence links to the first call of that tool (preferring one that succeeded). Metric series recorded on
a tool call (``series``: ``[{"title", "points": [[ts, value], ...], "onset": ts | null}]``, stored by the runner
from the engine's tool-call log) become charts next to the evidence: the series whose title starts the evidence
text ("postgres saturation rose from ..."), or all of the call's series when none does.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from web.charts import Chart, build_chart

EVIDENCE_RE = re.compile(r"^\[(tool|attachment):([^\]]+)\]\s*(.*)$", re.DOTALL)
PRIORITY_ORDER = {"high": 0, "medium": 1, "low": 2}


@dataclass(frozen=True)
class Confidence:
    value: int
    level: str  # high, medium, low

    @property
    def label(self) -> str:
        return f"{self.level.capitalize()} confidence"


@dataclass(frozen=True)
class LogLine:
    text: str
    decisive: bool


@dataclass
class EvidenceItem:
    kind: str  # tool, attachment or other
    source: str
    text: str
    call_anchor: str | None = None
    charts: list[Chart] = field(default_factory=list)
    log_context: list[LogLine] = field(default_factory=list)  # the decisive line among its neighbours


LOG_NEIGHBOURS = 3
WORD_RE = re.compile(r"[A-Za-z0-9_.:/-]{3,}")


def log_context(output: str, evidence: str) -> list[LogLine]:
    """The output line the evidence quotes (most shared words, at least half of the evidence's), with up to
    ``LOG_NEIGHBOURS`` lines either side; empty when no line clearly matches or the output is a single line."""
    lines = [line for line in output.splitlines() if line.strip()]
    wanted = set(WORD_RE.findall(evidence))
    if len(lines) < 2 or not wanted:
        return []
    scores = [len(wanted & set(WORD_RE.findall(line))) for line in lines]
    best = max(range(len(lines)), key=lambda index: scores[index])
    if scores[best] * 2 < len(wanted):
        return []
    start, end = max(0, best - LOG_NEIGHBOURS), min(len(lines), best + LOG_NEIGHBOURS + 1)
    return [LogLine(text=lines[index][:500], decisive=index == best) for index in range(start, end)]


@dataclass
class Alternative:
    """A hypothesis the investigation weighed besides the root cause, with its strongest evidence line."""

    description: str
    confidence: Confidence
    status: str  # supported, refuted, inconclusive
    subject: str
    evidence: EvidenceItem | None


@dataclass
class ResultView:
    summary: str
    root_cause: str
    confidence: Confidence
    evidence: list[EvidenceItem]
    timeline: list[dict[str, str]]
    affected_systems: list[str]
    recommendations: list[dict[str, str]]
    alternatives: list[Alternative] = field(default_factory=list)


def confidence_of(value: Any) -> Confidence:
    number = max(0, min(100, int(value))) if isinstance(value, int | float) else 0
    level = "high" if number >= 80 else "medium" if number >= 50 else "low"
    return Confidence(value=number, level=level)


def call_anchor(seq: int, attempt: int = 1) -> str:
    return f"call-{attempt}-{seq}"


def _charts_of(step: Any, text: str = "") -> list[Chart]:
    """Charts of the step's series; when some series' title starts the evidence text, only those."""
    candidates = [series for series in getattr(step, "series", None) or [] if isinstance(series, dict)]
    named = [series for series in candidates if series.get("title") and text.startswith(str(series["title"]))]
    charts = []
    for series in named or candidates:
        points = [(p[0], p[1]) for p in series.get("points", []) if isinstance(p, list | tuple) and len(p) == 2]
        onset = series.get("onset")
        chart = build_chart(
            str(series.get("title", step.tool)),
            points,
            onset if isinstance(onset, int | float) else None,
            unit=str(series.get("unit") or ""),
        )
        if chart is not None:
            charts.append(chart)
    return charts


def distinct_calls(steps: Sequence[Any], *, by_output: bool = True) -> list[tuple[Any, int]]:
    """Each call once with how often it ran: a repeat of the same tool with the same parameters and the same
    outcome is folded into the first (evidence links point at first calls, so they stay valid).

    The engine no longer repeats a call within a run; runs stored before it stopped still hold repeats.
    ``by_output=False`` compares the outcome by ok/failed only (the live list does not load the output)."""
    seen: dict[str, int] = {}
    shown: list[tuple[Any, int]] = []
    for step in steps:
        outcome = [step.ok, step.output_excerpt] if by_output else [step.ok]
        key = json.dumps([step.tool, step.params, *outcome], sort_keys=True, default=str)
        if key in seen:
            first, count = shown[seen[key]]
            shown[seen[key]] = (first, count + 1)
            continue
        seen[key] = len(shown)
        shown.append((step, 1))
    return shown


def _first_calls(steps: Iterable[Any]) -> dict[str, Any]:
    """Tool name → the call evidence from it links to: the first successful call, else the first call."""
    chosen: dict[str, Any] = {}
    for step in steps:
        current = chosen.get(step.tool)
        if current is None or (not current.ok and step.ok):
            chosen[step.tool] = step
    return chosen


def evidence_items(evidence: Sequence[Any], steps: Sequence[Any]) -> list[EvidenceItem]:
    calls = _first_calls(steps)
    items = []
    for raw in evidence:
        if not isinstance(raw, str):
            continue
        match = EVIDENCE_RE.match(raw)
        if match is None:
            items.append(EvidenceItem(kind="other", source="", text=raw))
            continue
        kind, source, text = match.group(1), match.group(2).strip(), match.group(3)
        item = EvidenceItem(kind=kind, source=source, text=text)
        step = calls.get(source) if kind == "tool" else None
        if step is not None:
            item.call_anchor = call_anchor(step.seq, step.attempt)
            item.charts = _charts_of(step, text)
            if not item.charts:
                item.log_context = log_context(str(getattr(step, "output_excerpt", "") or ""), text)
        items.append(item)
    return items


def alternatives_of(hypotheses: Sequence[Any], root_cause: str, steps: Sequence[Any]) -> list[Alternative]:
    """The ranked hypotheses (API.md §4.6) other than the root cause itself, most likely first."""
    shown = []
    for raw in hypotheses:
        if not isinstance(raw, dict) or not raw.get("description"):
            continue
        description = str(raw["description"])
        if description.strip() == root_cause.strip():
            continue
        evidence = evidence_items([e for e in raw.get("evidence") or [] if isinstance(e, str)][:1], steps)
        shown.append(
            Alternative(
                description=description,
                confidence=confidence_of(raw.get("confidence")),
                status=str(raw.get("status") or "inconclusive"),
                subject=str(raw.get("subject") or ""),
                evidence=evidence[0] if evidence else None,
            )
        )
    shown.sort(key=lambda alternative: -alternative.confidence.value)
    return shown


def result_view(result: dict[str, Any] | None, steps: Sequence[Any]) -> ResultView | None:
    if not isinstance(result, dict):
        return None
    root = result.get("root_cause") if isinstance(result.get("root_cause"), dict) else {}
    assert isinstance(root, dict)
    recommendations = [r for r in result.get("recommendations") or [] if isinstance(r, dict)]
    recommendations.sort(key=lambda r: PRIORITY_ORDER.get(str(r.get("priority")), 3))
    root_cause = str(root.get("description") or "")
    return ResultView(
        summary=str(result.get("summary") or ""),
        root_cause=root_cause,
        confidence=confidence_of(root.get("confidence")),
        evidence=evidence_items(root.get("evidence") or [], steps),
        timeline=[t for t in result.get("timeline") or [] if isinstance(t, dict)],
        affected_systems=[s for s in result.get("affected_systems") or [] if isinstance(s, str)],
        recommendations=recommendations,
        alternatives=alternatives_of(result.get("hypotheses") or [], root_cause, steps),
    )
