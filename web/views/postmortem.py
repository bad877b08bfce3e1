"""The postmortem editor of a completed investigation: the blameless draft (or the saved write-up) in a Markdown
editor, saved to the team's knowledge base, exported as Markdown or JSON."""

from __future__ import annotations

import json
from dataclasses import replace

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_http_methods

from investigations.engine_bridge import EngineFailure
from investigations.models import Investigation
from investigations.postmortem import (
    Postmortem,
    PostmortemUnavailable,
    postmortem_draft,
    postmortem_save,
    postmortem_write,
)
from investigations.team_settings import TeamSettingsUnavailable
from knowledge.models import KnowledgeDocument
from knowledge.serializers import MAX_CONTENT_CHARS
from web.access import access_of, get_for_principal_or_404, member_required, request_meta
from web.pages import render_page


class PostmortemForm(forms.Form):
    markdown = forms.CharField(
        label="Postmortem (Markdown)",
        max_length=MAX_CONTENT_CHARS,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 30, "spellcheck": "true", "class": "code"}),
    )


def _write(investigation: Investigation, request: HttpRequest) -> Postmortem:
    """The team's model's rewrite in LLM mode; the deterministic draft if the model cannot be reached."""
    try:
        return postmortem_write(investigation=investigation)
    except TeamSettingsUnavailable as exc:
        messages.warning(request, f"The team's model settings could not be read ({exc}); this is the data's draft.")
        return postmortem_draft(investigation=investigation)
    except EngineFailure as failure:
        messages.warning(
            request, f"The team's model could not write the draft ({failure.message}); this is the data's."
        )
        return postmortem_draft(investigation=investigation)


@member_required
@require_http_methods(["GET", "POST"])
def postmortem_editor(request: HttpRequest, investigation_id: str) -> HttpResponse:
    principal = access_of(request).principal
    investigation = get_for_principal_or_404(
        Investigation.objects.select_related("team", "team__org"), principal, pk=investigation_id
    )
    choice = access_of(request).team(investigation.team.node_id)
    try:
        draft = postmortem_draft(investigation=investigation)
    except PostmortemUnavailable as exc:
        context = {"investigation": investigation, "unavailable": str(exc)}
        return render_page(request, "web/postmortem.html", context, team=choice, nav="history", status=409)
    saved = KnowledgeDocument.objects.filter(node=investigation.team, key=f"postmortem:{investigation.pk}").first()
    form = PostmortemForm(request.POST or None)
    if request.method == "POST":
        if choice is None or not choice.can_operate:
            raise PermissionDenied("Viewers cannot save postmortems")
        if form.is_valid():
            document = postmortem_save(
                investigation=investigation,
                postmortem=replace(draft, markdown=form.cleaned_data["markdown"]),
                meta=request_meta(request),
            )
            messages.success(
                request,
                "Postmortem saved to the knowledge base: the next investigation of "
                f"{draft.service or 'this service'} will find it.",
            )
            return redirect(
                "web:knowledge_document", team_id=investigation.team.node_id, document_id=document.document_id
            )
    export = request.GET.get("format")
    if saved is None and request.method == "GET":
        draft = _write(investigation, request) if export != "json" else draft
    markdown = saved.content if saved is not None else draft.markdown
    if export == "md":
        response = HttpResponse(markdown, content_type="text/markdown; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="postmortem-{investigation.pk}.md"'
        return response
    if export == "json":
        body = {
            "investigation_id": investigation.pk,
            "title": draft.title,
            "markdown": markdown,
            "sections": draft.sections,
        }
        response = HttpResponse(json.dumps(body, indent=2), content_type="application/json")
        response["Content-Disposition"] = f'attachment; filename="postmortem-{investigation.pk}.json"'
        return response
    if request.method == "GET":
        form = PostmortemForm(initial={"markdown": markdown})
    context = {
        "investigation": investigation,
        "draft": draft,
        "saved": saved,
        "form": form,
        "can_save": bool(choice and choice.can_operate),
    }
    return render_page(
        request, "web/postmortem.html", context, team=choice, nav="history", status=400 if form.errors else 200
    )
