"""Masking of the secret values one investigation resolved, in anything a tool returned.

A data source may echo the credential it was sent (an error page quoting ``Authorization: Bearer …``, a log line
with a connection string). Before a tool call's output or error is recorded, shown, sent to a model or logged,
every known secret is replaced, in the forms it usually travels in: as is, base64 (standard and URL-safe, with
and without padding) and URL-encoded.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote, quote_plus

MASK = "********"
MIN_SECRET_LENGTH = 4  # shorter values would mask ordinary words; no real credential is that short


def _encodings(secret: str) -> set[str]:
    raw = secret.encode("utf-8")
    forms = {secret, quote(secret, safe=""), quote_plus(secret, safe="")}
    for encoded in (base64.b64encode(raw).decode("ascii"), base64.urlsafe_b64encode(raw).decode("ascii")):
        forms.add(encoded)
        forms.add(encoded.rstrip("="))
    return {form for form in forms if len(form) >= MIN_SECRET_LENGTH}


class SecretMasker:
    """Replaces each known secret (and its common encodings) with ``********``."""

    def __init__(self, secrets: Iterable[str]) -> None:
        forms: set[str] = set()
        for secret in secrets:
            if isinstance(secret, str) and len(secret.strip()) >= MIN_SECRET_LENGTH:
                forms |= _encodings(secret)
                forms |= _encodings(secret.strip())
        # Longest first, so a value is masked whole rather than a shorter secret inside it first.
        ordered = sorted(forms, key=len, reverse=True)
        self._pattern = re.compile("|".join(re.escape(form) for form in ordered)) if ordered else None

    def __bool__(self) -> bool:
        return self._pattern is not None

    def text(self, value: str) -> str:
        if self._pattern is None or not value:
            return value
        return self._pattern.sub(MASK, value)

    def data(self, value: Any) -> Any:
        """A copy of a JSON-like value with every string (keys too) masked."""
        if self._pattern is None:
            return value
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {self.text(k) if isinstance(k, str) else k: self.data(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return type(value)(self.data(item) for item in value)
        return value
