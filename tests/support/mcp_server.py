"""A real MCP server, built with the ``mcp`` SDK's ``MCPServer`` and served over streamable HTTP on loopback.

Its tools cover what a team's server can do to an investigation: answer (``lookup``), fail (``broken``), take
too long (``slow``), return far too much (``dump``) and echo a credential (``leaky``); one has a name too long to
offer. Requests without the
expected bearer token are answered 401, and every Authorization header received is recorded.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import anyio
import uvicorn
from mcp.server.mcpserver import MCPServer

from tests.support.net import free_port

TOKEN = "mcp-token-7f3a9c1e5b2d4680"
LONG_NAME = "a_tool_name_" + "x" * 100
RUNBOOK = "Runbook for {service}: the payments-db connection pool is capped at 20; raise it and restart."


@dataclass
class McpStandIn:
    url: str
    authorizations: list[str] = field(default_factory=list)
    methods: list[str] = field(default_factory=list)  # the JSON-RPC method of each request body, in order


def build_server() -> MCPServer:
    server = MCPServer("runbooks")

    @server.tool()
    def lookup(service: str) -> str:
        """Find the runbook of a service."""
        return RUNBOOK.format(service=service)

    @server.tool()
    def broken() -> str:
        """Always fails."""
        raise RuntimeError("the runbook index is corrupt")

    @server.tool()
    async def slow(seconds: float = 30.0) -> str:
        """Answers after a long time."""
        await anyio.sleep(seconds)
        return "finally"

    @server.tool()
    def dump(size: int = 100_000) -> str:
        """Returns a very large text."""
        return "x" * size

    @server.tool()
    def leaky() -> str:
        """Echoes the credential it was called with."""
        return f"connected with Authorization: Bearer {TOKEN}"

    @server.tool(name=LONG_NAME)
    def long_named() -> str:
        """A name too long for a step row to keep."""
        return "never offered"

    return server


class _Guard:
    """Records each request's Authorization header and JSON-RPC method; answers 401 without the expected token."""

    def __init__(self, app: Any, seen: list[str], methods: list[str]) -> None:
        self.app = app
        self.seen = seen
        self.methods = methods

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            headers = {key.decode().lower(): value.decode() for key, value in scope["headers"]}
            self.seen.append(headers.get("authorization", ""))
            if headers.get("authorization") != f"Bearer {TOKEN}":
                headers_out = [(b"content-type", b"text/plain")]
                await send({"type": "http.response.start", "status": 401, "headers": headers_out})
                await send({"type": "http.response.body", "body": b"unauthorized"})
                return

        async def recording_receive() -> Any:
            message = await receive()
            if message["type"] == "http.request":
                body = message.get("body", b"").decode(errors="replace")
                self.methods += re.findall(r'"method"\s*:\s*"([^"]+)"', body)
            return message

        await self.app(scope, recording_receive, send)


@contextmanager
def mcp_server() -> Iterator[McpStandIn]:
    """Serve :func:`build_server` on a free loopback port in a thread; yields its ``/mcp`` URL."""
    port = free_port()
    seen: list[str] = []
    methods: list[str] = []
    app = _Guard(build_server().streamable_http_app(), seen, methods)
    server = uvicorn.Server(
        uvicorn.Config(
            app, host="127.0.0.1", port=port, log_level="warning", lifespan="on", timeout_graceful_shutdown=1
        )
    )
    thread = threading.Thread(target=server.run, name="mcp-standin", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the MCP stand-in did not start")
        time.sleep(0.02)
    try:
        yield McpStandIn(url=f"http://127.0.0.1:{port}/mcp", authorizations=seen, methods=methods)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
