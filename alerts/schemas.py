"""OpenAPI documentation of the inbound alert webhook's response (API.md §7)."""

from __future__ import annotations

from rest_framework import serializers


class StartedInvestigation(serializers.Serializer):  # type: ignore[type-arg]
    fingerprint = serializers.CharField()
    investigation_id = serializers.CharField()


class SkippedAlert(serializers.Serializer):  # type: ignore[type-arg]
    fingerprint = serializers.CharField()
    reason = serializers.ChoiceField(
        ["resolved", "ignored_event", "disabled", "auto_investigate_off", "filtered", "duplicate", "limit"]
    )
    investigation_id = serializers.CharField(required=False, help_text="duplicate only: the run already active")


class AlertReceipt(serializers.Serializer):  # type: ignore[type-arg]
    received = serializers.IntegerField(help_text="Alerts in the payload")
    investigations = StartedInvestigation(many=True)
    skipped = SkippedAlert(many=True)
