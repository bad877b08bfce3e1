"""Command output pasted into the question itself ("why is this pending" followed by a ``kubectl describe``).

People paste what they ran straight into the chat box rather than attaching it; that output is evidence like any
attachment. It starts at the first shell prompt running a cluster tool, or at the first line of a ``describe``
or an events table, and runs to the end of the message.
"""

from __future__ import annotations

import re

from engine.models import Attachment

_START = re.compile(
    r"^\s*(?:[\w@.:~/-]*[$#%>]\s+(?:sudo\s+)?(?:kubectl|oc|k|helm|crictl|journalctl|docker|aws|gcloud|az)\s"
    r"|Name:\s+[a-z0-9][\w.-]*\s*$"
    r"|(?:NAMESPACE\s+)?LAST SEEN\s+TYPE\s+REASON"
    r"|NAME\s+READY\s+STATUS\s+RESTARTS)"
)
_MIN_LINES = 3  # a one-line quote of a command is part of the question, not output


def pasted_output(message: str) -> Attachment | None:
    lines = message.splitlines()
    start = next((i for i, line in enumerate(lines) if _START.match(line)), None)
    if start is None or len([x for x in lines[start:] if x.strip()]) < _MIN_LINES:
        return None
    return Attachment(name="message", content="\n".join(lines[start:]))
