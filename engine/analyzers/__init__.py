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
    cert_issuance,
    certificates,
    changes,
    claims,
    cluster,
    config_detail,
    config_reload,
    controller_warnings,
    crash_details,
    datastore_text,
    datastore_topology,
    datastores,
    dependencies,
    disk_usage,
    disruption,
    dns_policies,
    error_tracking,
    evictions,
    finalizers,
    gitops_text,
    image_tags,
    init_waits,
    job_pods,
    log_signatures,
    mesh,
    metric_findings,
    network_peers,
    node_detail,
    nodes,
    oom_detail,
    pods,
    pods_detail,
    policy_destinations,
    policy_namespaces,
    policy_ports,
    policy_targets,
    probes_detail,
    rbac_escalation,
    readiness_gates,
    resources,
    rollouts,
    routing,
    scheduling,
    secret_values,
    service_ports,
    service_selection,
    shared_ports,
    statefulset_revisions,
    storage_detail,
    text_signals,
    traces,
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
    rbac_escalation.analyze,
    disruption.analyze,
    autoscaling.analyze,
    rollouts.analyze,
    statefulset_revisions.analyze,
    finalizers.analyze,
    controller_warnings.analyze,
    readiness_gates.analyze,
    claims.analyze,
    volumes.analyze,
    storage_detail.analyze,
    config_detail.analyze,
    config_reload.analyze,
    image_tags.analyze,
    secret_values.analyze,
    pods_detail.analyze,
    job_pods.analyze,
    crash_details.analyze,
    init_waits.analyze,
    node_detail.analyze,
    oom_detail.analyze,
    probes_detail.analyze,
    routing.analyze,
    mesh.analyze,
    service_ports.analyze,
    service_selection.analyze,
    network_peers.analyze,
    policy_destinations.analyze,
    dns_policies.analyze,
    policy_ports.analyze,
    policy_namespaces.analyze,
    policy_targets.analyze,
    datastores.analyze,
    traces.analyze,
    datastore_text.analyze,
    datastore_topology.analyze,
    resources.analyze,
    disk_usage.analyze,
    alert_signals.analyze,
    certificates.analyze,
    cert_issuance.analyze,
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
