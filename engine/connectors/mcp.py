"""A team's MCP servers (``mcp_servers`` objects) as tools: listed once per run, called with bounds.

Each server speaks MCP over streamable HTTP; the official ``mcp`` SDK client talks to it through an ``httpx2``
client whose transport comes from the caller's :class:`~engine.connectors.http.Egress`, so every address is vetted
and pinned like a data source's. A server's tools are named ``<server>.<tool>`` (and cited ``[tool:<server>.<tool>]``).

Bounds: listing a server's tools and each call have their own deadline (connection, handshake and answer
included); a call's text is cut to ``max_output_chars`` with a note saying how much was dropped; at most
``MAX_TOOLS_PER_SERVER`` tools of a server are offered. A server that cannot be listed offers no tools for the run;
a call that fails, times out or is refused raises ``ToolFailure``, which the runner records as a failed step.
Messages name the server and the tool, never its URL or credentials.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from engine.connectors import ToolFailure
from engine.connectors.http import USER_AGENT, Egress, auth_header, egress_refusal
from engine.models import McpServerSettings

LIST_TIMEOUT_SECONDS = 5.0
CALL_TIMEOUT_SECONDS = 30.0
MAX_OUTPUT_CHARS = 16_000
MAX_TOOLS_PER_SERVER = 64
MAX_DESCRIPTION_CHARS = 1000
MAX_ERROR_CHARS = 300
MAX_QUALIFIED_NAME = 100  # what a step row keeps of a tool's name
# Tool names that read unambiguously in a citation ([tool:<server>.<tool>]); a server's other tools are not offered.
TOOL_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_./-]*$")
MAX_RESPONSE_BYTES = 8 * 1024 * 1024  # one HTTP response of a session (the SDK caps one SSE event at 1 MiB)


type _Work[T] = Callable[[Egress | None, float], Awaitable[T]]  # one session's work, given the egress and a deadline


@dataclass(frozen=True)
class McpOffer:
    """What a team's ``mcp_servers`` add to its agents' tools (``engine.agents.agent_tools``)."""

    integrations: tuple[str, ...] = ()  # string items: built-in data sources whose tools every agent gets
    tools: tuple[str, ...] = ()  # ``<server>.<tool>`` of every tool the team's MCP servers list now


def integration_names(servers: Iterable[str | McpServerSettings]) -> tuple[str, ...]:
    return tuple(item for item in servers if isinstance(item, str))


def server_settings(servers: Iterable[str | McpServerSettings]) -> list[McpServerSettings]:
    return [item for item in servers if isinstance(item, McpServerSettings)]


@dataclass(frozen=True)
class McpTool:
    server: str
    name: str  # the tool's name on its server
    description: str = ""
    input_schema: dict[str, Any] = field(default_factory=dict)

    @property
    def qualified(self) -> str:
        return qualified_name(self.server, self.name)


def qualified_name(server: str, tool: str) -> str:
    return f"{server}.{tool}"


def is_mcp_tool_name(name: str) -> bool:
    """MCP tools are ``<server>.<tool>``; no catalog tool has a dot."""
    return "." in name


class McpToolbox:
    """One run's MCP servers: each server's tool list fetched on first use and kept for the run."""

    def __init__(
        self,
        servers: Sequence[McpServerSettings],
        *,
        egress: Egress | None,
        list_timeout: float | None = None,
        call_timeout: float | None = None,
        max_output_chars: int | None = None,
    ) -> None:
        self.servers = {server.name: server for server in servers}
        self.egress = egress
        self.list_timeout = list_timeout or LIST_TIMEOUT_SECONDS
        self.call_timeout = call_timeout or CALL_TIMEOUT_SECONDS
        self.max_output_chars = max_output_chars or MAX_OUTPUT_CHARS
        self.unavailable: dict[str, str] = {}  # server -> why its tools could not be listed
        self._tools: dict[str, McpTool] | None = None

    def tools(self) -> list[McpTool]:
        """Every tool the servers list now (servers in config order); unreachable servers offer none."""
        if self._tools is None:
            self._tools = {}
            if self.servers:
                listed = asyncio.run(self._list_all())
                for server, outcome in zip(self.servers, listed, strict=True):
                    if isinstance(outcome, ToolFailure):
                        self.unavailable[server] = outcome.message
                        continue
                    usable = [tool for tool in outcome if _usable_name(tool)]
                    for tool in usable[:MAX_TOOLS_PER_SERVER]:
                        self._tools.setdefault(tool.qualified, tool)
        return list(self._tools.values())

    def names(self) -> list[str]:
        return [tool.qualified for tool in self.tools()]

    def offer(self, integrations: Iterable[str] = ()) -> McpOffer:
        return McpOffer(integrations=tuple(integrations), tools=tuple(self.names()))

    def find(self, qualified: str) -> McpTool | None:
        self.tools()
        assert self._tools is not None
        return self._tools.get(qualified)

    def call(self, qualified: str, arguments: dict[str, Any], *, seconds_left: float | None = None) -> str:
        """The tool's text output (cut to ``max_output_chars``); raises ``ToolFailure``. ``seconds_left`` (the
        investigation's) shortens the call's deadline when it is nearer."""
        tool = self.find(qualified)
        server = qualified.split(".", 1)[0]
        if server in self.unavailable:  # could not be listed, or stopped answering earlier in this run
            raise ToolFailure(self.unavailable[server], unreachable=True)
        if tool is None:
            raise ToolFailure(f"MCP server {server} offers no tool {qualified.split('.', 1)[-1]}")
        seconds = self.call_timeout if seconds_left is None else max(min(self.call_timeout, seconds_left), 1.0)
        try:
            text = asyncio.run(self._call(tool, arguments, seconds))
        except ToolFailure as failure:
            if failure.unreachable:
                self.unavailable[server] = failure.message
            raise
        return truncate(text, self.max_output_chars)

    async def _list_all(self) -> list[list[McpTool] | ToolFailure]:
        async def one(server: McpServerSettings) -> list[McpTool] | ToolFailure:
            try:
                return await self._bounded(server, self.list_timeout, "list its tools", _list_tools(server))
            except ToolFailure as failure:
                return failure

        return list(await asyncio.gather(*(one(server) for server in self.servers.values())))

    async def _call(self, tool: McpTool, arguments: dict[str, Any], seconds: float) -> str:
        server = self.servers[tool.server]

        async def call(client: Any) -> tuple[bool, str]:
            result = await client.call_tool(tool.name, arguments, read_timeout_seconds=seconds)
            return bool(result.is_error), result_text(result)

        failed, text = await self._bounded(server, seconds, f"answer {tool.name}", _session(server, call))
        if failed:
            raise ToolFailure(f"{tool.qualified} failed: {text[:MAX_ERROR_CHARS] or 'no reason given'}")
        return text

    async def _bounded[T](self, server: McpServerSettings, seconds: float, doing: str, work: _Work[T]) -> T:
        try:
            async with asyncio.timeout(seconds):
                result: T = await work(self.egress, seconds)
                return result
        except TimeoutError:
            raise ToolFailure(f"MCP server {server.name} did not {doing} within {seconds:g} s") from None
        except Exception as exc:
            raise _connection_failure(server.name, exc) from None


def _list_tools(server: McpServerSettings) -> _Work[list[McpTool]]:
    async def listing(client: Any) -> list[McpTool]:
        tools: list[McpTool] = []
        cursor: str | None = None
        while len(tools) < MAX_TOOLS_PER_SERVER:
            page = await client.list_tools(cursor=cursor)
            tools += [
                McpTool(
                    server=server.name,
                    name=item.name,
                    description=(item.description or "")[:MAX_DESCRIPTION_CHARS],
                    input_schema=dict(item.input_schema or {}),
                )
                for item in page.tools
            ]
            cursor = page.next_cursor
            if not cursor:
                break
        return tools

    return _session(server, listing)


def _session[T](server: McpServerSettings, work: Callable[[Any], Awaitable[T]]) -> _Work[T]:
    """Open one MCP session to ``server`` (through the egress), run ``work(client)`` in it, close it."""

    async def run(egress: Egress | None, seconds: float) -> T:
        # Imported on first use, so ``import engine`` stays cheap for teams without MCP servers.
        import httpx2
        from mcp import Client
        from mcp.client.streamable_http import streamable_http_client

        from engine.connectors.mcp_transport import CappedTransport

        inner = egress.async_transport() if egress is not None else httpx2.AsyncHTTPTransport(retries=0)
        http = httpx2.AsyncClient(
            # identity: the size cap counts the bytes a server sends, and they are the bytes read
            headers={"User-Agent": USER_AGENT, "Accept-Encoding": "identity", **auth_header(server.auth)},
            timeout=httpx2.Timeout(seconds, connect=min(seconds, 5.0)),
            follow_redirects=False,
            transport=CappedTransport(inner, MAX_RESPONSE_BYTES),
            trust_env=False,
        )
        async with (
            http,
            Client(
                streamable_http_client(server.url, http_client=http),
                read_timeout_seconds=seconds,
                cache=None,
            ) as client,
        ):
            return await work(client)

    return run


def _usable_name(tool: McpTool) -> bool:
    return bool(TOOL_NAME.match(tool.name)) and len(tool.qualified) <= MAX_QUALIFIED_NAME


def result_text(result: Any) -> str:
    """A ``CallToolResult`` as text: its text blocks, else its structured content as JSON; other blocks noted."""
    parts: list[str] = []
    for block in result.content:
        text = getattr(block, "text", None)
        if isinstance(text, str):
            parts.append(text)
        else:
            parts.append(f"({getattr(block, 'type', 'unknown')} content not shown)")
    if not any(part.strip() for part in parts) and result.structured_content is not None:
        parts = [json.dumps(result.structured_content, sort_keys=True, default=str)]
    return "\n".join(parts)


def truncate(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return f"{text[:limit]}\n(output truncated: {len(text)} characters, the first {limit} kept)"


def _connection_failure(server: str, exc: BaseException) -> ToolFailure:
    from engine.connectors.mcp_transport import ResponseTooLarge  # loaded by the session that failed

    for cause in _causes(exc):
        refusal = egress_refusal(cause)
        if refusal is not None:
            return ToolFailure(f"MCP server {server} URL {refusal}", unreachable=True)
        if isinstance(cause, ResponseTooLarge):
            return ToolFailure(f"MCP server {server} answered more than {MAX_RESPONSE_BYTES // 1024} KiB")
    for cause in _causes(exc):
        if isinstance(cause, TimeoutError) or type(cause).__name__.endswith("TimeoutException"):
            return ToolFailure(f"MCP server {server} did not answer in time", unreachable=True)
    return ToolFailure(f"Unable to connect to MCP server {server} ({type(exc).__name__})", unreachable=True)


def _causes(exc: BaseException) -> Iterable[BaseException]:
    """``exc``, the exceptions grouped in it (the SDK's task groups raise groups) and their causes."""
    seen: set[int] = set()
    pending = [exc]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        if isinstance(current, BaseExceptionGroup):
            pending.extend(current.exceptions)
        for linked in (current.__cause__, current.__context__):
            if linked is not None:
                pending.append(linked)
