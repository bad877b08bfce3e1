"""The worker side of a run: claim it, call the engine with progress and cancellation wired to the row.

A heartbeat thread renews the run's lease while the engine works (so a long tool call never looks like a dead
worker) and ends the run as ``failed``/``timeout`` at its deadline even if a tool call hangs. Every write is a
compare-and-set on ``(id, status=running, attempt)``: once the sweeper has re-queued or failed a run, the old
attempt's writes change nothing.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from datetime import timedelta

from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.utils import timezone

from investigations.engine_bridge import EngineFailure, EngineRun, ToolCallRecord, run_engine, tool_source
from investigations.events import investigation_progressed
from investigations.models import (
    ERROR_MESSAGE_MAX_CHARS,
    OUTPUT_EXCERPT_MAX_CHARS,
    Investigation,
    InvestigationAttachments,
    InvestigationStep,
    Status,
)
from investigations.services import (
    investigation_enqueue_later,
    investigation_finish,
    investigations_can_wait_for_capacity,
)
from investigations.team_settings import TeamSettingsUnavailable, team_engine_settings
from knowledge.retrieval import investigation_retriever
from ops.metrics import INVESTIGATIONS_DEFERRED, TOOL_CALL_DURATION, TOOL_CALL_FAILURES
from tenancy.models import Organization

logger = logging.getLogger("incidentfox.investigations")

# error.code values the API documents (§4.2); any other engine code is reported as internal_error.
API_ERROR_CODES = frozenset(
    {"timeout", "data_source_unavailable", "llm_unavailable", "invalid_attachment", "configuration_error"}
)


def lease_seconds() -> int:
    return int(getattr(settings, "INVESTIGATIONS_LEASE_SECONDS", 30))


def heartbeat_seconds() -> float:
    return float(getattr(settings, "INVESTIGATIONS_HEARTBEAT_SECONDS", 5))


def worker_identity() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"[:64]


def timeout_message(investigation: Investigation) -> str:
    return f"Investigation exceeded its {investigation.timeout_seconds} s timeout"


class OrgAtCapacity(Exception):
    """The run's org already has its cap of investigations running; the run stays pending."""


def investigation_claim(*, investigation_id: str, attempt: int, worker_id: str, org_cap: int | None = None) -> bool:
    """Take the run for this attempt; False if another worker has it or it is no longer runnable.

    With ``org_cap`` a first attempt is taken only while its org has fewer running investigations, else
    ``OrgAtCapacity``; the org row is locked for the check, so concurrent claims of one org never overshoot."""
    now = timezone.now()
    lease_until = now + timedelta(seconds=lease_seconds())
    if attempt == 1:
        pending = Investigation.objects.filter(
            pk=investigation_id, status=Status.PENDING, attempt=0, deadline_at__gt=now
        )
        with transaction.atomic():
            if org_cap is not None:
                org_id = pending.values_list("org_id", flat=True).first()
                if org_id is None:
                    return False
                _lock_org(org_id)
                if Investigation.objects.filter(org_id=org_id, status=Status.RUNNING).count() >= org_cap:
                    raise OrgAtCapacity(org_id)
            return (
                pending.update(
                    status=Status.RUNNING,
                    attempt=1,
                    worker_id=worker_id,
                    started_at=now,
                    lease_expires_at=lease_until,
                )
                == 1
            )
    return (
        Investigation.objects.filter(
            pk=investigation_id, status=Status.RUNNING, attempt=attempt, worker_id="", deadline_at__gt=now
        ).update(worker_id=worker_id, lease_expires_at=lease_until)
        == 1
    )


def _lock_org(org_id: int) -> None:
    """Hold the org's row until the transaction ends, so claims of one org are counted one at a time."""
    Organization.objects.select_for_update().filter(pk=org_id).values_list("pk", flat=True).first()


