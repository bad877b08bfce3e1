"""The demo shop: frontend -> checkout -> payments -> postgres, plus inventory, and four recorded incidents.

Telemetry is recorded as offsets (seconds before "now") and shifted onto the investigation's reference time,
so each incident looks recent. Series carry seeded noise, so the same request always sees the same data.
"""

from __future__ import annotations

from dataclasses import dataclass, field

CALLS = {
    "frontend": ["checkout", "inventory"],
    "checkout": ["payments", "inventory"],
    "payments": ["postgres"],
}
NAMESPACE = "shop"
ORG = "acme-shop"


@dataclass(frozen=True)
class Signal:
    """One golden-signal series: a noisy baseline that shifts to ``after`` at ``onset`` seconds before now."""

    service: str
    kind: str
    baseline: float
    noise: float
    after: float | None = None
    onset: float | None = None  # seconds before now
    ramp: float = 30.0


@dataclass(frozen=True)
class LogEntry:
    ago: float
    service: str
    message: str
    repeat: int = 1
    every: float = 7.0


@dataclass(frozen=True)
class Deployment:
    ago: float
    service: str
    ref: str
    sha: str
    state: str = "success"


@dataclass(frozen=True)
class PullRequest:
    ago: float
    service: str
    number: int
    title: str
    author: str


@dataclass(frozen=True)
class Alert:
    ago: float
    name: str
    service: str
    severity: str
    summary: str


@dataclass(frozen=True)
class PodSpec:
    name: str
    app: str
    image: str
    ready: bool = True
    restarts: int = 0
    waiting_reason: str | None = None
    waiting_message: str | None = None
    terminated_reason: str | None = None
    exit_code: int | None = None
    phase: str = "Running"
    status_reason: str | None = None
    status_message: str | None = None
    node: str = "ip-10-0-1-21.ec2.internal"
    secret_ref: str | None = None
    memory_limit: str = "512Mi"
    age: float = 3 * 86400.0


@dataclass(frozen=True)
class EventSpec:
    ago: float
    reason: str
    message: str
    kind: str
    name: str
    type: str = "Warning"
    count: int = 1
    first_ago: float | None = None


@dataclass(frozen=True)
class NodeSpec:
    name: str
    memory_pressure: bool = False
    since: float = 0.0


@dataclass(frozen=True)
class ReplicaSetSpec:
    deployment: str
    hash: str
    image: str
    ago: float
    revision: int
    replicas: int


@dataclass(frozen=True)
class Incident:
    name: str
    title: str
    message: str
    service: str
    keywords: tuple[str, ...]
    expected_cause: str
    signals: tuple[Signal, ...]
    logs: tuple[LogEntry, ...] = ()
    deployments: tuple[Deployment, ...] = ()
    pulls: tuple[PullRequest, ...] = ()
    alerts: tuple[Alert, ...] = ()
    pods: tuple[PodSpec, ...] = ()
    events: tuple[EventSpec, ...] = ()
    nodes: tuple[NodeSpec, ...] = ()
    replicasets: tuple[ReplicaSetSpec, ...] = field(default_factory=tuple)
    pod_logs: dict[str, tuple[str, ...]] = field(default_factory=dict)


def _steady(*, inventory_noise: float = 6.0) -> list[Signal]:
    """Healthy background traffic; inventory is busy and noisy but fine."""
    return [
        Signal("frontend", "request_rate", 120.0, 4.0),
        Signal("frontend", "error_ratio", 0.002, 0.001),
        Signal("frontend", "latency_p99", 0.35, 0.03),
        Signal("checkout", "request_rate", 40.0, 2.0),
        Signal("checkout", "error_ratio", 0.002, 0.001),
        Signal("checkout", "latency_p99", 0.25, 0.02),
        Signal("payments", "request_rate", 38.0, 2.0),
        Signal("payments", "error_ratio", 0.001, 0.0008),
        Signal("payments", "latency_p99", 0.12, 0.01),
        Signal("inventory", "request_rate", 300.0, inventory_noise * 8),
        Signal("inventory", "error_ratio", 0.004, 0.003),
        Signal("inventory", "latency_p99", 0.09, 0.025),
        Signal("postgres", "saturation", 32.0, 3.0),
    ]


def _replace(signals: list[Signal], *changed: Signal) -> tuple[Signal, ...]:
    keys = {(s.service, s.kind) for s in changed}
    return tuple([s for s in signals if (s.service, s.kind) not in keys] + list(changed))


