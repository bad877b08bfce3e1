"""Writes: start, cancel, finish. ``investigation_finish`` is the one place a terminal state is written.

Every state change is a compare-and-set ``UPDATE ... WHERE status IN (...)``, so a late writer (a worker whose
run already timed out, a second worker, a cancel racing a completion) changes nothing and the first terminal
state wins. Tasks and events are handed on only after commit.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from investigations.engine_bridge import describe_team_agents
from investigations.events import finished_event, investigation_finished, investigation_started
from investigations.models import (
    ACTIVE_STATUSES,
    ERROR_MESSAGE_MAX_CHARS,
    Investigation,
    InvestigationAttachments,
    Status,
    TeamInvestigationCount,
    TriggerSource,
)
from investigations.team_settings import team_agent_settings
from ops.metrics import INVESTIGATION_DURATION, INVESTIGATIONS_FINISHED, INVESTIGATIONS_STARTED
from tenancy.audit import RequestMeta, audit_record
from tenancy.models import Node

DEFAULT_TIMEOUT_SECONDS = 300
DEFAULT_MAX_TURNS = 25
IDEMPOTENCY_WINDOW = timedelta(hours=24)


class UnknownAgent(Exception):
    def __init__(self, name: str, available: list[str]) -> None:
        super().__init__(f"Unknown agent '{name}'")
        self.name = name
        self.available = available


class AgentDisabled(Exception):
    def __init__(self, name: str) -> None:
        super().__init__(f"Agent '{name}' is disabled for this team")
        self.name = name


class IdempotencyKeyReused(Exception):
    """The key was used within 24 h by the same credential and team for a different body."""


class AlertAlreadyInvestigated(Exception):
    """The team already has a pending or running run for this alert from this source (API.md §7 ``duplicate``)."""

    def __init__(self, investigation_id: str) -> None:
        super().__init__(investigation_id)
        self.investigation_id = investigation_id


class InvestigationFinished(Exception):
    def __init__(self, status: str) -> None:
        super().__init__(f"Investigation is already {status}")
        self.status = status


@dataclass(frozen=True)
class Idempotency:
    key: str
    credential: str
    fingerprint: str

    @classmethod
    def for_body(cls, *, key: str, credential: str, body: Any) -> Idempotency:
        canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return cls(key=key, credential=credential, fingerprint=hashlib.sha256(canonical.encode()).hexdigest())


@dataclass(frozen=True)
class StartOutcome:
    investigation: Investigation
    replayed: bool


def investigation_start(
    *,
    team: Node,
    agent: str,
    message: str,
    context: dict[str, Any],
    attachments: list[dict[str, Any]],
    timeout_seconds: int | None,
    max_turns: int | None,
    trigger_source: str = TriggerSource.API,
    meta: RequestMeta,
    idempotency: Idempotency | None = None,
    alert_fingerprint: str = "",
    team_agents: dict[str, dict[str, Any]] | None = None,
    without_llm: bool = False,
) -> StartOutcome:
    """Store a pending run and queue it after commit; an idempotent repeat returns the original run.

    With ``alert_fingerprint`` the database admits one active run per team, source and alert; a second one raises
    ``AlertAlreadyInvestigated`` (race-safe: the check is the unique index itself). ``team_agents`` is the team's
    effective ``agents`` object when the caller has read it already (several runs from one request). ``without_llm``
    runs the deterministic engine even when the team configured a model (the web app's "run without the model")."""
    agent_settings = _runnable_agent_settings(team, agent, team_agents)
    if idempotency is not None:
        original = _idempotent_original(team, idempotency)
        if original is not None:
            return StartOutcome(original, replayed=True)

    now = timezone.now()
    timeout = timeout_seconds or _positive_int(agent_settings.get("timeout")) or DEFAULT_TIMEOUT_SECONDS
    turns = max_turns or _positive_int(agent_settings.get("max_turns")) or DEFAULT_MAX_TURNS
    investigation = Investigation(
        org=team.org,
        team=team,
        agent=agent,
        message=message,
        context=context,
        trigger_source=trigger_source,
        requested_by=meta.actor,
        timeout_seconds=timeout,
        max_turns=turns,
        created_at=now,
        deadline_at=now + timedelta(seconds=timeout),
        without_llm=without_llm,
    )
    if idempotency is not None:
        investigation.idempotency_key = idempotency.key
        investigation.idempotency_credential = idempotency.credential
        investigation.idempotency_fingerprint = idempotency.fingerprint
    investigation.alert_fingerprint = alert_fingerprint
    try:
        with transaction.atomic():
            investigation.save(force_insert=True)
            InvestigationAttachments.objects.create(investigation=investigation, items=attachments)
            _count_one_more(team)
            audit_record(
                org=team.org,
                event_type="investigation.started",
                meta=meta,
                team_id=team.node_id,
                target=investigation.id,
                details={"agent": agent, "trigger_source": trigger_source, "timeout": timeout},
            )
            transaction.on_commit(
                lambda: investigation_started.send_robust(sender=Investigation, investigation_id=investigation.id)
            )
            transaction.on_commit(lambda: _enqueue(investigation.id, attempt=1))
            transaction.on_commit(INVESTIGATIONS_STARTED.labels(agent=agent, trigger=trigger_source).inc)
    except IntegrityError:
        if alert_fingerprint:  # the alert's run is already active (``inv_one_active_run_per_alert``)
            _refuse_duplicate_alert(team, trigger_source, alert_fingerprint)
        # A concurrent request with the same idempotency key won the insert: answer as its replay.
        if idempotency is None:
            raise
        original = _idempotent_original(team, idempotency)
        if original is None:
            raise
        return StartOutcome(original, replayed=True)
    return StartOutcome(investigation, replayed=False)


def _refuse_duplicate_alert(team: Node, trigger_source: str, alert_fingerprint: str) -> None:
    active = (
        Investigation.objects.filter(
            team=team, trigger_source=trigger_source, alert_fingerprint=alert_fingerprint, status__in=ACTIVE_STATUSES
        )
        .values_list("id", flat=True)
        .first()
    )
    if active is not None:
        raise AlertAlreadyInvestigated(active)


def investigation_cancel(*, investigation: Investigation, meta: RequestMeta) -> Investigation:
    """Pending: cancelled at once. Running: ``cancel_requested`` is set and the worker stops at its next step.

    Repeating a cancel on a running run returns the same running body, and once that run has stopped,
    its cancelled body (API.md §4.4). Any other terminal run (completed, failed, or a pending run that was
    cancelled at once) is refused with ``InvestigationFinished`` (409).
    """
    if investigation.status == Status.PENDING:
        cancelled_now = investigation_finish(
            investigation_id=investigation.id, status=Status.CANCELLED, from_statuses=(Status.PENDING,)
        )
        if cancelled_now:
            Investigation.objects.filter(pk=investigation.pk).update(cancelled_by=meta.actor[:255])
    else:
        cancelled_now = False
    flagged_now = (
        not cancelled_now
        and Investigation.objects.filter(pk=investigation.pk, status=Status.RUNNING, cancel_requested=False).update(
            cancel_requested=True, cancelled_by=meta.actor[:255]
        )
        == 1
    )
    investigation.refresh_from_db()
    if cancelled_now or flagged_now:
        audit_record(
            org=investigation.org,
            event_type="investigation.cancelled",
            meta=meta,
            team_id=investigation.team.node_id,
            target=investigation.id,
            details={"status_at_request": "pending" if cancelled_now else "running"},
        )
        return investigation
    if investigation.status == Status.RUNNING or (
        investigation.status == Status.CANCELLED and investigation.cancel_requested
    ):
        return investigation
    raise InvestigationFinished(investigation.status)


def investigation_finish(
    *,
    investigation_id: str,
    status: Status,
    from_statuses: tuple[Status, ...] = ACTIVE_STATUSES,
    attempt: int | None = None,
    result: dict[str, Any] | None = None,
    error_code: str = "",
    error_message: str = "",
    tools_used: list[str] | None = None,
    demo_data: bool = False,
    written_by: str = "",
    llm_usage: dict[str, int] | None = None,
) -> bool:
    """Write a terminal state by compare-and-set; True if this call made the change (then the event fires)."""
    assert status not in ACTIVE_STATUSES
    now = timezone.now()
    rows = Investigation.objects.filter(pk=investigation_id, status__in=from_statuses)
    if attempt is not None:
        rows = rows.filter(attempt=attempt)
    started_at, agent = rows.values_list("started_at", "agent").first() or (None, "")
    changes: dict[str, Any] = {
        "status": status,
        "finished_at": now,
        "duration_ms": _elapsed_ms(started_at, now),
        "result": result,
        "error_code": error_code,
        "error_message": error_message[:ERROR_MESSAGE_MAX_CHARS],
        "demo_data": demo_data,
        "written_by": written_by[:200],
        "llm_usage": llm_usage,
        "lease_expires_at": None,
    }
    if tools_used is not None:
        changes["tools_used"] = tools_used
    with transaction.atomic():
        changed = rows.update(**changes) == 1
        if changed:
            duration_ms = changes["duration_ms"]
            transaction.on_commit(lambda: _finished(investigation_id, agent, status, duration_ms))
    return changed


def _finished(investigation_id: str, agent: str, status: Status, duration_ms: int | None) -> None:
    INVESTIGATIONS_FINISHED.labels(agent=agent, status=str(status)).inc()
    if duration_ms is not None:
        INVESTIGATION_DURATION.labels(agent=agent, status=str(status)).observe(duration_ms / 1000)
    _announce_finished(investigation_id)


def _announce_finished(investigation_id: str) -> None:
    investigation = Investigation.objects.select_related("team").get(pk=investigation_id)
    investigation_finished.send(sender=Investigation, event=finished_event(investigation))


def _enqueue(investigation_id: str, *, attempt: int) -> None:
    from investigations.tasks import run_investigation

    run_investigation.enqueue(investigation_id, attempt)


def investigation_enqueue_later(*, investigation_id: str, seconds: float) -> bool:
    """Queue a pending run's first attempt again after ``seconds`` (its org was at its cap of running
    investigations); False when the task backend cannot defer a task."""
    from investigations.tasks import run_investigation

    if not run_investigation.get_backend().supports_defer:
        return False
    run_investigation.using(run_after=timezone.now() + timedelta(seconds=seconds)).enqueue(investigation_id, 1)
    return True


def investigations_can_wait_for_capacity() -> bool:
    from investigations.tasks import run_investigation

    return bool(run_investigation.get_backend().supports_defer)


def investigation_requeue(*, investigation: Investigation, lease_seconds: int) -> bool:
    """Give a run whose worker died one more attempt; the task is queued after commit."""
    next_attempt = investigation.attempt + 1
    with transaction.atomic():
        changed = Investigation.objects.filter(
            pk=investigation.pk,
            status=Status.RUNNING,
            attempt=investigation.attempt,
            worker_id=investigation.worker_id,
        ).update(
            attempt=next_attempt,
            worker_id="",
            lease_expires_at=timezone.now() + timedelta(seconds=lease_seconds),
            progress_step="Restarting after a worker was lost",
            steps_completed=0,
            steps_total=0,
            tools_used=[],
        )
        if changed:
            transaction.on_commit(lambda: _enqueue(investigation.pk, attempt=next_attempt))
    return changed == 1


def _count_one_more(team: Node) -> None:
    if TeamInvestigationCount.objects.filter(team=team).update(total=F("total") + 1):
        return
    try:
        with transaction.atomic():
            TeamInvestigationCount.objects.create(team=team, total=Investigation.objects.for_team(team).count())
    except IntegrityError:  # another start created the row first
        TeamInvestigationCount.objects.filter(team=team).update(total=F("total") + 1)


def _runnable_agent_settings(team: Node, agent: str, agents: dict[str, dict[str, Any]] | None) -> dict[str, Any]:
    if agents is None:
        agents = team_agent_settings(team)
    described = describe_team_agents(agents, {})
    by_name = {info.name: info for info in described}
    if agent not in by_name:
        raise UnknownAgent(agent, [info.name for info in described if info.enabled])
    if not by_name[agent].enabled:
        raise AgentDisabled(agent)
    return agents.get(agent, {})


def _idempotent_original(team: Node, idempotency: Idempotency) -> Investigation | None:
    original = Investigation.objects.filter(
        team=team, idempotency_credential=idempotency.credential, idempotency_key=idempotency.key
    ).first()
    if original is None:
        return None
    if original.created_at < timezone.now() - IDEMPOTENCY_WINDOW:
        # Outside the window the key is free again: release it so the unique constraint admits the new run.
        Investigation.objects.filter(pk=original.pk).update(idempotency_key="")
        return None
    if original.idempotency_fingerprint != idempotency.fingerprint:
        raise IdempotencyKeyReused("Idempotency-Key was already used with a different request body")
    return original


def _positive_int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def _elapsed_ms(started_at: datetime | None, now: datetime) -> int | None:
    if started_at is None:
        return None
    return max(0, int((now - started_at).total_seconds() * 1000))
