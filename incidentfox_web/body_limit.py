"""ASGI middleware in front of Django: no request body beyond ``max_bytes`` is read, and chunked bodies reach
Django with their length.

- A ``Content-Length`` over the limit is answered ``413`` at once, before a byte of the body is read and before
  any authentication, so an anonymous client cannot make the server store hundreds of megabytes.
- A body sent with ``Transfer-Encoding: chunked`` (no ``Content-Length``) is read here as it arrives, refused with
  ``413`` as soon as it passes the limit, and otherwise handed on with a ``Content-Length`` header. Django's ASGI
  handler reads the whole body before the view runs in any case; this only makes its length known, since Django
  and DRF read a request without ``Content-Length`` as empty.

The 413 uses the API's error body. The connection is closed after it, since the rest of the body is never read.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from incidentfox_web.ids import request_id

Scope = dict[str, Any]
Message = Mapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Asgi = Callable[[Scope, Receive, Send], Awaitable[None]]

_CLIENT_ID = re.compile(rb"^[A-Za-z0-9._-]{1,128}$")


class RequestBodyLimit:
    def __init__(self, app: Asgi, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        length = headers.get(b"content-length")
        if length is not None:
            if length.isdigit() and int(length) > self.max_bytes:
                await self.refuse(headers, send)
                return
            await self.app(scope, receive, send)
            return
        if headers.get(b"transfer-encoding", b"").lower() != b"chunked":
            await self.app(scope, receive, send)
            return
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            if len(body) > self.max_bytes:
                await self.refuse(headers, send)
                return
            if not message.get("more_body", False):
                break
        await self.app(_with_length(scope, len(body)), _replay(bytes(body), receive), send)

    async def refuse(self, headers: dict[bytes, bytes], send: Send) -> None:
        supplied = headers.get(b"x-request-id", b"")
        rid = supplied.decode("ascii") if _CLIENT_ID.match(supplied) else request_id()
        message = f"Request body exceeds {self.max_bytes} bytes"
        error = {"code": "payload_too_large", "message": message, "request_id": rid}
        content = json.dumps({"error": error}).encode()
        response_headers = [
            (b"content-type", b"application/json; charset=utf-8"),
            (b"content-length", str(len(content)).encode()),
            (b"x-request-id", rid.encode()),
            (b"connection", b"close"),
        ]
        await send({"type": "http.response.start", "status": 413, "headers": response_headers})
        await send({"type": "http.response.body", "body": content})


def _with_length(scope: Scope, length: int) -> Scope:
    headers = [(name, value) for name, value in scope["headers"] if name != b"transfer-encoding"]
    return {**scope, "headers": [*headers, (b"content-length", str(length).encode())]}


def _replay(body: bytes, receive: Receive) -> Receive:
    """The body once, as one message; then the server's own messages (a disconnect)."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed
