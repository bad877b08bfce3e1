"""Which component changed first: robust change per series, cause before symptom, honesty when unsure."""

import math
import random
from datetime import UTC, datetime, timedelta

from engine.analysis_context import AnalysisContext
from engine.analyzers.components import anchor_from_onsets, deviation, rank_components
from engine.analyzers.metric_findings import analyze
from engine.connectors.prom_discovery import SweepOptions, sweep
from engine.facts import CallEdgeFact, Observations, SeriesFact
from engine.run_memo import RunMemo

ANCHOR = datetime(2026, 3, 2, 7, 43, tzinfo=UTC)
T0 = ANCHOR.timestamp()
STEP = 15.0


def series(
    service: str,
    kind: str,
    base: float,
    after: float | None = None,
    *,
    at: float = 0.0,
    noise: float = 0.02,
    seed: int = 1,
    signal: str = "",
    family: str = "",
) -> SeriesFact:
    """An hour before ``ANCHOR`` and twenty minutes after, with relative noise; a step to ``after`` at ``at`` s."""
    rng = random.Random(f"{service}{kind}{seed}")
    points = []
    for i in range(-240, 80):
        t = T0 + i * STEP
        level = after if after is not None and t >= T0 + at else base
        points.append((t, level * (1 + rng.gauss(0, noise))))
    return SeriesFact(service=service, kind=kind, points=points, signal=signal, family=family, smoothing_seconds=60)


def test_a_step_after_the_stated_start_is_a_change_with_its_onset_and_levels():
    found = deviation(series("inventory", "cpu", 0.2, 0.95, at=30), T0)
    assert found is not None
    assert abs(found.onset - (T0 + 30)) <= STEP
    assert math.isclose(found.baseline, 0.2, rel_tol=0.05)
    assert math.isclose(found.level, 0.95, rel_tol=0.1)


def test_a_noisy_but_steady_series_and_a_single_spike_are_not_changes():
    assert deviation(series("search", "latency_p95", 0.2, noise=0.1), T0) is None
    spiky = series("search", "latency_p95", 0.2)
    spiky.points[250] = (spiky.points[250][0], 5.0)
    assert deviation(spiky, T0) is None


def test_a_series_that_stops_reporting_after_the_start_is_an_outage():
    fact = series("postgres", "connections", 40.0)
    fact.points = [p for p in fact.points if p[0] < T0 + 60]
    found = deviation(fact, T0, end=T0 + 1200)
    assert found is not None
    assert found.stopped


def test_a_callee_that_changed_first_outranks_its_louder_callers():
    facts = [
        series("inventory", "latency_p95", 0.05, 0.30, at=0),
        series("checkout", "latency_p95", 0.08, 0.60, at=30),  # louder: its own work plus retries
        series("frontend", "latency_p95", 0.10, 0.70, at=45),
    ]
    edges = [CallEdgeFact("frontend", "checkout"), CallEdgeFact("checkout", "inventory")]
    ranking = rank_components(facts, T0, edges=edges)
    assert [c.name for c in ranking.components] == ["inventory", "checkout", "frontend"]
    assert set(ranking.components[0].explains) == {"checkout", "frontend"}


def test_without_a_graph_saturation_shortly_before_a_callers_errors_comes_first():
    facts = [
        series("payments", "error_ratio", 0.001, 0.3, at=60, noise=0.05),
        series("postgres", "saturation", 30.0, 95.0, at=0, noise=0.05),
    ]
    assert rank_components(facts, T0).components[0].name == "postgres"


def test_the_lead_finding_names_the_component_and_its_signal_and_is_charted_in_the_timeline():
    obs = Observations(
        series=[
            series("inventory", "cpu", 0.2, 0.95, at=0, signal="CPU usage", family="container_cpu_usage_seconds_total"),
            series("checkout", "latency_p95", 0.08, 0.5, at=45, signal="p95 latency"),
        ],
        edges=[CallEdgeFact("checkout", "inventory")],
    )
    ctx = AnalysisContext(now=ANCHOR + timedelta(minutes=20), window=timedelta(hours=6), anchor=ANCHOR, memo=RunMemo())
    lead, follower = analyze(obs, ctx)
    assert lead.title.startswith("inventory: CPU usage rose from 0.2")
    assert "before checkout p95 latency rose" in lead.title
    assert lead.role == "cause"
    assert lead.subject == "service/inventory"
    assert lead.evidence[0].startswith("[tool:query_prometheus_range] inventory CPU usage rose")
    assert follower.subject == "service/checkout"
    assert follower.timestamp is not None
    assert lead.timestamp is not None
    assert lead.timestamp < follower.timestamp


