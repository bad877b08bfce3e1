"""Serving cases from a real Prometheus: one server per case (each case's own TSDB; the engine sees only the
labels a real system would have, never a case id)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.support.metrics_sim import prometheus
from tests.support.metrics_sim.cases import Case, CaseSpec, build_case


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


def prepare_tsdb(spec: CaseSpec, work_dir: str, promtool: str) -> str:
    """Build ``spec``'s case and backfill its data into ``<work_dir>/tsdb`` (for a worker process that prepares
    the next case while the current one is investigated, or a cache of prepared cases); returns the TSDB path.
    A TSDB already complete there (its ``.complete`` marker written) is reused: a case's data depend only on its
    spec."""
    work = Path(work_dir)
    data = work / "tsdb"
    marker = work / ".complete"
    if marker.exists():
        return str(data)
    if data.exists():
        shutil.rmtree(data)
    data.mkdir(parents=True)
    prometheus.backfill(build_case(spec).families(), data, promtool=promtool, work_dir=work)
    marker.write_text(repr(spec))
    return str(data)


@contextmanager
def serve_prepared(case: Case, data_dir: str, *, binaries: prometheus.Binaries) -> Iterator[LoadedCase]:
    """Serve a TSDB ``prepare_tsdb`` built; always stops the server."""
    with prometheus.serve(Path(data_dir), prometheus=binaries.prometheus) as url:
        yield LoadedCase(case, url)
