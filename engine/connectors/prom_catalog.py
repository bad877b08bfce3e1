"""What a Prometheus metric means, from its name, its labels and (when the server has it) its metadata.

Pure functions, no HTTP: given the metric names and label sets a server holds, decide for each metric family
which signal it carries (latency, errors, traffic, CPU, memory, network, disk, connections, queue depth,
restarts, availability), how to turn it into a per-component series (counters become rates, histograms
quantiles, summaries their quantile series, gauges stay), which label names the component, and which label
pairs describe calls between components (a dependency graph).

The rules follow the naming conventions of the Prometheus instrumentation guidelines, OpenTelemetry semantic
conventions as exported to Prometheus, cAdvisor, kube-state-metrics, node-exporter, Istio/Envoy/Linkerd,
Tempo's service graph and Micrometer/Spring. They are about word parts (``cpu``, ``memory``, ``latency``,
``_total``), never about one system's metric list, so an unknown exporter that follows the conventions works.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from engine.analyzers.metrics import MetricKind
from engine.findings import workload_of


class Shape(StrEnum):
    """How a family becomes a series."""

    COUNTER = "counter"  # rate()
    HISTOGRAM = "histogram"  # histogram_quantile() over rate() of _bucket
    SUMMARY = "summary"  # the exported {quantile} gauges
    GAUGE = "gauge"  # as is
    RESTART_GAUGE = "restart_gauge"  # a start-time gauge: changes() counts restarts


# Labels that name a component, most specific first. A team may put its own label in front (settings).
COMPONENT_LABELS = (
    "destination_workload",
    "server",
    "app_kubernetes_io_name",
    "app_kubernetes_io_component",
    "application",
    "service_name",
    "service",
    "app",
    "k8s_deployment_name",
    "deployment",
    "workload",
    "k8s_pod_name",
    "pod",
    "pod_name",
    "container",
    "container_name",
    "job",
    "k8s_node_name",
    "node",
    "instance",
)
# Labels holding a pod name: their values are grouped into the pod's workload.
POD_LABELS = frozenset({"pod", "pod_name", "k8s_pod_name"})
# Labels that only ever have one value in a small scrape config say nothing about which component it is.
WEAK_LABELS = frozenset({"job", "instance", "node", "k8s_node_name"})
NOT_A_COMPONENT = frozenset({"", "POD", "unknown", "none", "null", "undefined"})

# Caller/callee label pairs: (label naming the caller, label naming the callee).
EDGE_LABELS: tuple[tuple[str, str], ...] = (
    ("source_workload", "destination_workload"),
    ("source_app", "destination_app"),
    ("source_service", "destination_service"),
    ("source_service_name", "destination_service_name"),
    ("client", "server"),
    ("client_service", "server_service"),
    ("caller", "callee"),
    ("src", "dst"),
    ("source", "destination"),
    ("deployment", "dst_deployment"),  # Linkerd proxy metrics
)
# A label on a client-side metric naming the component it calls (the metric's component is the caller).
# A label on a client-side metric naming the component it calls: the metric then measures the callee as its
# callers see it (and the network path to it), so the callee is the series' component and the pair is a call.
PEER_LABELS = (
    "peer_service",
    "net_peer_name",
    "server_address",
    "client_name",
    "upstream",
    "upstream_cluster",
    "target_service",
    "remote_service",
    "dependency",
)

STATUS_LABELS = (
    "code",
    "status",
    "status_code",
    "http_status",
    "http_status_code",
    "http_response_status_code",
    "response_code",
    "grpc_code",
    "grpc_status",
    "rpc_grpc_status_code",
    "status_class",
    "outcome",
    "result",
    "error",
    "response_flags",
)
_ERROR_VALUE = re.compile(
    r"^(?:5\d\d|5xx|server_error|error|errors|status_code_error|failure|failed|fail|"
    r"internal|unavailable|unknown|deadlineexceeded|deadline_exceeded|dataloss|data_loss|aborted|"
    r"resourceexhausted|resource_exhausted)$",
    re.IGNORECASE,
)
# Status labels where "2"/"4"/"13"/"14"... are gRPC codes, and "true" marks an error: only for these labels.
_NUMERIC_CODE_LABELS = frozenset({"grpc_code", "grpc_status", "rpc_grpc_status_code"})
_BOOLEAN_ERROR_LABELS = frozenset({"error"})

_SKIP = re.compile(
    r"^(?:scrape_|prometheus_|promhttp_|alertmanager_|net_conntrack_|go_info$|ALERTS)|_info$|_created$|_build_info|"
    r"_exemplars|_config_|_last_seen|_spec_|_limits?_|_requests?_(?:cpu|memory)|_labels$|_annotations$|"
    r"_metadata_|_generation$|_owner$|_status_phase$|_hash$|_version$"
)

_LATENCY = re.compile(r"latency|duration|response_time|_time_(?:seconds|ms|milliseconds)|rtt|_seconds$|_ms$")
_SIZE = re.compile(r"size|bytes|length")
_CPU = re.compile(r"cpu|load(?:1|5|15|avg)|processor")
_MEMORY = re.compile(r"memory|_mem_|_rss|heap|working_set|_mem$|^mem_|buffer_pool|_cache_bytes")
_NETWORK = re.compile(r"network|^net_|_net_|transmit|receive|tcp|udp|packets|_sent_bytes|_received_bytes|socket")
_DISK = re.compile(r"disk|filesystem|_fs_|^fs_|blkio|_io_|volume|storage|inode")
_CONNECTIONS = re.compile(r"connection|conns?(?:_|$)|sessions|pool")
_QUEUE = re.compile(r"queue|pending|backlog|_lag|inflight|in_flight|waiting|outstanding")
_THREADS = re.compile(r"threads|goroutines|workers|gc_|garbage|_gc$")
_REQUESTS = re.compile(
    r"requests?(?:_|$)|calls?(?:_|$)|invocations|rpcs?(?:_|$)|handled|served|hits|operations|_ops|messages|"
    r"spans|transactions|queries|responses"
)
_ERRORS = re.compile(r"errors?(?:_|$)|failures?|failed|exceptions?|faults|rejected|timeouts?|panics|5xx")
_RESTARTS = re.compile(r"restart|oom|evict|crash")
_AVAILABILITY = re.compile(
    r"^up$|_up$|available|unavailable|ready|healthy|health|_alive|replicas|status_(?:ready|running)"
)
_RATIO = re.compile(r"ratio|percent|utili[sz]ation|usage|_pct|fraction")


@dataclass(frozen=True)
class Signal:
    """One series to derive from a family, per component."""

    kind: MetricKind
    label: str  # human words: "CPU usage", "p95 latency", "error ratio"
    direction: str = "up"  # which way is trouble: "up", "down" or "both"


@dataclass(eq=False)
class Family:
    """A metric family in this Prometheus and what to read from it."""

    name: str  # the base name: ``http_request_duration_seconds`` for ``..._bucket``
    shape: Shape
    signals: tuple[Signal, ...]
    component_label: str = ""
    status_label: str | None = None
    error_values: tuple[str, ...] = ()
    edge: tuple[str, str] | None = None  # (caller label, callee label) when the series are calls between two
    exclude: dict[str, tuple[str, ...]] = field(default_factory=dict)  # label -> values to leave out
    quantiles: tuple[str, ...] = ()  # summary quantile label values to read
    relevance: float = 0.0
    host_owners: dict[str, str] = field(default_factory=dict)  # host -> component, for host-level families

    @property
    def sample_name(self) -> str:
        """The stored metric name to select on."""
        if self.shape is Shape.HISTOGRAM:
            return f"{self.name}_bucket"
        return self.name


def classify_name(name: str, shape: Shape, help_text: str = "", unit: str = "") -> tuple[Signal, ...]:
    """The signals a family carries, from its name (and metadata help/unit when present)."""
    n = name.lower()
    timed = unit.lower() in ("s", "seconds", "ms", "milliseconds")
    latency = bool(_LATENCY.search(n) or _LATENCY.search(help_text.lower().strip()) or timed)
    if _SKIP.search(n):
        return ()
    if shape is Shape.RESTART_GAUGE:
        return (Signal(MetricKind.RESTARTS, "restarts"),)
    if shape in (Shape.HISTOGRAM, Shape.SUMMARY):
        if latency and not _SIZE.search(n):
            return (
                Signal(MetricKind.LATENCY_P50, "p50 latency"),
                Signal(MetricKind.LATENCY_P95, "p95 latency"),
                Signal(MetricKind.LATENCY_P99, "p99 latency"),
            )
        return ()
    if shape is Shape.COUNTER:
        if _RESTARTS.search(n):
            return (Signal(MetricKind.RESTARTS, "restarts"),)
        if _CPU.search(n) and "throttl" in n:
            return (Signal(MetricKind.CPU, "CPU throttling"),)
        if _CPU.search(n) and "periods" in n:
            return ()  # CFS scheduling periods elapse at a constant pace
        if _CPU.search(n) and ("seconds" in n or "time" in n or "usage" in n):
            return (Signal(MetricKind.CPU, "CPU usage"),)
        if _CONNECTIONS.search(n) and not _REQUESTS.search(n):
            return (Signal(MetricKind.CONNECTIONS, "connection churn"),)
        if _NETWORK.search(n):
            if _ERRORS.search(n) or "drop" in n or "retrans" in n:
                return (Signal(MetricKind.NETWORK, "network errors"),)
            return (Signal(MetricKind.NETWORK, "network traffic", direction="both"),)
        if _DISK.search(n):
            return (Signal(MetricKind.DISK, "disk I/O"),)
        if _ERRORS.search(n):
            return (Signal(MetricKind.ERROR_RATE, "error rate"),)
        if _THREADS.search(n):
            return (Signal(MetricKind.SATURATION, "GC time" if "gc" in n else "saturation"),)
        if _REQUESTS.search(n) or (n.endswith(("_count", "_total")) and _LATENCY.search(n)):
            return (Signal(MetricKind.REQUEST_RATE, "request rate", direction="both"),)
        if _CPU.search(n):
            return (Signal(MetricKind.CPU, "CPU usage"),)
        return (Signal(MetricKind.GENERIC, "rate", direction="both"),)
    # Gauges.
    resource = _MEMORY.search(n) or _DISK.search(n)  # "MemAvailable" is memory, not availability
    if _AVAILABILITY.search(n) and not resource and not _RATIO.search(n.replace("unavailable", "")):
        down = "unavailable" not in n
        return (Signal(MetricKind.AVAILABILITY, "availability", direction="down" if down else "up"),)
    if _LATENCY.search(n) and not _SIZE.search(n) and "start_time" not in n:
        return (Signal(MetricKind.LATENCY_P95, "latency"),)
    if _ERRORS.search(n):
        return (Signal(MetricKind.ERROR_RATIO, "error ratio"),)
    if _CPU.search(n):
        return (Signal(MetricKind.CPU, "CPU usage"),)
    if _MEMORY.search(n):
        if "avail" in n or "free" in n:
            return (Signal(MetricKind.MEMORY, "available memory", direction="down"),)
        return (Signal(MetricKind.MEMORY, "memory usage"),)
    if _DISK.search(n):
        if "avail" in n or "free" in n:
            return (Signal(MetricKind.DISK, "free disk space", direction="down"),)
        return (Signal(MetricKind.DISK, "disk usage"),)
    if _NETWORK.search(n):
        return (Signal(MetricKind.NETWORK, "network", direction="both"),)
    if _QUEUE.search(n):
        return (Signal(MetricKind.QUEUE, "queue depth"),)
    if _CONNECTIONS.search(n):
        return (Signal(MetricKind.CONNECTIONS, "connections"),)
    if _THREADS.search(n):
        return (Signal(MetricKind.SATURATION, "threads" if "thread" in n or "goroutine" in n else "saturation"),)
    if _RATIO.search(n):
        return (Signal(MetricKind.SATURATION, "utilisation"),)
    return (Signal(MetricKind.GENERIC, "value", direction="both"),)


# How much a signal kind says "this component itself is where it started" (for relevance when the query budget
# forces a choice, and for ranking components).
KIND_RELEVANCE: dict[MetricKind, float] = {
    MetricKind.LATENCY_P95: 1.0,
    MetricKind.ERROR_RATIO: 1.0,
    MetricKind.CPU: 0.95,
    MetricKind.MEMORY: 0.95,
    MetricKind.REQUEST_RATE: 0.9,
    MetricKind.LATENCY_P99: 0.85,
    MetricKind.LATENCY_P50: 0.85,
    MetricKind.ERROR_RATE: 0.85,
    MetricKind.AVAILABILITY: 0.85,
    MetricKind.RESTARTS: 0.8,
    MetricKind.NETWORK: 0.8,
    MetricKind.DISK: 0.8,
    MetricKind.CONNECTIONS: 0.75,
    MetricKind.QUEUE: 0.75,
    MetricKind.SATURATION: 0.6,
    MetricKind.GENERIC: 0.2,
}


def families_from(
    names: Iterable[str],
    series: Sequence[Mapping[str, str]],
    metadata: Mapping[str, Mapping[str, str]] | None = None,
    *,
    component_label: str | None = None,
) -> list[Family]:
    """The families worth reading, most relevant first, from metric names and their series' label sets."""
    meta = metadata or {}
    by_name: dict[str, list[Mapping[str, str]]] = {}
    for labels in series:
        by_name.setdefault(labels.get("__name__", ""), []).append(labels)
    present = set(names) | set(by_name)
    families: list[Family] = []
    taken: set[str] = set()
    for name in sorted(present):
        if name in taken:
            continue
        shape, base = _shape_of(name, present, by_name, meta)
        if shape is None:
            continue
        members = _members(base, shape)
        taken.update(members)
        info = meta.get(base, {})
        signals = classify_name(base, shape, info.get("help", ""), info.get("unit", ""))
        if not signals:
            continue
        sample = next((m for m in ([f"{base}_bucket"] if shape is Shape.HISTOGRAM else [base]) if m in by_name), None)
        label_sets = by_name.get(sample or base, [])
        if shape is Shape.SUMMARY:
            label_sets = [ls for ls in label_sets if "quantile" in ls]
        if not label_sets:
            continue
        family = _describe(base, shape, signals, label_sets, component_label)
        if family is not None:
            families.append(family)
            if shape is Shape.HISTOGRAM:
                count = f"{base}_count"
                # A latency histogram's count is its request counter (and its error split, when labelled).
                if count in by_name and _has_no_counter_for(families, present, base):
                    traffic = _describe(
                        count,
                        Shape.COUNTER,
                        (Signal(MetricKind.REQUEST_RATE, "request rate", direction="both"),),
                        by_name[count],
                        component_label,
                    )
                    if traffic is not None:
                        families.append(traffic)
    families = _without_server_twins(families)
    families.sort(key=lambda f: (-f.relevance, f.name))
    return families


