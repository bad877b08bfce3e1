"""The Prometheus connector and metric analyzer against a real Prometheus scraping a driven exporter."""

import time

import pytest

from engine.analyzers.metrics import MetricKind, detect_onset, rank_services
from engine.connectors.http import build_client
from engine.connectors.prometheus import PrometheusClient, query_prometheus, query_prometheus_range

from .prom_harness import Behaviour, Exporter, running_prometheus

pytestmark = pytest.mark.slow

SCRAPE = 1.0
STEP = 1.0
# The first scrape after the flip comes up to one scrape interval later, the query's evaluation points lie up to
# one step after that, and the scrape loop's timing wanders by milliseconds on a busy machine.
ONSET_TOLERANCE = SCRAPE + STEP + 0.25


@pytest.fixture(scope="module")
def incident():
    """payments turns slow and failing after a steady baseline; search is noisy-busy but healthy."""
    exporter = Exporter(
        {
            "payments": Behaviour(rate=40.0, latency=0.08),
            "search": Behaviour(rate=200.0, latency=0.2),
            "frontend": Behaviour(rate=60.0, latency=0.04),
        }
    )
    exporter.start()
    try:
        with running_prometheus(exporter.port, scrape_interval="1s") as url:
            started = time.time()
            time.sleep(14)
            onset = exporter.set("payments", Behaviour(rate=40.0, error_fraction=0.3, latency=2.0))
            exporter.set("search", Behaviour(rate=230.0, latency=0.2))
            time.sleep(10)
            client = PrometheusClient(build_client({"timeout": 10}, base_url=url))
            yield client, started, onset, time.time()
    finally:
        exporter.stop()


def test_golden_signals_are_discovered_from_common_label_names(incident):
    client, _, _, _ = incident
    found = client.discover()
    assert found is not None
    assert (found.label, found.counter, found.status_label) == ("service", "http_requests_total", "code")
    assert found.histogram == "http_request_duration_seconds_bucket"


def test_the_injected_onset_is_found_within_a_scrape_interval_and_a_step_on_the_right_service(incident):
    client, started, onset, end = incident
    result = query_prometheus_range(
        client, {"service": "*", "start": started + 3, "end": end, "step": STEP, "rate_window": 3}
    )
    series = result.observations.series
    assert {s.service for s in series} == {"payments", "search", "frontend"}
    anomalies = []
    for s in series:
        a = detect_onset(s.points, service=s.service, kind=MetricKind(s.kind), smoothing_seconds=s.smoothing_seconds)
        if a is not None:
            anomalies.append(a)
    ranked = rank_services(anomalies)
    assert ranked[0].service == "payments"
    assert {d.service for d in ranked} == {"payments"}
    assert abs(ranked[0].onset - onset) <= ONSET_TOLERANCE
    kinds = {a.kind for a in ranked[0].anomalies}
    assert {MetricKind.ERROR_RATIO, MetricKind.LATENCY_P99} <= kinds


def test_instant_queries_return_labelled_values(incident):
    client, _, _, _ = incident
    result = query_prometheus(client, {"query": 'sum by (service) (http_requests_total{code="500"})'})
    assert 'service="payments"' in result.text


def test_a_bad_query_is_a_tool_failure_that_names_prometheus(incident):
    from engine.connectors import ToolFailure

    client, _, _, _ = incident
    with pytest.raises(ToolFailure, match="Prometheus"):
        client.query("sum(")


def test_a_fractional_step_still_sends_whole_second_rate_windows_prometheus_accepts(incident):
    client, started, _, end = incident
    # A long window's sweep step is fractional (24 h / 1,500 points = 57.6 s): the derived rate window must still
    # be a PromQL duration Prometheus accepts (whole seconds), not "230.4s".
    facts = client.golden_signals(started + 3, end, 1.7, services=["payments"])
    assert {fact.kind for fact in facts} >= {MetricKind.REQUEST_RATE.value, MetricKind.LATENCY_P99.value}
    assert all(fact.metric.count("[7s]") for fact in facts)


def test_grafana_query_reads_the_same_prometheus_through_a_data_source_proxy(incident):
    """A loopback Grafana stand-in forwards its data source proxy to the real Prometheus, as Grafana does."""
    import httpx

    from engine.connectors.grafana import connect, grafana_query

    from .replay_server import replay_server

    client, started, onset, end = incident
    prometheus = str(client.http.base_url)
    proxy = "/api/datasources/proxy/uid/prom"

    def forward(seen):
        upstream = httpx.get(prometheus + seen.path.removeprefix(proxy), params=seen.query, timeout=10)
        return upstream.status_code, upstream.json(), {}

    paths = ("query", "query_range", "series", "label/__name__/values", "label/service/values")
    with replay_server({("GET", f"{proxy}/api/v1/{path}"): forward for path in paths}) as grafana:
        through = connect({"url": grafana.url, "api_key": "glsa_x", "default_datasource": "prom"})
        result = grafana_query(
            through, {"service": "payments", "start": started + 3, "end": end, "step": 1, "rate_window": 3}
        )

    kinds = {fact.kind for fact in result.observations.series}
    assert {MetricKind.ERROR_RATIO.value, MetricKind.LATENCY_P99.value} <= kinds
    assert {fact.service for fact in result.observations.series} == {"payments"}
    assert all(fact.cite == "[tool:grafana_query]" for fact in result.observations.series)
    ratio = next(f for f in result.observations.series if f.kind == MetricKind.ERROR_RATIO.value)
    assert max(value for t, value in ratio.points if t > onset + 4) > 0.2
