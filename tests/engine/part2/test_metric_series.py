"""Metric series on the tool-call log (for charts) and the detect_anomalies tool.

A Prometheus-backed investigation runs against a loopback server that speaks the Prometheus HTTP API (the
discovery, range-query and alert endpoints the connector uses); the demo serves the same tool interfaces.
"""

from __future__ import annotations

import math
from datetime import timedelta

import pytest

from engine import InvestigationContext, InvestigationRequest, ToolCall, investigate
from engine.analysis_context import AnalysisContext
from engine.analysis_tools import RunData, detect_anomalies
from engine.connectors import ToolFailure
from engine.facts import Observations, SeriesFact
from engine.models import MAX_SERIES_PER_CALL, MAX_SERIES_POINTS
from engine.series import downsample, metric_series

from .prom_replay import NOW, ONSET, prometheus_routes
from .replay_server import replay_server


def _metric_calls(calls: list[ToolCall]) -> list[ToolCall]:
    return [c for c in calls if c.tool in ("query_prometheus", "query_prometheus_range") and c.series]


def _check_caps(call: ToolCall) -> None:
    assert len(call.series) <= MAX_SERIES_PER_CALL
    for series in call.series:
        assert 2 <= len(series.points) <= MAX_SERIES_POINTS
        times = [t for t, _ in series.points]
        assert times == sorted(times)


def test_a_prometheus_backed_investigation_stores_the_series_with_the_onset_on_the_metric_tool_call() -> None:
    with replay_server(prometheus_routes()) as prom:
        request = InvestigationRequest(
            message="payments is failing",
            data_sources={"prometheus": {"url": prom.url}},
            now=NOW,
        )
        streamed: list[ToolCall] = []
        report = investigate(request, on_tool_call=streamed.append)

    [sweep, *_] = _metric_calls(report.tool_calls)
    _check_caps(sweep)
    first = sweep.series[0]
    assert first.title == "payments error ratio"
    assert first.unit == "ratio"
    assert first.onset == ONSET
    assert all(s.onset is None for s in sweep.series[1:])  # steady request rates and ratios: no onset
    # The callback sees the same series the report keeps, at the moment the call is logged.
    assert [c.series for c in streamed] == [c.series for c in report.tool_calls]
    assert any(
        line.startswith("[tool:query_prometheus_range] payments error ratio") for line in report.root_cause.evidence
    )


def test_the_demo_investigation_charts_the_series_it_blames_with_the_onset_marked() -> None:
    request = InvestigationRequest(
        message="payments is slow, checkout latency is high",
        data_sources={"demo": {"enabled": True}},
        now=NOW,
    )
    report = investigate(request)
    [sweep, *_] = _metric_calls(report.tool_calls)
    _check_caps(sweep)
    onsets = [s.onset for s in sweep.series if s.onset is not None]
    assert onsets
    assert onsets == sorted(onsets)
    cited = [line for line in report.root_cause.evidence if line.startswith(f"[tool:{sweep.tool}]")]
    assert cited
    excerpt = cited[0].partition(" ")[2]
    charted = next(s for s in sweep.series if excerpt.startswith(s.title))
    assert charted.onset is not None
    assert charted.points[0][0] <= charted.onset <= charted.points[-1][0]
    # Deterministic: the same request stores the same series.
    assert _metric_calls(investigate(request).tool_calls)[0].series == sweep.series


def test_tools_without_metrics_store_no_series() -> None:
    report = investigate(
        InvestigationRequest(message="checkout errors are up", data_sources={"demo": {"enabled": True}}, now=NOW)
    )
    assert all(not c.series for c in report.tool_calls if c.tool not in ("query_prometheus_range", "query_prometheus"))


def test_downsampling_keeps_real_samples_including_the_first_and_last_and_is_deterministic() -> None:
    points = [(float(i), math.sin(i / 10)) for i in range(1000)]
    thin = downsample(points)
    assert len(thin) == MAX_SERIES_POINTS
    assert thin[0] == points[0]
    assert thin[-1] == points[-1]
    assert set(thin) <= set(points)
    assert downsample(points) == thin
    assert downsample(points[:10]) == points[:10]
    assert downsample([(0.0, float("nan")), (1.0, 2.0)]) == [(1.0, 2.0)]


