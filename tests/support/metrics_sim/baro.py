"""BARO (Pham et al., FSE 2024: "BARO: Robust Root Cause Analysis for Microservices via Multivariate Bayesian Online
Change Point Detection"), its root-cause ranking step, over data read back from Prometheus, as a baseline.

Given the anomaly time (the time the question states, as the engine gets it): per metric column, a RobustScaler
(median and interquartile range) is fitted on the samples before it; the column's score is the largest absolute
scaled value at or after it. Components are ranked by their best column. ``rank(..., rcaeval=True)`` is the
variant RCAEval's ``baro`` function computes: columns constant in either window dropped, largest signed value.

Columns, from the Prometheus HTTP API over [anomaly - 1 h, now] at the scrape interval (types from names: the
metadata API is empty for backfilled data):
- counters (``*_total``, histogram/summary ``_count``): ``rate(m[4 x interval])``;
- histograms: p50 and p90 from the summed bucket rates (``histogram_quantile``'s linear interpolation), and the
  mean (rate of ``_sum`` / rate of ``_count``);
- summaries: their quantile gauges as they are, and the mean as for histograms;
- gauges as they are.
Series are summed (rates) or averaged (gauges) per component and per their remaining labels, without pod/instance
identity, so pods that come and go (a rollout) keep one column, as RCAEval's per-service columns do. Missing values
are 0 for rates (no traffic) and carried forward for gauges.

Unlike the engine, BARO is told which label value names which component (the oracle mapping RCAEval's
preprocessed data has): the first label in ``_COMPONENT_LABELS`` whose value names a component, and for hosts
(node-exporter) the component whose service runs on the same IP.
"""

from __future__ import annotations

import math
import re
import statistics
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import httpx

from tests.support.metrics_sim.scoring import components_named

_COMPONENT_LABELS = (
    "destination_workload",
    "server",
    "application",
    "service_name",
    "k8s_deployment_name",
    "k8s_statefulset_name",
    "k8s_cronjob_name",
    "container",
    "pod",
    "k8s_pod_name",
    "persistentvolumeclaim",
    "job",
)
# Identity of a replica or of the scrape, not of the signal.
_DROP = {
    "pod",
    "instance",
    "k8s_pod_name",
    "uid",
    "service_instance_id",
    "k8s_node_name",
    "image",
    "service_version",
    "job",
    "cpu",
}
_IP = re.compile(r"^(\d+\.\d+\.\d+\.\d+):\d+$")
QUANTILES = (0.5, 0.9)
_EPS10 = 10 * 2.220446049250313e-16  # sklearn's threshold for a zero scale (10 x float64 epsilon)


@dataclass(frozen=True)
class Ranked:
    component: str
    score: float
    column: str  # the best column


def _get(client: httpx.Client, path: str, **params: object) -> object:
    response = client.get(path, params=params)
    response.raise_for_status()
    body = response.json()
    if body.get("status") != "success":
        raise RuntimeError(f"prometheus: {body}")
    return body["data"]


def _component(labels: dict[str, str], components: Sequence[str], hosts: dict[str, str]) -> str | None:
    for key in _COMPONENT_LABELS:
        value = labels.get(key)
        if value:
            named = components_named(value, components)
            if named:
                return named[0]
    m = _IP.match(labels.get("instance", ""))
    if m:
        return hosts.get(m.group(1))
    return None


def _key(name: str, labels: dict[str, str], extra: str = "") -> str:
    rest = ",".join(f"{k}={v}" for k, v in sorted(labels.items()) if k not in _DROP and k != "__name__")
    return f"{name}{extra}{{{rest}}}"


def _matrix(
    client: httpx.Client, query: str, start: float, end: float, step: float
) -> list[tuple[dict[str, str], dict[float, float]]]:
    data = _get(client, "/api/v1/query_range", query=query, start=start, end=end, step=step)
    assert isinstance(data, dict)
    out = []
    for s in data["result"]:
        values = {float(t): float(v) for t, v in s["values"]}
        out.append((s["metric"], values))
    return out


def _histogram_quantile(q: float, buckets: list[tuple[float, float]]) -> float:
    """Prometheus' histogram_quantile on (upper bound, cumulative rate) pairs."""
    buckets = sorted(buckets)
    if not buckets or buckets[-1][1] <= 0:
        return math.nan
    total = buckets[-1][1]
    rank = q * total
    prev_le, prev_count = 0.0, 0.0
    for le, count in buckets:
        if count >= rank:
            if math.isinf(le):
                return prev_le
            if count == prev_count:
                return le
            return prev_le + (le - prev_le) * (rank - prev_count) / (count - prev_count)
        prev_le, prev_count = le, count
    return buckets[-1][0]


