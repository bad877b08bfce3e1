"""Deterministic analyzers: pure functions from observations to findings.

Each analyzer is ``analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]``; ``ANALYZERS`` is the
order they run in (the order only matters for ties, which the ranker breaks deterministically).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from engine.analyzers.memo import RunMemo
from engine.facts import Observations
from engine.findings import Finding


@dataclass(frozen=True)
class AnalysisContext:
    now: datetime
    window: timedelta  # events older than now - window are treated as history, not as the incident
    service: str | None = None
    namespace: str | None = None
    anchor: datetime | None = None  # when the question or its alert says the incident started
    memo: RunMemo = field(default_factory=RunMemo, compare=False, repr=False)  # this investigation's results

    def is_stale(self, when: datetime | None) -> bool:
        return when is not None and when < self.now - self.window


Analyzer = Callable[[Observations, AnalysisContext], list[Finding]]


def all_analyzers() -> list[Analyzer]:
    from engine.analyzers import (
        changes,
        dependencies,
        log_signatures,
        metric_findings,
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
        metric_findings.analyze,
        changes.analyze,
        dependencies.analyze,
    ]


def run_analyzers(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    findings: list[Finding] = []
    for analyzer in all_analyzers():
        findings.extend(analyzer(obs, ctx))
    return findings
