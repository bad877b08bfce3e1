"""Component names as different sources spell them, compared as one."""

from __future__ import annotations


def normalize_service(name: str) -> str:
    """Compare ``payments``, ``payments-api`` and ``Payments`` as one service."""
    n = name.strip().lower()
    for suffix in ("-api", "-service", "-svc", "-deployment", "-app"):
        if n.endswith(suffix) and len(n) > len(suffix):
            n = n[: -len(suffix)]
            break
    return n
