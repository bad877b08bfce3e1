"""The team's Knowledge page: its documents (its own and those shared from above), search with feedback, one
document's view and Markdown editor, teaching by form or file upload.

Operators teach and edit the team's own documents; a document shared from a group or the org is read-only here
unless the user is an org admin. Another team's document is a 404.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from knowledge.answer import AnswerUnavailable, answer_question
from knowledge.models import DocType, KnowledgeDocument, QueryKind
from knowledge.selectors import document_for_team, documents_for_team, passages_for_team, query_for_team
from knowledge.serializers import MAX_CONTENT_CHARS
from knowledge.services import (
    DocumentInput,
    document_delete,
    document_teach,
    document_update,
    feedback_record,
    query_record,
)
from tenancy.models import Node
from web.access import TeamChoice, access_of, member_required, request_meta, team_or_404
from web.pages import render_page

PAGE_SIZE = 50
UPLOAD_MAX_BYTES = 512 * 1024
UPLOAD_SUFFIXES = (".md", ".markdown", ".txt")


class DocumentForm(forms.Form):
    title = forms.CharField(max_length=300, required=False, help_text="Default: the first heading or line.")
    doc_type = forms.ChoiceField(label="Type", choices=DocType.choices, initial=DocType.RUNBOOK)
    service = forms.CharField(max_length=200, required=False, help_text="The service it is about, if one.")
    tags = forms.CharField(max_length=1000, required=False, help_text="Comma-separated, e.g. the alert names.")
    content = forms.CharField(
        label="Markdown",
        max_length=MAX_CONTENT_CHARS,
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 18, "spellcheck": "true", "class": "code"}),
    )
    upload = forms.FileField(
        label="Or upload a file",
        required=False,
        help_text="A Markdown or text file (.md, .txt), at most 512 KiB.",
        widget=forms.ClearableFileInput(attrs={"accept": ",".join(UPLOAD_SUFFIXES)}),
    )

    def clean_upload(self) -> str | None:
        upload = self.cleaned_data.get("upload")
        if upload is None:
            return None
        if not upload.name.lower().endswith(UPLOAD_SUFFIXES):
            raise forms.ValidationError("Upload a Markdown or text file (.md, .markdown, .txt).")
        if upload.size > UPLOAD_MAX_BYTES:
            raise forms.ValidationError("The file is larger than 512 KiB.")
        try:
            return str(upload.read().decode("utf-8"))
        except UnicodeDecodeError:
            raise forms.ValidationError("The file is not UTF-8 text.") from None

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        content = cleaned.get("upload") or cleaned.get("content") or ""
        if not content.strip() and not self.errors:
            raise forms.ValidationError("Write the document or upload a file.")
        cleaned["content"] = content
        return cleaned

    def document_input(self) -> DocumentInput:
        data = self.cleaned_data
        return DocumentInput(
            content=data["content"],
            doc_type=data["doc_type"],
            title=data["title"],
            service=data["service"],
            tags=[tag for tag in data["tags"].split(",") if tag.strip()],
        )


def _can_edit(choice: TeamChoice, team: Node, document: KnowledgeDocument, request: HttpRequest) -> bool:
    if document.node_id == team.pk:
        return choice.can_operate
    return access_of(request).principal.is_admin


def _document_or_404(team: Node, document_id: str) -> KnowledgeDocument:
    document = document_for_team(team, document_id)
    if document is None:
        raise Http404("No such document")
    return document


@member_required
@require_http_methods(["GET", "POST"])
def knowledge(request: HttpRequest, team_id: str) -> HttpResponse:
    team, choice = team_or_404(request, team_id)
    form = DocumentForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        if not choice.can_operate:
            raise PermissionDenied("Viewers cannot teach the knowledge base")
        if form.is_valid():
            taught = document_teach(node=team, data=form.document_input(), key="", meta=request_meta(request))
            messages.success(request, f"Saved “{taught.document.title}”.")
            return redirect("web:knowledge_document", team_id=team.node_id, document_id=taught.document.document_id)
    q = (request.GET.get("q") or "").strip()[:500]
    context: dict[str, Any] = {
        "team": team,
        "documents": Paginator(documents_for_team(team), PAGE_SIZE).get_page(request.GET.get("page")),
        "q": q,
        "form": form if choice.can_operate else None,
    }
    question = (request.GET.get("ask") or "").strip()[:2000]
    if question:
        context["question"] = question
        try:
            context["answered"] = answer_question(
                team=team, question=question, service=None, actor=access_of(request).principal.actor
            )
        except AnswerUnavailable as exc:
            context["answer_error"] = str(exc)
    if q:
        passages = passages_for_team(team=team, query=q, service=None, top_k=10)
        query = query_record(
            team=team,
            kind=QueryKind.RETRIEVE,
            query=q,
            service=None,
            passages=passages,
            actor=access_of(request).principal.actor,
        )
        context.update(passages=passages, query_id=query.query_id)
    status = 400 if form.errors else 200
    return render_page(request, "web/knowledge.html", context, team=choice, nav="knowledge", status=status)


@member_required
@require_http_methods(["GET", "POST"])
def knowledge_document(request: HttpRequest, team_id: str, document_id: str) -> HttpResponse:
    team, choice = team_or_404(request, team_id)
    document = _document_or_404(team, document_id)
    editable = _can_edit(choice, team, document, request)
    initial = {
        "title": document.title,
        "doc_type": document.doc_type,
        "service": document.service,
        "tags": ", ".join(document.tags),
        "content": document.content,
    }
    form = DocumentForm(request.POST or None, request.FILES or None, initial=initial)
    if request.method == "POST":
        if not editable:
            raise PermissionDenied("You cannot edit this document")
        if request.POST.get("action") == "delete":
            document_delete(document=document, meta=request_meta(request))
            messages.success(request, f"Deleted “{document.title}”.")
            return redirect("web:knowledge", team_id=team.node_id)
        if form.is_valid():
            updated = document_update(document=document, data=form.document_input(), meta=request_meta(request))
            note = f"version {updated.document.version}" if updated.changed else "no changes"
            messages.success(request, f"Saved “{updated.document.title}” ({note}).")
            return redirect("web:knowledge_document", team_id=team.node_id, document_id=document.document_id)
    context = {
        "team": team,
        "document": document,
        "form": form if editable else None,
        "shared": document.node_id != team.pk,
    }
    status = 400 if form.errors else 200
    return render_page(request, "web/knowledge_document.html", context, team=choice, nav="knowledge", status=status)


@member_required
@require_GET
def knowledge_export(request: HttpRequest, team_id: str, document_id: str) -> HttpResponse:
    team, _choice = team_or_404(request, team_id)
    document = _document_or_404(team, document_id)
    response = HttpResponse(document.content, content_type="text/markdown; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{document.document_id}.md"'
    return response


@member_required
@require_POST
def knowledge_feedback(request: HttpRequest, team_id: str) -> HttpResponse:
    """A search result's "helpful?" buttons (htmx): record the vote, answer with the thanks fragment."""
    team, choice = team_or_404(request, team_id)
    if not choice.can_operate:
        raise PermissionDenied("Viewers cannot give feedback")
    query = query_for_team(team, request.POST.get("query_id", ""))
    if query is None:
        raise Http404("No such query")
    helpful = request.POST.get("helpful") == "true"
    feedback_record(query=query, helpful=helpful, comment="", actor=access_of(request).principal.actor)
    return TemplateResponse(request, "web/knowledge.html#feedback", {"helpful": helpful, "team": team})
