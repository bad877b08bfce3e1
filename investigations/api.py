"""The Agent API (API.md §4): adapters from HTTP to one service or selector each.

Sync runs wait without a busy thread: ``agent_run`` is an async Django view. It runs the ordinary DRF pipeline
(authentication, rate limit, permissions, body limits, validation, ``investigation_start``) in a worker thread
through ``sync_to_async``; for a sync run that pipeline returns a not-yet-rendered DRF ``Response``
marked with the investigation to wait for. The async view then polls the row with ``asyncio.sleep``
between cheap reads and fills in the body; Django renders the response afterwards, so the rate-limit
headers, request id and optional envelope come from the same pipeline as every other endpoint. Under ASGI a
waiting sync run costs a sleeping coroutine, not a thread: the middleware stack runs on the event loop
(``incidentfox_web.middleware``), so nothing below it waits with the run, and status polls are not delayed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from asgiref.sync import sync_to_async
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from incidentfox_web.api.errors import ApiError
from incidentfox_web.api.formats import parse_input_time
from incidentfox_web.api.pagination import ApiPagination
from incidentfox_web.api.schema import ERROR_RESPONSES, TEAM_HEADER
from incidentfox_web.api.views import ApiView, ApiViewSet
from investigations import schemas
from investigations.engine_bridge import describe_team_agents
from investigations.models import ACTIVE_STATUSES, Investigation, Status
from investigations.presenters import STATUS_BODY_FIELDS, accepted_body, list_item, poll_url, status_body
from investigations.run_input import check_attachment_sizes, parse_idempotency_key, run_input
from investigations.runner import timeout_message
from investigations.selectors import (
    HistoryFilters,
    history_page_rows,
    investigation_for_team,
    investigation_history,
    investigation_total,
)
from investigations.services import (
    AgentDisabled,
    Idempotency,
    IdempotencyKeyReused,
    InvestigationFinished,
    UnknownAgent,
    investigation_cancel,
    investigation_finish,
    investigation_start,
)
from investigations.team_settings import TeamSettingsUnavailable, team_agent_settings, team_engine_settings

RUN_MAX_BODY_BYTES = 24 * 1024 * 1024  # 16 MiB of attachments plus JSON escaping; run_input names the field beyond
SYNC_GRACE = timedelta(seconds=5)
SYNC_POLL_FIRST = 0.05
SYNC_POLL_MAX = 0.5


class AgentRunView(ApiView):
    rate_bucket = "trigger"
    max_body_bytes = RUN_MAX_BODY_BYTES

    @extend_schema(
        summary="Start an investigation (sync: 200 with the final status body; async: 202)",
        request=schemas.RunIn,
        parameters=[
            TEAM_HEADER,
            OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER, required=False),
        ],
        responses={200: schemas.StatusBody, 202: schemas.Accepted, **ERROR_RESPONSES},
    )
    def post(self, request: Request) -> Response:
        data = self.body
        check_attachment_sizes(data)  # 413 comes before any 400
        run = run_input(self.validated(schemas.RunIn, data))
        key = parse_idempotency_key(request.headers.get("Idempotency-Key"))
        team = self.selected_team()
        idempotency = (
            Idempotency.for_body(key=key, credential=self.principal.rate_key, body=data) if key is not None else None
        )
        try:
            outcome = investigation_start(
                team=team,
                agent=run.agent,
                message=run.message,
                context=run.context,
                attachments=run.attachments,
                timeout_seconds=run.timeout_seconds,
                max_turns=run.max_turns,
                meta=self.request_meta(),
                idempotency=idempotency,
            )
        except UnknownAgent as exc:
            raise ApiError.invalid_request(
                str(exc), field="agent_name", details={"available_agents": exc.available}
            ) from exc
        except AgentDisabled as exc:
            raise ApiError.invalid_request(str(exc), field="agent_name") from exc
        except IdempotencyKeyReused as exc:
            raise ApiError.conflict(str(exc)) from exc

        investigation = outcome.investigation
        headers = {"Idempotent-Replayed": "true"} if outcome.replayed else {}
        if run.run_async:
            if outcome.replayed:  # a replay answers with the original run's current status (API.md §4.1)
                investigation.refresh_from_db(fields=["status"])
            # A new run is answered as accepted: ``pending``, even if a fast worker has already moved it on.
            headers["Location"] = poll_url(investigation.id)
            return Response(accepted_body(investigation), status=202, headers=headers)
        response = Response(None, status=200, headers=headers)
        response.awaiting_investigation = investigation.id  # type: ignore[attr-defined]
        return response


_run_pipeline = AgentRunView.as_view()


@csrf_exempt
async def agent_run(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    """``POST /agents/run``: the DRF pipeline in a thread, then (sync runs only) an asynchronous wait."""
    response: Response = await sync_to_async(_run_pipeline)(request, *args, **kwargs)
    investigation_id = getattr(response, "awaiting_investigation", None)
    if investigation_id is not None:
        response.data = await wait_for_terminal_body(investigation_id)
    return response


# drf-spectacular documents DRF view classes only; the async wrapper runs exactly AgentRunView's pipeline, so the
# schema describes that class (same permissions, body, errors) for the route served by ``agent_run``.
agent_run.cls = AgentRunView  # type: ignore[attr-defined]
agent_run.initkwargs = {}  # type: ignore[attr-defined]


async def wait_for_terminal_body(investigation_id: str) -> dict[str, Any]:
    """Poll until terminal; at the deadline mark the run failed/timeout by compare-and-set (API.md §4.1)."""
    delay = SYNC_POLL_FIRST
    while True:
        investigation = await Investigation.objects.aget(pk=investigation_id)
        if investigation.is_terminal:
            return status_body(investigation)
        now = timezone.now()
        if now >= investigation.deadline_at:
            await sync_to_async(investigation_finish)(
                investigation_id=investigation_id,
                status=Status.FAILED,
                from_statuses=ACTIVE_STATUSES,
                error_code="timeout",
                error_message=timeout_message(investigation),
            )
            continue
        remaining = (investigation.deadline_at - now).total_seconds()
        await asyncio.sleep(min(delay, max(remaining, 0.01)))
        delay = min(delay * 1.5, SYNC_POLL_MAX)


class InvestigationPages(ApiPagination):
    items_key = "investigations"
    default_limit = 20
    max_limit = 100


class InvestigationViewSet(ApiViewSet):
    """The team's investigations: the history list, one investigation's status, and cancelling it."""

    # Bound to the contract's paths in ``investigations.urls``: list and status live under different prefixes.

    pagination_class = InvestigationPages
    filters: HistoryFilters

    @extend_schema(summary="An investigation's status", responses={200: schemas.StatusBody, **ERROR_RESPONSES})
    def retrieve(self, request: Request, investigation_id: str) -> Response:
        return Response(status_body(self._investigation(investigation_id, fields=STATUS_BODY_FIELDS)))

    @extend_schema(
        summary="Cancel an investigation", request=None, responses={200: schemas.StatusBody, **ERROR_RESPONSES}
    )
    def cancel(self, request: Request, investigation_id: str) -> Response:
        investigation = self._investigation(investigation_id)
        try:
            investigation = investigation_cancel(investigation=investigation, meta=self.request_meta())
        except InvestigationFinished as exc:
            raise ApiError.conflict(str(exc), details={"status": exc.status}) from exc
        return Response(status_body(investigation))

    @extend_schema(
        summary="The team's investigations, newest first",
        parameters=[
            OpenApiParameter("status", str, required=False, description="Comma-separated statuses"),
            OpenApiParameter("agent", str, required=False),
            OpenApiParameter("since", str, required=False),
            OpenApiParameter("until", str, required=False),
            OpenApiParameter("q", str, required=False),
        ],
        responses={200: schemas.InvestigationSummary(many=True), **ERROR_RESPONSES},
    )
    def list(self, request: Request) -> Response:
        params = request.query_params
        self.filters = HistoryFilters(
            statuses=_parse_statuses(params.get("status")),
            agent=params.get("agent") or None,
            since=parse_input_time(params["since"], field="since") if params.get("since") else None,
            until=parse_input_time(params["until"], field="until") if params.get("until") else None,
            q=_parse_q(params.get("q")),
        )
        rows = investigation_history(team=self.selected_team(), filters=self.filters)
        page = self.paginate_queryset(history_page_rows(rows))
        return self.get_paginated_response([list_item(row) for row in page or []])

    def total(self, rows: Any) -> int:
        """Every match (``ApiPagination``): the unfiltered total comes from the team's counter."""
        return investigation_total(team=self.selected_team(), filters=self.filters, rows=rows)

    def _investigation(self, investigation_id: str, *, fields: Sequence[str] = ()) -> Investigation:
        investigation = investigation_for_team(
            team=self.selected_team(), investigation_id=investigation_id, fields=fields
        )
        if investigation is None:
            raise ApiError.not_found("Investigation not found")
        return investigation


