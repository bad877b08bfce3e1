"""The Finding: what an analyzer concluded from observations, with the evidence that shows it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from engine.models import Recommendation

Role = Literal["cause", "symptom", "context"]

# Kubernetes generates name suffixes from an alphabet without vowels (k8s.io/apimachinery rand.String).
_SAFE = "[bcdfghjklmnpqrstvwxz2-9]"
_POD_SUFFIX = re.compile(rf"-(?:(?=[a-z0-9]*\d)[a-z0-9]{{6,10}}-[a-z0-9]{{5}}|{_SAFE}{{5}}|\d+)$")
# a ReplicaSet's pod-template hash: the safe alphabet, or (as hand-written examples print it) 8-10 letters and digits
# with at least three digits and two letters ("6b7c8d9e0f"), never a word such as "gateway2" or "postgres16"
_RS_SUFFIX = re.compile(rf"-(?:{_SAFE}{{6,10}}|(?=(?:[a-z]*\d){{3}})(?=(?:\d*[a-z]){{2}})[a-z0-9]{{8,10}})$")


@dataclass
class Finding:
    """One analyzer conclusion.

    ``role`` tells the ranker whether this is a cause (a missing Secret, a full disk) or a symptom
    (CrashLoopBackOff, 5xx burst); ``weight`` (0-100) is how directly the evidence shows it.
    """

    kind: str
    subject: str  # "pod/payments-api-6d4b9-x2x7q", "node/ip-10-0-1-5", "db:payments-db:5432"
    role: Role
    title: str
    weight: int
    evidence: list[str]
    workload: str | None = None  # grouping key ("payments-api") that links causes to the symptoms they explain
    timestamp: datetime | None = None
    recommendations: list[Recommendation] = field(default_factory=list)
    affected: list[str] = field(default_factory=list)
    related: list[str] = field(default_factory=list)  # other workloads/subjects involved (the host it cannot reach)
    count: int = 1


def workload_of(pod_or_workload: str) -> str:
    """Strip ReplicaSet/pod hashes: ``payments-api-7d9f8b6c5d-x2x7q`` -> ``payments-api``."""
    name = _POD_SUFFIX.sub("", pod_or_workload)
    return name if name != pod_or_workload else _RS_SUFFIX.sub("", name)
