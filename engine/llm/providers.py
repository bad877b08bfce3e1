"""Build the pydantic-ai model for a team's provider, on the vendor's official client.

Each client gets the engine's own retry count and request timeout (bounded by the investigation's deadline), so
"the provider still failed after retries" (``llm_unavailable``) means the same thing for every vendor.
"""

from __future__ import annotations

import ssl
from functools import cache
from typing import TYPE_CHECKING, Any

from engine.llm.settings import LlmSettings

if TYPE_CHECKING:
    from pydantic_ai.models import Model

MAX_RETRIES = 2  # per model request, on connection errors, 408/409/429 and 5xx (the vendors' SDK rules)
REQUEST_TIMEOUT_SECONDS = 90.0
# Azure OpenAI's data-plane API version: the current generally available one.
AZURE_API_VERSION = "2024-10-21"


@cache
def _tls() -> ssl.SSLContext:
    """The SDKs' default TLS context, built once per process: loading the CA bundle takes ~40 ms, and each
    investigation gets a client of its own (its event loop is its own)."""
    import httpx2

    return httpx2.create_ssl_context()


def build_model(settings: LlmSettings, *, timeout: float = REQUEST_TIMEOUT_SECONDS, transport: Any = None) -> Model:
    """A model object for ``settings``; nothing is sent until the agent runs.

    ``transport`` (an ``httpx2.AsyncBaseTransport``, the caller's egress policy) carries every request when given;
    it then owns TLS, so the SDK's default context is not used.
    """
    timeout = max(1.0, min(timeout, REQUEST_TIMEOUT_SECONDS))
    http_options: dict[str, Any] = {"transport": transport} if transport is not None else {"verify": _tls()}
    if settings.provider == "anthropic":
        from anthropic import AsyncAnthropic, DefaultAsyncHttpxClient
        from pydantic_ai.models.anthropic import AnthropicModel
        from pydantic_ai.providers.anthropic import AnthropicProvider

        anthropic_client = AsyncAnthropic(
            api_key=settings.api_key or "",
            base_url=settings.base_url,
            max_retries=MAX_RETRIES,
            timeout=timeout,
            http_client=DefaultAsyncHttpxClient(**http_options),
        )
        return AnthropicModel(settings.model, provider=AnthropicProvider(anthropic_client=anthropic_client))

    from openai import AsyncAzureOpenAI, AsyncOpenAI, DefaultAsyncHttpxClient
    from pydantic_ai.models.openai import OpenAIChatModel
    from pydantic_ai.providers.openai import OpenAIProvider

    sdk: dict[str, Any] = {
        "max_retries": MAX_RETRIES,
        "timeout": timeout,
        "http_client": DefaultAsyncHttpxClient(**http_options),
    }
    client: AsyncOpenAI
    if settings.provider == "azure_openai":
        assert settings.base_url is not None  # llm_settings requires it
        client = AsyncAzureOpenAI(
            azure_endpoint=settings.base_url, api_key=settings.api_key or "", api_version=AZURE_API_VERSION, **sdk
        )
    else:  # openai, openai_compatible (vLLM, Ollama, LiteLLM and other servers of the same API)
        # A local server may take no key; the SDK insists on one.
        client = AsyncOpenAI(api_key=settings.api_key or "not-needed", base_url=settings.base_url, **sdk)
    return OpenAIChatModel(settings.model, provider=OpenAIProvider(openai_client=client))
