"""Read a stranger's Prometheus: discover its metric families, then fetch each component's signals, bounded.

1. ``/api/v1/label/__name__/values`` and ``/api/v1/metadata`` for the window: what metrics exist.
2. ``/api/v1/series`` for the relevant names: label sets, from which ``prom_catalog`` decides each family's
   signal kind, component label, status label and call edges.
3. ``count_over_time`` on one family: the scrape interval, so ``rate()`` windows span about four samples.
4. One range query per family and signal (counters as rates, histograms as quantiles, summaries as their
   quantile series, gauges as they are), the most relevant families first, never more than the query budget.

The answer is per-component series facts (``SeriesFact``), the call edges seen in the labels, and the PromQL
that produced each series, so the tool output and the evidence can quote it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol

from engine.analyzers.metrics import MetricKind, quantiles_over_time
from engine.connectors import ToolFailure
from engine.connectors.prom_catalog import (
    NOT_A_COMPONENT,
    POD_LABELS,
    Family,
    Shape,
    Signal,
    component_name,
    families_from,
    quantile_kind,
)
from engine.facts import CallEdgeFact, SeriesFact

Labels = dict[str, str]
RangeSeries = tuple[Labels, list[tuple[float, float]]]
Points = list[tuple[float, float]]

COMPONENT = "ifx_component"  # the label PromQL's label_replace puts a pod's workload in
NAMESPACE_LABELS = (
    "namespace",
    "kubernetes_namespace",
    "k8s_namespace_name",
    "exported_namespace",
    "service_namespace",
)
MAX_NAMES = 400  # metric names whose series are listed
NAMES_PER_SERIES_CALL = 60
PARALLEL_QUERIES = 4
DEFAULT_MAX_QUERIES = 80
DEFAULT_MAX_SERIES = 50_000
_SKIP_NAME = re.compile(r"^(?:scrape_|prometheus_|promhttp_|go_|ALERTS)|_info$|_created$|_sum$")
_ADDITIVE = {MetricKind.MEMORY, MetricKind.CONNECTIONS, MetricKind.QUEUE, MetricKind.NETWORK, MetricKind.DISK}
_NOT_ADDITIVE_NAME = re.compile(r"ratio|percent|utili[sz]ation|_pct|fraction|usage$")


class PromApi(Protocol):
    def query(self, expr: str, at: float | None = None) -> list[tuple[Labels, float]]: ...
    def query_range(
        self, expr: str, start: float, end: float, step: float, *, max_series: int = ...
    ) -> list[RangeSeries]: ...
    def metric_names(self, start: float | None = None, end: float | None = None) -> list[str]: ...
    def series_of(self, matches: Sequence[str], start: float, end: float) -> list[Labels]: ...
    def metadata(self) -> dict[str, dict[str, str]]: ...


@dataclass(frozen=True)
class SweepOptions:
    """Per-investigation bounds and the team's hints (Prometheus data source settings)."""

    component_label: str | None = None
    namespace: str | None = None
    max_queries: int = DEFAULT_MAX_QUERIES
    max_series: int = DEFAULT_MAX_SERIES
    dependencies: Mapping[str, Sequence[str]] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any], namespace: str | None = None) -> SweepOptions:
        deps = settings.get("dependencies")
        return cls(
            component_label=str(settings["component_label"]) if settings.get("component_label") else None,
            namespace=namespace,
            max_queries=_bounded_int(settings.get("max_queries"), DEFAULT_MAX_QUERIES, 1, 500),
            max_series=_bounded_int(settings.get("max_series"), DEFAULT_MAX_SERIES, 100, 500_000),
            dependencies={str(k): [str(v) for v in vs] for k, vs in deps.items()} if isinstance(deps, dict) else {},
        )


