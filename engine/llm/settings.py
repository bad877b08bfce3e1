"""The ``llm`` block of a team's config, read into what the engine needs to reach a model."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from engine.errors import EngineError

Provider = Literal["openai", "anthropic", "azure_openai", "openai_compatible"]
PROVIDERS: tuple[Provider, ...] = get_args(Provider)
PROVIDER_NAMES: Mapping[str, str] = {
    "openai": "OpenAI",
    "anthropic": "Anthropic",
    "azure_openai": "Azure OpenAI",
    "openai_compatible": "the OpenAI-compatible LLM server",
}
NEEDS_BASE_URL = frozenset({"azure_openai", "openai_compatible"})


@dataclass(frozen=True)
class LlmSettings:
    provider: Provider
    model: str
    api_key: str | None = field(default=None, repr=False)  # never in a repr, a log line or an error message
    base_url: str | None = None

    @property
    def label(self) -> str:
        """How messages name the model: provider and model, never the address or the key."""
        return f"{PROVIDER_NAMES[self.provider]} model {self.model}"


def llm_settings(llm: Mapping[str, Any] | None, *, model_override: str | None = None) -> LlmSettings | None:
    """The settings for LLM mode, or None for deterministic mode (no ``llm``, or ``provider: "none"``).

    ``model_override`` is an agent's own ``model`` from the team config. Incomplete settings are a typed
    ``llm_unavailable`` failure rather than a silent fall back: the team asked for LLM mode.
    """
    if not llm:
        return None
    provider = llm.get("provider")
    if provider in (None, "none"):
        return None
    if provider not in PROVIDERS:
        raise EngineError("llm_unavailable", f"LLM provider {str(provider)[:40]!r} is not supported")
    model = model_override or llm.get("model")
    if not isinstance(model, str) or not model.strip():
        raise EngineError("llm_unavailable", "LLM mode needs llm.model (the model or deployment name)")
    base_url = llm.get("base_url") or None
    if provider in NEEDS_BASE_URL and not base_url:
        raise EngineError("llm_unavailable", f"{PROVIDER_NAMES[provider]} needs llm.base_url")
    api_key = llm.get("api_key")
    return LlmSettings(
        provider=provider,
        model=model.strip(),
        api_key=api_key if isinstance(api_key, str) and api_key else None,
        base_url=str(base_url) if base_url else None,
    )
