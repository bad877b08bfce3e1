"""Output pasted into the question itself ("logs + redis info below: ..."): read like an attachment.

People paste log lines and command output into a chat message instead of attaching them. The lines after the
question's prose are machine output when most of them look like it: timestamps, log levels, shell prompts
(``$ kubectl ...``), ``key:value`` fields, JSON or bracketed prefixes.
"""

from __future__ import annotations

import re

from engine.models import Attachment

PASTE_NAME = "message"
_OUTPUT = re.compile(
    r"^\s*(?:\$ |# |\d{4}-\d\d-\d\d|\d\d:\d\d:\d\d|[A-Z][a-z]{2} [ \d]\d |\[|\{|[\w.-]+@[\w.-]+:|"
    r"(?:DEBUG|INFO|WARN|WARNING|ERROR|FATAL|CRITICAL|E\d{4}|W\d{4}|I\d{4})\b|[a-z_][\w.-]*[:=]\S"
    r"|[A-Z][\w ]{0,30}:\s{2,}\S|[A-Z][A-Z-]+(?:\s{2,}[A-Z(%)-]+)+\s*$|[a-z0-9][\w.-]*(?:\s{2,}\S+){2,})"
)
_PROMPT = re.compile(r"^\s*\$ \S")
_MIN_LINES = 3


def pasted_output(message: str) -> list[Attachment]:
    """The message's pasted output as one attachment (none when the message is prose only)."""
    lines = message.splitlines()
    start = next((index for index, line in enumerate(lines) if _OUTPUT.match(line)), None)
    if start is None:
        return []
    body = [line for line in lines[start:] if line.strip()]
    looks = sum(1 for line in body if _OUTPUT.match(line))
    prompted = any(_PROMPT.match(line) for line in body)  # `$ kubectl ...` and what it printed
    if len(body) < _MIN_LINES or (looks * 3 < len(body) * 2 and not prompted):
        return []
    return [Attachment(name=PASTE_NAME, content="\n".join(lines[start:]) + "\n")]