def _without_server_twins(families: list[Family]) -> list[Family]:
    """Of a call's two timings (a service graph's ``..._server_seconds`` and ``..._client_seconds``) keep the
    client's: it holds the server's time plus the network's, and reading both doubles the costliest query."""
    by_name = {f.name: f for f in families}
    twins = {
        f.name
        for f in families
        if f.edge is not None and "_server_" in f.name and f.name.replace("_server_", "_client_", 1) in by_name
    }
    return [f for f in families if f.name not in twins]


def _has_no_counter_for(families: Sequence[Family], present: set[str], base: str) -> bool:
    stem = re.sub(r"_(?:duration|latency)(?:_seconds|_milliseconds|_ms)?$", "", base)
    return not any(n in present for n in (f"{stem}s_total", f"{stem}_total", f"{stem}s_count"))


def _members(base: str, shape: Shape) -> set[str]:
    if shape is Shape.HISTOGRAM:
        return {f"{base}_bucket", f"{base}_sum", f"{base}_count", base}
    if shape is Shape.SUMMARY:
        return {base, f"{base}_sum", f"{base}_count"}
    return {base}


def _shape_of(
    name: str,
    present: set[str],
    by_name: Mapping[str, list[Mapping[str, str]]],
    meta: Mapping[str, Mapping[str, str]],
) -> tuple[Shape | None, str]:
    declared = meta.get(name, {}).get("type", "")
    if name.endswith("_bucket") and any("le" in ls for ls in by_name.get(name, [])[:5]):
        return Shape.HISTOGRAM, name.removesuffix("_bucket")
    if name.endswith(("_sum", "_count")):
        base = name.rsplit("_", 1)[0]
        if f"{base}_bucket" in present:
            return None, name  # read with its histogram
        if base in present and any("quantile" in ls for ls in by_name.get(base, [])[:20]):
            return None, name  # read with its summary
        if name.endswith("_sum"):
            return None, name  # a sum alone means nothing without its count
        return Shape.COUNTER, name
    samples = by_name.get(name, [])
    if any("quantile" in ls for ls in samples[:20]) or declared == "summary":
        return Shape.SUMMARY, name
    if declared == "counter" or name.endswith("_total"):
        return Shape.COUNTER, name
    if name.endswith("start_time_seconds"):
        return Shape.RESTART_GAUGE, name
    return Shape.GAUGE, name


