"""Metrics root cause on a real Prometheus loaded with generated incidents in several metric conventions.

The engine gets only the question and the Prometheus URL: it discovers the metric families and the label that
names a component (``destination_workload``/``pod`` for Istio and cAdvisor, ``service_name`` for OpenTelemetry,
``application`` for Micrometer, ``job`` for plain RED metrics), anchors on the time the question states and names
the component where the fault was injected.
"""

from datetime import UTC, datetime

import pytest

from engine import InvestigationRequest, investigate
from engine.analyzers.metrics import MetricKind
from engine.connectors.prom_catalog import (
    Shape,
    choose_component_label,
    classify_name,
    component_name,
    families_from,
    is_error_value,
)
from engine.incident_time import parse_incident_time
from tests.support.metrics_sim.fixtures import sim_prometheus  # noqa: F401 - the fixture
from tests.support.metrics_sim.scoring import score

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("convention", ["istio", "otel", "micrometer", "red"])
def test_the_injected_component_is_named_first_on_a_stranger_prometheus(sim_prometheus, convention):  # noqa: F811
    loaded = sim_prometheus(convention, 0)
    case = loaded.case
    report = investigate(InvestigationRequest(message=case.question, now=case.now, data_sources=loaded.data_sources))
    result = score(report, case.root_cause, case.components)
    assert result.top3, report.root_cause.description
    assert result.top1, report.root_cause.description
    sweep = next(c for c in report.tool_calls if c.tool == "query_prometheus_range")
    assert "discovered" in sweep.output_excerpt
    assert "query: " in sweep.output_excerpt
    assert any(line.startswith("[tool:query_prometheus_range]") for line in report.root_cause.evidence)
    assert report.hypotheses[0].subject.endswith(case.root_cause)


def test_the_component_label_is_discovered_when_it_is_not_service(sim_prometheus):  # noqa: F811
    loaded = sim_prometheus("istio", 0)
    report = investigate(
        InvestigationRequest(message=loaded.case.question, now=loaded.case.now, data_sources=loaded.data_sources)
    )
    sweep = next(c for c in report.tool_calls if c.tool == "query_prometheus_range")
    assert "by (destination_workload" in sweep.output_excerpt
    assert "service=" not in sweep.output_excerpt


def test_a_histogram_summary_counter_and_gauge_each_become_the_right_series():
    series = [
        {"__name__": "http_server_duration_seconds_bucket", "app": "a", "le": "0.1"},
        {"__name__": "http_server_duration_seconds_bucket", "app": "b", "le": "0.1"},
        {"__name__": "http_server_duration_seconds_count", "app": "a"},
        {"__name__": "rpc_latency_seconds", "app": "a", "quantile": "0.99"},
        {"__name__": "rpc_latency_seconds", "app": "b", "quantile": "0.5"},
        {"__name__": "requests_total", "job": "a", "code": "200"},
        {"__name__": "requests_total", "job": "b", "code": "503"},
        {"__name__": "container_memory_working_set_bytes", "pod": "a-7d9f8b6c5d-x2x7q", "container": "a"},
        {"__name__": "container_memory_working_set_bytes", "pod": "b-7d9f8b6c5d-x2x7q", "container": "POD"},
    ]
    families = {f.name: f for f in families_from([s["__name__"] for s in series], series)}
    assert families["http_server_duration_seconds"].shape is Shape.HISTOGRAM
    assert families["rpc_latency_seconds"].shape is Shape.SUMMARY
    assert families["rpc_latency_seconds"].quantiles == ("0.5", "0.99")
    requests = families["requests_total"]
    assert (requests.component_label, requests.status_label, requests.error_values) == ("job", "code", ("503",))
    assert MetricKind.ERROR_RATIO in {s.kind for s in requests.signals}
    memory = families["container_memory_working_set_bytes"]
    assert memory.component_label == "pod"
    assert memory.exclude["container"] == ("POD",)


def test_names_from_common_exporters_get_the_signal_kind_they_carry():
    kinds = {
        "container_cpu_usage_seconds_total": (Shape.COUNTER, MetricKind.CPU),
        "node_memory_MemAvailable_bytes": (Shape.GAUGE, MetricKind.MEMORY),
        "kube_pod_container_status_restarts_total": (Shape.COUNTER, MetricKind.RESTARTS),
        "container_network_receive_packets_dropped_total": (Shape.COUNTER, MetricKind.NETWORK),
        "hikaricp_connections_pending": (Shape.GAUGE, MetricKind.QUEUE),
        "node_filesystem_avail_bytes": (Shape.GAUGE, MetricKind.DISK),
        "istio_request_duration_milliseconds": (Shape.HISTOGRAM, MetricKind.LATENCY_P50),
    }
    for name, (shape, kind) in kinds.items():
        assert classify_name(name, shape)[0].kind is kind, name
    assert classify_name("go_info", Shape.GAUGE) == ()


def test_the_component_label_prefers_a_label_that_tells_components_apart():
    assert choose_component_label({"job": {"kubelet"}, "pod": {"a-1", "b-1"}, "instance": {"x"}}) == "pod"
    assert choose_component_label({"job": {"cart", "shop"}, "instance": {"h1:80", "h2:80"}}) == "job"
    assert choose_component_label({"team_component": {"a"}, "job": {"a", "b"}}, preferred="team_component") == (
        "team_component"
    )
    assert (
        choose_component_label(
            {"source_workload": {"a"}, "destination_workload": {"b"}},
            edge=(
                "source_workload",
                "destination_workload",
            ),
        )
        == "destination_workload"
    )


def test_status_values_that_mean_failure_are_recognised_per_label():
    assert is_error_value("code", "503")
    assert not is_error_value("code", "404")
    assert is_error_value("outcome", "SERVER_ERROR")
    assert not is_error_value("outcome", "SUCCESS")
    assert is_error_value("grpc_code", "14")
    assert not is_error_value("code", "14")
    assert is_error_value("status_code", "STATUS_CODE_ERROR")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("An anomaly started at 07:43Z in the shop", datetime(2026, 5, 3, 7, 43, tzinfo=UTC)),
        ("errors since 14:02 UTC", datetime(2026, 5, 2, 14, 2, tzinfo=UTC)),
        ("Incident at 2026-05-01 23:10 UTC in payments", datetime(2026, 5, 1, 23, 10, tzinfo=UTC)),
        ("slow since 08:59:30+01:00", datetime(2026, 5, 3, 7, 59, 30, tzinfo=UTC)),
        ("checkout broke 10 minutes ago", datetime(2026, 5, 3, 8, 50, tzinfo=UTC)),
        ("the job took 1:30 in total", None),
    ],
)
def test_the_incident_start_is_read_from_the_question(text, expected):
    assert parse_incident_time(text, datetime(2026, 5, 3, 9, 0, tzinfo=UTC)) == expected


def test_a_client_metric_with_a_peer_label_counts_for_the_callee_and_is_a_call():
    series = [
        {"__name__": "http_client_requests_seconds_count", "application": a, "client_name": b, "outcome": o}
        for a, b, o in [
            ("web", "cart", "SUCCESS"),
            ("cart", "payments", "SERVER_ERROR"),
            ("web", "payments", "SUCCESS"),
        ]
    ]
    [family] = families_from([s["__name__"] for s in series], series)
    assert family.component_label == "client_name"
    assert family.edge == ("application", "client_name")
    assert family.error_values == ("SERVER_ERROR",)
    assert component_name("server_address", "payments.shop.svc.cluster.local") == "payments"
    assert component_name("upstream", "http://inventory:8080/reserve") == "inventory"
