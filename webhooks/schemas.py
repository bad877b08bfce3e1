"""The webhook endpoints' bodies: ``WebhookTestIn`` validates requests, and drf-spectacular documents the same
classes."""

from __future__ import annotations

from rest_framework import serializers

from incidentfox_web.api.fields import JsonCharField

OUTCOMES = ["sending", "success", "retryable_failure", "permanent_failure", "skipped"]


class WebhookSecretOut(serializers.Serializer):  # type: ignore[type-arg]
    secret = serializers.CharField(help_text="whsec_ + base64 of 32 random bytes")
    created_at = serializers.DateTimeField()
    previous_secret_expires_at = serializers.DateTimeField(
        allow_null=True, help_text="Until then the previous secret co-signs"
    )


class WebhookDeliveryOut(serializers.Serializer):  # type: ignore[type-arg]
    delivery_id = serializers.CharField()
    webhook_id = serializers.CharField()
    event = serializers.CharField()
    investigation_id = serializers.CharField(allow_null=True)
    url = serializers.CharField()
    attempt = serializers.IntegerField()
    attempted_at = serializers.DateTimeField()
    outcome = serializers.ChoiceField(OUTCOMES)
    response_status = serializers.IntegerField(allow_null=True)
    error = serializers.CharField(allow_null=True)
    duration_ms = serializers.IntegerField(allow_null=True)
    next_attempt_at = serializers.DateTimeField(allow_null=True)


class WebhookTestIn(serializers.Serializer):  # type: ignore[type-arg]
    url = JsonCharField(
        max_length=2048,
        required=False,
        allow_null=True,
        allow_blank=True,
        help_text="An absolute http(s) URL; defaults to the configured investigation_complete URL",
    )


class WebhookTestOut(serializers.Serializer):  # type: ignore[type-arg]
    delivery_id = serializers.CharField()
    webhook_id = serializers.CharField()
    url = serializers.CharField()
    success = serializers.BooleanField()
    response_status = serializers.IntegerField(allow_null=True)
    duration_ms = serializers.IntegerField(allow_null=True)
    error = serializers.CharField(allow_null=True)
