"""Django admin for the knowledge base: browse documents and queries; edits go through the services."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from incidentfox_web.timestamps import admin_timestamp_column
from knowledge.models import KnowledgeDocument, KnowledgeFeedback, KnowledgeQuery
from knowledge.services import DocumentInput, document_delete, document_update
from tenancy.audit import RequestMeta


@admin.register(KnowledgeDocument)
class KnowledgeDocumentAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("document_id", "title", "doc_type", "service", "node", "version", "updated")
    updated = admin_timestamp_column("updated_at", "Updated")
    list_filter = ("doc_type", "org")
    search_fields = ("document_id", "title", "service", "key")
    readonly_fields = (
        "document_id",
        "org",
        "node",
        "key",
        "version",
        "remediation",
        "helpful_count",
        "unhelpful_count",
        "source_investigation_id",
        "created_by",
        "created_at",
        "updated_by",
        "updated_at",
    )
    fields = (
        "document_id",
        "org",
        "node",
        "key",
        "title",
        "doc_type",
        "service",
        "tags",
        "content",
        *readonly_fields[4:],
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # documents are taught through the API or the Knowledge page, which index them

    def save_model(self, request: HttpRequest, obj: KnowledgeDocument, form: Any, change: bool) -> None:
        document_update(
            document=obj,
            data=DocumentInput(
                content=obj.content, doc_type=obj.doc_type, title=obj.title, service=obj.service, tags=obj.tags
            ),
            meta=RequestMeta(actor=request.user.get_username()),
        )

    def delete_model(self, request: HttpRequest, obj: KnowledgeDocument) -> None:
        document_delete(document=obj, meta=RequestMeta(actor=request.user.get_username()))


@admin.register(KnowledgeQuery)
class KnowledgeQueryAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("query_id", "team", "kind", "query", "investigation_id", "created")
    created = admin_timestamp_column("created_at", "Created")
    list_filter = ("kind",)
    search_fields = ("query_id", "query", "investigation_id")
    readonly_fields = ("query_id", "org", "team", "kind", "query", "service", "results", "investigation_id", "actor")


@admin.register(KnowledgeFeedback)
class KnowledgeFeedbackAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("query", "helpful", "actor", "created")
    created = admin_timestamp_column("created_at", "Created")
    readonly_fields = ("query", "helpful", "comment", "actor", "created_at")
