"""Change correlation: which deploys, config edits and restarts happened just before an anomaly began.

A change is a candidate cause when it precedes the onset (a small grace after it covers coarse onset
estimates) and touches an affected service. The score multiplies three plain factors: proximity
(exponential decay with a half-life), relevance (the affected service itself, one of its dependencies,
or something else) and how often that kind of change breaks things.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum


class ChangeKind(StrEnum):
    DEPLOY = "deploy"
    ROLLOUT = "rollout"
    PR_MERGED = "pr_merged"
    CONFIG = "config_change"
    RESTART = "restart"
    SCALE = "scale"


KIND_WEIGHT: dict[ChangeKind, float] = {
    ChangeKind.DEPLOY: 1.0,
    ChangeKind.ROLLOUT: 1.0,
    ChangeKind.CONFIG: 0.9,
    ChangeKind.PR_MERGED: 0.7,
    ChangeKind.SCALE: 0.5,
    ChangeKind.RESTART: 0.4,
}


@dataclass(frozen=True)
class Change:
    timestamp: float
    kind: ChangeKind
    service: str
    description: str
    source_tool: str
    ref: str = ""
    touches: tuple[str, ...] = field(default_factory=tuple)
    """Other services or paths the change touches (e.g. files of a PR, a shared config map)."""

    def timeline_event(self) -> str:
        return self.description


@dataclass(frozen=True)
class ScoredChange:
    change: Change
    score: float
    minutes_before_onset: float
    relation: str  # "affected", "dependency" or "unrelated"

    def explain(self) -> str:
        mins = self.minutes_before_onset
        when = (
            f"{mins:.0f} min before the anomaly began"
            if mins >= 1
            else "right as the anomaly began"
            if mins >= 0
            else f"{-mins:.0f} min after the anomaly began"
        )
        return f"{self.change.description} ({when})"


def correlate_changes(
    changes: Iterable[Change],
    *,
    onset: float,
    affected: Iterable[str],
    dependencies: Mapping[str, Iterable[str]] | None = None,
    lookback: float = 6 * 3600.0,
    half_life: float = 15 * 60.0,
    grace: float = 120.0,
) -> list[ScoredChange]:
    """Changes in ``[onset - lookback, onset + grace]`` scored and sorted, best candidate first."""
    affected_set = {normalize_service(s) for s in affected}
    dep_set: set[str] = set()
    for svc in affected_set:
        for key, deps in (dependencies or {}).items():
            if normalize_service(key) == svc:
                dep_set.update(normalize_service(d) for d in deps)
    scored: list[ScoredChange] = []
    for change in changes:
        delta = onset - change.timestamp
        if delta > lookback or delta < -grace:
            continue
        proximity = math.pow(0.5, max(delta, 0.0) / half_life)
        relation = _relation(change, affected_set, dep_set)
        relevance = {"affected": 1.0, "dependency": 0.7, "unrelated": 0.15}[relation]
        scored.append(
            ScoredChange(
                change=change,
                score=proximity * relevance * KIND_WEIGHT[change.kind],
                minutes_before_onset=delta / 60.0,
                relation=relation,
            )
        )
    scored.sort(key=lambda s: (-s.score, -s.change.timestamp))
    return scored


def _relation(change: Change, affected: set[str], deps: set[str]) -> str:
    names = {normalize_service(change.service), *(normalize_service(t) for t in change.touches)}
    if names & affected:
        return "affected"
    if names & deps:
        return "dependency"
    return "unrelated"


def normalize_service(name: str) -> str:
    """Compare ``payments``, ``payments-api`` and ``Payments`` as one service."""
    n = name.strip().lower()
    for suffix in ("-api", "-service", "-svc", "-deployment", "-app"):
        if n.endswith(suffix) and len(n) > len(suffix):
            n = n[: -len(suffix)]
            break
    return n


def format_ts(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
