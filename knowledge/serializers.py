"""Request and response shapes of the knowledge API (API.md §10): one definition validates input and documents it."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from incidentfox_web.api.schema import pagination_serializer
from knowledge.models import DocType, KnowledgeDocument

MAX_CONTENT_CHARS = 500_000
TYPES = [choice.value for choice in DocType]


class TeachIn(serializers.Serializer):  # type: ignore[type-arg]
    content = serializers.CharField(
        max_length=MAX_CONTENT_CHARS, trim_whitespace=False, help_text="Markdown or plain text, kept as sent"
    )
    type = serializers.ChoiceField(TYPES)
    title = serializers.CharField(
        max_length=300, required=False, default="", help_text="Default: the first heading or line"
    )
    service = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)
    tags = serializers.ListField(
        child=serializers.CharField(max_length=100), max_length=20, required=False, default=list
    )
    key = serializers.CharField(
        max_length=255, required=False, default="", help_text="Client key: the same key updates the document"
    )
    node_id = serializers.CharField(
        max_length=64,
        required=False,
        default="",
        help_text="Admin only: a group or the org above the team, whose teams all read the document",
    )

    def validate_content(self, value: str) -> str:
        if not value.strip():
            raise serializers.ValidationError("This field may not be blank.", code="blank")
        return value


class TeachOut(serializers.Serializer):  # type: ignore[type-arg]
    document_id = serializers.CharField()
    version = serializers.IntegerField()
    title = serializers.CharField()
    type = serializers.ChoiceField(TYPES)
    node_id = serializers.CharField()
    changed = serializers.BooleanField(help_text="False when the same key was taught the same document again")


class RetrieveIn(serializers.Serializer):  # type: ignore[type-arg]
    query = serializers.CharField(max_length=2000)
    service = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)
    top_k = serializers.IntegerField(min_value=1, max_value=20, required=False, default=5)


class ResultOut(serializers.Serializer):  # type: ignore[type-arg]
    document_id = serializers.CharField()
    title = serializers.CharField()
    passage = serializers.CharField()
    score = serializers.FloatField()
    service = serializers.CharField(allow_null=True)
    type = serializers.ChoiceField(TYPES)


class RetrieveOut(serializers.Serializer):  # type: ignore[type-arg]
    query_id = serializers.CharField(help_text="Send it back with POST /kb/feedback")
    results = ResultOut(many=True)


class AnswerIn(serializers.Serializer):  # type: ignore[type-arg]
    question = serializers.CharField(max_length=2000)
    include_sources = serializers.BooleanField(required=False, default=True)
    service = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)


class AnswerOut(serializers.Serializer):  # type: ignore[type-arg]
    query_id = serializers.CharField()
    answer = serializers.CharField(help_text="Cites its sources as [1], [2], …")
    sources = ResultOut(many=True)
    written_by = serializers.CharField(allow_null=True, help_text="LLM mode: the model; null: extractive")


class FeedbackIn(serializers.Serializer):  # type: ignore[type-arg]
    query_id = serializers.CharField(max_length=24)
    helpful = serializers.BooleanField()
    comment = serializers.CharField(max_length=2000, required=False, default="", allow_blank=True)


class DocumentOut(serializers.ModelSerializer):  # type: ignore[type-arg]
    type = serializers.CharField(source="doc_type")
    node_id = serializers.CharField(source="node.node_id")
    service = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField(format="%Y-%m-%dT%H:%M:%SZ")
    updated_at = serializers.DateTimeField(format="%Y-%m-%dT%H:%M:%SZ")

    class Meta:
        model = KnowledgeDocument
        fields: tuple[str, ...] = (
            "document_id",
            "title",
            "type",
            "service",
            "tags",
            "key",
            "node_id",
            "version",
            "remediation",
            "helpful_count",
            "unhelpful_count",
            "created_by",
            "created_at",
            "updated_by",
            "updated_at",
        )

    def get_service(self, document: KnowledgeDocument) -> str | None:
        return document.service or None


class DocumentDetailOut(DocumentOut):
    class Meta(DocumentOut.Meta):
        fields = (*DocumentOut.Meta.fields, "content")


class DocumentListOut(serializers.Serializer):  # type: ignore[type-arg]
    documents = DocumentOut(many=True)
    pagination = pagination_serializer()


class NodeStatsOut(serializers.Serializer):  # type: ignore[type-arg]
    node_id = serializers.CharField()
    name = serializers.CharField()
    node_type = serializers.CharField()
    documents = serializers.IntegerField()
    by_type = serializers.DictField(child=serializers.IntegerField())
    chunks = serializers.IntegerField()


class TreeStatsOut(serializers.Serializer):  # type: ignore[type-arg]
    nodes = NodeStatsOut(many=True, help_text="The team's lineage, root first")
    total = serializers.DictField()


class StatusOut(serializers.Serializer):  # type: ignore[type-arg]
    backend = serializers.ChoiceField(["postgresql", "sqlite_fts5"])
    state = serializers.ChoiceField(["ready", "indexing"])
    documents = serializers.IntegerField()
    chunks = serializers.IntegerField()
    unindexed_chunks = serializers.IntegerField()
    last_updated_at = serializers.DateTimeField(allow_null=True, format="%Y-%m-%dT%H:%M:%SZ")


def validated(serializer_class: type[serializers.Serializer], data: Any) -> dict[str, Any]:  # type: ignore[type-arg]
    """Validate ``data``; DRF's ValidationError becomes the documented error body in the exception handler."""
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)
