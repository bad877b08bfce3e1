"""Request ids: accepted from the client when well-formed, otherwise minted; echoed and logged everywhere."""

from __future__ import annotations

import contextvars
import logging
import re
from collections.abc import Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponse
from rest_framework.request import Request

from incidentfox_web.ids import request_id

_CLIENT_ID = re.compile(r"^[A-Za-z0-9._-]{1,128}$")
current_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")


def request_id_for(request: HttpRequest) -> str:
    supplied = request.META.get("HTTP_X_REQUEST_ID", "")  # META, not request.headers: cheaper on every request
    return supplied if _CLIENT_ID.match(supplied) else request_id()


class RequestIdMiddleware:
    """Works in both modes, so under ASGI it adds no thread hop of its own."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        if self.is_async:
            return self._acall(request)
        request_id = self._start(request)
        token = current_request_id.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            current_request_id.reset(token)
        response["X-Request-ID"] = request_id
        return response

    async def _acall(self, request: HttpRequest) -> HttpResponse:
        request_id = self._start(request)
        token = current_request_id.set(request_id)
        try:
            response: HttpResponse = await self.get_response(request)
        finally:
            current_request_id.reset(token)
        response["X-Request-ID"] = request_id
        return response

    @staticmethod
    def _start(request: HttpRequest) -> str:
        request_id = request_id_for(request)
        request.request_id = request_id  # type: ignore[attr-defined]
        return request_id


class RequestIdLogFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id.get()
        return True


def client_ip(request: HttpRequest | Request, trusted_proxy_count: int) -> str:
    """The socket peer, unless trusted proxies are configured: then the entry they appended."""
    remote = str(request.META.get("REMOTE_ADDR", "") or "unknown")
    if trusted_proxy_count <= 0:
        return remote
    header = str(request.META.get("HTTP_X_FORWARDED_FOR", ""))
    forwarded = [part.strip() for part in header.split(",") if part.strip()]
    if len(forwarded) >= trusted_proxy_count:
        return str(forwarded[-trusted_proxy_count])
    return remote
