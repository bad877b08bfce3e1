"""Launching an investigation, its page, its live status card (HTMX-polled) and cancelling it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from incidentfox_web.oidc import is_htmx
from investigations.engine_bridge import describe_team_agents
from investigations.models import Investigation, InvestigationAttachments, InvestigationStep, Status, TriggerSource
from investigations.services import (
    AgentDisabled,
    InvestigationFinished,
    UnknownAgent,
    investigation_cancel,
    investigation_start,
)
from investigations.team_settings import team_agent_settings
from knowledge.selectors import matches_for_investigation
from teamconfig.selectors import effective_config_for_team
from tenancy.models import TOKEN_PREFIX, ApiToken, Node
from web.access import TeamChoice, access_of, get_for_principal_or_404, member_required, request_meta, team_or_404
from web.forms import InvestigationForm
from web.pages import render_page
from web.results import call_anchor, distinct_calls, result_view

POLL_EVERY = "2s"
TOKEN_ID_PREFIXES = tuple(TOKEN_PREFIX.values())
# A pending run nobody has picked up for this long gets "no worker seems to be running" on its card.
NO_WORKER_AFTER = timedelta(seconds=20)


def enabled_agents(team: Node) -> list[tuple[str, str]]:
    return [(a.name, a.description) for a in describe_team_agents(team_agent_settings(team), {}) if a.enabled]


def demo_examples(team: Node) -> list[Any]:
    """The demo environment's recorded incidents, offered as one-click examples when the team uses it."""
    tools = effective_config_for_team(team).get("tools") or {}
    demo = tools.get("demo") if isinstance(tools, dict) else None
    if not (isinstance(demo, dict) and demo.get("enabled") is True):
        return []
    from engine.demo import demo_incidents

    return list(demo_incidents())