def investigation_execute(*, investigation_id: str, attempt: int) -> None:
    """Run one claimed attempt to its terminal state. A duplicate delivery of the task is a no-op."""
    worker_id = worker_identity()
    org_cap = settings.INVESTIGATIONS_MAX_RUNNING_PER_ORG if investigations_can_wait_for_capacity() else None
    try:
        claimed = investigation_claim(
            investigation_id=investigation_id, attempt=attempt, worker_id=worker_id, org_cap=org_cap
        )
    except OrgAtCapacity:
        INVESTIGATIONS_DEFERRED.inc()
        investigation_enqueue_later(
            investigation_id=investigation_id, seconds=settings.INVESTIGATIONS_ORG_CAP_RETRY_SECONDS
        )
        return
    if not claimed:
        logger.info("Investigation %s attempt %s was not claimable; skipping", investigation_id, attempt)
        return
    investigation = Investigation.objects.select_related("team", "team__org").get(pk=investigation_id)
    mine = Investigation.objects.filter(pk=investigation_id, status=Status.RUNNING, attempt=attempt)

    try:
        team_settings = team_engine_settings(investigation.team)
    except TeamSettingsUnavailable as exc:
        investigation_finish(
            investigation_id=investigation_id,
            status=Status.FAILED,
            from_statuses=(Status.RUNNING,),
            attempt=attempt,
            error_code=exc.code,
            error_message=str(exc),
            tools_used=[],
        )
        return

    attachments = InvestigationAttachments.objects.filter(investigation=investigation).values_list("items", flat=True)
    tools_used: list[str] = []

    def on_progress(step: str, completed: int, total: int) -> None:
        mine.update(
            progress_step=step[:500],
            steps_completed=completed,
            steps_total=max(total, completed),
            lease_expires_at=timezone.now() + timedelta(seconds=lease_seconds()),
        )
        investigation_progressed.send_robust(sender=Investigation, investigation_id=investigation_id)

    def on_tool_call(call: ToolCallRecord) -> None:
        source = tool_source(call.tool)
        TOOL_CALL_DURATION.labels(source=source).observe(max(0, call.duration_ms) / 1000)
        if not call.ok:
            TOOL_CALL_FAILURES.labels(source=source).inc()
        InvestigationStep.objects.create(
            investigation=investigation,
            attempt=attempt,
            seq=call.seq,
            tool=call.tool[:100],
            params=call.params,
            started_at=call.started_at,
            duration_ms=max(0, call.duration_ms),
            ok=call.ok,
            error=call.error[:ERROR_MESSAGE_MAX_CHARS],
            output_excerpt=call.output_excerpt[:OUTPUT_EXCERPT_MAX_CHARS],
            series=call.series,
        )
        if call.tool not in tools_used:
            tools_used.append(call.tool)
            mine.update(tools_used=tools_used)

    def should_cancel() -> bool:
        return not mine.filter(cancel_requested=False).exists()

    heartbeat = _Heartbeat(investigation, attempt)
    heartbeat.start()
    try:
        outcome = run_engine(
            EngineRun(
                agent=investigation.agent,
                message=investigation.message,
                context=dict(investigation.context),
                attachments=list(attachments.first() or []),
                data_sources=team_settings.data_sources,
                agents=team_settings.agents,
                llm=None if investigation.without_llm else team_settings.llm,
                secrets=team_settings.secrets,
                mcp_servers=team_settings.mcp_servers,
                deadline=investigation.deadline_at,
                max_steps=investigation.max_turns,
            ),
            on_progress=on_progress,
            on_tool_call=on_tool_call,
            should_cancel=should_cancel,
            knowledge=investigation_retriever(team=investigation.team, investigation_id=investigation_id),
        )
    except EngineFailure as failure:
        _record_failure(investigation, attempt, failure, tools_used)
        return
    except Exception:
        logger.exception("Investigation %s failed unexpectedly", investigation_id)
        investigation_finish(
            investigation_id=investigation_id,
            status=Status.FAILED,
            from_statuses=(Status.RUNNING,),
            attempt=attempt,
            error_code="internal_error",
            error_message="The investigation failed unexpectedly",
            tools_used=tools_used,
        )
        return
    finally:
        heartbeat.stop()
    investigation_finish(
        investigation_id=investigation_id,
        status=Status.COMPLETED,
        from_statuses=(Status.RUNNING,),
        attempt=attempt,
        result=outcome.result,
        tools_used=outcome.tools_used,
        demo_data=outcome.demo_data,
        written_by=outcome.written_by,
        llm_usage=outcome.llm_usage,
    )


def _record_failure(investigation: Investigation, attempt: int, failure: EngineFailure, seen: list[str]) -> None:
    tools_used = failure.tools_used or seen
    if failure.code == "cancelled":
        investigation_finish(
            investigation_id=investigation.id,
            status=Status.CANCELLED,
            from_statuses=(Status.RUNNING,),
            attempt=attempt,
            tools_used=tools_used,
        )
        return
    code = failure.code if failure.code in API_ERROR_CODES else "internal_error"
    message = timeout_message(investigation) if code == "timeout" else failure.message
    investigation_finish(
        investigation_id=investigation.id,
        status=Status.FAILED,
        from_statuses=(Status.RUNNING,),
        attempt=attempt,
        error_code=code,
        error_message=message,
        tools_used=tools_used,
        # The deterministic draft the model could not review: the page shows it beneath the failure.
        result=failure.draft if code == "llm_unavailable" else None,
    )


class _Heartbeat:
    """Renews the lease every few seconds and enforces the deadline; uses (and closes) its own connection."""

    def __init__(self, investigation: Investigation, attempt: int) -> None:
        self.investigation = investigation
        self.attempt = attempt
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"heartbeat-{investigation.id}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        try:
            while not self._stopped.wait(heartbeat_seconds()):
                close_old_connections()
                if timezone.now() >= self.investigation.deadline_at:
                    investigation_finish(
                        investigation_id=self.investigation.id,
                        status=Status.FAILED,
                        from_statuses=(Status.RUNNING,),
                        attempt=self.attempt,
                        error_code="timeout",
                        error_message=timeout_message(self.investigation),
                    )
                    return
                renewed = Investigation.objects.filter(
                    pk=self.investigation.id, status=Status.RUNNING, attempt=self.attempt
                ).update(lease_expires_at=timezone.now() + timedelta(seconds=lease_seconds()))
                if not renewed:
                    return
        except Exception:
            logger.exception("Heartbeat for investigation %s failed", self.investigation.id)
        finally:
            connection.close()
