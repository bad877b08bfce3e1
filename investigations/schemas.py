"""OpenAPI documentation of the Agent API bodies (API.md §4). The run body is validated by ``run_input`` (its
attachment limits answer 413 with a field, which a serializer cannot); these serializers describe the shapes for
drf-spectacular and the generated docs."""

from __future__ import annotations

from rest_framework import serializers

STATUSES = ["pending", "running", "completed", "failed", "cancelled"]
ACCEPTED_STATUSES = ["pending", "running"]
PRIORITIES = ["high", "medium", "low"]


class AttachmentIn(serializers.Serializer):  # type: ignore[type-arg]
    name = serializers.CharField(max_length=255)
    source = serializers.CharField(max_length=2000, required=False, help_text="The command or query that produced it")  # type: ignore[assignment]
    content = serializers.CharField(help_text="Text, at most 4 MiB (UTF-8); 50 items and 16 MiB in total (413 beyond)")


class ContextIn(serializers.Serializer):  # type: ignore[type-arg]
    service = serializers.CharField(max_length=200, required=False)
    environment = serializers.ChoiceField(["prod", "staging", "dev"], required=False)
    namespace = serializers.CharField(max_length=253, required=False)
    severity = serializers.ChoiceField(["high", "medium", "low"], required=False)
    related_alert = serializers.CharField(max_length=200, required=False)
    time_window = serializers.RegexField(r"^[1-9][0-9]*[mhd]$", required=False, help_text="e.g. 15m, 1h, 24h (≤ 30 d)")
    hint = serializers.CharField(max_length=2000, required=False)
    attachments = AttachmentIn(many=True, required=False)


# "async" is a Python keyword, so this serializer is built from a field mapping rather than a class body.
RunIn = type(
    "RunIn",
    (serializers.Serializer,),
    {
        "agent_name": serializers.CharField(help_text="A built-in agent (planner, …) or a custom agent of the team"),
        "message": serializers.CharField(max_length=20000),
        "context": ContextIn(required=False, help_text="Unknown keys are kept and passed to the agent"),
        "async": serializers.BooleanField(required=False, default=False, help_text="202 at once instead of waiting"),
        "timeout": serializers.IntegerField(min_value=10, max_value=1800, required=False),
        "max_turns": serializers.IntegerField(min_value=1, max_value=100, required=False),
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
