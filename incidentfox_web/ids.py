"""Random public identifiers (CSPRNG base62) and the formats the API accepts in paths."""

from __future__ import annotations

import random
import re
import secrets
import string

BASE62 = string.ascii_letters + string.digits
SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")


def base62(length: int) -> str:
    """``length`` uniformly random base62 characters from the OS CSPRNG."""
    # One big random integer, read in base 62: uniform because it has ample spare bits (8 per character)
    # over the 5.95 bits each character consumes, and much cheaper than one secrets.choice per character.
    return _base62_of(int.from_bytes(secrets.token_bytes(length)), length)


def request_id() -> str:
    """A request id: unique, not secret, so from the process's seeded PRNG rather than the OS.

    Reading the OS CSPRNG is a system call that also hands the GIL to another request thread; every request
    mints an id, and nothing relies on it being unguessable. ``random``'s generator is seeded from the OS and
    re-seeded in forked children, so processes never share a sequence.
    """
    return "req_" + _base62_of(random.getrandbits(160), 20)


def _base62_of(number: int, length: int) -> str:
    chars = []
    for _ in range(length):
        number, index = divmod(number, 62)
        chars.append(BASE62[index])
    return "".join(chars)


def new_id(prefix: str, length: int) -> str:
    return f"{prefix}{base62(length)}"


def is_slug(value: object) -> bool:
    return isinstance(value, str) and bool(SLUG_RE.match(value))
