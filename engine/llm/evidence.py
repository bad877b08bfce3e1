"""The evidence rule (API.md §4.6), checked on a report the model wrote before it is accepted.

Each evidence line starts with ``[tool:<name>]`` for a tool that ran in this investigation, or
``[attachment:<name>]`` for an attachment of this request, then a space and what that source returned.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable

CITATION = re.compile(r"^\[(tool|attachment):([^\]\s][^\]]*)\] \S")


def evidence_problems(lines: Iterable[str], *, tools_used: Collection[str], attachments: Collection[str]) -> list[str]:
    """What is wrong with ``lines``, one message per offending line; empty when every line follows the rule."""
    problems: list[str] = []
    for line in lines:
        match = CITATION.match(line)
        shown = line if len(line) <= 80 else line[:77] + "..."
        if match is None:
            problems.append(
                f"{shown!r} does not start with [tool:<name>] or [attachment:<name>] followed by a space and text"
            )
        elif match.group(1) == "tool" and match.group(2) not in tools_used:
            problems.append(f"{shown!r} cites tool {match.group(2)!r}, which did not run in this investigation")
        elif match.group(1) == "attachment" and match.group(2) not in attachments:
            problems.append(f"{shown!r} cites attachment {match.group(2)!r}, which this request does not have")
    return problems
