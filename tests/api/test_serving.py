"""How the app is served: Django's own ASGI handler behind the body limit, with a middleware stack that runs
entirely on the event loop (its header work in place, session writes in a thread), so a waiting sync run (an
async view) parks no thread and a sync view costs one thread hop."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from asgiref.sync import SyncToAsync, async_to_sync
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.core.handlers.asgi import ASGIHandler
from django.http import HttpRequest, HttpResponse
from django.test import AsyncClient, AsyncRequestFactory
from django.utils.module_loading import import_string

from incidentfox_web.asgi import application
from incidentfox_web.body_limit import RequestBodyLimit
from incidentfox_web.middleware import SessionMiddleware


def test_the_asgi_application_is_djangos_handler_behind_the_body_limit() -> None:
    assert isinstance(application, RequestBodyLimit)
    assert isinstance(application.app, ASGIHandler)
    assert application.max_bytes == settings.DATA_UPLOAD_MAX_MEMORY_SIZE


def test_every_middleware_can_run_on_the_event_loop() -> None:
    sync_only = [path for path in settings.MIDDLEWARE if not getattr(import_string(path), "async_capable", False)]
    assert sync_only == []  # one sync-only middleware would put every request, and every wait, on a thread


def _thread_hops_during(monkeypatch: pytest.MonkeyPatch, call: Callable[[], Any]) -> list[str]:
    """The functions run through ``sync_to_async`` (a thread hop each) while ``call`` runs."""
    hops: list[str] = []
    original = SyncToAsync.__call__

    async def counting(self: SyncToAsync[Any, Any], *args: Any, **kwargs: Any) -> Any:
        hops.append(getattr(self.func, "__qualname__", repr(self.func)))
        return await original(self, *args, **kwargs)

    monkeypatch.setattr(SyncToAsync, "__call__", counting)
    call()
    return hops


def test_a_request_to_an_async_view_crosses_into_a_thread_only_for_djangos_request_signals(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client = AsyncClient()
    hops = _thread_hops_during(monkeypatch, lambda: async_to_sync(client.get)("/health"))
    # Django's ASGI handler sends request_started and request_finished to their (sync) receivers; the
    # middleware's header work adds no hop of its own.
    assert [hop for hop in hops if "process_" in hop] == []
    assert len(hops) <= 2, hops


@pytest.mark.django_db(transaction=True)
def test_a_session_an_async_request_writes_is_saved_by_the_session_middleware() -> None:
    async def view(request: HttpRequest) -> HttpResponse:
        request.session["seen"] = "yes"
        return HttpResponse("ok")

    middleware = SessionMiddleware(view)
    request = AsyncRequestFactory().get("/")
    response = async_to_sync(middleware)(request)

    key = response.cookies[settings.SESSION_COOKIE_NAME].value
    assert SessionStore(session_key=key).load() == {"seen": "yes"}


def test_an_async_request_that_leaves_the_session_alone_saves_nothing_and_sets_no_cookie() -> None:
    async def view(request: HttpRequest) -> HttpResponse:
        return HttpResponse("ok")

    response = async_to_sync(SessionMiddleware(view))(AsyncRequestFactory().get("/"))

    assert settings.SESSION_COOKIE_NAME not in response.cookies