_BASE_PODS = (
    PodSpec("frontend-7f9c6d5b8-kx2lq", "frontend", "ghcr.io/acme-shop/frontend:3.2.1"),
    PodSpec("checkout-5d8f7c9b6-mz4tw", "checkout", "ghcr.io/acme-shop/checkout:1.7.3"),
    PodSpec("payments-6b7d9c8f5-q8vnx", "payments", "ghcr.io/acme-shop/payments:2.13.2"),
    PodSpec("inventory-84c6b7d9f-r2hjs", "inventory", "ghcr.io/acme-shop/inventory:4.0.7"),
    PodSpec("postgres-0", "postgres", "postgres:16.4"),
)
_BASE_RS = (
    ReplicaSetSpec("frontend", "7f9c6d5b8", "ghcr.io/acme-shop/frontend:3.2.1", 9 * 86400, 14, 1),
    ReplicaSetSpec("checkout", "5d8f7c9b6", "ghcr.io/acme-shop/checkout:1.7.3", 6 * 86400, 22, 1),
    ReplicaSetSpec("payments", "6b7d9c8f5", "ghcr.io/acme-shop/payments:2.13.2", 4 * 86400, 31, 1),
    ReplicaSetSpec("inventory", "84c6b7d9f", "ghcr.io/acme-shop/inventory:4.0.7", 80 * 60, 9, 1),
    ReplicaSetSpec("inventory", "6c5b4d8f7", "ghcr.io/acme-shop/inventory:4.0.6", 12 * 86400, 8, 0),
)
# Distractor for every incident: inventory shipped 4.0.7 an hour and twenty minutes ago, and is fine.
_INVENTORY_DEPLOY = Deployment(80 * 60, "inventory", "v4.0.7", "e4a1f09")


def _pods(*changed: PodSpec) -> tuple[PodSpec, ...]:
    apps = {p.app for p in changed}
    return tuple([p for p in _BASE_PODS if p.app not in apps] + list(changed))


BAD_DEPLOY = Incident(
    name="bad-deploy",
    title="A bad deploy raises checkout errors",
    message="checkout errors are up",
    service="checkout",
    keywords=("checkout", "error", "500", "deploy", "release"),
    expected_cause="checkout v1.8.0",
    signals=_replace(
        _steady(),
        Signal("checkout", "error_ratio", 0.002, 0.001, after=0.18, onset=17 * 60),
        Signal("frontend", "error_ratio", 0.002, 0.001, after=0.06, onset=16 * 60 + 30),
    ),
    logs=(
        LogEntry(
            17 * 60 - 5,
            "checkout",
            "ERROR POST /api/checkout 500 - TypeError: unsupported operand type(s) "
            "for *: 'decimal.Decimal' and 'NoneType' in pricing/totals.py line 88 (order_id=ord_7Hq2)",
            repeat=40,
            every=22,
        ),
        LogEntry(
            16 * 60,
            "frontend",
            "WARN upstream checkout returned 500 for POST /cart/checkout",
            repeat=20,
            every=40,
        ),
        LogEntry(50 * 60, "inventory", "INFO cache warmed: 18234 SKUs in 2.1s"),
    ),
    deployments=(
        Deployment(19 * 60, "checkout", "v1.8.0", "b71c3e2"),
        Deployment(6 * 86400, "checkout", "v1.7.3", "a90d4f1"),
        _INVENTORY_DEPLOY,
    ),
    pulls=(PullRequest(47 * 60, "checkout", 812, "Support multi-currency carts", "mtran"),),
    alerts=(
        Alert(
            14 * 60,
            "CheckoutHighErrorRate",
            "checkout",
            "critical",
            "checkout 5xx ratio above 5% for 2 minutes",
        ),
    ),
    pods=_pods(PodSpec("checkout-79c4f8d6b-p9k3d", "checkout", "ghcr.io/acme-shop/checkout:1.8.0", age=19 * 60)),
    replicasets=(
        *_BASE_RS[:1],
        ReplicaSetSpec("checkout", "5d8f7c9b6", "ghcr.io/acme-shop/checkout:1.7.3", 6 * 86400, 22, 0),
        ReplicaSetSpec("checkout", "79c4f8d6b", "ghcr.io/acme-shop/checkout:1.8.0", 19 * 60, 23, 1),
        *_BASE_RS[2:],
    ),
)

