"""The list endpoints' ``limit``/``offset`` pages as a DRF pagination class: bad values are a ``400
validation_error`` (DRF's own classes would quietly clamp them), and the body is ``{<items_key>: [...],
"pagination": {total, limit, offset}}`` (API.md §1.4). Subclasses name the list and its limits."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import QuerySet
from rest_framework.pagination import BasePagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from incidentfox_web.api.formats import Page


class ApiPagination(BasePagination):
    items_key = "items"
    default_limit = 20
    max_limit = 100

    page: Page
    total: int

    def paginate_queryset(
        self, queryset: QuerySet[Any, Any] | Sequence[Any], request: Request, view: APIView | None = None
    ) -> list[Any]:
        """One page of ``queryset``; the total is ``view.total(queryset)`` when the view counts more cheaply
        than ``COUNT(*)`` (the investigation history keeps a counter)."""
        self.page = Page.from_query(request.query_params, default=self.default_limit, maximum=self.max_limit)
        total = getattr(view, "total", None)
        if total is not None:
            self.total = total(queryset)
        else:
            self.total = queryset.count() if isinstance(queryset, QuerySet) else len(queryset)
        return list(queryset[self.page.rows])

    def get_paginated_response(self, data: Any) -> Response:
        return Response({self.items_key: data, "pagination": self.page.pagination(self.total)})

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        pagination = {name: {"type": "integer"} for name in ("total", "limit", "offset")}
        return {
            "type": "object",
            "required": [self.items_key, "pagination"],
            "properties": {
                self.items_key: schema,
                "pagination": {"type": "object", "required": list(pagination), "properties": pagination},
            },
        }

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        return [
            {
                "name": "limit",
                "in": "query",
                "required": False,
                "schema": {"type": "integer", "minimum": 1, "maximum": self.max_limit},
                "description": f"1-{self.max_limit}, default {self.default_limit}",
            },
            {"name": "offset", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 0}},
        ]
