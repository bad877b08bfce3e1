"""Result presentation: confidence levels, evidence linked to tool calls, and the server-rendered SVG chart."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.template.loader import render_to_string

from web.charts import build_chart
from web.results import confidence_of, evidence_items

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


def step(seq, tool, ok=True, series=None):
    return SimpleNamespace(seq=seq, attempt=1, tool=tool, ok=ok, series=series)


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
    assert chart.onset_x == pytest.approx(4 + 600 / 1140 * 312, abs=0.1)
    svg = render_to_string("web/_chart.html", {"chart": chart})
    assert '<svg viewBox="0 0 320 96"' in svg
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