@dataclass
class Sweep:
    facts: list[SeriesFact]
    edges: list[CallEdgeFact]
    families: list[Family]
    queries: list[str]
    interval: float
    rate_window: float
    skipped: int = 0  # families left out by the query budget

    def describe(self) -> str:
        kinds: dict[str, int] = {}
        for family in self.families:
            for signal in family.signals:
                kinds[signal.label] = kinds.get(signal.label, 0) + 1
        components = sorted({f.service for f in self.facts})
        lines = [
            f"discovered {len(self.families)} metric families ("
            + ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))
            + f"); scrape interval {self.interval:g}s, rate window {self.rate_window:g}s",
            f"{len(components)} components: {', '.join(components[:40])}" + (" ..." if len(components) > 40 else ""),
        ]
        if self.edges:
            lines.append(f"{len(self.edges)} calls between components seen in metric labels")
        if self.skipped:
            lines.append(f"{self.skipped} less relevant families not read (query budget)")
        lines += [f"query: {q}" for q in self.queries]
        return "\n".join(lines)


def sweep(client: PromApi, start: float, end: float, step: float, options: SweepOptions) -> Sweep:
    """Discover the families in ``[start, end]`` and fetch every component's signals."""
    names = [n for n in client.metric_names(start, end) if not _SKIP_NAME.search(n)]
    names = sorted(names, key=_name_priority)[:MAX_NAMES]
    try:
        metadata = client.metadata()
    except ToolFailure:  # metadata is only a hint; proxies in front of Prometheus often refuse it
        metadata = {}
    label_sets: list[Labels] = []
    for i in range(0, len(names), NAMES_PER_SERIES_CALL):
        batch = names[i : i + NAMES_PER_SERIES_CALL]
        label_sets += client.series_of([f'{{__name__="{n}"}}' for n in batch], start, end)
        if len(label_sets) >= options.max_series:
            break
    if options.namespace:
        label_sets = [ls for ls in label_sets if _in_namespace(ls, options.namespace)]
    families = families_from(names, label_sets, metadata, component_label=options.component_label)
    interval = _scrape_interval(client, families, end, step)
    window = max(4.0 * interval, 2.0 * step)
    step = max(step, interval)
    edges = _edges(families, label_sets, options.dependencies)
    workloads = _workloads(families, label_sets)
    owners = _host_owners(families, label_sets)
    planned: list[tuple[Family, str, Callable[[list[RangeSeries]], list[SeriesFact]]]] = []
    skipped = 0
    for family in families:
        family.host_owners = owners if family.component_label == "instance" else {}
        jobs = _queries(family, window, options.namespace if _has_namespace(family, label_sets) else None, workloads)
        if len(planned) + len(jobs) > options.max_queries:
            skipped += 1
            continue
        planned += [(family, expr, convert) for expr, convert in jobs]
    with ThreadPoolExecutor(max_workers=max(1, min(PARALLEL_QUERIES, len(planned)))) as pool:
        answers = list(
            pool.map(lambda job: client.query_range(job[1], start, end, step, max_series=options.max_series), planned)
        )
    facts: list[SeriesFact] = []
    for (_, _, convert), answer in zip(planned, answers, strict=True):
        for fact in convert(answer):
            fact.smoothing_seconds = window if fact.smoothing_seconds else 0.0
            facts.append(fact)
    return Sweep(
        facts=facts,
        edges=edges,
        families=list(dict.fromkeys(f for f, _, _ in planned)),
        queries=[expr for _, expr, _ in planned],
        interval=interval,
        rate_window=window,
        skipped=skipped,
    )


def _name_priority(name: str) -> tuple[int, str]:
    """Names that usually carry golden signals or resources are listed first when there are too many."""
    hot = re.search(r"request|duration|latency|error|cpu|memory|restart|connection|queue|network|up$", name)
    return (0 if hot else 1, name)


def _in_namespace(labels: Mapping[str, str], namespace: str) -> bool:
    present = [labels[k] for k in NAMESPACE_LABELS if k in labels]
    return not present or namespace in present


def _has_namespace(family: Family, label_sets: Sequence[Mapping[str, str]]) -> bool:
    name = family.sample_name
    return any(k in ls for ls in label_sets if ls.get("__name__") == name for k in NAMESPACE_LABELS[:1])


