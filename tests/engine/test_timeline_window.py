"""The timeline keeps to the incident: a pasted line dated years earlier (or a mistyped future year) is left out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from engine import Attachment, InvestigationContext, InvestigationRequest, investigate
from engine.analysis_context import AnalysisContext
from engine.models import TimelineEvent
from engine.report import within_incident

NOW = datetime(2026, 12, 7, 10, 5, tzinfo=UTC)
LOG = (
    "2019-03-02T08:00:00Z ERROR connection refused to db:5432\n"
    "2026-12-07T09:59:58Z INFO boot\n"
    "2026-12-07T10:00:01Z FATAL environment variable API_TOKEN is not set\n"
)


def _event(when: datetime, text: str = "something happened") -> TimelineEvent:
    return TimelineEvent(timestamp=when, event=text)


def test_a_pasted_log_line_dated_years_before_the_incident_does_not_open_the_timeline():
    request = InvestigationRequest(
        message="why is checkout down?",
        context=InvestigationContext(attachments=[Attachment(name="checkout.log", content=LOG)]),
        now=NOW,
    )
    report = investigate(request)
    assert report.timeline
    assert report.timeline[0].timestamp == datetime(2026, 12, 7, 10, 0, 1, tzinfo=UTC)
    assert all(event.timestamp.year == 2026 for event in report.timeline)


def test_entries_are_kept_within_a_week_of_the_stated_start_on_either_side():
    anchor = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    ctx = AnalysisContext(now=NOW, window=timedelta(hours=6), anchor=anchor)
    entries = [
        _event(anchor - timedelta(days=400)),
        _event(anchor - timedelta(days=6)),
        _event(anchor),
        _event(anchor + timedelta(days=6)),
        _event(anchor + timedelta(days=30)),
    ]
    assert within_incident(entries, ctx) == entries[1:4]


def test_a_long_window_widens_what_counts_as_the_incident():
    ctx = AnalysisContext(now=NOW, window=timedelta(days=3))
    twelve_days_ago = _event(NOW - timedelta(days=12))
    assert within_incident([twelve_days_ago, _event(NOW)], ctx) == [twelve_days_ago, _event(NOW)]


def test_a_replay_of_old_logs_is_centred_on_its_newest_entry_not_on_today():
    ctx = AnalysisContext(now=NOW, window=timedelta(hours=6))
    replay = [_event(datetime(2024, 1, 15, 10, 0, tzinfo=UTC)), _event(datetime(2024, 1, 15, 10, 5, tzinfo=UTC))]
    stray = _event(datetime(2021, 6, 1, tzinfo=UTC))
    assert within_incident([stray, *replay], ctx) == replay
