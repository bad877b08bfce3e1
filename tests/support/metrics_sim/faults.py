"""Fault kinds, where each may strike, and the fault a case injects."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from tests.support.metrics_sim.topology import Kind


class FaultKind(StrEnum):
    CPU_HOG = "cpu_hog"
    MEMORY_LEAK = "memory_leak"
    NETWORK_DELAY = "network_delay"
    PACKET_LOSS = "packet_loss"
    ERROR_INJECTION = "error_injection"
    DISK_FILL = "disk_fill"
    DEPENDENCY_OUTAGE = "dependency_outage"
    BAD_DEPLOY = "bad_deploy"


# Which kinds of component each fault can strike: a datastore goes down, an application leaks or ships a bad build.
TARGET_KINDS: dict[FaultKind, tuple[Kind, ...]] = {
    FaultKind.CPU_HOG: ("service", "service", "entry", "datastore"),
    FaultKind.MEMORY_LEAK: ("service", "service", "entry"),
    FaultKind.NETWORK_DELAY: ("service", "service", "datastore", "cache"),
    FaultKind.PACKET_LOSS: ("service", "service", "datastore"),
    FaultKind.ERROR_INJECTION: ("service", "service", "entry"),
    FaultKind.DISK_FILL: ("datastore", "service"),
    FaultKind.DEPENDENCY_OUTAGE: ("datastore", "cache"),
    FaultKind.BAD_DEPLOY: ("service", "service", "entry"),
}


@dataclass(frozen=True)
class Fault:
    kind: FaultKind
    component: str
    onset: float  # unix seconds: when the fault really starts
    duration_s: float  # how long it lasts (it may outlast the data)
    severity: float  # 0.5-1.0: scales the fault's magnitude
    variant: str = ""  # e.g. "crash" or "hang" for an outage