def _scrape_interval(client: PromApi, families: Sequence[Family], end: float, step: float) -> float:
    """The sample spacing of the most relevant family (from ``count_over_time`` over ten minutes)."""
    for family in families[:3]:
        try:
            rows = client.query(f"max(count_over_time({family.sample_name}[10m]))", end)
        except ToolFailure:
            continue  # another family may answer; else the step stands in
        counts = [v for _, v in rows if v > 1]
        if counts:
            return max(1.0, round(600.0 / max(counts)))
    return max(step, 15.0)


def _edges(
    families: Sequence[Family], label_sets: Sequence[Mapping[str, str]], declared: Mapping[str, Sequence[str]]
) -> list[CallEdgeFact]:
    """caller -> callee pairs from edge labels (mesh, service graph, client metrics' peer labels)."""
    by_name = {f.sample_name: f for f in families}
    seen: dict[tuple[str, str], str] = {}
    for labels in label_sets:
        family = by_name.get(labels.get("__name__", ""))
        if family is None or family.edge is None:
            continue
        src_label, dst_label = family.edge
        src, dst = labels.get(src_label, ""), labels.get(dst_label, "")
        if src in NOT_A_COMPONENT or dst in NOT_A_COMPONENT:
            continue
        pair = (component_name(src_label, src), component_name(dst_label, dst))
        if pair[0] != pair[1]:
            seen.setdefault(pair, family.name)
    for caller, callees in declared.items():
        for callee in callees:
            seen.setdefault((caller, callee), "team configuration")
    return [
        CallEdgeFact(caller=a, callee=b, cite=f"[tool:query_prometheus_range] {a} calls {b} ({source})")
        for (a, b), source in sorted(seen.items())
    ]


def _host_owners(families: Sequence[Family], label_sets: Sequence[Mapping[str, str]]) -> dict[str, str]:
    """host -> the one component whose series come from that host (so a host's node metrics are that component's).

    An application scraped as ``job=<service>, instance=<host>:8080`` and node-exporter as ``job=node,
    instance=<host>:9100`` share the host: the machine's CPU and memory are the service's."""
    by_name = {f.sample_name: f for f in families}
    owners: dict[str, set[str]] = {}
    for labels in label_sets:
        family = by_name.get(labels.get("__name__", ""))
        if family is None or family.component_label == "instance" or family.edge is not None:
            continue  # an edge family's component is the far end of a call, not the scraped host
        if "instance" not in labels:
            continue
        value = labels.get(family.component_label, "")
        if value not in NOT_A_COMPONENT:
            host = component_name("instance", labels["instance"])
            owners.setdefault(host, set()).add(component_name(family.component_label, value))
    return {host: next(iter(names)) for host, names in owners.items() if len(names) == 1}


def _workloads(families: Sequence[Family], label_sets: Sequence[Mapping[str, str]]) -> list[str]:
    """Every workload name behind a pod label, longest first (the order a regex alternation needs)."""
    names = {
        component_name(key, value)
        for labels in label_sets
        for key, value in labels.items()
        if key in POD_LABELS and value not in NOT_A_COMPONENT
    }
    return sorted(names, key=lambda n: (-len(n), n))


def _selector(family: Family, namespace: str | None, extra: Iterable[str] = ()) -> str:
    matchers = [f'__name__="{family.sample_name}"']
    for key, values in sorted(family.exclude.items()):
        matchers.append(f'{key}!~"{"|".join(_re(v) for v in values)}"')  # "a|" also leaves out unset
    if family.component_label and family.component_label not in family.exclude:
        matchers.append(f'{family.component_label}!=""')
    if namespace:
        matchers.append(f'namespace="{_escape(namespace)}"')
    matchers += list(extra)
    return "{" + ",".join(dict.fromkeys(matchers)) + "}"


