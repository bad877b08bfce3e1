"""Credentials are masked before anything reaches a model vendor.

Logs, kubectl output and pasted text often carry credentials: a connection string with its password, a bearer
token in a logged header, a cloud key in an environment dump. The root cause never needs their values, so the
briefing and every tool output sent to the model pass through ``redact`` first; each credential becomes
``[REDACTED:<kind>]`` and the text around it (which names what failed) is kept. Tool-call logs stored by
IncidentFox itself are not changed: they stay in the team's own database.
"""

from __future__ import annotations

import re


def _whole(kind: str) -> str:
    """The replacement of a credential that is all secret."""
    return f"[REDACTED:{kind}]"


def _value(kind: str) -> str:
    """The replacement that keeps the key and separator (``password=``) and masks the value."""
    return rf"\g<key>[REDACTED:{kind}]"


_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|\Z)", re.S),
        _whole("private_key"),
    ),
    (re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"), _whole("jwt")),
    (re.compile(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b"), _whole("aws_access_key_id")),
    (re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{40,})\b"), _whole("github_token")),
    (re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}"), _whole("slack_token")),
    (
        re.compile(r"\b(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}\b|\bsk-(?:proj-|ant-)?[A-Za-z0-9_-]{20,}"),
        _whole("api_key"),
    ),
    (re.compile(r"\bif[ta]_[A-Za-z0-9]{12}\.[A-Za-z0-9]{40}\b"), _whole("incidentfox_token")),
    # user:password@ in a URL or connection string: the user stays, it helps name the account that failed.
    (re.compile(r"(?P<key>\b[a-z][a-z0-9+.-]*://[^\s:/@]+:)[^\s@/]+(?=@)", re.I), _value("url_password")),
    (re.compile(r"(?P<key>\b(?:Bearer|Basic|Token)\s+)[A-Za-z0-9._~+/=-]{12,}", re.I), _value("bearer")),
    (
        re.compile(
            r"(?P<key>\b[\w.-]*(?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|"
            r"client[_-]?secret|credentials?)[\w.-]*[\"']?\s*[:=]\s*[\"']?)(?!\[REDACTED)[^\s\"',;&}]{4,}",
            re.I,
        ),
        _value("secret"),
    ),
)


def redact(text: str) -> str:
    """``text`` with every credential the rules recognise replaced by ``[REDACTED:<kind>]``."""
    for pattern, replacement in _RULES:
        text = pattern.sub(replacement, text)
    return text
