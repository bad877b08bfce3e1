"""Serving cases from a real Prometheus: one server per case (each case's own TSDB; the engine sees only the
labels a real system would have, never a case id)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from tests.support.metrics_sim import prometheus
from tests.support.metrics_sim.cases import Case


@dataclass(frozen=True)
class LoadedCase:
    case: Case
    url: str  # the Prometheus base URL, e.g. http://127.0.0.1:41234

    @property
    def data_sources(self) -> dict[str, dict[str, str]]:
        """What ``InvestigationRequest.data_sources`` takes."""
        return {"prometheus": {"url": self.url}}


@contextmanager
def serve_case(case: Case, *, binaries: prometheus.Binaries | None = None) -> Iterator[LoadedCase]:
    """Generate ``case``'s data, backfill it into a fresh TSDB and serve it; always stops the server."""
    with prometheus.loaded(case.families(), binaries=binaries) as url:
        yield LoadedCase(case, url)