def _describe(
    name: str,
    shape: Shape,
    signals: tuple[Signal, ...],
    label_sets: Sequence[Mapping[str, str]],
    preferred: str | None,
) -> Family | None:
    values: dict[str, set[str]] = {}
    for labels in label_sets:
        for key, value in labels.items():
            if key != "__name__":
                values.setdefault(key, set()).add(value)
    edge = next(((a, b) for a, b in EDGE_LABELS if a in values and b in values), None)
    peer = next((p for p in PEER_LABELS if p in values), None)
    if edge is None and peer is not None and not (preferred and preferred in values):
        caller = choose_component_label({k: v for k, v in values.items() if k != peer})
        edge = (caller, peer) if caller is not None else None
    label = choose_component_label(values, preferred=preferred, edge=edge)
    if label is None:
        return None
    family = Family(name=name, shape=shape, signals=signals, component_label=label, edge=edge)
    exclude: dict[str, tuple[str, ...]] = {}
    for key in (label, "container", "container_name"):
        bad = tuple(sorted(v for v in values.get(key, ()) if v in NOT_A_COMPONENT))
        if bad:
            exclude[key] = bad
    if "mode" in values and "idle" in values["mode"]:  # node_cpu_seconds_total: busy time only
        exclude["mode"] = tuple(sorted(m for m in values["mode"] if m in ("idle", "iowait", "steal")))
    if "reporter" in values and len(values["reporter"]) > 1:  # Istio reports each call twice
        keep = "destination" if "destination" in values["reporter"] else sorted(values["reporter"])[0]
        exclude["reporter"] = tuple(sorted(v for v in values["reporter"] if v != keep))
    family.exclude = exclude
    if shape is Shape.SUMMARY:
        family.quantiles = _summary_quantiles(values.get("quantile", set()))
        if not family.quantiles:
            return None
    if any(s.kind is MetricKind.REQUEST_RATE for s in signals):
        status = next((s for s in STATUS_LABELS if s in values), None)
        if status is not None:
            errors = tuple(sorted(v for v in values[status] if is_error_value(status, v)))
            family.status_label = status
            family.error_values = errors
            family.signals = (*signals, Signal(MetricKind.ERROR_RATIO, "error ratio"))
    family.relevance = max(KIND_RELEVANCE[s.kind] for s in family.signals) + (0.05 if family.edge else 0.0)
    return family


