"""A scripted language model behind the vendors' real wire protocols, on loopback.

LLM vendors cannot be reached from here, so this server speaks the two protocols the engine's clients use —
OpenAI Chat Completions (``POST /v1/chat/completions``, also Azure's deployment path) and Anthropic Messages
(``POST /v1/messages``) — and answers each request with the next turn of a script: tool calls (a tool of the
investigation, or ``final_result`` carrying the report) or an HTTP error. It records every request, so tests can
read what the model was shown: instructions, tools offered, and the tool results sent back.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from tests.engine.part2.replay_server import Replay, Seen, replay_server

API_KEY = "sk-test-0123456789abcdefghijklmnopqrstuv"


@dataclass(frozen=True)
class Call:
    """One tool call in a model turn."""

    name: str
    arguments: dict[str, Any]


@dataclass(frozen=True)
class Fail:
    """A turn answered with an HTTP error."""

    status: int
    message: str = "The server is overloaded"


Turn = list[Call] | Fail | Callable[["Exchange"], "list[Call] | Fail"]


@dataclass
class Exchange:
    """A request as the model sees it, in a provider-neutral form."""

    provider: str
    seen: Seen
    system: str
    tools: list[str]
    tool_results: list[str]  # the contents of tool results in this request, in order
    user_text: str


@dataclass
class ModelServer:
    replay: Replay
    script: list[Turn]
    exchanges: list[Exchange] = field(default_factory=list)

    @property
    def url(self) -> str:
        return self.replay.url


def final(report: dict[str, Any]) -> list[Call]:
    return [Call("final_result", report)]


def report(description: str, evidence: list[str], **extra: Any) -> dict[str, Any]:
    """A report in the shape the engine asks for, with sensible defaults for the rest."""
    return {
        "summary": extra.pop("summary", description),
        "root_cause": {"description": description, "confidence": extra.pop("confidence", 80), "evidence": evidence},
        "hypotheses": extra.pop("hypotheses", []),
        "timeline": extra.pop("timeline", []),
        "affected_systems": extra.pop("affected_systems", []),
        "recommendations": extra.pop("recommendations", [{"priority": "high", "action": "Roll back"}]),
        **extra,
    }


@contextmanager
def model_server(script: list[Turn], *, api_key: str = API_KEY) -> Iterator[ModelServer]:
    ids = itertools.count(1)
    turns_left: list[Turn] = list(script)
    exchanges: list[Exchange] = []

    def next_turn(exchange: Exchange) -> list[Call] | Fail:
        exchanges.append(exchange)
        if not turns_left:
            return Fail(500, "the script has no more turns")
        turn = turns_left.pop(0)
        return turn(exchange) if callable(turn) else turn

    def openai(seen: Seen) -> tuple[int, Any, dict[str, str]]:
        headers = {k.lower(): v for k, v in seen.headers.items()}
        if headers.get("authorization") != f"Bearer {api_key}" and headers.get("api-key") != api_key:
            return 401, {"error": {"message": "Incorrect API key provided", "type": "invalid_request_error"}}, {}
        body = seen.body
        messages = body["messages"]
        exchange = Exchange(
            provider="openai",
            seen=seen,
            system="\n".join(_text(m["content"]) for m in messages if m["role"] in ("system", "developer")),
            tools=[t["function"]["name"] for t in body.get("tools", [])],
            tool_results=[_text(m["content"]) for m in messages if m["role"] == "tool"],
            user_text="\n".join(_text(m["content"]) for m in messages if m["role"] == "user"),
        )
        turn = next_turn(exchange)
        if isinstance(turn, Fail):
            return turn.status, {"error": {"message": turn.message, "type": "server_error"}}, {}
        calls = [
            {
                "id": f"call_{next(ids)}",
                "type": "function",
                "function": {"name": call.name, "arguments": json.dumps(call.arguments)},
            }
            for call in turn
        ]
        message = {"role": "assistant", "content": None, "tool_calls": calls}
        return (
            200,
            {
                "id": f"chatcmpl-{next(ids)}",
                "object": "chat.completion",
                "created": 1_700_000_000,
                "model": body["model"],
                "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls"}],
                "usage": {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120},
            },
            {},
        )

    def anthropic(seen: Seen) -> tuple[int, Any, dict[str, str]]:
        headers = {k.lower(): v for k, v in seen.headers.items()}
        # Anthropic takes the key as x-api-key or, from the current SDK, as a Bearer token.
        if api_key not in (headers.get("x-api-key"), headers.get("authorization", "").removeprefix("Bearer ")):
            return 401, {"type": "error", "error": {"type": "authentication_error", "message": "invalid x-api-key"}}, {}
        body = seen.body
        results = [
            _text(block.get("content"))
            for message in body["messages"]
            if isinstance(message["content"], list)
            for block in message["content"]
            if block.get("type") == "tool_result"
        ]
        exchange = Exchange(
            provider="anthropic",
            seen=seen,
            system=_text(body.get("system")),
            tools=[t["name"] for t in body.get("tools", [])],
            tool_results=results,
            user_text="\n".join(_text(m["content"]) for m in body["messages"] if m["role"] == "user"),
        )
        turn = next_turn(exchange)
        if isinstance(turn, Fail):
            kind = "overloaded_error" if turn.status == 529 else "api_error"
            return turn.status, {"type": "error", "error": {"type": kind, "message": turn.message}}, {}
        content = [
            {"type": "tool_use", "id": f"toolu_{next(ids)}", "name": call.name, "input": call.arguments}
            for call in turn
        ]
        return (
            200,
            {
                "id": f"msg_{next(ids)}",
                "type": "message",
                "role": "assistant",
                "model": body["model"],
                "content": content,
                "stop_reason": "tool_use",
                "stop_sequence": None,
                "usage": {"input_tokens": 100, "output_tokens": 20},
            },
            {},
        )

    routes = {("POST", "/v1/chat/completions"): openai, ("POST", "/v1/messages"): anthropic}
    azure = ("POST", "/openai/deployments/gpt-incident/chat/completions")
    routes[azure] = openai
    with replay_server(routes) as replay:
        yield ModelServer(replay=replay, script=turns_left, exchanges=exchanges)


def _text(content: Any) -> str:
    """Plain text of an OpenAI or Anthropic content value (a string or a list of parts)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(_text(part.get("text", part.get("content"))) for part in content if isinstance(part, dict))
    return str(content)
