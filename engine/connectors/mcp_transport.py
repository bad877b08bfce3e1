"""An ``httpx2`` transport that cuts each response body off past a size, for the MCP client (``engine.connectors.mcp``).

The MCP SDK caps one SSE event; a server answering with plain JSON has no cap, so the transport counts the bytes of
every response and fails the read (``ResponseTooLarge``, an ``httpx2.ReadError``) once they pass the limit.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx2


class ResponseTooLarge(httpx2.ReadError):
    pass


class _CappedStream(httpx2.AsyncByteStream):
    def __init__(self, stream: httpx2.AsyncByteStream, limit: int) -> None:
        self.stream = stream
        self.limit = limit

    async def __aiter__(self) -> AsyncIterator[bytes]:
        received = 0
        async for chunk in self.stream:
            received += len(chunk)
            if received > self.limit:
                raise ResponseTooLarge(f"response larger than {self.limit} bytes")
            yield chunk

    async def aclose(self) -> None:
        await self.stream.aclose()


class CappedTransport(httpx2.AsyncBaseTransport):
    def __init__(self, inner: httpx2.AsyncBaseTransport, limit: int) -> None:
        self.inner = inner
        self.limit = limit

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        response = await self.inner.handle_async_request(request)
        assert isinstance(response.stream, httpx2.AsyncByteStream)
        return httpx2.Response(
            status_code=response.status_code,
            headers=response.headers,
            stream=_CappedStream(response.stream, self.limit),
            extensions=response.extensions,
            request=request,
        )

    async def aclose(self) -> None:
        await self.inner.aclose()
