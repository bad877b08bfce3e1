"""Result presentation: confidence levels, evidence linked to tool calls, and the server-rendered SVG chart."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.template.loader import render_to_string

from web.charts import build_chart
from web.results import confidence_of, distinct_calls, evidence_items

T0 = 1_700_000_000


@pytest.mark.parametrize(
    ("value", "level"),
    [
        (100, "high"),
        (80, "high"),
        (79, "medium"),
        (50, "medium"),
        (49, "low"),
        (0, "low"),
        ("92", "low"),
        (None, "low"),
    ],
)
def test_confidence_levels_follow_the_documented_bands(value, level):
    assert confidence_of(value).level == level


def step(seq, tool, ok=True, series=None, output_excerpt=""):
    return SimpleNamespace(seq=seq, attempt=1, tool=tool, ok=ok, series=series, output_excerpt=output_excerpt)


def test_tool_evidence_links_to_the_first_successful_call_of_that_tool():
    steps = [step(1, "query_prometheus", ok=False), step(2, "query_prometheus"), step(3, "list_pods")]
    items = evidence_items(
        ["[tool:query_prometheus] p99 rose", "[attachment:app.log] ERROR pool", "plain text", "[tool:unknown] x"],
        steps,
    )
    assert [(i.kind, i.source, i.call_anchor) for i in items] == [
        ("tool", "query_prometheus", "call-1-2"),
        ("attachment", "app.log", None),
        ("other", "", None),
        ("tool", "unknown", None),
    ]
    assert items[0].text == "p99 rose"


def test_metric_series_on_the_tool_call_become_a_chart_with_the_onset_marked():
    series = [
        {
            "title": "checkout error ratio",
            "points": [[T0 + 60 * i, 0.01 if i < 10 else 0.2] for i in range(20)],
            "onset": T0 + 600,
        }
    ]
    [item] = evidence_items(
        ["[tool:query_prometheus_range] error ratio rose"], [step(1, "query_prometheus_range", series=series)]
    )
    [chart] = item.charts
    assert chart.onset_x == pytest.approx(64 + 600 / 1140 * 564, abs=0.1)
    svg = render_to_string("web/_chart.html", {"chart": chart})
    assert '<svg viewBox="0 0 640 220"' in svg
    assert 'role="img"' in svg
    assert "anomaly onset at 22:23 UTC" in svg
    assert f'<line class="chart-onset" x1="{chart.onset_x}"' in svg
    assert svg.count(",") >= 20  # 20 points in the polyline


def test_a_chart_needs_two_finite_points_and_ignores_an_onset_outside_the_series():
    assert build_chart("x", [(T0, 1.0)]) is None
    assert build_chart("x", [(T0, float("nan")), (T0 + 1, 2.0)]) is None
    chart = build_chart("x", [(T0, 1.0), (T0 + 60, 1.0)], onset=T0 + 3600)
    assert chart is not None
    assert chart.onset_x is None
    assert chart.onset_label == ""


def test_a_long_series_is_thinned_so_the_page_stays_small():
    chart = build_chart("x", [(T0 + i, float(i % 7)) for i in range(5000)])
    assert chart is not None
    assert len(chart.polyline.split()) == 400


def test_a_ratio_chart_has_percent_axes_a_baseline_before_the_onset_and_a_value_per_hovered_point():
    points = [(T0 + 60 * i, 0.002 if i < 10 else 0.18) for i in range(20)]
    chart = build_chart("checkout error ratio", points, onset=T0 + 600, unit="ratio")
    assert chart is not None
    labels = [tick.label for tick in chart.y_ticks]
    assert (labels[0], labels[-1]) == ("0.2 %", "18 %")
    assert chart.baseline_label == "baseline 0.2 %"
    svg = render_to_string("web/_chart.html", {"chart": chart})
    assert '<line class="chart-baseline"' in svg
    assert "<title>" in svg
    assert "UTC: 18 %</title>" in svg
    assert "(%)" in svg  # the unit next to the title


def test_sub_second_latencies_read_in_milliseconds():
    chart = build_chart("p99 latency", [(T0, 0.12), (T0 + 60, 0.9)], unit="s")
    assert chart is not None
    assert chart.min_label == "120 ms"
    assert chart.max_label == "900 ms"


def test_log_evidence_shows_the_quoted_line_highlighted_among_its_neighbours():
    output = "\n".join(
        [
            "10:02:40 INFO GET /health 200",
            "10:02:45 INFO POST /api/checkout 200",
            "10:02:49 ERROR POST /api/checkout 500 - TypeError: unsupported operand in pricing/totals.py line 88",
            "10:02:50 INFO GET /health 200",
        ]
    )
    [item] = evidence_items(
        ["[tool:search_logs] 10:02:49 ERROR POST /api/checkout 500 - TypeError in pricing/totals.py line 88"],
        [step(1, "search_logs", output_excerpt=output)],
    )
    assert [line.decisive for line in item.log_context] == [False, False, True, False]
    assert "TypeError" in item.log_context[2].text


def test_a_repeated_identical_call_is_listed_once_with_its_count():
    calls = [
        SimpleNamespace(
            seq=1, attempt=1, tool="list_deployments", params={"service": "checkout"}, ok=True, output_excerpt="v1.8.0"
        ),
        SimpleNamespace(seq=2, attempt=1, tool="search_logs", params={"q": "error"}, ok=True, output_excerpt="x"),
        SimpleNamespace(
            seq=3, attempt=1, tool="list_deployments", params={"service": "checkout"}, ok=True, output_excerpt="v1.8.0"
        ),
        SimpleNamespace(
            seq=4, attempt=1, tool="list_deployments", params={"service": "payments"}, ok=True, output_excerpt="v2"
        ),
    ]
    assert [(call.seq, repeats) for call, repeats in distinct_calls(calls)] == [(1, 2), (2, 1), (4, 1)]
