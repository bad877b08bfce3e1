"""Deterministic analyzers: pure functions from observations to findings.

Each analyzer is ``analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]``; ``ANALYZERS`` is the
order they run in (the order only matters for ties, which the ranker breaks deterministically).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from engine.facts import Observations
from engine.findings import Finding


@dataclass(frozen=True)
class AnalysisContext:
    now: datetime
    window: timedelta  # events older than now - window are treated as history, not as the incident
    service: str | None = None
    namespace: str | None = None

    def is_stale(self, when: datetime | None) -> bool:
        return when is not None and when < self.now - self.window


Analyzer = Callable[[Observations, AnalysisContext], list[Finding]]


def all_analyzers() -> list[Analyzer]:
    from engine.analyzers import (
        changes,
        dependencies,
        log_signatures,
        metrics,
        nodes,
        pods,
        scheduling,
        workloads,
    )

    return [
        pods.analyze,
        scheduling.analyze,
        workloads.analyze,
        nodes.analyze,
        log_signatures.analyze,
        metrics.analyze,
        changes.analyze,
        dependencies.analyze,
    ]


def run_analyzers(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    findings: list[Finding] = []
    for analyzer in all_analyzers():
        findings.extend(analyzer(obs, ctx))
    return findings
