"""The app's routes plus ``/bench/drf-floor``: a DRF view with no authentication, permission or rate limit.

It measures what Django REST framework itself costs on this server, so a bench can separate the framework's share of
an API request from what authentication and the shared rate limit add.
"""

from __future__ import annotations

from django.urls import path
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from incidentfox_web.api.views import ApiView
from incidentfox_web.urls import urlpatterns as app_urlpatterns


class FrameworkFloorView(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]
    perform_content_negotiation = ApiView.perform_content_negotiation  # the API's own shortcut for JSON clients

    def get(self, request: Request) -> Response:
        return Response({"status": "ok"})


urlpatterns = [path("bench/drf-floor", FrameworkFloorView.as_view()), *app_urlpatterns]