@member_required
@require_http_methods(["GET", "POST"])
def investigation_new(request: HttpRequest, team_id: str) -> HttpResponse:
    team, choice = team_or_404(request, team_id)
    if not choice.can_operate:
        raise PermissionDenied("Viewers cannot start investigations")
    agents = enabled_agents(team)
    examples = demo_examples(team)
    chosen = next((e for e in examples if e.name == request.GET.get("example")), None)
    initial = {"message": chosen.message, "service": chosen.service, "namespace": chosen.namespace} if chosen else {}
    form = InvestigationForm(request.POST or None, request.FILES or None, agents=agents, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            outcome = investigation_start(
                team=team,
                agent=form.cleaned_data["agent"],
                message=form.cleaned_data["message"],
                context=form.investigation_context(),
                attachments=form.cleaned_data["attachments"],
                timeout_seconds=None,
                max_turns=None,
                trigger_source=TriggerSource.WEB,
                meta=request_meta(request),
            )
        except (UnknownAgent, AgentDisabled) as exc:
            form.add_error("agent", str(exc))
        else:
            return redirect("web:investigation", investigation_id=outcome.investigation.pk)
    context = {"form": form, "examples": examples}
    return render_page(request, "web/investigation_new.html", context, team=choice, nav="new")


def started_by(investigation: Investigation) -> str:
    """Who started the run as a person reads it: an API token's label (and id) rather than the bare token id."""
    actor = investigation.requested_by
    if actor.startswith(TOKEN_ID_PREFIXES):
        label = ApiToken.objects.filter(token_id=actor, org_id=investigation.org_id).values_list("label", flat=True)
        found = label.first()
        if found:
            return f"token “{found}” ({actor})"
    return actor


def _investigation(request: HttpRequest, investigation_id: str) -> Investigation:
    principal = access_of(request).principal
    queryset = Investigation.objects.select_related("team").defer("context", "idempotency_fingerprint")
    return get_for_principal_or_404(queryset, principal, pk=investigation_id)


def _elapsed(investigation: Investigation) -> timedelta:
    start = investigation.started_at or investigation.created_at
    end = investigation.finished_at or timezone.now()
    return max(end - start, timedelta(0))


def _live_steps(investigation: Investigation) -> list[InvestigationStep]:
    """The current attempt's tool calls so far, shown on the card while the run is active."""
    if investigation.status != Status.RUNNING:
        return []
    rows = InvestigationStep.objects.filter(investigation=investigation, attempt=investigation.attempt)
    return list(rows.defer("output_excerpt", "series").order_by("seq"))


def card_context(investigation: Investigation, choice: TeamChoice | None) -> dict[str, Any]:
    total = max(investigation.steps_total, investigation.steps_completed)
    percent = round(100 * investigation.steps_completed / total) if total else 0
    waiting = timezone.now() - investigation.created_at
    return {
        "live_steps": distinct_calls(_live_steps(investigation), by_output=False),
        "no_worker": investigation.status == Status.PENDING and waiting >= NO_WORKER_AFTER,
        "no_worker_after": int(NO_WORKER_AFTER.total_seconds()),
        "investigation": investigation,
        "terminal": investigation.is_terminal,
        "poll_every": POLL_EVERY,
        "steps_total": total,
        "percent": percent,
        "elapsed_seconds": int(_elapsed(investigation).total_seconds()),
        "can_cancel": bool(choice and choice.can_operate) and not investigation.is_terminal,
        "can_rerun": bool(choice and choice.can_operate) and investigation.is_terminal,
    }


def _steps(investigation: Investigation) -> list[InvestigationStep]:
    return list(InvestigationStep.objects.filter(investigation=investigation).order_by("attempt", "seq"))


def _shows_draft(investigation: Investigation) -> bool:
    """A run whose model failed keeps the deterministic draft; the page shows it under the failure."""
    return investigation.status == Status.FAILED and investigation.error_code == "llm_unavailable"


def _result_context(investigation: Investigation) -> dict[str, Any]:
    steps = _steps(investigation) if investigation.is_terminal else []
    shown = investigation.status == Status.COMPLETED or _shows_draft(investigation)
    return {
        "result": result_view(investigation.result, steps) if shown else None,
        "draft": _shows_draft(investigation) and investigation.result is not None,
        "steps": [(call_anchor(s.seq, s.attempt), s, repeats) for s, repeats in distinct_calls(steps)],
        # The team's runbooks and postmortems this run's kb_retrieve calls found (shown under the result).
        "kb_matches": matches_for_investigation(investigation.team, investigation.pk)
        if investigation.is_terminal
        else [],
    }


@member_required
@require_GET
def investigation_detail(request: HttpRequest, investigation_id: str) -> HttpResponse:
    investigation = _investigation(request, investigation_id)
    choice = access_of(request).team(investigation.team.node_id)
    context = {
        **card_context(investigation, choice),
        **_result_context(investigation),
        "started_by": started_by(investigation),
    }
    return render_page(request, "web/investigation.html", context, team=choice, nav="history")


def _card_response(request: HttpRequest, investigation: Investigation) -> HttpResponse:
    choice = access_of(request).team(investigation.team.node_id)
    context = card_context(investigation, choice)
    if investigation.is_terminal:
        # The poll that sees the end also fills in the result, out of band, so no reload is needed.
        context.update(_result_context(investigation), oob_result=True)
    return TemplateResponse(request, "web/investigation.html#card", context)


@member_required
@require_GET
def investigation_card(request: HttpRequest, investigation_id: str) -> HttpResponse:
    """The status card alone: polled by htmx while the run is active; a terminal card carries no trigger."""
    return _card_response(request, _investigation(request, investigation_id))


def _operated(request: HttpRequest, investigation_id: str, *, refusal: str) -> Investigation:
    """The run, if the user may operate its team (else 403 with ``refusal``; another team's run is a 404)."""
    investigation = _investigation(request, investigation_id)
    choice = access_of(request).team(investigation.team.node_id)
    if choice is None or not choice.can_operate:
        raise PermissionDenied(refusal)
    return investigation


@member_required
@require_POST
def investigation_cancel_view(request: HttpRequest, investigation_id: str) -> HttpResponse:
    investigation = _operated(request, investigation_id, refusal="Viewers cannot cancel investigations")
    try:
        investigation = investigation_cancel(investigation=investigation, meta=request_meta(request))
    except InvestigationFinished as finished:
        messages.info(request, str(finished))
    if is_htmx(request):
        return _card_response(request, investigation)
    return redirect("web:investigation", investigation_id=investigation.pk)


@member_required
@require_POST
def investigation_rerun(request: HttpRequest, investigation_id: str) -> HttpResponse:
    """Start the same question again (same agent, context and attachments), optionally without the team's model."""
    investigation = _operated(request, investigation_id, refusal="Viewers cannot start investigations")
    source = Investigation.objects.only("context").get(pk=investigation.pk)
    attachments = InvestigationAttachments.objects.filter(investigation=investigation).values_list("items", flat=True)
    try:
        outcome = investigation_start(
            team=investigation.team,
            agent=investigation.agent,
            message=investigation.message,
            context=dict(source.context),
            attachments=list(attachments.first() or []),
            timeout_seconds=investigation.timeout_seconds,
            max_turns=investigation.max_turns,
            trigger_source=TriggerSource.WEB,
            meta=request_meta(request),
            without_llm=request.POST.get("without_llm") == "1",
        )
    except (UnknownAgent, AgentDisabled) as exc:
        messages.error(request, str(exc))
        return redirect("web:investigation", investigation_id=investigation.pk)
    return redirect("web:investigation", investigation_id=outcome.investigation.pk)
