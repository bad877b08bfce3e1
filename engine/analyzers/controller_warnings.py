"""Warning events of controllers (CronJob, Job, Deployment, ReplicaSet, StatefulSet, DaemonSet) that no more
specific rule explains: the controller's own words, so an unknown refusal is still named.

A low weight: every specific analyzer (quota, admission, pulls, probes...) outranks it; it keeps an answer from
being "no failure found" when a controller says plainly, in a Warning event, why it does not act.
"""

from __future__ import annotations

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import finding_time, rec
from engine.facts import Observations
from engine.findings import Finding, workload_of

_CONTROLLER_KINDS = {"cronjob", "job", "deployment", "replicaset", "statefulset", "daemonset"}
_EXPLAINED_ELSEWHERE = {  # reasons other analyzers read with their details
    "FailedCreate",
    "BackoffLimitExceeded",
    "DeadlineExceeded",
    "FailedScheduling",
    "FailedMount",
    "FailedAttachVolume",
    "Unhealthy",
    "BackOff",
    "Failed",
    "FailedIndexes",
    "PodFailurePolicy",
    "MaxFailedIndexesExceeded",
}


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    findings: list[Finding] = []
    seen: set[tuple[str, str]] = set()
    for event in obs.events:
        kind = (event.object_kind or "").lower()
        if (
            event.type != "Warning"
            or kind not in _CONTROLLER_KINDS
            or not event.object_name
            or event.reason in _EXPLAINED_ELSEWHERE
            or ctx.is_stale(event.last_seen)
            or (event.object_name, event.reason) in seen
        ):
            continue
        seen.add((event.object_name, event.reason))
        owner = workload_of(event.object_name) if kind == "replicaset" else event.object_name
        message = event.message.strip()
        message = message if len(message) <= 220 else message[:219] + "…"
        findings.append(
            Finding(
                kind="controller_warning",
                subject=f"{kind}/{event.object_name}",
                role="cause",
                title=f"{owner}: the {event.object_kind} controller reports {event.reason}: {message}",
                weight=64,
                evidence=[event.cite],
                workload=owner,
                timestamp=finding_time(event),
                recommendations=[
                    rec(
                        "high",
                        f"Act on the {event.reason} the {event.object_kind} controller reports",
                    )
                ],
                affected=[owner],
                count=event.count,
            )
        )
    return findings
