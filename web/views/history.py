"""The team dashboard and the paginated, filterable, searchable history."""

from __future__ import annotations

from dataclasses import dataclass
from math import ceil

from django.db.models.fields.json import KT
from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET

from incidentfox_web.oidc import is_htmx
from investigations.models import ACTIVE_STATUSES, Investigation, InvestigationQuerySet
from investigations.selectors import HistoryFilters, investigation_history, investigation_total
from web.access import member_required, team_or_404
from web.forms import HistoryFilterForm
from web.pages import render_page
from web.views.investigations import enabled_agents

PAGE_SIZE = 25
LIST_FIELDS = (
    "id",
    "team_id",
    "agent",
    "message",
    "status",
    "created_at",
    "trigger_source",
    "steps_completed",
    "steps_total",
    "duration_ms",
    "requested_by",
)
DASHBOARD_RECENT = 10
DASHBOARD_REFRESH = "5s"


def _listed(queryset: InvestigationQuerySet) -> InvestigationQuerySet:
    """The listed columns plus the root cause's description (read from the result inside the database)."""
    return (
        queryset.only(*LIST_FIELDS)
        .annotate(root_cause=KT("result__root_cause__description"))
        .order_by("-created_at", "-id")
    )


def _active(team_runs: InvestigationQuerySet) -> list[Investigation]:
    """Pending and running runs, one exact (team, status, created_at) index range each, merged newest first."""
    runs = [run for status in ACTIVE_STATUSES for run in _listed(team_runs.filter(status=status))[:DASHBOARD_RECENT]]
    return sorted(runs, key=lambda run: (run.created_at, run.pk), reverse=True)[:DASHBOARD_RECENT]


@member_required
@require_GET
def dashboard(request: HttpRequest, team_id: str) -> HttpResponse:
    team, choice = team_or_404(request, team_id)
    team_runs = Investigation.objects.for_team(team)
    finished = team_runs.exclude(status__in=ACTIVE_STATUSES)  # a running item is listed once, under In progress
    context = {
        "team": team,
        "active": _active(team_runs),
        "recent": list(_listed(finished)[:DASHBOARD_RECENT]),
        "refresh_every": DASHBOARD_REFRESH,
    }
    # The page re-fetches its own lists every few seconds (htmx), so a run that starts or ends elsewhere shows up.
    template = "web/dashboard.html#lists" if is_htmx(request) else "web/dashboard.html"
    response = render_page(request, template, context, team=choice, nav="dashboard")
    patch_vary_headers(response, ["HX-Request"])
    return response


@dataclass(frozen=True)
class HistoryPage:
    rows: list[Investigation]
    number: int
    total: int

    @property
    def num_pages(self) -> int:
        return max(1, ceil(self.total / PAGE_SIZE))

    @property
    def previous_number(self) -> int | None:
        return self.number - 1 if self.number > 1 else None

    @property
    def next_number(self) -> int | None:
        return self.number + 1 if self.number < self.num_pages else None


def _page_number(raw: str | None) -> int:
    return int(raw) if raw and raw.isdigit() and int(raw) > 0 else 1


@member_required
@require_GET
def history(request: HttpRequest, team_id: str) -> HttpResponse:
    team, choice = team_or_404(request, team_id)
    agents = [name for name, _ in enabled_agents(team)]
    form = HistoryFilterForm(request.GET, agents=sorted(set(agents)))
    if form.is_valid():
        data = form.cleaned_data
        since, until = form.created_range()
        filters = HistoryFilters(
            statuses=list(data["status"]),
            agent=data["agent"] or None,
            since=since,
            until=until,
            q=data["q"] or None,
            q_everywhere=True,
        )
        rows = investigation_history(team=team, filters=filters)
        total = investigation_total(team=team, filters=filters, rows=rows)
    else:
        rows, total = Investigation.objects.none(), 0
    number = min(_page_number(request.GET.get("page")), max(1, ceil(total / PAGE_SIZE)))
    offset = (number - 1) * PAGE_SIZE
    page = HistoryPage(rows=list(_listed(rows)[offset : offset + PAGE_SIZE]), number=number, total=total)
    context = {"form": form, "page": page, "query": request.GET}
    template = "web/history.html#results" if is_htmx(request) else "web/history.html"
    response = render_page(request, template, context, team=choice, nav="history")
    patch_vary_headers(response, ["HX-Request"])
    return response