def choose_component_label(
    values: Mapping[str, set[str]], *, preferred: str | None = None, edge: tuple[str, str] | None = None
) -> str | None:
    """The label that says which component a series belongs to; None when the series name no component."""
    if preferred and preferred in values:
        return preferred
    if edge is not None:
        return edge[1]

    def usable(label: str) -> set[str]:
        return {v for v in values.get(label, ()) if v not in NOT_A_COMPONENT}

    present = [label for label in COMPONENT_LABELS if usable(label)]
    strong = [label for label in present if label not in WEAK_LABELS and label not in ("server",)]
    for label in strong:
        if len(usable(label)) > 1:
            return label
    for label in present:
        if len(usable(label)) > 1:
            return label
    return strong[0] if strong else (present[0] if present else None)


def is_error_value(label: str, value: str) -> bool:
    """Whether a status label's value marks a failed call (``500``, ``5xx``, ``SERVER_ERROR``, gRPC 14...)."""
    v = value.strip()
    if v.isdigit() and len(v) <= 2:
        return label in _NUMERIC_CODE_LABELS and v in ("2", "4", "13", "14", "15")
    if v.lower() == "true":
        return label in _BOOLEAN_ERROR_LABELS
    if label == "response_flags":
        return v not in ("", "-")
    return bool(_ERROR_VALUE.match(v))


