"""Serve Django's WSGI handler from the ASGI server with one thread hop out and one back per request.

a2wsgi (used before) hands every response message from the worker thread to the event loop separately and
blocks the thread until the loop has taken it: three cross-thread round trips for a plain JSON response, plus
one per request-body read. Under load each round trip is a GIL hand-off and a context switch, and together they
cost more CPU than the view itself. This bridge does what Django's own ASGI handler does with the body (reads
it on the event loop first, spooled to disk beyond ``FILE_UPLOAD_MAX_MEMORY_SIZE``), runs the whole WSGI call
in a worker thread, and returns status, headers and up to ``BATCH_BYTES`` of body in one go. Longer or streaming
bodies (static files, downloads) continue in batches of the same size, one hop each.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import tempfile
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import IO, Any, cast

from a2wsgi.wsgi import build_environ

BATCH_BYTES = 256 * 1024
SPOOL_BYTES = 2_621_440  # Django's FILE_UPLOAD_MAX_MEMORY_SIZE default

Scope = dict[str, Any]
Message = dict[str, Any]


@dataclass
class _Response:
    status: int = 500
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)


class ThreadedWsgi:
    """An ASGI app (HTTP only) running ``wsgi_app`` on a pool of ``threads`` threads."""

    def __init__(self, wsgi_app: Any, *, threads: int) -> None:
        self.wsgi_app = wsgi_app
        self.executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="wsgi")

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        assert scope["type"] == "http"
        body = await _read_body(receive)
        if body is None:  # the client went away before sending its body
            return
        loop = asyncio.get_running_loop()
        response = _Response()
        environ = cast("dict[str, Any]", build_environ(scope, body))  # type: ignore[arg-type]  # any file-like body
        context = contextvars.copy_context()
        iterator: _ClosingIterator | None = None
        done = False
        try:
            started, batch, done = await loop.run_in_executor(
                self.executor, functools.partial(context.run, self._start, environ, response)
            )
            iterator = started
            await send({"type": "http.response.start", "status": response.status, "headers": response.headers})
            while not done:
                await send({"type": "http.response.body", "body": batch, "more_body": True})
                batch, done = await loop.run_in_executor(
                    self.executor, functools.partial(context.run, _next_batch, started)
                )
            await send({"type": "http.response.body", "body": batch})
        finally:
            if iterator is not None and not done:  # the client left mid-stream: still close the response
                await loop.run_in_executor(self.executor, functools.partial(context.run, iterator.close))
            body.close()

    def _start(self, environ: dict[str, Any], response: _Response) -> tuple[_ClosingIterator, bytes, bool]:
        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            # Nothing is sent before the application returns, so a later call (with ``exc_info``, PEP 3333)
            # simply replaces the status and headers.
            response.status = int(status.split(" ", 1)[0])
            response.headers = [(name.lower().encode("latin1"), value.encode("latin1")) for name, value in headers]
            return _no_write

        iterable: Iterable[bytes] = self.wsgi_app(environ, start_response)
        iterator = _ClosingIterator(iterable)
        batch, done = _next_batch(iterator)
        return iterator, batch, done


class _ClosingIterator(Iterator[bytes]):
    """Iterate a WSGI response and close it (PEP 3333) exactly once. Closing sends Django's
    ``request_finished``, which returns the thread's database connection, so it runs on a worker thread."""

    def __init__(self, iterable: Iterable[bytes]) -> None:
        self._iterable = iterable
        self._iterator = iter(iterable)

    def __next__(self) -> bytes:
        return next(self._iterator)

    def close(self) -> None:
        close = getattr(self._iterable, "close", None)
        self._iterable = ()
        if close is not None:
            close()


def _next_batch(iterator: _ClosingIterator) -> tuple[bytes, bool]:
    """Up to about ``BATCH_BYTES`` of body, and whether the body is complete (the response is closed then)."""
    chunks: list[bytes] = []
    size = 0
    try:
        for chunk in iterator:
            if chunk:
                chunks.append(chunk)
                size += len(chunk)
            if size >= BATCH_BYTES:
                return b"".join(chunks), False
    except BaseException:
        iterator.close()
        raise
    iterator.close()
    return b"".join(chunks), True


def _no_write(data: bytes) -> None:
    raise NotImplementedError("the WSGI write() callable is not supported; return an iterable")


async def _read_body(receive: Any) -> IO[bytes] | None:
    body = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES, mode="w+b")  # noqa: SIM115 - closed by the caller
    while True:
        message: Message = await receive()
        if message["type"] == "http.disconnect":
            body.close()
            return None
        body.write(message.get("body", b""))
        if not message.get("more_body", False):
            break
    body.seek(0)
    return body


__all__ = ["ThreadedWsgi"]
