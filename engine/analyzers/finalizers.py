"""Pods and workloads stuck deleting: a finalizer nobody removes.

An object with ``metadata.deletionTimestamp`` stays until every entry of ``metadata.finalizers`` has been
removed by the controller that owns it (kubernetes.io/docs/concepts/overview/working-with-objects/finalizers/);
a Pod stuck Terminating for longer than its grace period, with a custom finalizer, waits on that controller. A
pasted controller scaled to zero (or absent) that the finalizer's name points to is named as the reason.
"""
# ruff: noqa: E501  (messages read better unwrapped)

from __future__ import annotations

import re
from datetime import datetime, timedelta

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import rec
from engine.facts import Observations
from engine.findings import Finding
from engine.parsers.common import parse_timestamp

_KINDS = ("Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob")


def _stopped_controller(finalizer: str, obs: Observations) -> tuple[str, str] | None:
    """A pasted controller at 0 replicas whose name shares a word with the finalizer (drain-queue / queue-drainer)."""
    words = {w for w in re.split(r"[./_-]", finalizer.lower()) if len(w) >= 4} - {"acme", "finalizer", "protection"}
    for workload in obs.workloads:
        stopped = workload.desired == 0 or workload.ready == 0
        named = {w for w in re.split(r"[-_.]", workload.name.lower()) if len(w) >= 4}
        if stopped and any(a.startswith(b[:5]) or b.startswith(a[:5]) for a in words for b in named):
            return workload.name, workload.cites.get("replicas", "") or workload.cites.get("row", "")
    return None


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    findings: list[Finding] = []
    for resource in obs.resources:
        if resource.kind not in _KINDS:
            continue
        metadata = resource.raw.get("metadata") or {}
        finalizers = [str(f) for f in metadata.get("finalizers") or []]
        deleted = metadata.get("deletionTimestamp")
        if not finalizers or not deleted:
            continue
        since = parse_timestamp(str(deleted))
        if since is not None and isinstance(ctx.now, datetime) and ctx.now - since < timedelta(minutes=5):
            continue
        custom = [
            f for f in finalizers if not f.startswith(("kubernetes.io/", "foregroundDeletion", "orphan"))
        ] or finalizers
        evidence = [resource.quote(custom[0], fallback=f"finalizers: {custom[0]}"), resource.quote("deletionTimestamp")]
        stopped = _stopped_controller(custom[0], obs)
        why = ""
        if stopped:
            why = f"; {stopped[0]}, which should remove it, runs no pod (scaled to 0)"
            evidence.append(stopped[1])
        findings.append(
            Finding(
                kind="stuck_finalizer",
                subject=f"{resource.kind.lower()}/{resource.name}",
                role="cause",
                title=(
                    f"{resource.name}: {resource.kind} {resource.name} was deleted at {deleted} but stays Terminating: its finalizer "
                    f"{', '.join(custom)} has not been removed by the controller that owns it{why}"
                ),
                weight=88,
                evidence=[e for e in evidence if e],
                workload=resource.name,
                recommendations=[
                    rec(
                        "high",
                        (
                            f"Bring {stopped[0]} back so it finishes its cleanup"
                            if stopped
                            else f"Find the controller that owns finalizer {custom[0]} and fix it"
                        )
                        + f'; as a last resort remove the finalizer: kubectl patch {resource.kind.lower()} {resource.name} --type=merge -p \'{{"metadata":{{"finalizers":null}}}}\'',
                    )
                ],
                affected=[resource.name],
            )
        )
    return findings
