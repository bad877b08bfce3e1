"""Reads that are reused or not trivial: the team's history page and a team-scoped lookup by id."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import QuerySet
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


def investigation_for_team(*, team: Node, investigation_id: str) -> Investigation | None:
    """None for malformed ids, unknown ids and other teams' ids alike, so existence never leaks."""
    if not INVESTIGATION_ID_RE.match(investigation_id):
        return None
    investigation = Investigation.objects.for_team(team).filter(pk=investigation_id).first()
    if investigation is not None:
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
        rows = rows.filter(message__icontains=filters.q)
    return rows


def history_page_rows(rows: InvestigationQuerySet) -> QuerySet[Any, Any]:
    """Newest first, ties by id descending; only the columns the list shows (slice it for a page)."""
    return (
        rows.order_by("-created_at", "-id")
        .annotate(message_head=Left("message", LIST_MESSAGE_CHARS + 1))
        .values("id", "status", "agent", "message_head", "created_at")
    )


def investigation_total(*, team: Node, filters: HistoryFilters, rows: QuerySet[Investigation, Any]) -> int:
    """Every match; the unfiltered total comes from the team's counter row instead of counting the table."""
    if filters == HistoryFilters(statuses=[]):
        counted = TeamInvestigationCount.objects.filter(team=team).values_list("total", flat=True).first()
        if counted is not None:
            return counted
    return rows.count()
