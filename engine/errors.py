"""The one exception type the engine raises to its caller."""

from __future__ import annotations

from typing import Any, Literal

ErrorCode = Literal[
    "timeout",
    "cancelled",
    "data_source_unavailable",
    "llm_unavailable",
    "invalid_attachment",
    "invalid_request",
    "internal_error",
]


class EngineError(Exception):
    """A typed failure. ``message`` names data sources, never credentials or internal addresses."""

    def __init__(
        self,
        code: ErrorCode,
        message: str,
        *,
        tools_used: list[str] | None = None,
        draft: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.code: ErrorCode = code
        self.message = message
        self.tools_used: list[str] = list(tools_used or [])
        # ``llm_unavailable``: the deterministic draft (an API result) the model could not review, if one exists.
        self.draft: dict[str, Any] | None = draft
