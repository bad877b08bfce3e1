"""``POST /agents/status/{investigation_id}/postmortem`` (API.md §10): the draft, and with ``?save=true`` the saved
knowledge-base document."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from incidentfox_web.api.errors import ApiError
from incidentfox_web.api.formats import parse_query_bool
from incidentfox_web.api.schema import ERROR_RESPONSES, TEAM_HEADER
from incidentfox_web.api.views import ApiView
from investigations.engine_bridge import EngineFailure
from investigations.postmortem import PostmortemUnavailable, postmortem_save, postmortem_write
from investigations.selectors import investigation_for_team
from investigations.team_settings import TeamSettingsUnavailable
from knowledge.serializers import MAX_CONTENT_CHARS


class PostmortemIn(serializers.Serializer):  # type: ignore[type-arg]
    markdown = serializers.CharField(
        max_length=MAX_CONTENT_CHARS,
        required=False,
        trim_whitespace=False,
        help_text="With save=true: the edited write-up to store instead of a fresh draft",
    )


class PostmortemSections(serializers.Serializer):  # type: ignore[type-arg]
    summary = serializers.CharField()
    impact = serializers.DictField(
        help_text="affected_systems, started_at, last_observed_at, observed_duration_seconds"
    )
    detection = serializers.DictField(help_text="alert, trigger_source, started_by, investigation times")
    timeline = serializers.ListField(child=serializers.DictField())
    root_cause = serializers.DictField(help_text="description, confidence, evidence")
    contributing_factors = serializers.ListField(child=serializers.DictField(), help_text="The other hypotheses")
    what_went_well = serializers.ListField(child=serializers.CharField(), help_text="Left for people")
    what_went_badly = serializers.ListField(child=serializers.CharField(), help_text="Left for people")
    action_items = serializers.ListField(child=serializers.DictField(), help_text="priority, action, owner (null)")


class PostmortemOut(serializers.Serializer):  # type: ignore[type-arg]
    investigation_id = serializers.CharField()
    title = serializers.CharField()
    markdown = serializers.CharField()
    sections = PostmortemSections()
    written_by = serializers.CharField(allow_null=True, help_text="LLM mode: the model that rewrote the Markdown")
    document_id = serializers.CharField(required=False, help_text="save=true: the knowledge-base document")


class PostmortemView(ApiView):
    @extend_schema(
        summary="A blameless postmortem draft of a completed investigation (save=true stores it in the knowledge base)",
        request=PostmortemIn,
        parameters=[TEAM_HEADER, OpenApiParameter("save", bool, required=False, description="default false")],
        responses={200: PostmortemOut, **ERROR_RESPONSES},
    )
    def post(self, request: Request, investigation_id: str) -> Response:
        save = parse_query_bool(request.query_params.get("save"), field="save", default=False)
        edited = PostmortemIn(data=self.body)
        edited.is_valid(raise_exception=True)
        investigation = investigation_for_team(team=self.selected_team(), investigation_id=investigation_id)
        if investigation is None:
            raise ApiError.not_found("Investigation not found")
        try:
            postmortem = postmortem_write(investigation=investigation)
        except PostmortemUnavailable as exc:
            raise ApiError.conflict(str(exc), details={"status": exc.status}) from exc
        except (EngineFailure, TeamSettingsUnavailable) as exc:
            raise ApiError("llm_unavailable", getattr(exc, "message", str(exc)), 503) from exc
        markdown = edited.validated_data.get("markdown")
        if markdown is not None and markdown.strip():
            postmortem = replace(postmortem, markdown=markdown)
        body: dict[str, Any] = {
            "investigation_id": investigation.id,
            "title": postmortem.title,
            "markdown": postmortem.markdown,
            "sections": postmortem.sections,
            "written_by": postmortem.written_by,
        }
        if save:
            document = postmortem_save(investigation=investigation, postmortem=postmortem, meta=self.request_meta())
            body["document_id"] = document.document_id
        return Response(body)
