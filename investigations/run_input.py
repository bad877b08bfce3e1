"""Validation of the ``POST /agents/run`` body (API.md §4.1), in the documented precedence: 413 before 400."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from incidentfox_web.api.errors import ApiError
from incidentfox_web.api.inputs import optional_bool, optional_int, required_str

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


def parse_run_body(data: dict[str, Any]) -> RunInput:
    context_value = data.get("context")
    if context_value is not None and not isinstance(context_value, dict):
        raise ApiError.validation("context", "must be an object")
    context: dict[str, Any] = dict(context_value or {})
    raw_attachments = context.pop("attachments", None)
    _check_attachment_sizes(raw_attachments)

    agent = required_str(data, "agent_name", max_length=MAX_AGENT_NAME_CHARS)
    message = required_str(data, "message", max_length=MAX_MESSAGE_CHARS)
    run_async = optional_bool(data, "async", default=False)
    timeout = optional_int(data, "timeout", minimum=10, maximum=1800)
    max_turns = optional_int(data, "max_turns", minimum=1, maximum=100)
    _check_context(context)
    return RunInput(
        agent=agent,
        message=message,
        context=context,
        attachments=_parse_attachments(raw_attachments),
        run_async=run_async,
        timeout_seconds=timeout,
        max_turns=max_turns,
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


def _check_context(context: dict[str, Any]) -> None:
    for key, limit in CONTEXT_STRING_LIMITS.items():
        value = context.get(key)
        if value is None:
            continue
        if not isinstance(value, str):
            raise ApiError.validation(f"context.{key}", "must be a string")
        if len(value) > limit:
            raise ApiError.validation(f"context.{key}", f"must be at most {limit} characters")
    for key, choices in CONTEXT_CHOICES.items():
        value = context.get(key)
        if value is not None and value not in choices:
            raise ApiError.validation(f"context.{key}", f"must be one of {', '.join(choices)}")
    window = context.get("time_window")
    if window is not None:
        match = TIME_WINDOW_RE.match(window) if isinstance(window, str) else None
        if match is None:
            raise ApiError.validation("context.time_window", "must look like 15m, 1h or 24h")
        if int(match.group(1)) * MINUTES_PER_UNIT[match.group(2)] > MAX_TIME_WINDOW_MINUTES:
            raise ApiError.validation("context.time_window", "must be at most 30 days")


def _parse_attachments(raw: object) -> list[dict[str, Any]]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise ApiError.validation("context.attachments", "must be a list")
    if len(raw) > MAX_ATTACHMENTS:
        raise ApiError.validation("context.attachments", f"must have at most {MAX_ATTACHMENTS} items")
    attachments: list[dict[str, Any]] = []
    for index, item in enumerate(raw):
        field = f"context.attachments[{index}]"
        if not isinstance(item, dict):
            raise ApiError.validation(field, "must be an object with name and content")
        name = item.get("name")
        if name is None or (isinstance(name, str) and not name):
            raise ApiError.invalid_request(f"{field}.name is required", field=f"{field}.name")
        if not isinstance(name, str) or len(name) > 255:
            raise ApiError.validation(f"{field}.name", "must be a string of 1-255 characters")
        content = item.get("content")
        if content is None:
            raise ApiError.invalid_request(f"Attachment '{name}' has no content", field=f"{field}.content")
        if not isinstance(content, str):
            raise ApiError.validation(f"{field}.content", f"attachment '{name}' content must be text")
        source = item.get("source")
        if source is not None and (not isinstance(source, str) or len(source) > 2000):
            raise ApiError.validation(f"{field}.source", "must be a string of at most 2000 characters")
        attachments.append({"name": name, "source": source, "content": content})
    return attachments
