"""Test a data source's settings the way an investigation would use them: the same connector, the same egress.

``check_connection`` builds the source's connector from its (secret-resolved) settings inside the caller's egress,
runs the source's probe (one or two cheap read calls registered next to the connector with ``registry.probe``)
and returns a message safe to show: failures name the source and what went wrong, never a URL's host or a secret.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from engine.connectors import ToolFailure
from engine.connectors.http import Egress, using_egress
from engine.masking import SecretMasker
from engine.registry import connection_probe, connector_factory

CHECK_TIMEOUT_SECONDS = 10  # a person is waiting on the page: at most this per call, whatever the tool's timeout


@dataclass(frozen=True)
class ConnectionCheck:
    ok: bool
    message: str
    duration_ms: int


def can_check(source: str) -> bool:
    return connector_factory(source) is not None and connection_probe(source) is not None


def check_connection(
    source: str, settings: Mapping[str, Any], *, egress: Egress | None, secrets: list[str] | None = None
) -> ConnectionCheck:
    """Connect to ``source`` with ``settings`` (secrets resolved) and describe what answered, or why nothing did.

    ``secrets`` are masked out of the message, like tool output in a report.
    """
    factory, probe = connector_factory(source), connection_probe(source)
    if factory is None or probe is None:
        raise ValueError(f"{source} has no connection check")
    timeout = min(float(settings.get("timeout") or CHECK_TIMEOUT_SECONDS), CHECK_TIMEOUT_SECONDS)
    started = time.monotonic()
    try:
        with using_egress(egress):
            client = factory({**settings, "timeout": timeout})
            message, ok = probe(client), True
    except ToolFailure as exc:
        message, ok = str(exc), False
    duration_ms = int((time.monotonic() - started) * 1000)
    return ConnectionCheck(ok=ok, message=SecretMasker(secrets or []).text(message), duration_ms=duration_ms)
