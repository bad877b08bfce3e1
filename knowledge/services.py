"""Writes to the knowledge base: teach (create or update by key), delete, record queries and feedback."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from knowledge.markdown import chunk_document, document_title, keywords_for, remediation_steps
from knowledge.models import KnowledgeChunk, KnowledgeDocument, KnowledgeFeedback, KnowledgeQuery, QueryKind
from knowledge.search import index_chunks
from knowledge.selectors import Passage
from tenancy.audit import RequestMeta, audit_record
from tenancy.models import Node

MAX_TAGS = 20


@dataclass(frozen=True)
class DocumentInput:
    content: str
    doc_type: str
    title: str = ""
    service: str = ""
    tags: Sequence[str] = ()
    source_investigation_id: str = ""
    occurred_at: datetime | None = None


@dataclass(frozen=True)
class Taught:
    document: KnowledgeDocument
    created: bool
    changed: bool


def document_teach(*, node: Node, data: DocumentInput, key: str, meta: RequestMeta) -> Taught:
    """Create a document on ``node``, or update the one with the same ``key`` there (a new version only when
    something changed, so repeating a request is harmless)."""
    if key:
        try:
            with transaction.atomic():
                existing = KnowledgeDocument.objects.select_for_update().filter(node=node, key=key).first()
                if existing is not None:
                    return _update(existing, data=data, meta=meta)
                return _create(node=node, data=data, key=key, meta=meta)
        except IntegrityError:  # a concurrent teach with the same key created it first: update that one
            with transaction.atomic():
                existing = KnowledgeDocument.objects.select_for_update().get(node=node, key=key)
                return _update(existing, data=data, meta=meta)
    with transaction.atomic():
        return _create(node=node, data=data, key="", meta=meta)


def document_update(*, document: KnowledgeDocument, data: DocumentInput, meta: RequestMeta) -> Taught:
    with transaction.atomic():
        locked = KnowledgeDocument.objects.select_for_update().get(pk=document.pk)
        return _update(locked, data=data, meta=meta)


def document_delete(*, document: KnowledgeDocument, meta: RequestMeta) -> None:
    with transaction.atomic():
        audit_record(
            org=document.node.org,
            event_type="knowledge.deleted",
            meta=meta,
            team_id=document.node.node_id,
            target=document.document_id,
            details={"title": document.title, "type": document.doc_type},
        )
        document.delete()


def _clean_tags(tags: Sequence[str]) -> list[str]:
    cleaned: list[str] = []
    for tag in tags:
        tag = tag.strip()
        if tag and tag not in cleaned:
            cleaned.append(tag)
    return cleaned[:MAX_TAGS]


def _create(*, node: Node, data: DocumentInput, key: str, meta: RequestMeta) -> Taught:
    now = timezone.now()
    document = KnowledgeDocument(
        org_id=node.org_id,
        node=node,
        key=key,
        created_by=meta.actor,
        created_at=now,
        version=1,
    )
    _assign(document, data=data, meta=meta, now=now)
    document.full_clean()
    document.save()
    _rebuild_chunks(document)
    _audit(document, meta=meta, created=True)
    return Taught(document=document, created=True, changed=True)


def _update(document: KnowledgeDocument, *, data: DocumentInput, meta: RequestMeta) -> Taught:
    before = (document.title, document.doc_type, document.service, list(document.tags), document.content)
    _assign(document, data=data, meta=meta, now=timezone.now())
    after = (document.title, document.doc_type, document.service, list(document.tags), document.content)
    if before == after:
        document.refresh_from_db()  # drop the unsaved assignments (updated_by, updated_at)
        return Taught(document=document, created=False, changed=False)
    document.version += 1
    document.full_clean()
    document.save()
    _rebuild_chunks(document)
    _audit(document, meta=meta, created=False)
    return Taught(document=document, created=False, changed=True)


def _assign(document: KnowledgeDocument, *, data: DocumentInput, meta: RequestMeta, now: datetime) -> None:
    document.title = (data.title.strip() or document_title(data.content))[:300]
    document.doc_type = data.doc_type
    document.service = data.service.strip()
    document.tags = _clean_tags(data.tags)
    document.content = data.content
    document.remediation = remediation_steps(data.content)
    document.source_investigation_id = data.source_investigation_id or document.source_investigation_id
    document.occurred_at = data.occurred_at or document.occurred_at
    document.updated_by = meta.actor
    document.updated_at = now


def _rebuild_chunks(document: KnowledgeDocument) -> None:
    document.chunks.all().delete()
    keywords = keywords_for(document.title, document.service, list(document.tags))
    KnowledgeChunk.objects.bulk_create(
        KnowledgeChunk(
            document=document,
            node_id=document.node_id,
            ordinal=index,
            heading=chunk.heading,
            keywords=keywords,
            text=chunk.text,
        )
        for index, chunk in enumerate(chunk_document(document.title, document.content))
    )
    index_chunks(KnowledgeChunk.objects.filter(document=document))


def _audit(document: KnowledgeDocument, *, meta: RequestMeta, created: bool) -> None:
    audit_record(
        org=document.node.org,
        event_type="knowledge.created" if created else "knowledge.updated",
        meta=meta,
        team_id=document.node.node_id,
        target=document.document_id,
        details={"title": document.title, "type": document.doc_type, "version": document.version},
    )


def query_record(
    *,
    team: Node,
    kind: QueryKind,
    query: str,
    service: str | None,
    passages: Sequence[Passage],
    actor: str,
    investigation_id: str = "",
) -> KnowledgeQuery:
    """Keep what was asked and found: feedback refers to it, and an investigation's page shows it."""
    return KnowledgeQuery.objects.create(
        org_id=team.org_id,
        team=team,
        kind=kind,
        query=query[:4000],
        service=(service or "")[:200],
        results=[
            {
                "document_id": p.document_id,
                "title": p.title,
                "heading": p.heading,
                "score": round(p.score, 4),
                "type": p.doc_type,
            }
            for p in passages
        ],
        investigation_id=investigation_id,
        actor=actor,
    )


def feedback_record(*, query: KnowledgeQuery, helpful: bool, comment: str, actor: str) -> KnowledgeFeedback:
    """One vote per actor and query (a second one replaces the first); the query's top result carries it."""
    with transaction.atomic():
        previous = KnowledgeFeedback.objects.select_for_update().filter(query=query, actor=actor).first()
        top = query.results[0]["document_id"] if query.results else None
        if previous is not None:
            _count(top, helpful=previous.helpful, delta=-1)
            previous.helpful, previous.comment, previous.created_at = helpful, comment, timezone.now()
            previous.save(update_fields=["helpful", "comment", "created_at"])
            feedback = previous
        else:
            feedback = KnowledgeFeedback.objects.create(query=query, helpful=helpful, comment=comment, actor=actor)
        _count(top, helpful=helpful, delta=1)
    return feedback


def _count(document_id: str | None, *, helpful: bool, delta: int) -> None:
    if document_id is None:
        return
    field = "helpful_count" if helpful else "unhelpful_count"
    KnowledgeDocument.objects.filter(document_id=document_id).update(**{field: F(field) + delta})
