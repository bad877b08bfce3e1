"""The benches' interleaved comparison: ratios are taken within a round, then the median over rounds."""

from __future__ import annotations

from bench._load import (
    BARE,
    FLOOR,
    LIMITED,
    LIMITED_READ,
    Comparison,
    LoadResult,
    Target,
    baseline_report,
    with_baselines,
)


def _result(rps: float, cpu: float | None = None) -> LoadResult:
    return LoadResult(rps=rps, p50_ms=1.0, p99_ms=2.0, requests=int(rps), errors=0, tool="wrk", server_cpu_ms=cpu)


def test_ratios_are_taken_within_each_round_so_drift_between_rounds_cancels_out() -> None:
    # The machine is twice as fast in the second round; within each round the ratio is the same.
    runs = Comparison({"bare": [_result(1000), _result(2000)], "auth": [_result(500), _result(1000)]})

    assert runs.ratios("auth", "bare") == [0.5, 0.5]
    assert runs.ratio_line("auth", "bare") == "0.50 (rounds 0.50–0.50)"


def test_the_ratio_line_reports_the_median_and_the_range_of_the_rounds() -> None:
    runs = Comparison(
        {"bare": [_result(1000), _result(1000), _result(1000)], "auth": [_result(400), _result(700), _result(550)]}
    )

    assert runs.ratio_line("auth", "bare") == "0.55 (rounds 0.40–0.70)"


def test_the_summary_of_a_target_is_its_median_round_with_summed_counts() -> None:
    runs = Comparison({"bare": [_result(900, 0.7), _result(1100, 0.5), _result(1000, 0.6)]})

    summary = runs.median("bare")

    assert (summary.rps, summary.server_cpu_ms, summary.requests) == (1000, 0.6, 3000)
    assert summary.tool == "wrk, median of 3 rounds"


def test_a_bench_loads_the_bare_view_and_the_floors_before_its_endpoint() -> None:
    targets = with_baselines("http://127.0.0.1:9", Target("GET /x", "http://127.0.0.1:9/x"), read_floor_id="inv_1")

    assert [target.url for target in targets] == [
        "http://127.0.0.1:9/health",
        "http://127.0.0.1:9/bench/drf-floor",
        "http://127.0.0.1:9/bench/drf-floor-limited",
        "http://127.0.0.1:9/bench/drf-floor-limited-read/inv_1",
        "http://127.0.0.1:9/x",
    ]
    assert [target.label for target in targets][:-1] == [BARE, FLOOR, LIMITED, LIMITED_READ]


def test_the_read_floor_is_loaded_only_when_a_bench_names_a_row() -> None:
    targets = with_baselines("http://127.0.0.1:9", Target("GET /x", "http://127.0.0.1:9/x"))

    assert LIMITED_READ not in [target.label for target in targets]


def test_a_bench_reports_each_floor_as_a_ceiling_beside_its_ratio_and_the_cpu_it_adds() -> None:
    runs = Comparison(
        {
            BARE: [_result(1000, 0.5)],
            FLOOR: [_result(800, 0.6)],
            LIMITED: [_result(700, 0.7)],
            "GET /x": [_result(500, 1.0)],
        }
    )

    lines = baseline_report(runs, "GET /x", name="x", target=0.7)

    assert [line.split("  ")[0] for line in lines[:4]] == [BARE, FLOOR, LIMITED, "GET /x"]
    assert lines[4] == "ratio x/bare: 0.50 (rounds 0.50–0.50) (target >= 0.70)"
    assert lines[5] == f"ceilings (floor/bare): {FLOOR}: 0.80 (rounds 0.80–0.80); {LIMITED}: 0.70 (rounds 0.70–0.70)"
    assert lines[6].endswith("GET /x 1.00 ms (x: +0.50 ms over bare)")
