"""Cases: a convention, a topology, a fault and the question an on-call engineer asks about it, anchored on a stated
time. ``dev_cases()`` is the development split; the blind split lives in ``blind.py`` (never tune on it)."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cached_property

from tests.support.metrics_sim.conventions import istio, micrometer, otel, red
from tests.support.metrics_sim.faults import TARGET_KINDS, Fault, FaultKind
from tests.support.metrics_sim.latent import Sim, simulate
from tests.support.metrics_sim.series import Builder, Family
from tests.support.metrics_sim.topology import Topology, generate_topology

Renderer = Callable[[Sim, Builder, random.Random], None]
CONVENTIONS: dict[str, Renderer] = {
    "istio": istio.render,
    "otel": otel.render,
    "micrometer": micrometer.render,
    "red": red.render,
}
BASELINE_S = 3600  # data before the onset
_NAMESPACES = ("shop", "prod", "payments", "storefront", "platform", "checkout-prod", "apps", "retail")
_SYSTEMS = ("shop", "store", "platform", "cluster", "production", "system")


@dataclass(frozen=True)
class CaseSpec:
    """Everything that determines a case; ``seed`` drives every random choice not fixed here."""

    seed: str
    convention: str
    fault_kind: FaultKind
    size: int
    interval: float = 15.0
    baseline_s: float = BASELINE_S
    noise: bool = True


@dataclass(frozen=True)
class Case:
    spec: CaseSpec
    topology: Topology
    fault: Fault
    stated: datetime  # the time the question names
    now: datetime
    question: str

    @property
    def id(self) -> str:
        return f"{self.spec.convention}-{self.spec.fault_kind.value}-{self.spec.seed}"

    @property
    def convention(self) -> str:
        return self.spec.convention

    @property
    def components(self) -> tuple[str, ...]:
        return self.topology.names

    @property
    def root_cause(self) -> str:
        return self.fault.component

    @property
    def start(self) -> float:
        return self.fault.onset - self.spec.baseline_s

    @cached_property
    def sim(self) -> Sim:
        return simulate(
            self.topology,
            self.fault,
            start=self.start,
            end=self.now.timestamp(),
            seed=_int_seed(self.spec.seed, "sim"),
            noise_anomalies=self.spec.noise,
        )

    def families(self) -> list[Family]:
        """The case's metric families, as the convention's exporters would have written them."""
        rng = random.Random(_int_seed(self.spec.seed, "render"))
        builder = Builder(self.sim, rng, self.spec.interval)
        CONVENTIONS[self.spec.convention](self.sim, builder, rng)
        return builder.families()


def _int_seed(seed: str, purpose: str) -> int:
    return int.from_bytes(f"{purpose}:{seed}".encode(), "big") % (2**61 - 1)


def _hhmm(t: datetime) -> str:
    return t.strftime("%H:%M")


def build_case(spec: CaseSpec) -> Case:
    """The case ``spec`` describes (deterministic)."""
    if spec.convention not in CONVENTIONS:
        raise ValueError(f"unknown convention {spec.convention!r}")
    rng = random.Random(_int_seed(spec.seed, "case"))
    namespace = rng.choice(_NAMESPACES)
    topology = generate_topology(rng, spec.size, namespace)
    kinds = TARGET_KINDS[spec.fault_kind]
    candidates = [c for c in topology.components if c.kind == rng.choice(kinds)] or [
        c for c in topology.components if c.kind in kinds
    ]
    target = rng.choice(candidates)
    day = datetime(2026, 1, 5, tzinfo=UTC) + timedelta(days=rng.randint(0, 300))
    onset_dt = day + timedelta(seconds=rng.randint(3 * 3600, 22 * 3600))
    onset = onset_dt.timestamp()
    variant = rng.choice(("crash", "hang")) if spec.fault_kind is FaultKind.DEPENDENCY_OUTAGE else ""
    fault = Fault(spec.fault_kind, target.name, onset, rng.uniform(15, 60) * 60, rng.uniform(0.5, 1.0), variant)
    since = rng.uniform(5, 20) * 60
    now = datetime.fromtimestamp(onset + since, UTC).replace(microsecond=0)
    entry = next((c.name for c in topology.components if c.kind == "entry"), topology.names[0])
    style = rng.random()
    if style < 0.25:  # an alert fires a little after the onset
        stated = datetime.fromtimestamp(onset + rng.uniform(60, 180), UTC).replace(second=0, microsecond=0)
        if stated >= now:
            stated = now - timedelta(minutes=1)
        question = rng.choice(
            (
                f"{entry} latency alert fired at {_hhmm(stated)} UTC — what broke?",
                f"High error rate alert on {entry} fired at {_hhmm(stated)} UTC. What is the root cause?",
                f"Our SLO burn alert for {entry} went off at {_hhmm(stated)} UTC; which service is to blame?",
            )
        )
    else:  # someone noticed when it started (to the minute)
        stated = datetime.fromtimestamp(onset + rng.uniform(-40, 40), UTC).replace(second=0, microsecond=0)
        system = rng.choice(_SYSTEMS)
        question = rng.choice(
            (
                f"An anomaly started at {_hhmm(stated)}Z in the {system}; which service is the root cause?",
                f"Something went wrong in {namespace} around {_hhmm(stated)} UTC. Which component caused it?",
                f"Since {_hhmm(stated)} UTC requests to {entry} are slow and failing; find the root cause.",
                f"Incident at {stated:%Y-%m-%d %H:%M} UTC in {namespace}: what is the root cause?",
            )
        )
    return Case(spec, topology, fault, stated, now, question)


def split_specs(prefix: str, count: int, base: int) -> list[CaseSpec]:
    """``count`` specs cycling through every convention x fault kind, sizes 10-60, some 30/60 s scrapes."""
    conventions = ["istio", "otel", "micrometer", "red"]
    kinds = list(FaultKind)
    specs = []
    for k in range(count):
        rng = random.Random(_int_seed(f"{prefix}{base + k}", "spec"))
        convention = conventions[k % len(conventions)]
        kind = kinds[(k // len(conventions) + k) % len(kinds)]
        interval = rng.choice((15.0, 15.0, 15.0, 15.0, 30.0, 60.0))
        size = rng.choice((10, 12, 15, 18, 20, 24, 28, 32, 40, 50, 60))
        specs.append(CaseSpec(f"{prefix}{base + k}", convention, kind, size, interval))
    return specs


DEV_COUNT = 48


def dev_specs() -> list[CaseSpec]:
    return split_specs("dev-", DEV_COUNT, 1000)


def dev_cases() -> list[Case]:
    """The development split: 48 cases, every convention x fault kind at least once (tune on these)."""
    return [build_case(s) for s in dev_specs()]


def dev_case(convention: str, index: int = 0) -> Case:
    """The ``index``-th dev case of ``convention``."""
    return [build_case(s) for s in dev_specs() if s.convention == convention][index]
