"""Group log lines into templates (variable parts masked) and rank them by severity, frequency and novelty.

Speed matters (a pasted log can be 1 MiB, a fetched one far more): each line costs one regex substitution
and a dict update; everything else runs once per distinct template.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

MAX_LINE = 2048  # longer lines are templated on their head; evidence still quotes the original

# Any run of hex characters holding a digit: numbers, timestamps, IPs, UUIDs, hashes, pod suffixes alike.
# One simple character-class pattern keeps templating well above 100k lines/s.
_MASK = re.compile(r"[0-9a-fA-F]*\d[0-9a-fA-F]*")
_LEVEL = re.compile(
    r"\b(FATAL|CRITICAL|CRIT|PANIC|EMERG|ALERT|SEVERE|ERROR|ERR|EXCEPTION|WARNING|WARN|INFO|NOTICE|DEBUG|TRACE)\b",
    re.IGNORECASE,
)
_ERRORISH = re.compile(
    r"Traceback \(most recent call last\)|^\s*(?:[\w.$]+(?:Error|Exception))(?::|$)|^panic:|\bfatal error:|"
    r"^Caused by:|Exception in thread|\bfailed\b|\bfailure\b|\brefused\b|\btimed? ?out\b"
    r"|\bunable to\b|\bcannot\b",
    re.IGNORECASE,
)
_NUMERIC_LEVEL = re.compile(r"\"level\"\s*:\s*(10|20|30|40|50|60)\b")
_NUMERIC_LEVELS = {"10": "debug", "20": "debug", "30": "info", "40": "warn", "50": "error", "60": "fatal"}
SEVERITY = {"fatal": 5, "error": 4, "warn": 3, "info": 1, "debug": 0}
_LEVEL_MAP = {
    "fatal": "fatal",
    "critical": "fatal",
    "crit": "fatal",
    "panic": "fatal",
    "emerg": "fatal",
    "alert": "fatal",
    "severe": "error",
    "error": "error",
    "err": "error",
    "exception": "error",
    "warning": "warn",
    "warn": "warn",
    "info": "info",
    "notice": "info",
    "debug": "debug",
    "trace": "debug",
}


@dataclass
class Template:
    pattern: str
    count: int
    first_index: int
    last_index: int
    example: str  # the first line verbatim
    last_example: str
    severity: str = "info"
    score: float = 0.0


def level_of(line: str) -> str:
    numeric = _NUMERIC_LEVEL.search(line[:200]) if line.startswith("{") else None
    if numeric:  # pino/bunyan: 10 trace, 20 debug, 30 info, 40 warn, 50 error, 60 fatal
        return _NUMERIC_LEVELS[numeric.group(1)]
    match = _LEVEL.search(line[:200])
    if match:
        return _LEVEL_MAP[match.group(1).lower()]
    if _ERRORISH.search(line[:400]):
        return "error"
    return "info"


def mask(line: str) -> str:
    return _MASK.sub("<*>", line[:MAX_LINE].strip())


def build_templates(lines: list[str]) -> tuple[list[Template], int]:
    """Templates ranked best first, and the number of non-blank lines seen."""
    index: dict[str, Template] = {}
    seen = 0
    sub = _MASK.sub
    for position, line in enumerate(lines):
        if not line or line.isspace():
            continue
        seen += 1
        key = sub("<*>", line[:MAX_LINE].strip())
        found = index.get(key)
        if found is None:
            index[key] = Template(key, 1, position, position, line, line)
        else:
            found.count += 1
            found.last_index = position
            found.last_example = line
    templates = list(index.values())
    total = max(seen, 1)
    span = max(len(lines), 1)
    for template in templates:
        template.severity = level_of(template.example)
        frequency = math.log10(1 + template.count)
        novelty = 1.0 if template.first_index > span * 0.2 and template.count < total * 0.5 else 0.0
        template.score = SEVERITY[template.severity] * 2 + frequency + novelty
    templates.sort(key=lambda t: (-t.score, t.first_index))
    return templates, seen
