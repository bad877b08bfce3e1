"""The Agent API bodies (API.md §4): the run body's serializer validates requests and is the class drf-spectacular
documents, so the shape is defined once; the response serializers document what the presenters return. The run
body's attachment size limits (413, which comes before any 400) are checked by ``run_input`` before this."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from incidentfox_web.api.fields import JsonBooleanField, JsonCharField, JsonChoiceField, JsonIntegerField
from investigations.run_input import (
    CONTEXT_CHOICES,
    CONTEXT_STRING_LIMITS,
    MAX_AGENT_NAME_CHARS,
    MAX_ATTACHMENTS,
    MAX_MESSAGE_CHARS,
    MAX_TIME_WINDOW_MINUTES,
    MINUTES_PER_UNIT,
    TIME_WINDOW_RE,
)

STATUSES = ["pending", "running", "completed", "failed", "cancelled"]
ACCEPTED_STATUSES = ["pending", "running"]
PRIORITIES = ["high", "medium", "low"]
NAME_ERROR = "must be a string of 1-255 characters"
SOURCE_ERROR = "must be a string of at most 2000 characters"


def not_blank(value: str) -> None:
    """Whitespace alone is no value: ``<field> is required`` (API.md §4.1); the value itself is kept as sent."""
    if not value.strip():
        raise serializers.ValidationError("is required", code="blank")


def text(**kwargs: Any) -> JsonCharField:
    """A JSON string kept exactly as sent (DRF would trim it)."""
    return JsonCharField(trim_whitespace=False, **kwargs)


class AttachmentIn(serializers.Serializer):  # type: ignore[type-arg]
    default_error_messages = {"invalid": "must be an object with name and content"}

    name = text(max_length=255, error_messages={"invalid": NAME_ERROR, "max_length": NAME_ERROR})
    source = text(  # type: ignore[assignment]
        max_length=2000,
        required=False,
        allow_null=True,
        error_messages={"invalid": SOURCE_ERROR, "max_length": SOURCE_ERROR},
        help_text="The command or query that produced it",
    )
    content = text(
        allow_blank=True,
        error_messages={"invalid": "must be text"},
        help_text="Text, at most 4 MiB (UTF-8); 50 items and 16 MiB in total (413 beyond)",
    )


class ContextIn(serializers.Serializer):  # type: ignore[type-arg]
    """The documented context keys are checked; any other key is kept and passed to the agent as sent."""

    default_error_messages = {"invalid": "must be an object"}

    service = text(max_length=CONTEXT_STRING_LIMITS["service"], required=False, allow_null=True)
    environment = JsonChoiceField(list(CONTEXT_CHOICES["environment"]), required=False, allow_null=True)
    namespace = text(max_length=CONTEXT_STRING_LIMITS["namespace"], required=False, allow_null=True)
    severity = JsonChoiceField(list(CONTEXT_CHOICES["severity"]), required=False, allow_null=True)
    related_alert = text(max_length=CONTEXT_STRING_LIMITS["related_alert"], required=False, allow_null=True)
    time_window = text(required=False, allow_null=True, help_text="e.g. 15m, 1h, 24h (at most 30 days)")
    hint = text(max_length=CONTEXT_STRING_LIMITS["hint"], required=False, allow_null=True)
    attachments = AttachmentIn(  # type: ignore[call-arg]  # many=True takes the list's max_length (DRF 3.15)
        many=True,
        required=False,
        allow_null=True,
        max_length=MAX_ATTACHMENTS,
        error_messages={"not_a_list": "must be a list", "max_length": f"must have at most {MAX_ATTACHMENTS} items"},
    )

    def validate_time_window(self, value: str | None) -> str | None:
        if value is None:
            return None
        match = TIME_WINDOW_RE.match(value)
        if match is None:
            raise serializers.ValidationError("must look like 15m, 1h or 24h")
        if int(match.group(1)) * MINUTES_PER_UNIT[match.group(2)] > MAX_TIME_WINDOW_MINUTES:
            raise serializers.ValidationError("must be at most 30 days")
        return value

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        known: dict[str, Any] = dict(super().to_internal_value(data))
        return {**{key: value for key, value in data.items() if key not in self.fields}, **known}


# "async" is a Python keyword, so this serializer is built from a field mapping rather than a class body.
RunIn: type[serializers.Serializer] = type(  # type: ignore[type-arg]
    "RunIn",
    (serializers.Serializer,),
    {
        "agent_name": text(
            max_length=MAX_AGENT_NAME_CHARS,
            validators=[not_blank],
            help_text="A built-in agent (planner, …) or a custom agent of the team",
        ),
        "message": text(max_length=MAX_MESSAGE_CHARS, validators=[not_blank]),
        "async": JsonBooleanField(
            required=False, allow_null=True, default=False, help_text="202 at once instead of waiting"
        ),
        "timeout": JsonIntegerField(min_value=10, max_value=1800, required=False, allow_null=True),
        "max_turns": JsonIntegerField(min_value=1, max_value=100, required=False, allow_null=True),
        "context": ContextIn(
            required=False, allow_null=True, help_text="Unknown keys are kept and passed to the agent"
        ),
    },
)


class Accepted(serializers.Serializer):  # type: ignore[type-arg]
    investigation_id = serializers.CharField()
    status = serializers.ChoiceField(ACCEPTED_STATUSES)
    poll_url = serializers.CharField()
    created_at = serializers.DateTimeField()


class Progress(serializers.Serializer):  # type: ignore[type-arg]
    current_step = serializers.CharField()
    steps_completed = serializers.IntegerField()
    steps_total = serializers.IntegerField()


class RootCause(serializers.Serializer):  # type: ignore[type-arg]
    description = serializers.CharField()
    confidence = serializers.IntegerField(min_value=0, max_value=100)
    evidence = serializers.ListField(child=serializers.CharField(), help_text="Each starts [tool:x] or [attachment:y]")


class TimelineEvent(serializers.Serializer):  # type: ignore[type-arg]
    timestamp = serializers.DateTimeField()
    event = serializers.CharField()


class Recommendation(serializers.Serializer):  # type: ignore[type-arg]
    priority = serializers.ChoiceField(PRIORITIES)
    action = serializers.CharField()


class Hypothesis(serializers.Serializer):  # type: ignore[type-arg]
    description = serializers.CharField()
    confidence = serializers.IntegerField(min_value=0, max_value=100)
    status = serializers.ChoiceField(["supported", "refuted", "inconclusive"])
    subject = serializers.CharField(help_text="What the hypothesis is about: pod/name, deployment/name, a component")
    evidence = serializers.ListField(child=serializers.CharField(), help_text="Each starts [tool:x] or [attachment:y]")


class Result(serializers.Serializer):  # type: ignore[type-arg]
    summary = serializers.CharField()
    root_cause = RootCause()
    timeline = TimelineEvent(many=True)
    affected_systems = serializers.ListField(child=serializers.CharField())
    recommendations = Recommendation(many=True)
    hypotheses = Hypothesis(
        many=True,
        required=False,
        help_text="Additive: the ranked alternatives weighed, most likely first, the root cause included (at most 5)",
    )


class ErrorInfo(serializers.Serializer):  # type: ignore[type-arg]
    code = serializers.CharField(
        help_text="timeout, data_source_unavailable, llm_unavailable, invalid_attachment, configuration_error, …"
    )
    message = serializers.CharField()


class StatusBody(serializers.Serializer):  # type: ignore[type-arg]
    investigation_id = serializers.CharField()
    status = serializers.ChoiceField(STATUSES)
    agent = serializers.CharField()
    message = serializers.CharField()
    trigger_source = serializers.ChoiceField(["api", "web", "alertmanager", "pagerduty", "incidentio"])
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(
        required=False, allow_null=True, help_text="running/completed/failed/cancelled"
    )
    elapsed_seconds = serializers.IntegerField(required=False, help_text="running")
    progress = Progress(required=False, help_text="running")
    cancel_requested = serializers.BooleanField(required=False, help_text="running")
    result = Result(required=False, help_text="completed")
    tools_used = serializers.ListField(child=serializers.CharField(), required=False)
    completed_at = serializers.DateTimeField(required=False, help_text="completed")
    duration_seconds = serializers.IntegerField(required=False, help_text="completed")
    error = ErrorInfo(required=False, help_text="failed")
    failed_at = serializers.DateTimeField(required=False, help_text="failed")
    cancelled_at = serializers.DateTimeField(required=False, help_text="cancelled")


class InvestigationSummary(serializers.Serializer):  # type: ignore[type-arg]
    investigation_id = serializers.CharField()
    status = serializers.ChoiceField(STATUSES)
    agent = serializers.CharField()
    message = serializers.CharField(help_text="First 100 characters, then ...")
    created_at = serializers.DateTimeField()


class AgentOut(serializers.Serializer):  # type: ignore[type-arg]
    name = serializers.CharField()
    description = serializers.CharField()
    enabled = serializers.BooleanField()
    builtin = serializers.BooleanField()
    tools = serializers.ListField(
        child=serializers.CharField(),
        help_text="Callable now; a team MCP server's tools are <server>.<tool>, asked of the server at request time",
    )


class AgentListOut(serializers.Serializer):  # type: ignore[type-arg]
    agents = AgentOut(many=True)
