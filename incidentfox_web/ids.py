"""Random public identifiers (CSPRNG base62) and the formats the API accepts in paths."""

from __future__ import annotations

import re
import secrets
import string

BASE62 = string.ascii_letters + string.digits
SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")


def base62(length: int) -> str:
    return "".join(secrets.choice(BASE62) for _ in range(length))


def new_id(prefix: str, length: int) -> str:
    return f"{prefix}{base62(length)}"


def is_slug(value: object) -> bool:
    return isinstance(value, str) and bool(SLUG_RE.match(value))
