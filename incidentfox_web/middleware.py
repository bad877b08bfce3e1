"""Django's built-in middleware, run on the event loop under ASGI.

``MiddlewareMixin`` makes every built-in middleware async-capable by running each ``process_request`` and
``process_response`` through ``sync_to_async``: two thread hops per middleware, about fifteen per request for
this stack, more CPU than the API's own work. Most of these hooks only read headers and cookies and set
headers; they are as safe on the event loop as in a thread. The subclasses here run those hooks in place under
ASGI, the way Django's own ``RemoteUserMiddleware`` and django-htmx's ``HtmxMiddleware`` provide an
``__acall__``. A hook that may reach the session store (a database or cache query) still runs in a thread,
but only when it has that work to do: the session is saved only if the request used it, messages are stored
only if the request read or added one. Under WSGI (and Django's test client) the classes behave exactly as the
built-ins.

The chain then stays async down to the view: synchronous views (all of DRF's) take one thread hop, and the
async ``POST /agents/run`` waits for its run without any thread.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, cast

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth import middleware as auth
from django.contrib.messages import get_messages
from django.contrib.messages import middleware as messages
from django.contrib.sessions import middleware as sessions
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.middleware import clickjacking, common, csp, csrf, security
from django.utils.deprecation import MiddlewareMixin


class EventLoopHooks(MiddlewareMixin):
    """Runs ``process_request``/``process_response`` in place under ASGI, unless ``*_blocks`` says the hook has
    I/O to do for this request; then it runs in a thread, as ``MiddlewareMixin`` would run it."""

    def request_blocks(self, request: HttpRequest) -> bool:
        return False

    def response_blocks(self, request: HttpRequest) -> bool:
        return False

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        response: HttpResponseBase | None = None
        process_request = getattr(self, "process_request", None)
        if process_request is not None:
            if self.request_blocks(request):
                response = await sync_to_async(process_request, thread_sensitive=True)(request)
            else:
                response = process_request(request)
        if response is None:  # under ASGI, ``get_response`` is the async rest of the chain
            rest = cast(Callable[[HttpRequest], Awaitable[HttpResponseBase]], self.get_response)
            response = await rest(request)
        process_response = getattr(self, "process_response", None)
        if process_response is not None:
            if self.response_blocks(request):
                response = await sync_to_async(process_response, thread_sensitive=True)(request, response)
            else:
                response = process_response(request, response)
        assert response is not None
        return response


class SecurityMiddleware(EventLoopHooks, security.SecurityMiddleware):
    pass


class ContentSecurityPolicyMiddleware(EventLoopHooks, csp.ContentSecurityPolicyMiddleware):
    pass


class SessionMiddleware(EventLoopHooks, sessions.SessionMiddleware):
    """``process_request`` only attaches a lazy session; ``process_response`` saves it, which it can only need
    to do if the request read or wrote it (``accessed``) or every request is saved."""

    def response_blocks(self, request: HttpRequest) -> bool:
        session: Any = getattr(request, "session", None)
        return session is None or bool(session.accessed) or settings.SESSION_SAVE_EVERY_REQUEST


class CommonMiddleware(EventLoopHooks, common.CommonMiddleware):
    pass


class CsrfViewMiddleware(EventLoopHooks, csrf.CsrfViewMiddleware):
    """The token lives in a cookie (``CSRF_USE_SESSIONS`` is off): reading and setting it is header work, and so
    is the check before the view (compare the cookie with the header or the posted field). Under ASGI the check
    is offered to Django as a coroutine, which it awaits in place instead of adapting it through a thread."""

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        super().__init__(get_response)
        if self.async_mode and not settings.CSRF_USE_SESSIONS:
            self.process_view = self.aprocess_view  # type: ignore[method-assign,assignment]

    async def aprocess_view(
        self, request: HttpRequest, callback: Callable[..., Any], args: Any, kwargs: Any
    ) -> HttpResponseBase | None:
        return super().process_view(request, callback, args, kwargs)

    def request_blocks(self, request: HttpRequest) -> bool:
        return bool(settings.CSRF_USE_SESSIONS)

    def response_blocks(self, request: HttpRequest) -> bool:
        return bool(settings.CSRF_USE_SESSIONS)


class AuthenticationMiddleware(EventLoopHooks, auth.AuthenticationMiddleware):
    """``request.user`` is lazy: the user is loaded by whoever reads it (a view, in its thread)."""


class MessageMiddleware(EventLoopHooks, messages.MessageMiddleware):
    """Messages are stored (in a cookie, overflowing to the session) only if the request read or added one."""

    def response_blocks(self, request: HttpRequest) -> bool:
        storage: Any = get_messages(request)
        return bool(getattr(storage, "used", True) or getattr(storage, "added_new", True))


class XFrameOptionsMiddleware(EventLoopHooks, clickjacking.XFrameOptionsMiddleware):
    pass
