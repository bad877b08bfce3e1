"""Deterministic analyzers: pure functions from observations to findings.

Each analyzer is ``analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]``; ``ANALYZERS`` is the
order they run in (the order only matters for ties, which the ranker breaks deterministically).
"""

from __future__ import annotations

from collections.abc import Callable

from engine.analysis_context import AnalysisContext
from engine.analyzers import (
    changes,
    claims,
    cluster,
    config_detail,
    datastore_text,
    datastores,
    dependencies,
    disk_usage,
    evictions,
    log_signatures,
    metric_findings,
    network_peers,
    node_detail,
    nodes,
    oom_detail,
    pods,
    pods_detail,
    probes_detail,
    resources,
    routing,
    scheduling,
    storage_detail,
    text_signals,
    volumes,
    workloads,
)
from engine.facts import Observations
from engine.findings import Finding

Analyzer = Callable[[Observations, AnalysisContext], list[Finding]]

ANALYZERS: tuple[Analyzer, ...] = (
    pods.analyze,
    scheduling.analyze,
    workloads.analyze,
    nodes.analyze,
    evictions.analyze,
    cluster.analyze,
    claims.analyze,
    volumes.analyze,
    storage_detail.analyze,
    config_detail.analyze,
    pods_detail.analyze,
    node_detail.analyze,
    oom_detail.analyze,
    probes_detail.analyze,
    routing.analyze,
    network_peers.analyze,
    datastores.analyze,
    datastore_text.analyze,
    resources.analyze,
    disk_usage.analyze,
    text_signals.analyze,
    log_signatures.analyze,
    metric_findings.analyze,
    changes.analyze,
    dependencies.analyze,
)


def run_analyzers(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    findings: list[Finding] = []
    for analyzer in ANALYZERS:
        findings.extend(analyzer(obs, ctx))
    return findings
