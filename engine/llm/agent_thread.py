"""Run an async agent on a thread of its own while its tool calls execute on the caller's thread.

The model conversation is asynchronous (the vendors' clients are), but a tool call must run where the rest of
the investigation runs: its progress and tool-call callbacks write to the caller's database connection, which
belongs to the calling thread (and an ORM call from inside a running event loop is refused). So the agent's
loop lives on a helper thread; each tool call is handed back to the calling thread, which executes it, answers,
and in between checks cancellation and the deadline — stopping the agent if either says so.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import queue
import threading
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

TICK_SECONDS = 0.5  # how often the caller checks cancellation and the deadline while the model thinks


@dataclass
class _ToolRequest:
    name: str
    params: dict[str, Any]
    reply: concurrent.futures.Future[str]


class AgentThread[T]:
    """``run(main, execute, tick)``: ``main`` is the agent coroutine; ``execute(name, params)`` runs a tool on
    the calling thread; ``tick()`` raises to stop the agent (cancelled, past the deadline)."""

    def __init__(self) -> None:
        self._requests: queue.Queue[_ToolRequest | None] = queue.Queue()  # None: the agent has finished
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[T] | None = None
        self._started = threading.Event()

    async def call_tool(self, name: str, params: dict[str, Any]) -> str:
        """For the agent's tools (on the agent thread): wait for the calling thread to run the tool."""
        reply: concurrent.futures.Future[str] = concurrent.futures.Future()
        self._requests.put(_ToolRequest(name, params, reply))
        return await asyncio.wrap_future(reply)

    def run(
        self,
        main: Callable[[], Coroutine[Any, Any, T]],
        execute: Callable[[str, dict[str, Any]], str],
        tick: Callable[[], None],
    ) -> T:
        outcome: concurrent.futures.Future[T] = concurrent.futures.Future()
        thread = threading.Thread(target=self._serve_agent, args=(main, outcome), name="llm-agent", daemon=True)
        thread.start()
        try:
            while True:
                try:
                    request = self._requests.get(timeout=TICK_SECONDS)
                except queue.Empty:
                    tick()
                    continue
                if request is None:  # the agent finished (``outcome`` holds its result or its exception)
                    break
                try:
                    tick()
                    request.reply.set_result(execute(request.name, request.params))
                except BaseException as exc:
                    request.reply.set_exception(exc)
                    raise
            return outcome.result()
        except BaseException:
            self._stop()
            raise
        finally:
            thread.join(timeout=5)

    def _serve_agent(self, main: Callable[[], Coroutine[Any, Any, T]], outcome: concurrent.futures.Future[T]) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            self._task = loop.create_task(main())
            self._started.set()
            outcome.set_result(loop.run_until_complete(self._task))
        except BaseException as exc:  # the caller re-raises it (or has already stopped us)
            if not outcome.done():
                outcome.set_exception(exc)
        finally:
            self._started.set()
            self._requests.put(None)  # wakes the calling thread at once
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    def _stop(self) -> None:
        """Cancel the agent's task (its open model request is abandoned) and let its thread finish."""
        self._started.wait(timeout=5)
        loop, task = self._loop, self._task
        if loop is not None and task is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                loop.call_soon_threadsafe(task.cancel)
