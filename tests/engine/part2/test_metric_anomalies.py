"""Metric anomaly analyzer: onsets, quantiles and who moved first."""

import math
import random

from engine.analyzers.metrics import (
    MetricKind,
    change_point,
    detect_onset,
    histogram_quantile,
    quantile_series,
    rank_services,
    ratio_series,
)

T0 = 1_700_000_000.0


def series(values, step=15.0, start=T0):
    return [(start + i * step, v) for i, v in enumerate(values)]


def noisy(n, level, spread, seed):
    rng = random.Random(seed)
    return [level + rng.uniform(-spread, spread) for _ in range(n)]


def test_a_latency_step_is_found_at_the_first_slow_sample():
    values = noisy(200, 0.12, 0.01, 1) + noisy(40, 2.4, 0.2, 2)
    anomaly = detect_onset(series(values), service="payments", kind=MetricKind.LATENCY_P99)
    assert anomaly is not None
    assert anomaly.onset == T0 + 200 * 15
    assert 0.11 < anomaly.baseline < 0.13
    assert "payments p99 latency rose from 120 ms to 2.6 s" in anomaly.describe() or "to 2." in anomaly.describe()


def test_the_description_quantifies_the_change_in_human_units():
    values = [0.12] * 100 + [2.4] * 20
    anomaly = detect_onset(
        series(values, step=60.0, start=1_705_329_120.0 - 100 * 60),
        service="payments",
        kind=MetricKind.LATENCY_P99,
    )
    assert anomaly is not None
    assert anomaly.describe() == "payments p99 latency rose from 120 ms to 2.4 s at 14:32Z"


def test_a_noisy_but_steady_series_has_no_anomaly():
    values = noisy(500, 10.0, 4.0, 3)
    assert detect_onset(series(values), service="search", kind=MetricKind.REQUEST_RATE) is None


def test_a_single_spike_is_not_an_anomaly():
    values = [0.1] * 100 + [3.0] + [0.1] * 100
    assert detect_onset(series(values), kind=MetricKind.LATENCY_P99) is None


def test_error_ratio_from_zero_baseline_is_detected():
    values = [0.0] * 120 + [0.15] * 30
    anomaly = detect_onset(series(values), service="checkout", kind=MetricKind.ERROR_RATIO)
    assert anomaly is not None
    assert anomaly.onset == T0 + 120 * 15
    assert "from 0.0% to 15%" in anomaly.describe()


def test_a_tiny_error_ratio_wiggle_below_the_floor_is_ignored():
    values = [0.001] * 120 + [0.004] * 30
    assert detect_onset(series(values), kind=MetricKind.ERROR_RATIO) is None


def test_a_drop_in_request_rate_is_an_anomaly_but_a_drop_in_latency_is_not():
    drop = [100.0] * 100 + [10.0] * 30
    assert detect_onset(series(drop), kind=MetricKind.REQUEST_RATE) is not None
    assert detect_onset(series([1.0] * 100 + [0.2] * 30), kind=MetricKind.LATENCY_P99) is None


def test_change_point_finds_the_shift_in_linear_time_sized_input():
    values = [1.0] * 5000 + [5.0] * 760
    assert change_point(values) == 5000


def test_histogram_quantile_matches_prometheus_interpolation():
    buckets = [(0.1, 50.0), (0.5, 90.0), (1.0, 99.0), (math.inf, 100.0)]
    assert math.isclose(histogram_quantile(0.5, buckets), 0.1)
    assert math.isclose(histogram_quantile(0.7, buckets), 0.1 + 0.4 * (20 / 40))
    assert histogram_quantile(0.999, buckets) == 1.0
    assert math.isnan(histogram_quantile(0.5, [(0.1, 0.0), (math.inf, 0.0)]))


def test_quantile_and_ratio_series_are_pointwise():
    b = {
        0.1: [(1.0, 10.0), (2.0, 0.0)],
        1.0: [(1.0, 10.0), (2.0, 10.0)],
        math.inf: [(1.0, 10.0), (2.0, 10.0)],
    }
    q = quantile_series(0.5, b)
    assert q[0] == (1.0, 0.05)
    assert math.isclose(q[1][1], 0.55)
    assert ratio_series([(1.0, 1.0), (2.0, 1.0)], [(1.0, 4.0), (2.0, 0.0)]) == [(1.0, 0.25), (2.0, 0.0)]


def test_the_earliest_deviating_service_ranks_first():
    db = detect_onset(series([0.01] * 100 + [0.5] * 40), service="postgres", kind=MetricKind.LATENCY_P99)
    payments = detect_onset(series([0.1] * 102 + [2.0] * 38), service="payments", kind=MetricKind.LATENCY_P99)
    frontend = detect_onset(series([0.0] * 104 + [0.3] * 36), service="frontend", kind=MetricKind.ERROR_RATIO)
    assert db
    assert payments
    assert frontend
    ranked = rank_services([frontend, payments, db])
    assert [d.service for d in ranked] == ["postgres", "payments", "frontend"]


def test_a_callee_that_deviates_at_the_same_time_is_preferred_over_its_louder_caller():
    callee = detect_onset(series([0.1] * 100 + [0.4] * 40), service="payments", kind=MetricKind.LATENCY_P99)
    caller = detect_onset(series([0.0] * 100 + [0.9] * 40), service="checkout", kind=MetricKind.ERROR_RATIO)
    assert callee
    assert caller
    assert rank_services([caller, callee])[0].service == "checkout"
    ranked = rank_services([caller, callee], calls={"checkout": ["payments"]})
    assert [d.service for d in ranked] == ["payments", "checkout"]