def _grouped(family: Family, inner: str, workloads: Sequence[str]) -> tuple[str, str]:
    """``inner`` with the component as a label PromQL can group by: a pod becomes its workload."""
    label = family.component_label
    if label not in POD_LABELS or not workloads:
        return inner, label
    alternation = "|".join(_re(w) for w in workloads)
    return f'label_replace({inner}, "{COMPONENT}", "$1", "{label}", "({alternation})(?:-.+)?")', COMPONENT


def _queries(
    family: Family, window: float, namespace: str | None, workloads: Sequence[str]
) -> list[tuple[str, Callable[[list[RangeSeries]], list[SeriesFact]]]]:
    """The PromQL for each of a family's signals, with how to turn its answer into facts."""
    w = f"{math.ceil(window)}s"
    sel = _selector(family, namespace)
    jobs: list[tuple[str, Callable[[list[RangeSeries]], list[SeriesFact]]]] = []
    if family.shape is Shape.HISTOGRAM:
        # One query for the buckets' rates, every quantile from it here: Prometheus would compute the costly
        # sum of bucket rates once per histogram_quantile otherwise.
        inner, by = _grouped(family, f"rate({sel}[{w}])", workloads)
        expr = f"sum by ({by}, le) ({inner})"
        jobs.append((expr, _histogram(family, by, expr)))
        return jobs
    if family.shape is Shape.SUMMARY:
        quantiles = "|".join(_re(q) for q in family.quantiles)
        inner, by = _grouped(family, _selector(family, namespace, [f'quantile=~"{quantiles}"']), workloads)
        expr = f"max by ({by}, quantile) ({inner})"
        jobs.append((expr, _summary(family, by, expr)))
        return jobs
    if family.shape is Shape.RESTART_GAUGE:
        inner, by = _grouped(family, f"changes({sel}[{w}])", workloads)
        expr = f"sum by ({by}) ({inner})"
        return [(expr, _plain(family, family.signals[0], by, expr, "sum", smoothed=True))]
    if family.shape is Shape.COUNTER:
        inner, by = _grouped(family, f"rate({sel}[{w}])", workloads)
        if family.status_label is not None:
            expr = f"sum by ({by}, {family.status_label}) ({inner})"
            return [(expr, _requests(family, by, expr))]
        expr = f"sum by ({by}) ({inner})"
        return [(expr, _plain(family, family.signals[0], by, expr, "sum", smoothed=True))]
    signal = family.signals[0]
    how = "sum" if signal.kind in _ADDITIVE and not _NOT_ADDITIVE_NAME.search(family.name) else "max"
    if signal.kind is MetricKind.AVAILABILITY and signal.direction == "down":
        how = "min"
    inner, by = _grouped(family, sel, workloads)
    expr = f"{how} by ({by}) ({inner})"
    return [(expr, _plain(family, signal, by, expr, how, smoothed=False))]


def _fact(family: Family, signal: Signal, component: str, points: Points, expr: str, smoothed: bool) -> SeriesFact:
    return SeriesFact(
        service=component,
        kind=signal.kind.value,
        points=points,
        metric=expr,
        cite="[tool:query_prometheus_range]",
        smoothing_seconds=1.0 if smoothed else 0.0,
        family=family.name,
        signal=signal.label,
        direction=signal.direction,
    )


def _by_component(answer: Iterable[RangeSeries], label: str, how: str, family: Family) -> dict[str, Points]:
    """Series keyed by component; values of one component (two ports of a host) are merged."""
    source_label = family.component_label if label == COMPONENT else label
    merged: dict[str, dict[float, float]] = {}
    for labels, points in answer:
        raw = labels.get(label, "")
        if raw in NOT_A_COMPONENT or not points:
            continue
        name = raw if label == COMPONENT else component_name(source_label, raw)
        name = family.host_owners.get(name, name)
        into = merged.setdefault(name, {})
        for t, v in points:
            if t not in into:
                into[t] = v
            elif how == "sum":
                into[t] += v
            elif how == "min":
                into[t] = min(into[t], v)
            else:
                into[t] = max(into[t], v)
    return {name: sorted(values.items()) for name, values in merged.items()}


