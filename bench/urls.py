"""The app's routes plus the bench floors: DRF views that do only part of what an API request must do.

Each floor measures, on the same server, the throughput an endpoint could keep at best if it did that much work
and nothing else, so a bench can tell the framework's share of an API request, and the share of the round trips
the contract requires, from what authentication and the endpoint itself add:

- ``/bench/drf-floor``: DRF with no authentication, permission or rate limit.
- ``/bench/drf-floor-limited``: the same plus what API.md §3 requires of every API response: one atomic increment
  in the shared rate-limit store (Redis when ``REDIS_URL`` is set, else the database) and the ``X-RateLimit-*``
  headers of its answer.
- ``/bench/drf-floor-limited-read/<investigation_id>``: the same plus one read of an investigation's row by id,
  through a prepared statement as a status poll reads it (by id alone: the floor has no team).
"""

from __future__ import annotations

from django.urls import path
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from incidentfox_web.api import ratelimit
from incidentfox_web.api.views import ApiView
from incidentfox_web.prepared import PreparedGet
from incidentfox_web.urls import urlpatterns as app_urlpatterns
from investigations.models import Investigation

BENCH_LIMIT = 10**9  # counted like a real request, never refused


class _Floor(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]
    perform_content_negotiation = ApiView.perform_content_negotiation  # the API's own shortcut for JSON clients


class FrameworkFloorView(_Floor):
    def get(self, request: Request) -> Response:
        return Response({"status": "ok"})


class LimitedFloorView(_Floor):
    def get(self, request: Request) -> Response:
        return _counted(Response({"status": "ok"}))


_investigation_by_id = PreparedGet(Investigation, "id")


class LimitedReadFloorView(_Floor):
    def get(self, request: Request, investigation_id: str) -> Response:
        investigation = _investigation_by_id(investigation_id)
        return _counted(Response({"status": investigation.status if investigation else None}))


def _counted(response: Response) -> Response:
    decision = ratelimit.hit(bucket="read", key="bench-floor", limit=BENCH_LIMIT)
    for name, value in decision.headers().items() if decision else ():
        response[name] = value
    return response


urlpatterns = [
    path("bench/drf-floor", FrameworkFloorView.as_view()),
    path("bench/drf-floor-limited", LimitedFloorView.as_view()),
    path("bench/drf-floor-limited-read/<str:investigation_id>", LimitedReadFloorView.as_view()),
    *app_urlpatterns,
]
