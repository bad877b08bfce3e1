"""Helpers shared by parsers: citing source lines, timestamps and Kubernetes quantities."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

EXCERPT_LIMIT = 300

_ISO = re.compile(r"(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(?:[.,](\d{1,9}))?\s?(Z|[+-]\d{2}:?\d{2}|UTC)?")
_QUANTITY = re.compile(r"^(\d+(?:\.\d+)?)([a-zA-Z]*)$")
_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50}
_DECIMAL = {"k": 10**3, "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15, "": 1}


class Citer:
    """Builds evidence strings for one source.

    With the raw text at hand (attachments), it quotes the first line that contains all the needles, so the
    evidence appears verbatim in the input; otherwise (tool output) it uses the paraphrase it is given.
    """

    def __init__(self, label: str, raw: str | None = None) -> None:
        self.label = label
        self._lines = raw.splitlines() if raw is not None else None

    def cite(self, paraphrase: str, *needles: str) -> str:
        found = self.find(*needles) if needles else None
        return f"{self.label} {found if found is not None else excerpt(paraphrase)}"

    def find(self, *needles: str) -> str | None:
        if self._lines is None:
            return None
        wanted = [needle for needle in needles if needle]
        if not wanted:
            return None
        escaped = [json.dumps(needle)[1:-1] for needle in wanted]  # the same text inside a JSON string
        for line in self._lines:
            if all(needle in line or quoted in line for needle, quoted in zip(wanted, escaped, strict=True)):
                return excerpt(line.strip(), around=wanted[-1])
        return None

    def quote(self, line: str) -> str:
        return f"{self.label} {excerpt(line.strip())}"

    @property
    def lines(self) -> list[str]:
        """The source's raw lines (empty for tool output, which is cited by paraphrase)."""
        return self._lines or []


def quote_line(label: str, lines: list[str], needles: tuple[str, ...], fallback: str) -> str:
    """Evidence: the first of ``lines`` holding every needle, verbatim; else the fallback paraphrase."""
    wanted = [needle for needle in needles if needle]
    if wanted:
        for line in lines:
            if all(needle in line for needle in wanted):
                return f"{label} {excerpt(line.strip(), around=wanted[-1])}"
    return f"{label} {excerpt(fallback)}"


def excerpt(text: str, around: str | None = None) -> str:
    """At most EXCERPT_LIMIT characters of ``text``, a verbatim window around ``around`` when cut."""
    if len(text) <= EXCERPT_LIMIT:
        return text
    start = 0
    if around:
        position = text.find(around)
        if position > EXCERPT_LIMIT // 2:
            start = position - EXCERPT_LIMIT // 3
    return text[start : start + EXCERPT_LIMIT].strip()


def parse_timestamp(text: str | None) -> datetime | None:
    """ISO-8601 (anywhere in the text) or RFC 1123 (``Mon, 15 Jan 2024 14:31:40 +0000``); naive means UTC."""
    if not text:
        return None
    match = _ISO.search(text)
    if match:
        date, clock, fraction, zone = match.groups()
        try:
            value = datetime.fromisoformat(f"{date}T{clock}")
        except ValueError:
            return None
        if fraction:
            value = value.replace(microsecond=int(fraction[:6].ljust(6, "0")))
        if zone and zone not in ("Z", "UTC"):
            offset = zone if ":" in zone else f"{zone[:3]}:{zone[3:]}"
            value = datetime.fromisoformat(f"{value.isoformat()}{offset}")
        else:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
    if "," in text[:5]:
        try:
            value = parsedate_to_datetime(text.strip())
        except (TypeError, ValueError, IndexError):
            return None
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)
    return None


def quantity_bytes(text: str | None) -> int | None:
    """``256Mi`` -> 268435456; ``1G`` -> 10**9; unparseable -> None."""
    if not text:
        return None
    match = _QUANTITY.match(text.strip())
    if not match:
        return None
    number, unit = match.groups()
    factor = _BINARY.get(unit) or _DECIMAL.get(unit)
    if factor is None:
        return None
    return int(float(number) * factor)


def millicores(text: str | None) -> int | None:
    if not text:
        return None
    text = text.strip()
    try:
        return int(text[:-1]) if text.endswith("m") else int(float(text) * 1000)
    except ValueError:
        return None


def to_int(text: object) -> int | None:
    if isinstance(text, bool):
        return None
    if isinstance(text, int):
        return text
    if isinstance(text, str):
        match = re.match(r"\s*(-?\d+)", text)
        return int(match.group(1)) if match else None
    return None


def string_map_line(line: str) -> dict[str, str] | None:
    """A one-line JSON object of strings (a selector or labels printed by ``-o jsonpath='{.spec.selector}'``)."""
    text = line.strip()
    if not (text.startswith("{") and text.endswith("}")):
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if isinstance(data, dict) and data and all(isinstance(value, str) for value in data.values()):
        return {str(key): str(value) for key, value in data.items()}
    return None