def _plain(
    family: Family, signal: Signal, by: str, expr: str, how: str, *, smoothed: bool
) -> Callable[[list[RangeSeries]], list[SeriesFact]]:
    def convert(answer: list[RangeSeries]) -> list[SeriesFact]:
        return [
            _fact(family, signal, name, points, expr, smoothed)
            for name, points in _by_component(answer, by, how, family).items()
        ]

    return convert


QUANTILE_OF = {MetricKind.LATENCY_P50: 0.5, MetricKind.LATENCY_P95: 0.95, MetricKind.LATENCY_P99: 0.99}


def _histogram(family: Family, by: str, expr: str) -> Callable[[list[RangeSeries]], list[SeriesFact]]:
    """Each latency quantile per component from the per-bucket rates (Prometheus' ``histogram_quantile``)."""
    signals = [s for s in family.signals if s.kind in QUANTILE_OF]

    def convert(answer: list[RangeSeries]) -> list[SeriesFact]:
        buckets: dict[str, dict[float, list[tuple[float, float]]]] = {}
        for labels, points in answer:
            raw, le = labels.get(by, ""), labels.get("le")
            if raw in NOT_A_COMPONENT or le is None:
                continue
            name = raw if by == COMPONENT else component_name(family.component_label, raw)
            name = family.host_owners.get(name, name)
            at = buckets.setdefault(name, {})
            for t, v in points:
                at.setdefault(t, []).append((float(le), v))
        facts: list[SeriesFact] = []
        for name, by_time in buckets.items():
            series = quantiles_over_time(by_time, [QUANTILE_OF[s.kind] for s in signals])
            for signal, points in zip(signals, series, strict=True):
                query = f"histogram_quantile({QUANTILE_OF[signal.kind]}, {expr})"
                facts.append(_fact(family, signal, name, points, query, smoothed=True))
        return facts

    return convert


def _summary(family: Family, by: str, expr: str) -> Callable[[list[RangeSeries]], list[SeriesFact]]:
    def convert(answer: list[RangeSeries]) -> list[SeriesFact]:
        facts: list[SeriesFact] = []
        for q in family.quantiles:
            kind = quantile_kind(q)
            signal = next((s for s in family.signals if s.kind is kind), None)
            if signal is None:
                continue
            rows = [(labels, points) for labels, points in answer if labels.get("quantile") == q]
            for name, points in _by_component(rows, by, "max", family).items():
                facts.append(_fact(family, signal, name, points, expr, smoothed=False))
        return facts

    return convert


def _requests(family: Family, by: str, expr: str) -> Callable[[list[RangeSeries]], list[SeriesFact]]:
    """Request rate per component, and the error ratio from the same answer (errors / all, 0 without errors)."""
    status = family.status_label or ""
    errors = set(family.error_values)

    def convert(answer: list[RangeSeries]) -> list[SeriesFact]:
        total = _by_component(answer, by, "sum", family)
        failed = _by_component([r for r in answer if r[0].get(status) in errors], by, "sum", family)
        facts: list[SeriesFact] = []
        for signal in family.signals:
            for name, points in total.items():
                if signal.kind is MetricKind.REQUEST_RATE:
                    facts.append(_fact(family, signal, name, points, expr, smoothed=True))
                elif signal.kind is MetricKind.ERROR_RATIO:
                    bad = dict(failed.get(name, []))
                    ratio = [(t, bad.get(t, 0.0) / v) for t, v in points if v > 0]
                    facts.append(_fact(family, signal, name, ratio, expr, smoothed=True))
        return facts

    return convert


_REGEX_SPECIAL = frozenset(".^$*+?()[]{}|\\")


def _re(value: str) -> str:
    """``value`` matched literally inside a PromQL regex string (the backslash itself escaped for the string)."""
    return "".join("\\\\" + ch if ch in _REGEX_SPECIAL else ch for ch in value).replace('"', '\\"')


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


def _bounded_int(raw: Any, default: int, low: int, high: int) -> int:
    try:
        value = int(raw)
    except (TypeError, ValueError):
        return default
    return max(low, min(value, high))
