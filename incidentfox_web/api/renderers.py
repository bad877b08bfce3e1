"""JSON with an explicit charset, and the opt-in ``{data, meta}`` envelope (``?envelope=true``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils import timezone
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer

from incidentfox_web.api.formats import iso_z


class ApiJSONRenderer(JSONRenderer):
    charset = "utf-8"

    def render(
        self, data: Any, accepted_media_type: str | None = None, renderer_context: Mapping[str, Any] | None = None
    ) -> bytes:
        request = (renderer_context or {}).get("request")
        if request is not None and getattr(request, "envelope", False) and not getattr(request, "api_error", False):
            data = {
                "data": data,
                "meta": {"request_id": getattr(request, "request_id", ""), "timestamp": iso_z(timezone.now())},
            }
        return super().render(data, accepted_media_type, renderer_context)


class ApiBrowsableRenderer(BrowsableAPIRenderer):
    """DRF's browsable API for people signed in to the web app."""
