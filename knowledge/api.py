"""Knowledge API adapters (API.md §10): read the input, call one service or selector, shape the output.

Team-scoped like ``/config/me``: reads need ``team:read`` (retrieve and answer are POSTs that only read),
writes ``team:write``. Another team's or org's document is a 404.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from incidentfox_web.api.errors import ApiError
from incidentfox_web.api.formats import Page, parse_query_choice
from incidentfox_web.api.permissions import TeamReadAccess
from incidentfox_web.api.schema import ERROR_RESPONSES, TEAM_HEADER
from incidentfox_web.api.views import ApiView
from knowledge import serializers as s
from knowledge.answer import AnswerUnavailable, answer_question
from knowledge.models import KnowledgeDocument, QueryKind
from knowledge.selectors import (
    document_for_team,
    documents_for_team,
    index_status,
    lineage,
    passages_for_team,
    query_for_team,
    tree_stats,
)
from knowledge.services import DocumentInput, document_delete, document_teach, feedback_record, query_record
from tenancy.models import Node


class KnowledgeReadPostView(ApiView):
    """A POST that only reads (retrieve, answer): ``team:read`` is enough, so read-only tokens can search."""

    permission_classes = [TeamReadAccess]


def _teach_node(view: ApiView, team: Node, node_id: str) -> Node:
    """Where a taught document lives: the team, or (admins only) a node above it."""
    if not node_id or node_id == team.node_id:
        return team
    if not view.principal.is_admin:
        raise ApiError.invalid_field("node_id", "node_id is admin-only: team credentials teach their own team")
    node = next((node for node in lineage(team) if node.node_id == node_id), None)
    if node is None:
        raise ApiError.validation("node_id", "must be the team or a group or org above it")
    return node


class TeachView(ApiView):
    @extend_schema(
        summary="Teach a document (create; the same key updates it)",
        request=s.TeachIn,
        parameters=[TEAM_HEADER],
        responses={200: s.TeachOut, 201: s.TeachOut, **ERROR_RESPONSES},
    )
    def post(self, request: Request) -> Response:
        data = s.validated(s.TeachIn, self.body)
        team = self.selected_team()
        node = _teach_node(self, team, data["node_id"])
        taught = document_teach(
            node=node,
            key=data["key"],
            data=DocumentInput(
                content=data["content"],
                doc_type=data["type"],
                title=data["title"],
                service=data["service"],
                tags=data["tags"],
            ),
            meta=self.request_meta(),
        )
        document = taught.document
        body = {
            "document_id": document.document_id,
            "version": document.version,
            "title": document.title,
            "type": document.doc_type,
            "node_id": node.node_id,
            "changed": taught.changed,
        }
        return Response(body, status=201 if taught.created else 200)


class RetrieveView(KnowledgeReadPostView):
    @extend_schema(
        summary="Ranked passages for a query (one per document)",
        request=s.RetrieveIn,
        parameters=[TEAM_HEADER],
        responses={200: s.RetrieveOut, **ERROR_RESPONSES},
    )
    def post(self, request: Request) -> Response:
        data = s.validated(s.RetrieveIn, self.body)
        team = self.selected_team()
        service = data["service"] or None
        passages = passages_for_team(team=team, query=data["query"], service=service, top_k=data["top_k"])
        query = query_record(
            team=team,
            kind=QueryKind.RETRIEVE,
            query=data["query"],
            service=service,
            passages=passages,
            actor=self.principal.actor,
        )
        return Response({"query_id": query.query_id, "results": [p.as_result() for p in passages]})


class AnswerView(KnowledgeReadPostView):
    @extend_schema(
        summary="Answer a question from the knowledge base, citing its sources",
        request=s.AnswerIn,
        parameters=[TEAM_HEADER],
        responses={200: s.AnswerOut, **ERROR_RESPONSES},
    )
    def post(self, request: Request) -> Response:
        data = s.validated(s.AnswerIn, self.body)
        team = self.selected_team()
        try:
            answered = answer_question(
                team=team, question=data["question"], service=data["service"] or None, actor=self.principal.actor
            )
        except AnswerUnavailable as exc:
            raise ApiError("llm_unavailable", str(exc), 503) from exc
        body: dict[str, Any] = {
            "query_id": answered.query_id,
            "answer": answered.answer,
            "sources": [p.as_result() for p in answered.sources] if data["include_sources"] else [],
            "written_by": answered.written_by,
        }
        return Response(body)


class FeedbackView(ApiView):
    @extend_schema(
        summary="Say whether a retrieval or answer helped; feeds the ranking",
        request=s.FeedbackIn,
        parameters=[TEAM_HEADER],
        responses={204: None, **ERROR_RESPONSES},
    )
    def post(self, request: Request) -> Response:
        data = s.validated(s.FeedbackIn, self.body)
        team = self.selected_team()
        query = query_for_team(team, data["query_id"])
        if query is None:
            raise ApiError.not_found("Query not found")
        feedback_record(query=query, helpful=data["helpful"], comment=data["comment"], actor=self.principal.actor)
        return Response(status=204)


class TreeStatsView(ApiView):
    @extend_schema(
        summary="Documents per node of the team's lineage and per type",
        parameters=[TEAM_HEADER],
        responses={200: s.TreeStatsOut, **ERROR_RESPONSES},
    )
    def get(self, request: Request) -> Response:
        return Response(tree_stats(self.selected_team()))


class StatusView(ApiView):
    @extend_schema(
        summary="The search index: engine, counts and state",
        parameters=[TEAM_HEADER],
        responses={200: s.StatusOut, **ERROR_RESPONSES},
    )
    def get(self, request: Request) -> Response:
        return Response(s.StatusOut(index_status(self.selected_team())).data)


class DocumentListView(ApiView):
    @extend_schema(
        operation_id="kb_documents_list",
        summary="The documents the team reads (its own and those above it), newest first",
        parameters=[
            TEAM_HEADER,
            OpenApiParameter("limit", int, required=False, description="1-100, default 20"),
            OpenApiParameter("offset", int, required=False),
            OpenApiParameter("type", str, required=False, enum=s.TYPES),
            OpenApiParameter("service", str, required=False),
            OpenApiParameter("q", str, required=False, description="Part of the title or service"),
        ],
        responses={200: s.DocumentListOut, **ERROR_RESPONSES},
    )
    def get(self, request: Request) -> Response:
        params = request.query_params
        page = Page.from_query(params, default=20, maximum=100)
        rows = documents_for_team(
            self.selected_team(),
            doc_type=parse_query_choice(params.get("type"), field="type", choices=s.TYPES),
            service=params.get("service") or None,
            q=(params.get("q") or "")[:200] or None,
        )
        return Response(
            {
                "documents": s.DocumentOut(rows[page.rows], many=True).data,
                "pagination": page.pagination(rows.count()),
            }
        )


class DocumentView(ApiView):
    def _document(self, document_id: str) -> KnowledgeDocument:
        document = document_for_team(self.selected_team(), document_id)
        if document is None:
            raise ApiError.not_found("Document not found")
        return document

    @extend_schema(
        summary="One document with its content",
        parameters=[TEAM_HEADER],
        responses={200: s.DocumentDetailOut, **ERROR_RESPONSES},
    )
    def get(self, request: Request, document_id: str) -> Response:
        return Response(s.DocumentDetailOut(self._document(document_id)).data)

    @extend_schema(
        summary="Delete a document the team owns (admins: any document above the team too)",
        parameters=[TEAM_HEADER],
        responses={204: None, **ERROR_RESPONSES},
    )
    def delete(self, request: Request, document_id: str) -> Response:
        document = self._document(document_id)
        team = self.selected_team()
        if document.node_id != team.pk and not self.principal.is_admin:
            raise ApiError.forbidden("Only an org admin can delete a document shared from above the team")
        document_delete(document=document, meta=self.request_meta())
        return Response(status=204)
