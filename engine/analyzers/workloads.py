"""Controllers: stuck rollouts, replica shortfalls, pod creation refused, failed Jobs, Services without endpoints."""
# ruff: noqa: E501  (regexes and user-facing messages read better unwrapped)

from __future__ import annotations

import re

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import finding_time, rec
from engine.analyzers.runtime_messages import clip
from engine.facts import EventFact, Observations, WorkloadFact
from engine.findings import Finding, workload_of

_QUOTA = re.compile(r"exceeded quota: ([\w.-]+)", re.I)


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    findings: list[Finding] = []
    for workload in obs.workloads:
        if workload.kind in ("Deployment", "StatefulSet", "DaemonSet"):
            findings.extend(_rollout(workload))
        elif workload.kind in ("Job", "CronJob"):
            findings.extend(_job(workload, obs.events, ctx))
    findings.extend(_creation_refused(obs.events, ctx))
    findings.extend(_job_events(obs, ctx))
    for service in obs.services:
        if service.endpoints == "<none>" and "endpoints" in service.cites:
            findings.append(
                Finding(
                    kind="service_no_endpoints",
                    subject=f"service/{service.name}",
                    role="symptom",
                    title=f"Service {service.name} has no ready endpoints, so requests to it fail",
                    weight=50,
                    evidence=[service.cites["endpoints"]],
                    workload=service.name,
                    recommendations=[
                        rec(
                            "medium",
                            f"Check that pods matching service {service.name}'s selector exist and are Ready",
                        )
                    ],
                    affected=[service.name],
                )
            )
    return findings


def _rollout(w: WorkloadFact) -> list[Finding]:
    findings: list[Finding] = []
    name = w.name
    stuck = next((c for c in w.conditions if c.type == "Progressing" and c.reason == "ProgressDeadlineExceeded"), None)
    failure = next((c for c in w.conditions if c.type == "ReplicaFailure" and c.status == "True"), None)
    if failure:
        quota = _QUOTA.search(failure.message or "")
        findings.append(
            Finding(
                kind="quota_exceeded" if quota else "replica_failure",
                subject=f"{w.kind.lower()}/{name}",
                role="cause",
                title=f"{name}: the ReplicaSet cannot create pods"
                + (
                    f": namespace quota {quota.group(1)} is exhausted{_quota_detail(failure.message or '')}"
                    if quota
                    else f": {failure.message or failure.reason}"
                ),
                weight=86,
                evidence=[failure.cite],
                workload=name,
                recommendations=[
                    rec(
                        "high",
                        f"Raise ResourceQuota {quota.group(1)} or lower {name}'s requests (kubectl describe quota)",
                    )
                    if quota
                    else rec("high", f"Fix what blocks pod creation for {name}: kubectl describe rs -l app={name}")
                ],
                affected=[name],
            )
        )
    paused = next((c for c in w.conditions if c.reason == "DeploymentPaused"), None)
    if paused:
        findings.append(
            Finding(
                kind="rollout_paused",
                subject=f"{w.kind.lower()}/{name}",
                role="cause",
                title=(
                    f"{name}: {w.kind} {name}'s rollout is paused (DeploymentPaused), so changes to its pod template "
                    "(a new image, env or resources) are not rolled out"
                ),
                weight=82 if w.updated is not None and w.desired and w.updated < w.desired else 72,
                evidence=[e for e in (paused.cite, w.cites.get("replicas", "")) if e],
                workload=name,
                recommendations=[rec("high", f"Resume it: kubectl rollout resume {w.kind.lower()}/{name}")],
                affected=[name],
            )
        )
    if stuck:
        findings.append(
            Finding(
                kind="rollout_stuck",
                subject=f"{w.kind.lower()}/{name}",
                role="symptom",
                title=f"{name}: the rollout is stuck (ProgressDeadlineExceeded)",
                weight=55,
                evidence=[stuck.cite, *([w.cites["replicas"]] if "replicas" in w.cites else [])],
                workload=name,
                recommendations=[
                    rec("high", f"Roll back while investigating: kubectl rollout undo {w.kind.lower()}/{name}")
                ],
                affected=[name],
            )
        )
    short = (
        w.desired is not None
        and w.desired > 0
        and ((w.available is not None and w.available < w.desired) or (w.ready is not None and w.ready < w.desired))
    )
    if short and not stuck:
        have = w.available if w.available is not None else w.ready
        findings.append(
            Finding(
                kind="replicas_unavailable",
                subject=f"{w.kind.lower()}/{name}",
                role="symptom",
                title=f"{name}: only {have} of {w.desired} replicas are available",
                weight=45,
                evidence=[w.cites["replicas"]] if "replicas" in w.cites else [],
                workload=name,
                recommendations=[
                    rec("medium", f"kubectl rollout status {w.kind.lower()}/{name} and describe its pods")
                ],
                affected=[name],
            )
        )
    return findings


_QUOTA_DETAIL = re.compile(r"requested: ([^,]+(?:, [a-z.]+=[^,]+)*), used: .*?limited: (.+?)(?:$|\n)", re.I)