def test_two_unrelated_components_that_changed_alike_are_reported_as_ambiguous_naming_both():
    obs = Observations(
        series=[
            series("orders", "error_ratio", 0.001, 0.2, at=0, seed=1),
            series("billing", "error_ratio", 0.001, 0.2, at=0, seed=2),
        ]
    )
    ctx = AnalysisContext(now=ANCHOR + timedelta(minutes=20), window=timedelta(hours=6), anchor=ANCHOR, memo=RunMemo())
    lead = analyze(obs, ctx)[0]
    assert "ambiguous" in lead.title
    assert "orders" in lead.title
    assert "billing" in lead.title
    assert lead.role == "symptom"


def test_nothing_changed_gives_no_metric_finding():
    obs = Observations(series=[series("orders", "error_ratio", 0.01), series("billing", "latency_p95", 0.2)])
    ctx = AnalysisContext(now=ANCHOR + timedelta(minutes=20), window=timedelta(hours=6), anchor=ANCHOR, memo=RunMemo())
    assert analyze(obs, ctx) == []


def test_without_a_stated_start_the_incident_begins_where_most_changes_follow():
    blip = series("nightly-etl", "cpu", 0.5, 3.0, at=-2400)  # a batch job forty minutes earlier
    incident = [
        series("inventory", "cpu", 0.2, 0.95, at=0),
        series("checkout", "latency_p95", 0.08, 0.5, at=30),
        series("frontend", "latency_p95", 0.1, 0.6, at=45),
    ]
    start = anchor_from_onsets([blip, *incident], T0 - 3 * 3600)
    assert start is not None
    assert abs(start - T0) <= 2 * STEP


class _ManyBucketsPrometheus:
    """A Prometheus HTTP API stand-in with one latency histogram for 60 services (300 bucket series)."""

    LES = ("0.1", "0.25", "0.5", "1", "+Inf")

    def __init__(self) -> None:
        self.asked_max_series: list[int] = []

    def metric_names(self, start=None, end=None):
        return ["http_request_duration_seconds_bucket"]

    def metadata(self):
        return {}

    def series_of(self, matches, start, end):
        return [
            {"__name__": "http_request_duration_seconds_bucket", "service": f"svc-{i:02d}", "le": le}
            for i in range(60)
            for le in self.LES
        ]

    def query(self, expr, at=None):
        return [({}, 40.0)]  # 40 samples in ten minutes: a 15 s scrape interval

    def query_range(self, expr, start, end, step, *, max_series=200):
        self.asked_max_series.append(max_series)
        cumulative = dict(zip(self.LES, (0.0, 10.0, 50.0, 90.0, 100.0), strict=True))  # p50 = 0.5 s
        times = [start + k * step for k in range(int((end - start) // step) + 1)]
        rows = [
            ({"service": f"svc-{i:02d}", "le": le}, [(t, cumulative[le]) for t in times])
            for i in range(60)
            for le in self.LES
        ]
        return rows[:max_series]


def test_a_histogram_with_hundreds_of_bucket_series_gives_every_component_its_quantiles():
    client = _ManyBucketsPrometheus()
    found = sweep(client, T0 - 3600, T0, 15.0, SweepOptions())
    p50 = {f.service: f.points[-1][1] for f in found.facts if f.kind == "latency_p50"}
    assert len(p50) == 60
    assert set(p50.values()) == {0.5}
    assert min(client.asked_max_series) >= 300


def test_a_lead_that_only_got_slower_names_its_one_silent_dependency_next():
    obs = Observations(
        series=[
            series("checkout", "latency_p95", 0.08, 0.8, at=0),
            series("storefront", "latency_p95", 0.1, 0.8, at=30),
            series("cart-cache", "network", 1000.0, signal="network traffic"),  # steady: no latency metric at all
        ],
        edges=[CallEdgeFact("storefront", "checkout"), CallEdgeFact("checkout", "ledger-db")],
    )
    ctx = AnalysisContext(now=ANCHOR + timedelta(minutes=20), window=timedelta(hours=6), anchor=ANCHOR, memo=RunMemo())
    findings = analyze(obs, ctx)
    assert findings[0].subject == "service/checkout"
    silent = [f for f in findings if f.kind == "metric_silent_dependency"]
    assert [f.subject for f in silent] == ["service/ledger-db"]
    assert silent[0].weight < findings[0].weight