def test_at_most_six_series_are_kept_with_the_anomalous_ones_first() -> None:
    start = NOW.timestamp() - 3600
    steady = [(start + 15 * i, 1.0 + (i % 3) * 0.01) for i in range(240)]
    jump = [(t, 1.0 if t < ONSET else 9.0) for t, _ in steady]
    facts = [SeriesFact(service=f"svc{i}", kind="generic", points=steady) for i in range(8)]
    facts.append(SeriesFact(service="broken", kind="saturation", points=jump))
    kept = metric_series(facts, AnalysisContext(now=NOW, window=timedelta(hours=6)))
    assert len(kept) == MAX_SERIES_PER_CALL
    assert kept[0].title == "broken saturation"
    assert kept[0].onset is not None
    assert abs(kept[0].onset - ONSET) <= 15
    assert [s.title for s in kept[1:]] == [f"svc{i} value" for i in range(5)]


def test_detect_anomalies_reports_onsets_in_series_fetched_in_this_run_and_is_cited_in_evidence() -> None:
    request = InvestigationRequest(
        agent="metrics_agent",
        message="payments is slow, checkout latency is high",
        data_sources={"demo": {"enabled": True}},
        now=NOW,
    )
    report = investigate(request)
    assert "detect_anomalies" in report.tools_used
    [call] = [c for c in report.tool_calls if c.tool == "detect_anomalies"]
    assert call.ok
    assert call.series
    assert call.series[0].onset is not None
    assert "anomalous of" in call.output_excerpt
    cited = [line for line in report.root_cause.evidence if line.startswith("[tool:detect_anomalies] ")]
    assert cited
    for line in cited:
        assert line.removeprefix("[tool:detect_anomalies] ") in call.output_excerpt


def test_detect_anomalies_fails_cleanly_when_nothing_was_fetched() -> None:
    data = RunData(Observations(), AnalysisContext(now=NOW, window=timedelta(hours=6)))
    with pytest.raises(ToolFailure, match="no metric series"):
        detect_anomalies(data, {})
    with pytest.raises(ToolFailure, match="this investigation"):
        detect_anomalies(None, {})


def test_the_planner_does_not_spend_a_step_on_detect_anomalies() -> None:
    report = investigate(
        InvestigationRequest(
            message="payments is slow",
            data_sources={"demo": {"enabled": True}},
            context=InvestigationContext(),
            now=NOW,
        )
    )
    assert "detect_anomalies" not in report.tools_used


def test_the_error_ratio_is_divided_locally_so_prometheus_evaluates_the_request_rate_once() -> None:
    from engine.connectors.http import build_client
    from engine.connectors.prometheus import PrometheusClient

    with replay_server(prometheus_routes()) as prom:
        facts = PrometheusClient(build_client({}, base_url=prom.url)).golden_signals(
            ONSET - 600, ONSET + 600, 60, services=["payments"]
        )

    sent = [seen.query["query"][0] for seen in prom.seen if seen.path == "/api/v1/query_range"]
    assert len(sent) == 2  # the request rate and the 5xx rate; no PromQL division
    assert not any(" / " in query for query in sent)
    ratio = next(fact for fact in facts if (fact.service, fact.kind) == ("payments", "error_ratio"))
    assert ratio.metric.endswith(') / sum by (service) (rate(http_requests_total{service=~"payments"}[240s]))')
    before = [value for t, value in ratio.points if t < ONSET]
    after = [value for t, value in ratio.points if t >= ONSET]
    assert {round(v, 4) for v in before} <= {0.001}
    assert min(after) > 0.29


def test_a_service_without_5xx_has_a_zero_ratio_and_a_minute_without_traffic_has_none() -> None:
    from engine.connectors.prometheus import _ratio

    assert _ratio([], [(0.0, 10.0), (60.0, 12.0)]) == [(0.0, 0.0), (60.0, 0.0)]
    assert _ratio([(0.0, 1.0), (60.0, 0.0)], [(0.0, 4.0), (60.0, 0.0), (120.0, 5.0)]) == [(0.0, 0.25), (120.0, 0.0)]
