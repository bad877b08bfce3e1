"""An investigation, its attachments (kept apart from the listed row) and the tool calls behind its result."""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.db.models import Q
from django.utils import timezone

from incidentfox_web.ids import new_id
from tenancy.models import Node, Organization

OUTPUT_EXCERPT_MAX_CHARS = 4096
ERROR_MESSAGE_MAX_CHARS = 1000


def new_investigation_id() -> str:
    return new_id("inv_", 20)


class Status(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


ACTIVE_STATUSES = (Status.PENDING, Status.RUNNING)
TERMINAL_STATUSES = (Status.COMPLETED, Status.FAILED, Status.CANCELLED)


class TriggerSource(models.TextChoices):
    API = "api", "API"
    WEB = "web", "Web"
    ALERTMANAGER = "alertmanager", "Alertmanager"
    PAGERDUTY = "pagerduty", "PagerDuty"
    INCIDENTIO = "incidentio", "incident.io"


class InvestigationQuerySet(models.QuerySet["Investigation"]):
    def for_team(self, team: Node) -> InvestigationQuerySet:
        """The one tenancy filter: a team sees only its own investigations (others' are a 404)."""
        return self.filter(org_id=team.org_id, team=team)

    def active(self) -> InvestigationQuerySet:
        return self.filter(status__in=ACTIVE_STATUSES)


class Investigation(models.Model):
    """One run of an agent for a team. Status, progress, timing and errors live here, not in the queue."""

    id = models.CharField(primary_key=True, max_length=24, default=new_investigation_id, editable=False)
    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="investigations")
    team = models.ForeignKey(Node, on_delete=models.CASCADE, related_name="investigations")
    agent = models.CharField(max_length=100)
    message = models.TextField()
    context = models.JSONField(default=dict, blank=True)  # without attachments, see InvestigationAttachments
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    trigger_source = models.CharField(max_length=16, choices=TriggerSource.choices, default=TriggerSource.API)
    requested_by = models.CharField(max_length=255)

    timeout_seconds = models.PositiveIntegerField()
    max_turns = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=timezone.now)
    deadline_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)

    progress_step = models.CharField(max_length=500, blank=True)
    steps_completed = models.PositiveIntegerField(default=0)
    steps_total = models.PositiveIntegerField(default=0)
    cancel_requested = models.BooleanField(default=False)

    # Completed: the report (API.md §4.6). Failed with llm_unavailable: the deterministic draft the team's model
    # could not review, shown on the page under the failure; the API never returns a failed run's result.
    result = models.JSONField(null=True, blank=True)
    error_code = models.CharField(max_length=40, blank=True)
    error_message = models.CharField(max_length=ERROR_MESSAGE_MAX_CHARS, blank=True)
    tools_used = models.JSONField(default=list, blank=True)
    demo_data = models.BooleanField(default=False)
    # LLM mode: "<provider> model <model>" that wrote the result; blank when the deterministic engine did. A database
    # default too, so rows inserted by code that predates the column (a rolling deploy, bulk SQL) stay valid.
    written_by = models.CharField(max_length=200, blank=True, default="", db_default="")
    llm_usage = models.JSONField(null=True, blank=True)  # LLM mode: {"requests", "input_tokens", "output_tokens"}
    # Started from the web app's "run without the model": the engine runs deterministically despite the team's llm.
    without_llm = models.BooleanField(default=False, db_default=False)
    cancelled_by = models.CharField(max_length=255, blank=True, default="", db_default="")  # who asked to cancel

    # Worker bookkeeping: which attempt runs (at most two: a dead worker's run is re-queued once), who
    # holds it, and until when its lease is valid without a heartbeat.
    attempt = models.PositiveSmallIntegerField(default=0)
    worker_id = models.CharField(max_length=64, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)

    # Idempotency (API.md §4.1): key + credential + team, within 24 h; fingerprint = canonical body hash.
    idempotency_key = models.CharField(max_length=255, blank=True)
    idempotency_credential = models.CharField(max_length=512, blank=True)
    idempotency_fingerprint = models.CharField(max_length=64, blank=True)
    # Inbound alert webhooks (API.md §7): the provider's alert fingerprint; one active run per team, source and alert.
    alert_fingerprint = models.CharField(max_length=255, blank=True)

    objects = InvestigationQuerySet.as_manager()

    class Meta:
        indexes: ClassVar = [
            # The team's history, newest first, ties by id: one index range scan for any page.
            models.Index(fields=["team", "-created_at", "-id"], name="inv_team_history"),
            models.Index(fields=["team", "status", "-created_at", "-id"], name="inv_team_status_history"),
            # The sweeper only looks at the few active rows.
            models.Index(
                fields=["status", "deadline_at"],
                name="inv_active_by_deadline",
                condition=Q(status__in=["pending", "running"]),
            ),
        ]
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["team", "idempotency_credential", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="inv_unique_idempotency_key",
            ),
            models.UniqueConstraint(
                fields=["team", "trigger_source", "alert_fingerprint"],
                condition=~Q(alert_fingerprint="") & Q(status__in=["pending", "running"]),
                name="inv_one_active_run_per_alert",
            ),
            models.CheckConstraint(
                condition=Q(status__in=[choice.value for choice in Status]), name="inv_status_known"
            ),
        ]

    def __str__(self) -> str:
        return self.id

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES


class InvestigationAttachments(models.Model):
    """The attachments of one run: large, read only by the worker, never returned by the API."""

    investigation = models.OneToOneField(
        Investigation, on_delete=models.CASCADE, primary_key=True, related_name="attachment_set"
    )
    items = models.JSONField(default=list)  # [{"name", "source", "content"}]

    def __str__(self) -> str:
        return f"attachments of {self.investigation_id}"


class InvestigationStep(models.Model):
    """One tool call, in order, so a reader can audit how the conclusion was reached."""

    investigation = models.ForeignKey(Investigation, on_delete=models.CASCADE, related_name="steps")
    attempt = models.PositiveSmallIntegerField(default=1)
    seq = models.PositiveIntegerField()
    tool = models.CharField(max_length=100)
    params = models.JSONField(default=dict, blank=True)
    started_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField()
    ok = models.BooleanField()
    error = models.CharField(max_length=ERROR_MESSAGE_MAX_CHARS, blank=True)
    output_excerpt = models.TextField(blank=True)
    # Metric series the tool fetched, for the web page's charts (never in the API): at most 6 series of at
    # most 240 points, ``[{"title", "service", "kind", "unit", "points": [[ts, value]], "onset": ts | null}]``.
    series = models.JSONField(default=list, blank=True)

    class Meta:
        ordering: ClassVar = ["investigation", "attempt", "seq"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["investigation", "attempt", "seq"], name="inv_step_unique_seq"),
        ]

    def __str__(self) -> str:
        return f"{self.investigation_id}#{self.attempt}.{self.seq} {self.tool}"


class TeamInvestigationCount(models.Model):
    """How many investigations a team has: the unfiltered history total without counting millions of rows.

    Kept in step by ``investigation_start`` in the same transaction as the insert, and by a ``post_delete``
    receiver (``investigations.signals``) in the deleting transaction.
    """

    team = models.OneToOneField(Node, on_delete=models.CASCADE, primary_key=True, related_name="investigation_count")
    total = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.team_id}: {self.total}"