POOL_EXHAUSTION = Incident(
    name="db-pool-exhaustion",
    title="Database connection-pool exhaustion raises payments latency",
    message="payments is slow, checkout latency is high",
    service="payments",
    keywords=("latency", "slow", "payments", "timeout", "database", "postgres", "pool"),
    expected_cause="postgres connection pool exhaustion",
    signals=_replace(
        _steady(),
        Signal("postgres", "saturation", 32.0, 3.0, after=100.0, onset=13 * 60),
        Signal("payments", "latency_p99", 0.12, 0.01, after=2.4, onset=12 * 60 + 30),
        Signal("checkout", "latency_p99", 0.25, 0.02, after=2.9, onset=12 * 60),
        Signal("payments", "error_ratio", 0.001, 0.0008, after=0.04, onset=11 * 60),
    ),
    logs=(
        LogEntry(
            12 * 60 + 25,
            "payments",
            "ERROR HikariPool-1 - Connection is not available, request timed out after 30000ms.",
            repeat=35,
            every=19,
        ),
        LogEntry(
            11 * 60,
            "checkout",
            "WARN payments call took 2.8s (budget 1s) for POST /charge",
            repeat=12,
            every=50,
        ),
    ),
    deployments=(_INVENTORY_DEPLOY, Deployment(4 * 86400, "payments", "v2.13.2", "c3d2e1f")),
    alerts=(Alert(10 * 60, "PaymentsLatencyHigh", "payments", "warning", "payments p99 above 1s for 2 minutes"),),
    pods=_BASE_PODS,
    replicasets=_BASE_RS,
)

MISSING_SECRET = Incident(
    name="crashloop-missing-secret",
    title="payments crash-loops after a rollout references a missing Secret",
    message="payments pods are crashing",
    service="payments",
    keywords=("crash", "crashloop", "restart", "secret", "pod", "payments down"),
    expected_cause="payments-db-credentials",
    signals=_replace(
        _steady(),
        Signal("payments", "request_rate", 38.0, 2.0, after=0.0, onset=9 * 60),
        Signal("checkout", "error_ratio", 0.002, 0.001, after=0.35, onset=9 * 60 - 20),
        Signal("frontend", "error_ratio", 0.002, 0.001, after=0.11, onset=8 * 60),
    ),
    logs=(
        LogEntry(
            9 * 60 - 25,
            "checkout",
            "ERROR charge failed: dial tcp payments:8080: connect: connection refused",
            repeat=30,
            every=15,
        ),
    ),
    deployments=(Deployment(10 * 60, "payments", "v2.14.0", "f00d1e5"), _INVENTORY_DEPLOY),
    alerts=(
        Alert(
            7 * 60,
            "KubePodCrashLooping",
            "payments",
            "warning",
            "Pod shop/payments-7c9d8b6f4-w2x5z is crash looping",
        ),
    ),
    pods=_pods(
        PodSpec(
            "payments-7c9d8b6f4-w2x5z",
            "payments",
            "ghcr.io/acme-shop/payments:2.14.0",
            ready=False,
            waiting_reason="CreateContainerConfigError",
            waiting_message='secret "payments-db-credentials" not found',
            secret_ref="payments-db-credentials",
            age=10 * 60,
        ),
    ),
    events=(
        EventSpec(
            60,
            "Failed",
            'Error: secret "payments-db-credentials" not found',
            "Pod",
            "payments-7c9d8b6f4-w2x5z",
            count=42,
            first_ago=10 * 60,
        ),
        EventSpec(
            10 * 60,
            "ScalingReplicaSet",
            "Scaled up replica set payments-7c9d8b6f4 to 1",
            "Deployment",
            "payments",
            type="Normal",
        ),
    ),
    replicasets=(
        *_BASE_RS[:2],
        ReplicaSetSpec("payments", "6b7d9c8f5", "ghcr.io/acme-shop/payments:2.13.2", 4 * 86400, 31, 0),
        ReplicaSetSpec("payments", "7c9d8b6f4", "ghcr.io/acme-shop/payments:2.14.0", 10 * 60, 32, 1),
        *_BASE_RS[3:],
    ),
)

