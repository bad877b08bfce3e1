"""Deterministic analyzers: pure functions from observations to findings.

Each analyzer is ``analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]``; ``ANALYZERS`` is the
order they run in (the order only matters for ties, which the ranker breaks deterministically).
"""

from __future__ import annotations

from collections.abc import Callable

from engine.analysis_context import AnalysisContext
from engine.analyzers import (
    admission,
    alert_signals,
    autoscaling,
    certificates,
    changes,
    claims,
    clock_skew,
    cluster,
    config_detail,
    datastore_text,
    datastore_topology,
    datastores,
    dependencies,
    disk_usage,
    disruption,
    dns_search,
    error_tracking,
    evictions,
    gitops_text,
    hpa_detail,
    kubelet_health,
    log_signatures,
    mesh,
    metric_findings,
    network_peers,
    node_detail,
    node_removal,
    nodes,
    oom_detail,
    pods,
    pods_detail,
    policy_destinations,
    probes_detail,
    provisioning,
    readiness_gates,
    resources,
    rollouts,
    routing,
    scheduling,
    service_ports,
    shared_ports,
    storage_detail,
    text_signals,
    volume_state,
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
    admission.analyze,
    disruption.analyze,
    autoscaling.analyze,
    hpa_detail.analyze,
    rollouts.analyze,
    readiness_gates.analyze,
    claims.analyze,
    volumes.analyze,
    storage_detail.analyze,
    provisioning.analyze,
    volume_state.analyze,
    config_detail.analyze,
    pods_detail.analyze,
    node_detail.analyze,
    kubelet_health.analyze,
    clock_skew.analyze,
    node_removal.analyze,
    oom_detail.analyze,
    probes_detail.analyze,
    routing.analyze,
    mesh.analyze,
    service_ports.analyze,
    network_peers.analyze,
    policy_destinations.analyze,
    datastores.analyze,
    datastore_text.analyze,
    datastore_topology.analyze,
    resources.analyze,
    disk_usage.analyze,
    dns_search.analyze,
    alert_signals.analyze,
    certificates.analyze,
    gitops_text.analyze,
    text_signals.analyze,
    log_signatures.analyze,
    shared_ports.analyze,
    metric_findings.analyze,
    changes.analyze,
    error_tracking.analyze,
    dependencies.analyze,
)


def run_analyzers(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    findings: list[Finding] = []
    for analyzer in ANALYZERS:
        findings.extend(analyzer(obs, ctx))
    return findings
