"""Credentials are masked before anything reaches a model vendor.

Logs, kubectl output and pasted text often carry credentials: a connection string with its password, a bearer
token in a logged header, a cloud key in an environment dump. The root cause never needs their values, so the
briefing and every tool output sent to the model pass through ``redact`` first; each credential becomes
``[REDACTED:<kind>]`` and the text around it (which names what failed) is kept. Tool-call logs stored by
IncidentFox itself are not changed: they stay in the team's own database.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import partial

_Rule = tuple[str, re.Pattern[str], Callable[[re.Match[str], str], str]]


def _whole(match: re.Match[str], kind: str) -> str:
    return f"[REDACTED:{kind}]"


def _value(match: re.Match[str], kind: str) -> str:
    """Keep the key and separator (``password=``), mask the value."""
    return f"{match.group('key')}[REDACTED:{kind}]"


_RULES: tuple[_Rule, ...] = (
    (
        "private_key",
        re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|\Z)", re.S),
        _whole,
    ),
    ("jwt", re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"), _whole),
    ("aws_access_key_id", re.compile(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b"), _whole),
    ("github_token", re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{40,})\b"), _whole),
    ("slack_token", re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}"), _whole),
    (
        "api_key",
        re.compile(r"\b(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}\b|\bsk-(?:proj-|ant-)?[A-Za-z0-9_-]{20,}"),
        _whole,
    ),
    ("incidentfox_token", re.compile(r"\bif[ta]_[A-Za-z0-9]{12}\.[A-Za-z0-9]{40}\b"), _whole),
    # user:password@ in a URL or connection string: the user stays, it helps name the account that failed.
    ("url_password", re.compile(r"(?P<key>\b[a-z][a-z0-9+.-]*://[^\s:/@]+:)[^\s@/]+(?=@)", re.I), _value),
    ("bearer", re.compile(r"(?P<key>\b(?:Bearer|Basic|Token)\s+)[A-Za-z0-9._~+/=-]{12,}", re.I), _value),
    (
        "secret",
        re.compile(
            r"(?P<key>\b[\w.-]*(?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|"
            r"client[_-]?secret|credentials?)[\w.-]*[\"']?\s*[:=]\s*[\"']?)(?!\[REDACTED)[^\s\"',;&}]{4,}",
            re.I,
        ),
        _value,
    ),
)


def redact(text: str) -> str:
    """``text`` with every credential the rules recognise replaced by ``[REDACTED:<kind>]``."""
    for kind, pattern, replace in _RULES:
        text = pattern.sub(partial(_apply, replace, kind), text)
    return text


def _apply(replace: Callable[[re.Match[str], str], str], kind: str, match: re.Match[str]) -> str:
    return replace(match, kind)
