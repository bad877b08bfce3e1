"""The ``POST /agents/run`` body (API.md §4.1): its limits, the attachment size check that answers 413 (before
any 400, as the documented precedence orders it), and the run as the view hands it on, built from what
``schemas.RunIn`` validated."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from incidentfox_web.api.errors import ApiError

MAX_MESSAGE_CHARS = 20000
MAX_AGENT_NAME_CHARS = 100
MAX_ATTACHMENTS = 50  # API.md §9: real incidents bring many outputs (pods, events, describes, logs of each container)
MAX_ATTACHMENT_BYTES = 4 * 1024 * 1024
MAX_ATTACHMENTS_TOTAL_BYTES = 16 * 1024 * 1024
MAX_TIME_WINDOW_MINUTES = 30 * 24 * 60
CONTEXT_STRING_LIMITS = {"service": 200, "namespace": 253, "related_alert": 200, "hint": 2000}
CONTEXT_CHOICES = {"environment": ("prod", "staging", "dev"), "severity": ("high", "medium", "low")}
TIME_WINDOW_RE = re.compile(r"^([1-9][0-9]*)([mhd])$")
MINUTES_PER_UNIT = {"m": 1, "h": 60, "d": 24 * 60}
IDEMPOTENCY_KEY_RE = re.compile(r"^[\x20-\x7e]{1,255}$")


@dataclass(frozen=True)
class RunInput:
    agent: str
    message: str
    context: dict[str, Any]  # without attachments
    attachments: list[dict[str, Any]]
    run_async: bool
    timeout_seconds: int | None
    max_turns: int | None


def check_attachment_sizes(data: dict[str, Any]) -> None:
    """413 for an oversized attachment (named by its field path) or an oversized total; shapes are checked
    later, by the serializer."""
    context = data.get("context")
    if isinstance(context, dict):
        _check_attachment_sizes(context.get("attachments"))


def run_input(validated: dict[str, Any]) -> RunInput:
    """The run from the body ``schemas.RunIn`` validated."""
    context: dict[str, Any] = dict(validated.get("context") or {})
    attachments = context.pop("attachments", None) or []
    return RunInput(
        agent=validated["agent_name"],
        message=validated["message"],
        context=context,
        attachments=[
            {"name": item["name"], "source": item.get("source"), "content": item["content"]} for item in attachments
        ],
        run_async=bool(validated.get("async")),
        timeout_seconds=validated.get("timeout"),
        max_turns=validated.get("max_turns"),
    )


def parse_idempotency_key(value: str | None) -> str | None:
    if value is None:
        return None
    if not IDEMPOTENCY_KEY_RE.match(value):
        raise ApiError.validation("Idempotency-Key", "must be 1-255 printable ASCII characters")
    return value


def _check_attachment_sizes(raw: object) -> None:
    """413 for an oversized attachment (named by its field path) or an oversized total."""
    if not isinstance(raw, list):
        return
    total = 0
    for index, item in enumerate(raw):
        content = item.get("content") if isinstance(item, dict) else None
        if not isinstance(content, str):
            continue
        size = len(content.encode("utf-8", errors="surrogatepass"))
        if size > MAX_ATTACHMENT_BYTES:
            name = item.get("name") if isinstance(item.get("name"), str) else f"#{index}"
            limit = MAX_ATTACHMENT_BYTES // 2**20
            raise ApiError.too_large(
                f"Attachment '{name}' is larger than {limit} MiB", field=f"context.attachments[{index}].content"
            )
        total += size
    if total > MAX_ATTACHMENTS_TOTAL_BYTES:
        limit = MAX_ATTACHMENTS_TOTAL_BYTES // 2**20
        raise ApiError.too_large(f"Attachments are larger than {limit} MiB in total", field="context.attachments")
