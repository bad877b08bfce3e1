"""The simulator's data loads into a real Prometheus and answers PromQL; scoring judges hand-made reports."""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx
import pytest

from tests.support.metrics_sim import baro, prometheus
from tests.support.metrics_sim.blind import blind_specs
from tests.support.metrics_sim.cases import CONVENTIONS, CaseSpec, build_case, dev_case, dev_specs
from tests.support.metrics_sim.faults import FaultKind
from tests.support.metrics_sim.fixtures import sim_prometheus  # noqa: F401  (the fixture)
from tests.support.metrics_sim.loading import prepare_tsdb, serve_prepared
from tests.support.metrics_sim.scoring import components_named, score
from tests.support.tools import binary

pytestmark = pytest.mark.slow


def _get(url: str, path: str, **params: object) -> dict:
    response = httpx.get(f"{url}{path}", params=params, timeout=30)
    response.raise_for_status()
    body = response.json()
    assert body["status"] == "success"
    return body["data"]


_COMPONENT_METRIC = {
    "istio": ('container_cpu_usage_seconds_total{container!="",container!="istio-proxy"}', "pod"),
    "otel": ("traces_service_graph_request_total", "server"),
    "micrometer": ("http_server_requests_seconds_count", "application"),
    "red": ("requests_total", "job"),
}


@pytest.mark.parametrize("convention", sorted(CONVENTIONS))
def test_a_loaded_case_is_queryable_over_its_window(sim_prometheus, convention):  # noqa: F811
    loaded = sim_prometheus(convention, 0)
    case = loaded.case
    end = case.now.timestamp()
    metric, label = _COMPONENT_METRIC[convention]
    series = _get(loaded.url, "/api/v1/series", **{"match[]": metric, "start": end - 3600, "end": end})
    assert series, f"no {metric} series"
    named = {s[label] for s in series if label in s}
    assert any(components_named(value, case.components) for value in named)
    window = int(4 * case.spec.interval)  # rate() needs several scrapes per window
    result = _get(
        loaded.url,
        "/api/v1/query_range",
        query=f"sum by ({label}) (rate({metric}[{window}s]))",
        start=end - 1800,
        end=end,
        step=30,
    )["result"]
    assert result
    assert all(float(v) >= 0 for s in result for _, v in s["values"])
    assert len(result[0]["values"]) > 30  # the whole half hour is there


def test_the_fault_shows_on_the_faulty_workload_in_the_istio_case(sim_prometheus):  # noqa: F811
    loaded = sim_prometheus("istio", 0)
    case = loaded.case
    assert case.fault.kind.value == "cpu_hog"
    onset = case.fault.onset
    query = (
        f'sum(rate(container_cpu_usage_seconds_total{{namespace="{case.topology.namespace}",'
        f'pod=~"{case.root_cause}-.*",container="{case.root_cause}"}}[{int(4 * case.spec.interval)}s]))'
    )
    before = float(_get(loaded.url, "/api/v1/query", query=query, time=onset - 600)["result"][0]["value"][1])
    after = float(_get(loaded.url, "/api/v1/query", query=query, time=case.now.timestamp())["result"][0]["value"][1])
    assert after > before + 0.5


def test_cases_are_deterministic_and_the_question_states_a_time():
    spec = dev_specs()[3]
    a, b = build_case(spec), build_case(spec)
    assert (a.question, a.root_cause, a.now) == (b.question, b.root_cause, b.now)
    assert a.stated.strftime("%H:%M") in a.question
    assert a.stated <= a.now
    assert a.root_cause in a.components


@dataclass
class _RootCause:
    description: str


@dataclass
class _Hypothesis:
    description: str
    status: str = "inconclusive"
    subject: str | None = None


@dataclass
class _Report:
    root_cause: _RootCause | None
    hypotheses: list[_Hypothesis] = field(default_factory=list)


_COMPONENTS = ("checkout", "cart", "cart-redis", "orders-db", "payment-service", "frontend", "search", "email")


def test_the_first_component_named_is_the_top1_answer():
    report = _Report(_RootCause("cart-redis is down since 07:43:10Z; checkout errors followed 30 s later"))
    assert score(report, "cart-redis", _COMPONENTS).top1
    assert not score(report, "checkout", _COMPONENTS).top1
    assert not score(report, "cart", _COMPONENTS).top1  # cart-redis is not cart


