"""The log of inbound alert deliveries: what a team's alerting tool sent and what became of each alert.

An alerting tool does not show webhook responses to anyone, so "why did this alert start no investigation?" is
answered here (the web app's Webhooks page). Only deliveries that proved the team's secret are logged — a request
that fails the proof names no team it is entitled to. Rows keep names, fingerprints and outcomes, never the raw
payload; they are pruned after ``RETENTION``.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import models
from django.utils import timezone

from tenancy.models import Node

RETENTION = timedelta(days=14)
MAX_RECORDED_ALERTS = 100  # outcomes kept per delivery; ``received`` still counts them all


class ProviderChoice(models.TextChoices):
    ALERTMANAGER = "alertmanager", "Alertmanager"
    PAGERDUTY = "pagerduty", "PagerDuty"
    INCIDENTIO = "incidentio", "incident.io"


class AlertDelivery(models.Model):
    team = models.ForeignKey(Node, on_delete=models.CASCADE, related_name="+")
    provider = models.CharField(max_length=20, choices=ProviderChoice.choices)
    received_at = models.DateTimeField(default=timezone.now)
    request_id = models.CharField(max_length=128, blank=True)
    status_code = models.PositiveSmallIntegerField()  # what the tool was answered: 202, or 400/413/415/429
    error = models.CharField(max_length=500, blank=True)  # the error message it was given
    received = models.PositiveIntegerField(default=0)  # alerts in the payload
    started = models.PositiveIntegerField(default=0)  # investigations they started
    # One entry per alert (at most MAX_RECORDED_ALERTS): fingerprint, alert_name, outcome ("started" or the skip
    # reason of API.md §7) and, when there is one, investigation_id.
    outcomes = models.JSONField(default=list)

    class Meta:
        indexes = [models.Index(fields=["team", "-received_at"], name="alert_delivery_team_recent")]
        ordering = ["-received_at", "-id"]

    def __str__(self) -> str:
        return f"{self.provider} → {self.team_id} at {self.received_at:%Y-%m-%d %H:%M:%S} ({self.status_code})"

    @property
    def skipped(self) -> list[dict[str, str]]:
        return [entry for entry in self.outcomes if entry.get("outcome") != "started"]

    @property
    def started_runs(self) -> list[dict[str, str]]:
        return [entry for entry in self.outcomes if entry.get("outcome") == "started"]
