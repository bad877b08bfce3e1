"""Reads that are reused or not trivial: the team's history page and a team-scoped lookup by id."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Q, QuerySet
from django.db.models.functions import Left

from investigations.models import Investigation, InvestigationQuerySet, TeamInvestigationCount
from investigations.presenters import LIST_MESSAGE_CHARS
from tenancy.models import Node

INVESTIGATION_ID_RE = re.compile(r"^inv_[A-Za-z0-9]{20}$")


@dataclass(frozen=True)
class HistoryFilters:
    statuses: list[str]
    agent: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    q: str | None = None
    # The web app's search: ``q`` also matches the root cause, affected systems, agent, id and trigger source
    # (the API's ``q`` is documented as a substring of ``message`` only).
    q_everywhere: bool = False


def investigation_for_team(*, team: Node, investigation_id: str, fields: Sequence[str] = ()) -> Investigation | None:
    """None for malformed ids, unknown ids and other teams' ids alike, so existence never leaks. With ``fields``
    only those columns are loaded (the status poll reads what its body shows, not the run's context or usage)."""
    if not INVESTIGATION_ID_RE.match(investigation_id):
        return None
    rows = Investigation.objects.for_team(team)
    if fields:
        rows = rows.only(*fields)
    try:
        investigation = rows.get(pk=investigation_id)  # a primary-key lookup: no ORDER BY, unlike first()
    except Investigation.DoesNotExist:
        return None
    investigation.team = team
    investigation.org = team.org
    return investigation


def investigation_history(*, team: Node, filters: HistoryFilters) -> InvestigationQuerySet:
    rows = Investigation.objects.for_team(team)
    if filters.statuses:
        rows = rows.filter(status__in=filters.statuses)
    if filters.agent is not None:
        rows = rows.filter(agent=filters.agent)
    if filters.since is not None:
        rows = rows.filter(created_at__gte=filters.since)
    if filters.until is not None:
        rows = rows.filter(created_at__lt=filters.until)
    if filters.q:
        rows = rows.filter(_search(filters.q) if filters.q_everywhere else Q(message__icontains=filters.q))
    return rows


def _search(q: str) -> Q:
    term = q.strip()
    return (
        Q(message__icontains=term)
        | Q(result__root_cause__description__icontains=term)
        | Q(result__affected_systems__icontains=term)
        | Q(agent__icontains=term)
        | Q(id__iexact=term)
        | Q(trigger_source__iexact=term)
    )


def history_page_rows(rows: InvestigationQuerySet) -> QuerySet[Any, Any]:
    """Newest first, ties by id descending; only the columns the list shows (slice it for a page)."""
    return (
        rows.order_by("-created_at", "-id")
        .annotate(message_head=Left("message", LIST_MESSAGE_CHARS + 1))
        .values("id", "status", "agent", "message_head", "created_at")
    )


def investigation_total(*, team: Node, filters: HistoryFilters, rows: QuerySet[Investigation, Any]) -> int:
    """Every match; the unfiltered total comes from the team's counter row instead of counting the table."""
    if filters in (HistoryFilters(statuses=[]), HistoryFilters(statuses=[], q_everywhere=True)):
        counted = TeamInvestigationCount.objects.filter(team=team).values_list("total", flat=True).first()
        if counted is not None:
            return counted
    return rows.count()
