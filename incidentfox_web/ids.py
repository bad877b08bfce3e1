"""Random public identifiers (CSPRNG base62) and the formats the API accepts in paths."""

from __future__ import annotations

import re
import secrets
import string

BASE62 = string.ascii_letters + string.digits
SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")


def base62(length: int) -> str:
    """``length`` uniformly random base62 characters from the OS CSPRNG."""
    # One big random integer, read in base 62: uniform because it has ample spare bits (8 per character)
    # over the 5.95 bits each character consumes, and much cheaper than one secrets.choice per character.
    number = int.from_bytes(secrets.token_bytes(length))
    chars = []
    for _ in range(length):
        number, index = divmod(number, 62)
        chars.append(BASE62[index])
    return "".join(chars)


def new_id(prefix: str, length: int) -> str:
    return f"{prefix}{base62(length)}"


def is_slug(value: object) -> bool:
    return isinstance(value, str) and bool(SLUG_RE.match(value))