NODE_PRESSURE = Incident(
    name="node-memory-pressure",
    title="A node under memory pressure evicts inventory",
    message="inventory is failing and pods were evicted",
    service="inventory",
    keywords=("evict", "node", "memory", "inventory", "pressure", "oom"),
    expected_cause="MemoryPressure",
    signals=_replace(
        _steady(),
        Signal("inventory", "error_ratio", 0.004, 0.003, after=0.22, onset=6 * 60),
        Signal("frontend", "error_ratio", 0.002, 0.001, after=0.05, onset=5 * 60 + 30),
    ),
    logs=(LogEntry(6 * 60 - 10, "frontend", "WARN upstream inventory returned 503 for GET /api/stock", repeat=15),),
    deployments=(_INVENTORY_DEPLOY,),
    alerts=(
        Alert(
            4 * 60,
            "KubeNodeMemoryPressure",
            "inventory",
            "warning",
            "Node ip-10-0-2-17.ec2.internal has MemoryPressure",
        ),
    ),
    pods=_pods(
        PodSpec(
            "inventory-84c6b7d9f-r2hjs",
            "inventory",
            "ghcr.io/acme-shop/inventory:4.0.7",
            ready=False,
            phase="Failed",
            status_reason="Evicted",
            node="ip-10-0-2-17.ec2.internal",
            status_message="The node was low on resource: memory. "
            "Threshold quantity: 100Mi, available: 61Mi. "
            "Container app was using 1730Mi, request is 256Mi, has larger consumption of memory.",
            age=80 * 60,
        ),
    ),
    events=(
        EventSpec(
            6 * 60,
            "Evicted",
            "The node was low on resource: memory. Threshold quantity: 100Mi, available: 61Mi.",
            "Pod",
            "inventory-84c6b7d9f-r2hjs",
        ),
        EventSpec(
            6 * 60 + 20,
            "EvictionThresholdMet",
            "Attempting to reclaim memory",
            "Node",
            "ip-10-0-2-17.ec2.internal",
        ),
    ),
    nodes=(
        NodeSpec("ip-10-0-2-17.ec2.internal", memory_pressure=True, since=6 * 60 + 30),
        NodeSpec("ip-10-0-1-21.ec2.internal"),
    ),
    replicasets=_BASE_RS,
)

INCIDENTS: dict[str, Incident] = {i.name: i for i in (BAD_DEPLOY, POOL_EXHAUSTION, MISSING_SECRET, NODE_PRESSURE)}


def _seconds(value: object) -> float:
    """``90``, ``"90s"``, ``"17m"``, ``"2h"`` or ``"3d"`` as seconds."""
    if isinstance(value, int | float):
        return float(value)
    text = str(value).strip()
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    if text and text[-1] in units:
        return float(text[:-1]) * units[text[-1]]
    return float(text)


_AGO_FIELDS = {"ago", "onset", "since", "age", "first_ago", "every", "ramp"}


def _spec[T](cls: type[T], raw: dict[str, object]) -> T:
    values = {k: (_seconds(v) if k in _AGO_FIELDS and v is not None else v) for k, v in raw.items()}
    return cls(**values)


def incident_from_dict(data: dict[str, object], name: str = "recorded") -> Incident:
    """An incident from its recorded form (YAML/JSON): the same fields as the built-in ones, times as ago.

    ``background: true`` (the default) adds the shop's steady traffic, pods and ReplicaSets underneath.
    """

    def items(key: str) -> list[dict[str, object]]:
        raw = data.get(key) or []
        assert isinstance(raw, list)
        return raw

    background = data.get("background", True) is not False
    signals = [_spec(Signal, s) for s in items("signals")]
    pods = [_spec(PodSpec, p) for p in items("pods")]
    replicasets = [_spec(ReplicaSetSpec, r) for r in items("replicasets")]
    new_apps = {p.app for p in pods}
    new_deployments = {r.deployment for r in replicasets}
    base_pods = [p for p in _BASE_PODS if p.app not in new_apps] if background else []
    base_rs = [r for r in _BASE_RS if r.deployment not in new_deployments] if background else []
    pod_logs = data.get("pod_logs") or {}
    assert isinstance(pod_logs, dict)
    deployments = [_spec(Deployment, d) for d in items("deployments")]
    if background and not any(d.service == "inventory" for d in deployments):
        deployments.append(_INVENTORY_DEPLOY)  # the usual unrelated deploy, well before anything happens
    return Incident(
        name=str(data.get("name", name)),
        title=str(data.get("title", name)),
        message=str(data.get("message", "")),
        service=str(data.get("service", "")),
        keywords=(),
        expected_cause="",
        signals=_replace(_steady() if background else [], *signals),
        logs=tuple(_spec(LogEntry, e) for e in items("logs")),
        deployments=tuple(deployments),
        pulls=tuple(_spec(PullRequest, p) for p in items("pulls")),
        alerts=tuple(_spec(Alert, a) for a in items("alerts")),
        pods=tuple(base_pods + pods),
        events=tuple(_spec(EventSpec, e) for e in items("events")),
        nodes=tuple(_spec(NodeSpec, n) for n in items("nodes")),
        replicasets=tuple(base_rs + replicasets),
        pod_logs={str(k): tuple(str(line) for line in v) for k, v in pod_logs.items()},
    )
