"""Output pasted into the question itself, read like an attachment.

People paste what kubectl, a log or a tool printed straight into the chat ("pushed 2.14.0, nothing happens:
$ kubectl describe deploy ...", "describe says:" and an indented excerpt, log lines under "logs below:") instead of
attaching a file. That text is evidence exactly as an attached file would be, so it is handed to the attachment
parser under the name ``message``; the prose before the first line that looks printed stays the question.
"""

from __future__ import annotations

import re
import textwrap

from engine.models import Attachment

PASTE_NAME = "message"

# a shell prompt (``$``, ``#``, ``user@host:~$``, zsh's ``➜ dir``) running a command, optionally with sudo
_PROMPT = re.compile(r"^\s*(?:[\w@.:~/-]*[$#%>]\s+|➜\s+(?:\S+\s+){1,3}?)(?:sudo\s+)?[\w./-]+")
# a line a program printed rather than a person wrote: a shell prompt (also ``user@host:~$``), a ``key:value``
# or ``key=value`` field (``redis-cli INFO``, logfmt), a code fence, indented output, a
# describe/YAML key, a table header or row (cells two spaces apart), a timestamped or levelled log line, JSON,
# an error kubectl or the API server printed, a ``2026/12/02 13:40:11`` (nginx, Go log) timestamp, a script's stderr
# prefixed with its path (``/docker-entrypoint.sh: ...``), an ``nginx: [emerg]`` style program-and-level prefix
_PRINTED = re.compile(
    r"^(?:\s*[$#%>]\s+\S|➜\s|[\w.-]+@[\w.-]+:\S*[$#]\s|[a-z_][\w.-]*[:=]\S"
    r"|```|\s{2,}\S|\t|[A-Z][\w .-]*:\s{2,}|[A-Z][\w-]*:\s*$|Name:\s+[a-z0-9][\w.-]*\s*$"
    r"|[A-Z][A-Z-]+(?: [A-Z-]+)*\s{2,}[A-Z]|\S+(?:\s{2,}\S+){2,}"
    r"|\d{4}[-/]\d\d[-/]\d\d[T ]\d\d:|/[\w.-]+(?:/[\w.-]+)*: \S"
    r"|[\w.-]+: \[(?:emerg|alert|crit|error|warn|notice|info)\]\s"
    r"|\d\d:\d\d:\d\d[.,\d]*\s|[A-Z][a-z]{2} [ \d]\d \d\d:|[IWEF]\d{4} \d\d:"
    r"|(?:DEBUG|INFO|WARN|WARNING|ERROR|FATAL|CRITICAL|PANIC)\b|time=|level=|ts=|\[\d{4}-|\[\w+\]\s|\{\"|\{$"
    r"|apiVersion:|kind:|Error from server|error: |Warning\s|Normal\s)"
)
_MIN_PRINTED_LINES = 3


def pasted_output(message: str) -> Attachment | None:
    """The printed part of a message (from its first printed line on), when there is one; a block indented as a
    whole (a quoted excerpt) is dedented so that it parses like the tool's own output."""
    lines = message.splitlines()
    start = _paste_start(lines)
    if start is None:
        return None
    body = "\n".join(line for line in lines[start:] if not line.strip().startswith("```"))
    return Attachment(name=PASTE_NAME, content=textwrap.dedent(body) + "\n")


def asked_text(message: str) -> str:
    """The message without its pasted output: what the person wrote (all of it when nothing was pasted)."""
    lines = message.splitlines()
    start = _paste_start(lines)
    return message if not start else "\n".join(lines[:start])


def _paste_start(lines: list[str]) -> int | None:
    """Where the printed part begins: a shell prompt followed by what it printed, or the first of at least three
    printed lines."""
    start = next((i for i, line in enumerate(lines) if _PRINTED.match(line)), None)
    if start is None:
        return None
    printed = sum(1 for line in lines[start:] if _PRINTED.match(line))
    prompted = any(_PROMPT.match(line) and any(x.strip() for x in lines[i + 1 :]) for i, line in enumerate(lines))
    return start if printed >= _MIN_PRINTED_LINES or prompted else None
