"""Per-team endpoint state (signing secrets, auto-disable), queued events and one row per delivery attempt."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from incidentfox_web.ids import new_id
from tenancy.models import Node, Organization


def new_message_id() -> str:
    return new_id("msg_", 20)


def new_delivery_id() -> str:
    return new_id("whd_", 20)


class WebhookEndpoint(models.Model):
    """A team's outbound webhook state. The URL itself lives in team config (``webhooks.investigation_complete``).

    Secrets are stored encrypted with the team-config keys (``teamconfig.secrets``), never in clear.
    """

    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    team = models.OneToOneField(Node, on_delete=models.CASCADE, related_name="webhook_endpoint")
    secret_ciphertext = models.TextField()
    secret_created_at = models.DateTimeField()
    previous_secret_ciphertext = models.TextField(blank=True, default="")
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=200, blank=True, default="")

    def __str__(self) -> str:
        return f"webhook endpoint of {self.team_id}"


class MessageState(models.TextChoices):
    PENDING = "pending", "Pending"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Skipped"


class WebhookMessage(models.Model):
    """One event for one team: the exact body every attempt signs and sends, and its final state."""

    webhook_id = models.CharField(max_length=24, unique=True, default=new_message_id)
    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    team = models.ForeignKey(Node, on_delete=models.CASCADE, related_name="+")
    event = models.CharField(max_length=64)
    investigation_id = models.CharField(max_length=32, blank=True, default="")
    url = models.CharField(max_length=2048)
    body = models.TextField()
    state = models.CharField(max_length=16, choices=MessageState.choices, default=MessageState.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    # When the next attempt of a pending message is due in the task queue; the maintenance loop re-queues it if it
    # has not started well after that (a lost or pruned task, or a worker that died mid-attempt).
    queued_for = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["queued_for"], name="webhook_message_pending_due", condition=Q(state="pending")),
        ]

    def __str__(self) -> str:
        return self.webhook_id


class Outcome(models.TextChoices):
    SENDING = "sending", "Sending"
    SUCCESS = "success", "Success"
    RETRYABLE_FAILURE = "retryable_failure", "Retryable failure"
    PERMANENT_FAILURE = "permanent_failure", "Permanent failure"
    SKIPPED = "skipped", "Skipped"


class WebhookDelivery(models.Model):
    """One attempt, written as ``sending`` before the call and updated with its outcome afterwards."""

    delivery_id = models.CharField(max_length=24, unique=True, default=new_delivery_id)
    message = models.ForeignKey(WebhookMessage, on_delete=models.CASCADE, related_name="deliveries")
    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    team = models.ForeignKey(Node, on_delete=models.CASCADE, related_name="+")
    attempt = models.PositiveSmallIntegerField()
    attempted_at = models.DateTimeField()
    outcome = models.CharField(max_length=20, choices=Outcome.choices, default=Outcome.SENDING)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True, default="")
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            # A duplicate task run for the same attempt fails to insert and stops (claim by insert).
            models.UniqueConstraint(fields=["message", "attempt"], name="webhook_delivery_one_row_per_attempt"),
        ]
        indexes = [
            models.Index(fields=["team", "-attempted_at", "-id"], name="webhook_delivery_team_recent"),
            models.Index(
                fields=["next_attempt_at"], name="webhook_delivery_due", condition=Q(next_attempt_at__isnull=False)
            ),
        ]

    def __str__(self) -> str:
        return self.delivery_id


class SlackMessage(models.Model):
    """The one Slack message of an investigation: posted when it starts, then updated in place (``ts``)."""

    investigation = models.OneToOneField(
        "investigations.Investigation", on_delete=models.CASCADE, related_name="slack_message"
    )
    channel = models.CharField(max_length=255)
    ts = models.CharField(max_length=64, blank=True, default="")  # Slack's message id in the channel
    final = models.BooleanField(default=False)  # the terminal state is shown; nothing updates it again
    updated_at = models.DateTimeField()
    last_error = models.CharField(max_length=200, blank=True, default="")

    def __str__(self) -> str:
        return f"{self.investigation_id} in {self.channel}"
