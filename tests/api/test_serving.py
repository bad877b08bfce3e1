"""How the app is served: Django's own ASGI handler behind the body limit, with a middleware stack that runs
entirely on the event loop, so a waiting sync run (an async view) parks no thread."""

from __future__ import annotations

from django.conf import settings
from django.core.handlers.asgi import ASGIHandler
from django.utils.module_loading import import_string

from incidentfox_web.asgi import application
from incidentfox_web.body_limit import RequestBodyLimit


def test_the_asgi_application_is_djangos_handler_behind_the_body_limit() -> None:
    assert isinstance(application, RequestBodyLimit)
    assert isinstance(application.app, ASGIHandler)
    assert application.max_bytes == settings.DATA_UPLOAD_MAX_MEMORY_SIZE


def test_every_middleware_can_run_on_the_event_loop() -> None:
    sync_only = [path for path in settings.MIDDLEWARE if not getattr(import_string(path), "async_capable", False)]
    assert sync_only == []  # one sync-only middleware would put every request, and every wait, on a thread