def test_pod_names_count_as_their_workload():
    report = _Report(_RootCause("CPU of pod checkout-7d9f8b6c5d-x2x7q rose from 0.2 to 0.95 cores"))
    assert score(report, "checkout", _COMPONENTS).named == "checkout"
    assert components_named("orders-db-0 restarted 4 times", _COMPONENTS) == ["orders-db"]
    assert components_named("the checkouts table", _COMPONENTS) == []


def test_top3_reads_the_first_three_hypotheses_that_are_not_refuted():
    report = _Report(
        _RootCause("frontend latency rose"),
        [
            _Hypothesis("frontend is slow", subject="frontend"),
            _Hypothesis("search is broken", status="refuted", subject="search"),
            _Hypothesis("cart errors", subject="cart"),
            _Hypothesis("the orders database", subject=None, status="supported"),
            _Hypothesis("orders-db connection pool exhausted", subject="orders-db"),
        ],
    )
    result = score(report, "orders-db", _COMPONENTS)
    assert not result.top1
    assert result.candidates == ("frontend", "cart", None)
    assert not result.top3
    assert score(report, "cart", _COMPONENTS).top3


def test_a_report_naming_every_component_does_not_score():
    everything = ", ".join(_COMPONENTS)
    report = _Report(_RootCause(f"one of {everything}"), [_Hypothesis(everything)])
    for truth in _COMPONENTS:
        result = score(report, truth, _COMPONENTS)
        assert not result.top1
        assert not result.top3


def test_a_report_without_a_root_cause_does_not_score():
    assert not score(_Report(None), "cart", _COMPONENTS).top1


def test_dev_cases_name_the_component_each_convention_labels():
    case = dev_case("istio", 0)
    assert case.convention == "istio"
    assert len(case.components) >= 10


def test_the_splits_cover_every_convention_and_fault_kind_with_disjoint_seeds():
    dev, blind = dev_specs(), blind_specs()
    assert len(dev) >= 40
    assert len(blind) >= 60
    every = {(c, k) for c in CONVENTIONS for k in FaultKind}
    assert {(s.convention, s.fault_kind) for s in dev} == every
    assert {(s.convention, s.fault_kind) for s in blind} == every
    assert not {s.seed for s in dev} & {s.seed for s in blind}


def test_baro_ranks_the_component_whose_metric_left_its_baseline_first():
    times = [float(t) for t in range(20)]
    flat = [1.0, 1.1, 0.9, 1.0] * 5
    cols = {
        ("db", "cpu"): [*flat[:10], 9.0, 9.5, 9.0, 9.2, 9.1, 9.0, 9.3, 9.2, 9.0, 9.1],
        ("api", "latency"): [*flat[:10], 2.0, 2.1, 2.0, 2.2, 2.0, 2.1, 2.0, 2.0, 2.1, 2.0],
        ("cache", "hits"): [*flat[:10], -20.0, *flat[11:]],  # a fall: counts with |z|, not in RCAEval's signed max
    }
    assert [r.component for r in baro.rank(times, cols, anomaly=10.0)] == ["cache", "db", "api"]
    assert [r.component for r in baro.rank(times, cols, anomaly=10.0, rcaeval=True)][:2] == ["db", "api"]


def test_a_prepared_case_is_served_again_from_its_cache(tmp_path):
    bins = prometheus.Binaries(
        binary("prometheus", reason="prometheus missing: run scripts/install-prometheus.sh"),
        binary("promtool", reason="promtool missing: run scripts/install-prometheus.sh"),
    )
    spec = CaseSpec("cache-test", "red", FaultKind.ERROR_INJECTION, 10, 60.0, baseline_s=900)
    case = build_case(spec)
    first = prepare_tsdb(spec, str(tmp_path / case.id), bins.promtool)
    block_files = sorted(p.name for p in (tmp_path / case.id / "tsdb").iterdir())
    assert prepare_tsdb(spec, str(tmp_path / case.id), bins.promtool) == first  # reused, not rebuilt
    assert sorted(p.name for p in (tmp_path / case.id / "tsdb").iterdir()) == block_files
    end = case.now.timestamp()
    with serve_prepared(case, first, binaries=bins) as loaded:
        errors = _get(
            loaded.url, "/api/v1/query", query='sum by (job) (rate(requests_total{code!="200"}[4m]))', time=end
        )["result"]
    worst = max(errors, key=lambda s: float(s["value"][1]))
    assert worst["metric"]["job"] == case.root_cause