class AgentListView(ApiView):
    @extend_schema(
        summary="The team's agents and the tools each can call",
        responses={200: schemas.AgentListOut, **ERROR_RESPONSES},
    )
    def get(self, request: Request) -> Response:
        team = self.selected_team()
        mcp_servers: list[Any] = []
        try:
            resolved = team_engine_settings(team)
            agents, data_sources, mcp_servers = resolved.agents, resolved.data_sources, resolved.mcp_servers
        except TeamSettingsUnavailable:
            agents, data_sources = team_agent_settings(team), {}
        described = describe_team_agents(agents, data_sources, mcp_servers)
        return Response(
            {
                "agents": [
                    {
                        "name": info.name,
                        "description": info.description,
                        "enabled": info.enabled,
                        "builtin": info.builtin,
                        "tools": info.tools,
                    }
                    for info in described
                ]
            }
        )


def _parse_statuses(value: str | None) -> list[str]:
    if not value:
        return []
    statuses = [part.strip() for part in value.split(",") if part.strip()]
    known = {choice.value for choice in Status}
    for status in statuses:
        if status not in known:
            raise ApiError.validation("status", f"must be a comma-separated list of {', '.join(sorted(known))}")
    return statuses


def _parse_q(value: str | None) -> str | None:
    if value is not None and len(value) > 200:
        raise ApiError.validation("q", "must be at most 200 characters")
    return value or None
