"""OpenAPI documentation of the inbound alert webhook's response (API.md §7) and of the delivery log."""

from __future__ import annotations

from rest_framework import serializers

from alerts.models import ProviderChoice


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


class AlertOutcomeOut(serializers.Serializer):  # type: ignore[type-arg]
    fingerprint = serializers.CharField()
    alert_name = serializers.CharField()
    outcome = serializers.CharField(help_text="started, or the skip reason (resolved, disabled, duplicate, …)")
    investigation_id = serializers.CharField(
        required=False, help_text="started: the run it started; duplicate: the run already active"
    )


class AlertDeliveryOut(serializers.Serializer):  # type: ignore[type-arg]
    received_at = serializers.DateTimeField()
    provider = serializers.ChoiceField(ProviderChoice.values)
    request_id = serializers.CharField(help_text="The X-Request-ID the alerting tool was answered with")
    status_code = serializers.IntegerField(help_text="What the tool was answered: 202, or 400/413/415/429")
    error = serializers.CharField(allow_null=True, help_text="The error message it was given")
    received = serializers.IntegerField(help_text="Alerts in the payload")
    started = serializers.IntegerField(help_text="Investigations they started")
    alerts = AlertOutcomeOut(many=True, help_text="Each alert's fate (at most the first 100 of a delivery)")
