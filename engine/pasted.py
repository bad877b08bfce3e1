"""Command output pasted into the question itself, read like an attachment.

People paste what kubectl, a log or a tool printed straight into the chat ("pushed 2.14.0, nothing happens:
$ kubectl describe deploy ..."). That text is evidence exactly as an attached file would be, so it is handed to
the attachment parser under the name ``message``; the prose before the first line that looks printed stays
the question.
"""

from __future__ import annotations

import re

from engine.models import Attachment

PASTE_NAME = "message"

# a line a program printed rather than a person wrote: a shell prompt, a code fence, indented output, a
# describe/YAML key, a table header or row (cells two spaces apart), a timestamped or levelled log line, JSON
_PRINTED = re.compile(
    r"^(?:\s*[$#%>]\s+\S|```|\s{2,}\S|\t|[A-Z][\w .-]*:\s{2,}|[A-Z][\w-]*:\s*$"
    r"|[A-Z][A-Z-]+(?: [A-Z-]+)*\s{2,}[A-Z]|\S+(?:\s{2,}\S+){2,}"
    r"|\d{4}-\d\d-\d\d[T ]\d\d:|[IWEF]\d{4} \d\d:|time=|level=|ts=|\[\d{4}-|\{\"|apiVersion:|kind:"
    r"|Error from server|error: |Warning\s|Normal\s)"
)
_MIN_PRINTED_LINES = 3
_PROMPT = re.compile(r"^\s*[$#%>]\s+(?:kubectl|oc|helm|k|docker|crictl|journalctl|curl|gcloud|aws|az|argocd|flux)\s")


def pasted_output(message: str) -> Attachment | None:
    """The printed part of a message (from its first printed line on), when it holds enough printed lines."""
    start = _paste_start(message.splitlines())
    if start is None:
        return None
    body = [line for line in message.splitlines()[start:] if not line.strip().startswith("```")]
    return Attachment(name=PASTE_NAME, content="\n".join(body))


def asked_text(message: str) -> str:
    """The message without its pasted output: what the person wrote (all of it when nothing was pasted)."""
    lines = message.splitlines()
    start = _paste_start(lines)
    return message if not start else "\n".join(lines[:start])


def _paste_start(lines: list[str]) -> int | None:
    """Where the printed part begins: enough printed lines, or a shell prompt followed by what it printed."""
    start = next((i for i, line in enumerate(lines) if _PRINTED.match(line)), None)
    if start is None:
        return None
    printed = sum(1 for line in lines[start:] if _PRINTED.match(line))
    prompted = any(_PROMPT.match(line) and any(x.strip() for x in lines[i + 1 :]) for i, line in enumerate(lines))
    return start if printed >= _MIN_PRINTED_LINES or prompted else None