def _quota_detail(message: str) -> str:
    """'(requested requests.memory=2Gi, limited requests.memory=16Gi)' from the API server's quota refusal."""
    match = _QUOTA_DETAIL.search(message)
    return f" (requested {match.group(1)}, limit {match.group(2).rstrip('.')})" if match else ""


def _job(w: WorkloadFact, events: list[EventFact], ctx: AnalysisContext) -> list[Finding]:
    failed = next((c for c in w.conditions if c.type == "Failed" and c.status == "True"), None)
    if failed is None:
        return []
    return [
        _job_finding(
            w.name,
            failed.reason or "",
            failed.message or "",
            failed.cite,
            w.cites.get("pods_statuses"),
            None,
            w.active_deadline_seconds,
        )
    ]


def _job_events(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    known = {w.name for w in obs.workloads if w.kind == "Job" and any(c.type == "Failed" for c in w.conditions)}
    findings = []
    for event in obs.events:
        if (
            event.reason in ("BackoffLimitExceeded", "DeadlineExceeded", *_JOB_FAILED_BY)
            and event.object_name
            and not ctx.is_stale(event.last_seen)
        ):
            if event.object_name in known:
                continue
            known.add(event.object_name)
            statuses = next((w.cites.get("pods_statuses") for w in obs.workloads if w.name == event.object_name), None)
            limit = next((w.active_deadline_seconds for w in obs.workloads if w.name == event.object_name), None)
            findings.append(
                _job_finding(event.object_name, event.reason, event.message, event.cite, statuses, event, limit)
            )
    return findings


# Job failure reasons other than the backoff limit and the deadline (kubernetes.io Jobs: pod failure policy,
# backoff limit per index); their message names the container, exit code or indexes that failed the Job.
_JOB_FAILED_BY = {
    "PodFailurePolicy": "the Job's podFailurePolicy fails the whole Job on that failure, without retrying",
    "MaxFailedIndexesExceeded": "more indexes failed than maxFailedIndexes allows",
    "FailedIndexes": "some indexes exhausted their backoffLimitPerIndex",
}


def _job_finding(
    name: str,
    reason: str,
    message: str,
    cite: str,
    statuses: str | None,
    event: EventFact | None,
    limit: int | None = None,
) -> Finding:
    cronjob = workload_of(name)
    deadline = reason == "DeadlineExceeded"
    if deadline:
        title = f"Job {name} failed: it ran longer than its activeDeadlineSeconds" + (f" ({limit}s)" if limit else "")
    elif reason in _JOB_FAILED_BY and message:
        title = f"Job {name} failed ({reason}): {message.strip().rstrip('.')[:200]}; {_JOB_FAILED_BY[reason]}"
    else:
        title = f"Job {name} failed: its pods kept failing until the backoff limit was reached"
    return Finding(
        kind="job_deadline_exceeded" if deadline else "job_backoff_limit",
        subject=f"job/{name}",
        role="cause" if deadline else "symptom",
        title=title,
        weight=80 if deadline else 66,
        evidence=[e for e in (cite, statuses) if e],
        workload=cronjob,
        timestamp=finding_time(event),
        recommendations=[
            rec("high", f"Find why the job's pods fail: kubectl logs job/{name} (and --previous on its pods)")
            if not deadline
            else rec(
                "high",
                f"Raise activeDeadlineSeconds for {name} or make the job faster (check for a hung dependency)",
            )
        ],
        affected=[cronjob],
        related=[name],
    )


def _creation_refused(events: list[EventFact], ctx: AnalysisContext) -> list[Finding]:
    findings: list[Finding] = []
    seen: set[str] = set()
    for event in events:
        if event.reason != "FailedCreate" or ctx.is_stale(event.last_seen) or not event.object_name:
            continue
        owner = workload_of(event.object_name)
        hashed = re.fullmatch(r"(.+)-[a-z0-9]{6,10}", event.object_name)
        if (event.object_kind or "").lower() == "replicaset" and hashed:
            owner = hashed.group(1)  # a Deployment's ReplicaSet: <deployment>-<pod-template-hash>
        if owner in seen:
            continue
        seen.add(owner)
        quota = _QUOTA.search(event.message)
        findings.append(
            Finding(
                kind="quota_exceeded" if quota else "pod_creation_refused",
                subject=f"{(event.object_kind or 'replicaset').lower()}/{event.object_name}",
                role="cause",
                title=f"{owner}: pods cannot be created"
                + (
                    f": namespace quota {quota.group(1)} is exhausted{_quota_detail(event.message)}"
                    if quota
                    else f": {clip(event.message, 160)}"
                ),
                weight=86,
                evidence=[event.cite],
                workload=owner,
                timestamp=finding_time(event),
                recommendations=[
                    rec(
                        "high",
                        f"Raise ResourceQuota {quota.group(1)} or lower {owner}'s resource requests (kubectl describe quota)",
                    )
                    if quota
                    else rec("high", f"Fix the admission error for {owner} shown in the event")
                ],
                affected=[owner],
            )
        )
    return findings
