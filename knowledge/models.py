"""Knowledge documents of a node (runbooks, notes, postmortems), their searchable chunks, queries and feedback.

A document lives on one node of the org tree and serves that node's teams: a team reads the documents of every
node on its path from the root, like its effective config. Chunks carry the node too, so the full-text query
filters on the lineage in the same statement that ranks.
"""

from __future__ import annotations

from typing import ClassVar

from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.models import Q
from django.utils import timezone

from incidentfox_web.ids import new_id
from tenancy.models import Node, Organization


def new_document_id() -> str:
    return new_id("kb_", 20)


def new_query_id() -> str:
    return new_id("kbq_", 20)


class DocType(models.TextChoices):
    RUNBOOK = "runbook", "Runbook"
    NOTE = "note", "Note"
    POSTMORTEM = "postmortem", "Postmortem"


class DocumentQuerySet(models.QuerySet["KnowledgeDocument"]):
    def for_team(self, team: Node) -> DocumentQuerySet:
        """The one tenancy filter: the documents of the team's own node and of every node above it."""
        return self.filter(org_id=team.org_id, node__node_id__in=team.path)


class KnowledgeDocument(models.Model):
    document_id = models.CharField(max_length=24, unique=True, default=new_document_id, editable=False)
    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="knowledge_documents")
    node = models.ForeignKey(Node, on_delete=models.CASCADE, related_name="knowledge_documents")
    key = models.CharField(max_length=255, blank=True)  # the client's idempotency key, unique per node
    title = models.CharField(max_length=300)
    doc_type = models.CharField(max_length=12, choices=DocType.choices, default=DocType.RUNBOOK)
    service = models.CharField(max_length=200, blank=True)
    tags = models.JSONField(default=list, blank=True)
    content = models.TextField()
    remediation = models.JSONField(default=list, blank=True)  # steps from the Mitigation/Remediation sections
    version = models.PositiveIntegerField(default=1)
    helpful_count = models.PositiveIntegerField(default=0)
    unhelpful_count = models.PositiveIntegerField(default=0)
    source_investigation_id = models.CharField(max_length=24, blank=True)  # postmortems: the investigation
    occurred_at = models.DateTimeField(null=True, blank=True)  # postmortems: when the incident happened
    created_by = models.CharField(max_length=255)
    updated_by = models.CharField(max_length=255)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = DocumentQuerySet.as_manager()

    class Meta:
        ordering: ClassVar = ["-updated_at", "-id"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["node", "key"], condition=~Q(key=""), name="kb_doc_unique_key"),
        ]
        indexes: ClassVar = [models.Index(fields=["node", "-updated_at", "-id"], name="kb_doc_node_recent")]

    def __str__(self) -> str:
        return f"{self.document_id} {self.title}"


class KnowledgeChunk(models.Model):
    """One heading-delimited passage of a document, the unit the search ranks.

    ``search_vector`` is filled on PostgreSQL only (GIN-indexed); on SQLite an FTS5 table kept in step by
    triggers indexes the same columns (migration 0002).
    """

    document = models.ForeignKey(KnowledgeDocument, on_delete=models.CASCADE, related_name="chunks")
    node = models.ForeignKey(Node, on_delete=models.CASCADE, related_name="+")
    ordinal = models.PositiveIntegerField()
    heading = models.CharField(max_length=500)
    keywords = models.TextField(blank=True)
    text = models.TextField()
    search_vector = SearchVectorField(null=True, editable=False)

    class Meta:
        ordering: ClassVar = ["document", "ordinal"]
        indexes: ClassVar = [models.Index(fields=["node"], name="kb_chunk_node")]

    def __str__(self) -> str:
        return f"{self.document_id}#{self.ordinal}"


class QueryKind(models.TextChoices):
    RETRIEVE = "retrieve", "Retrieve"
    ANSWER = "answer", "Answer"
    INVESTIGATION = "investigation", "Investigation"


class KnowledgeQuery(models.Model):
    """A retrieval a team ran (API, web or an investigation): what was asked and what came back, for feedback."""

    query_id = models.CharField(max_length=24, unique=True, default=new_query_id, editable=False)
    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    team = models.ForeignKey(Node, on_delete=models.CASCADE, related_name="knowledge_queries")
    kind = models.CharField(max_length=16, choices=QueryKind.choices)
    query = models.TextField()
    service = models.CharField(max_length=200, blank=True)
    results = models.JSONField(default=list)  # [{"document_id", "title", "score", "type"}], best first
    investigation_id = models.CharField(max_length=24, blank=True)
    actor = models.CharField(max_length=255)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering: ClassVar = ["-created_at", "-id"]
        indexes: ClassVar = [
            models.Index(fields=["team", "investigation_id"], name="kb_query_investigation"),
        ]

    def __str__(self) -> str:
        return self.query_id


class KnowledgeFeedback(models.Model):
    """Was a retrieval helpful? One vote per actor and query; the top result's counts feed the ranking."""

    query = models.ForeignKey(KnowledgeQuery, on_delete=models.CASCADE, related_name="feedback")
    helpful = models.BooleanField()
    comment = models.TextField(blank=True)
    actor = models.CharField(max_length=255)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints: ClassVar = [models.UniqueConstraint(fields=["query", "actor"], name="kb_feedback_one_vote")]

    def __str__(self) -> str:
        return f"{self.query_id} {'helpful' if self.helpful else 'not helpful'}"