def _summary_quantiles(values: set[str]) -> tuple[str, ...]:
    """Up to three exported quantiles near p50, p95 and p99, as the label values to select."""
    parsed = sorted((float(v), v) for v in values if _is_number(v))
    chosen: list[str] = []
    for target in (0.5, 0.95, 0.99):
        if not parsed:
            break
        q, raw = min(parsed, key=lambda p: abs(p[0] - target))
        if abs(q - target) <= 0.06 and raw not in chosen:
            chosen.append(raw)
    return tuple(chosen)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


_RS_HASH = re.compile(r"-[bcdfghjklmnpqrstvwxz2-9]{6,10}$")  # Kubernetes' vowel-free name alphabet


def component_name(label: str, value: str) -> str:
    """The component a label value names: a pod's workload, a host without its port, else the value."""
    if label in POD_LABELS:
        name = workload_of(value)
        # A Deployment's pod is <workload>-<ReplicaSet hash>-<suffix>; the hash need not contain a digit.
        return _RS_HASH.sub("", name) if name != value else name
    if label in PEER_LABELS:  # "http://payments.shop.svc:8080/api" -> "payments"
        host = value.split("://", 1)[-1].split("/", 1)[0].rsplit(":", 1)[0]
        return host.split(".", 1)[0] if host and not host.replace(".", "").isdigit() else value
    if label == "instance" and re.fullmatch(r"[^:/]+:\d+", value):
        return value.rsplit(":", 1)[0]
    return value


def quantile_kind(q: str) -> MetricKind:
    value = float(q)
    if value <= 0.75:
        return MetricKind.LATENCY_P50
    if value < 0.985:
        return MetricKind.LATENCY_P95
    return MetricKind.LATENCY_P99
