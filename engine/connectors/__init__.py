"""Data-source connectors: one module per source, each registering its tools in ``engine.registry``."""

from __future__ import annotations


class ToolFailure(Exception):
    """A tool call failed; the message names the data source, never credentials or internal addresses.

    The runner records the failed ToolCall and carries on with the other evidence.
    """

    def __init__(self, message: str, *, unreachable: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.unreachable = unreachable
