"""The router the apps register their viewsets on: like every API route, its routes take one optional trailing
slash and never redirect (``APPEND_SLASH`` is off)."""

from __future__ import annotations

from rest_framework.routers import SimpleRouter


class ApiRouter(SimpleRouter):
    def __init__(self) -> None:
        super().__init__()
        self.trailing_slash = "/?"
