"""``write_markdown``: the team's model rewrites a deterministic draft (a knowledge-base answer, a postmortem).

The draft and the passages it rests on are the only material the model sees; the caller keeps the deterministic
text when the team has no model. Provider failures are a typed ``llm_unavailable`` naming the model, never its
address or key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, Field

from engine.errors import EngineError
from engine.llm.providers import build_model
from engine.llm.redact import redact
from engine.llm.settings import llm_settings

MAX_WRITTEN_CHARS = 60000


class WrittenText(BaseModel):
    markdown: str = Field(min_length=1, max_length=MAX_WRITTEN_CHARS)


@dataclass(frozen=True)
class Written:
    markdown: str
    written_by: str  # "<provider> model <model>"


def write_markdown(llm: Mapping[str, Any] | None, *, instructions: str, prompt: str) -> Written | None:
    """The model's Markdown for ``prompt``; None in deterministic mode (no ``llm`` or ``provider: none``)."""
    settings = llm_settings(llm)
    if settings is None:
        return None
    from pydantic_ai import Agent  # imported only when a team uses LLM mode

    agent = Agent(build_model(settings), output_type=WrittenText, instructions=instructions, retries=1)
    try:
        result = agent.run_sync(redact(prompt))
    except Exception as exc:
        raise EngineError(
            "llm_unavailable", f"{settings.label} could not write the text ({type(exc).__name__})"
        ) from exc
    return Written(markdown=result.output.markdown, written_by=settings.label)