def columns(
    url: str, components: Sequence[str], *, start: float, end: float, interval: float
) -> tuple[list[float], dict[tuple[str, str], list[float]]]:
    """(times, {(component, column name): values}) read from Prometheus at ``url``."""
    step = interval
    window = f"{int(4 * interval)}s"
    times = [start + k * step for k in range(int((end - start) // step) + 1)]
    with httpx.Client(base_url=url, timeout=120) as client:
        names = _get(client, "/api/v1/label/__name__/values", start=start, end=end)
        metadata = _get(client, "/api/v1/metadata")
        if not isinstance(names, list) or not isinstance(metadata, dict):
            raise RuntimeError("prometheus returned an unexpected label or metadata shape")
        types = {k: v[0]["type"] for k, v in metadata.items() if v}
        rates: dict[tuple[str, str], dict[float, float]] = defaultdict(lambda: defaultdict(float))
        gauges: dict[tuple[str, str], dict[float, list[float]]] = defaultdict(lambda: defaultdict(list))
        buckets: dict[tuple[str, str], dict[float, dict[float, float]]] = defaultdict(
            lambda: defaultdict(lambda: defaultdict(float))
        )
        pending: list[tuple[str, str, list[tuple[dict[str, str], dict[float, float]]]]] = []
        for name in names:
            family = re.sub(r"(_total|_bucket|_count|_sum)$", "", name)
            kind = types.get(family) or types.get(name) or "gauge"
            if name.endswith("_bucket"):
                pending.append(("bucket", name, _matrix(client, f"rate({name}[{window}])", start, end, step)))
            elif name.endswith(("_total", "_count", "_sum")) or kind == "counter":
                pending.append(("rate", name, _matrix(client, f"rate({name}[{window}])", start, end, step)))
            else:
                pending.append(("gauge", name, _matrix(client, name, start, end, step)))
    hosts: dict[str, str] = {}
    for _, _, series in pending:
        for labels, _values in series:
            m = _IP.match(labels.get("instance", ""))
            if m and labels.get("job") in components:
                hosts[m.group(1)] = labels["job"]
    for how, name, series in pending:
        for labels, values in series:
            comp = _component(labels, components, hosts)
            if comp is None:
                continue
            if how == "bucket":
                le = float(labels.get("le", "+Inf").replace("+Inf", "inf"))
                key = (comp, _key(name, {k: v for k, v in labels.items() if k != "le"}))
                for t, v in values.items():
                    buckets[key][t][le] += v
            elif how == "rate":
                key = (comp, _key(name, labels, "[rate]"))
                for t, v in values.items():
                    rates[key][t] += v
            else:
                key = (comp, _key(name, labels))
                for t, v in values.items():
                    if not math.isnan(v):
                        gauges[key][t].append(v)
    out: dict[tuple[str, str], list[float]] = {}
    for key, per_t in rates.items():
        out[key] = [per_t.get(t, 0.0) for t in times]
    for key, per_t_list in gauges.items():
        row, last = [], math.nan
        for t in times:
            vs = per_t_list.get(t)
            if vs:
                last = sum(vs) / len(vs)
            row.append(last)
        out[key] = row
    for (comp, col), per_t_b in buckets.items():
        for q in QUANTILES:
            out[(comp, f"{col}[p{int(q * 100)}]")] = [
                _histogram_quantile(q, list(per_t_b[t].items())) if t in per_t_b else math.nan for t in times
            ]
    # mean latency = rate(_sum) / rate(_count)
    for (comp, col), sums in list(out.items()):
        if "_sum[rate]{" in col:
            counts = out.get((comp, col.replace("_sum[rate]{", "_count[rate]{", 1)))
            if counts:
                out[(comp, col.replace("_sum[rate]{", "_mean{", 1))] = [
                    s / c if c > 0 else math.nan for s, c in zip(sums, counts, strict=True)
                ]
    return times, out


def rank(
    times: Sequence[float], cols: dict[tuple[str, str], list[float]], anomaly: float, *, rcaeval: bool = False
) -> list[Ranked]:
    """BARO's ranking: components by their best robust-scaled deviation after ``anomaly``.

    By default a column scores its largest *absolute* scaled value. With ``rcaeval``, as RCAEval's ``baro``
    function does: columns constant before or after the anomaly are dropped, and the score is the largest *signed*
    scaled value (a drop does not count)."""
    best: dict[str, Ranked] = {}
    split = next((k for k, t in enumerate(times) if t >= anomaly), len(times))
    for (comp, col), values in cols.items():
        before = [v for v in values[:split] if not math.isnan(v)]
        after = [v for v in values[split:] if not math.isnan(v)]
        if len(before) < 4 or not after:
            continue
        if rcaeval and (max(before) == min(before) or max(after) == min(after)):
            continue
        median = statistics.median(before)
        q = statistics.quantiles(before, n=4, method="inclusive")
        iqr = q[2] - q[0]
        scale = iqr if iqr >= _EPS10 else 1.0  # as sklearn's RobustScaler: a zero-spread column stays unscaled
        deviations = [(v - median) / scale for v in after]
        score = max(deviations) if rcaeval else max(abs(d) for d in deviations)
        if comp not in best or score > best[comp].score:
            best[comp] = Ranked(comp, score, col)
    return sorted(best.values(), key=lambda r: -r.score)
