"""No run stays pending or running forever: the sweeper ends or re-queues runs nobody is working on.

Rules, applied in order to the few active rows (a partial index keeps this cheap):

1. ``pending`` past its deadline (never picked up in time) → ``failed``/``timeout``.
2. ``running`` whose lease expired (its worker died: no heartbeat) on its first attempt, with at least a
   lease's worth of time before the deadline → re-queued once (same ``running`` status, attempt 2).
3. ``running`` whose lease expired on its second attempt → ``failed``/``worker_lost``.
4. ``running`` past its deadline with a live lease (the worker's own deadline check should have fired) →
   ``failed``/``timeout``.
5. Anything still active 60 s after its deadline (API.md §4.2) → ``failed``/``internal_error``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.utils import timezone

from investigations.models import Investigation, Status
from investigations.runner import lease_seconds, timeout_message
from investigations.services import investigation_finish, investigation_requeue

logger = logging.getLogger("incidentfox.investigations")

DEAD_WORKER_GRACE = timedelta(seconds=60)
TIMEOUT_GRACE = timedelta(seconds=5)
MAX_ATTEMPTS = 2


@dataclass
class SweepReport:
    timed_out: list[str] = field(default_factory=list)
    requeued: list[str] = field(default_factory=list)
    worker_lost: list[str] = field(default_factory=list)
    abandoned: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.timed_out) + len(self.requeued) + len(self.worker_lost) + len(self.abandoned)


def investigations_sweep(*, now: datetime | None = None) -> SweepReport:
    now = now or timezone.now()
    report = SweepReport()
    lease = lease_seconds()
    for investigation in Investigation.objects.active().order_by("deadline_at"):
        if investigation.status == Status.PENDING:
            _sweep_pending(investigation, now, report)
        else:
            _sweep_running(investigation, now, lease, report)
    if report.total:
        logger.info(
            "Swept investigations: %d timed out, %d re-queued, %d worker lost, %d abandoned",
            len(report.timed_out),
            len(report.requeued),
            len(report.worker_lost),
            len(report.abandoned),
        )
    return report


def _sweep_pending(investigation: Investigation, now: datetime, report: SweepReport) -> None:
    if now >= investigation.deadline_at + DEAD_WORKER_GRACE:
        if _fail(investigation, "internal_error", "The investigation was never started by a worker"):
            report.abandoned.append(investigation.id)
    elif now >= investigation.deadline_at and _fail(investigation, "timeout", timeout_message(investigation)):
        report.timed_out.append(investigation.id)


def _sweep_running(investigation: Investigation, now: datetime, lease: int, report: SweepReport) -> None:
    lease_expired = investigation.lease_expires_at is None or investigation.lease_expires_at < now
    if now >= investigation.deadline_at + DEAD_WORKER_GRACE:
        if _fail(investigation, "internal_error", "The investigation's worker stopped responding"):
            report.abandoned.append(investigation.id)
        return
    if lease_expired:
        if investigation.attempt >= MAX_ATTEMPTS:
            if _fail(investigation, "worker_lost", "The worker running this investigation was lost twice"):
                report.worker_lost.append(investigation.id)
        elif investigation.deadline_at - now > timedelta(seconds=lease) and investigation_requeue(
            investigation=investigation, lease_seconds=lease
        ):
            report.requeued.append(investigation.id)
        return
    if now >= investigation.deadline_at + TIMEOUT_GRACE and _fail(
        investigation, "timeout", timeout_message(investigation)
    ):
        report.timed_out.append(investigation.id)


def _fail(investigation: Investigation, code: str, message: str) -> bool:
    return investigation_finish(
        investigation_id=investigation.id,
        status=Status.FAILED,
        from_statuses=(Status(investigation.status),),
        attempt=investigation.attempt,
        error_code=code,
        error_message=message,
    )
