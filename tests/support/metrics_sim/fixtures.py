"""Pytest fixtures: a running Prometheus loaded with a generated dev case.

In a conftest or test module: ``from tests.support.metrics_sim.fixtures import sim_prometheus  # noqa: F401``,
then ``def test_x(sim_prometheus): loaded = sim_prometheus("istio", 0)`` returns a ``LoadedCase`` (``.url``,
``.case.question``, ``.case.now``, ``.case.root_cause``, ``.case.components``). Servers start on first use, are
shared for the session and always stopped. Without prometheus/promtool the test is skipped loudly (failed under
``CI=true``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack

import pytest

from tests.support.metrics_sim import prometheus
from tests.support.metrics_sim.cases import dev_case
from tests.support.metrics_sim.loading import LoadedCase, serve_case
from tests.support.tools import binary


@pytest.fixture(scope="session")
def sim_prometheus() -> Iterator[Callable[[str, int], LoadedCase]]:
    """A factory: ``sim_prometheus(convention, index)`` is the ``index``-th dev case of ``convention`` served by a
    real Prometheus (conventions: istio, otel, micrometer, red)."""
    reason = "prometheus/promtool missing: run scripts/install-prometheus.sh"
    bins = prometheus.Binaries(binary("prometheus", reason=reason), binary("promtool", reason=reason))
    servers: dict[tuple[str, int], LoadedCase] = {}
    with ExitStack() as stack:

        def get(convention: str, index: int = 0) -> LoadedCase:
            key = (convention, index)
            if key not in servers:
                servers[key] = stack.enter_context(serve_case(dev_case(convention, index), binaries=bins))
            return servers[key]

        yield get
