"""Root-cause ranking: findings -> scored hypotheses, preferring causes over the symptoms they explain.

Confidence is computed from the evidence: a cause's weight, plus what it explains, plus corroboration from
independent sources, capped when the evidence is thin (one line), generic (an exception, a timeout) or only
symptomatic. Nothing is invented: with no findings the root cause says the evidence is insufficient.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from engine.findings import Finding
from engine.focus import Focus

GENERIC_KINDS = {
    "exception",
    "connection_timeout",
    "connection_reset",
    "error_log_pattern",
    "panic",
    "http_5xx",
}
_PRIORITY = {"high": 0, "medium": 1, "low": 2}
# the API server refusing to create pods: their own message says why; a failure inside the running pods cannot
QUOTA_REFUSALS = {"quota_exceeded", "quota_requires_limits", "limitrange_violation"}


@dataclass
class Scored:
    finding: Finding
    score: float
    explains: list[Finding] = field(default_factory=list)
    explained_by: list[Finding] = field(default_factory=list)
    confidence: int = 0


def merge_duplicates(findings: list[Finding]) -> list[Finding]:
    """One finding per (kind, workload, subject family): three OOMKilled replicas are one cause, seen 3x."""
    merged: dict[tuple[str, str, str], Finding] = {}
    for finding in findings:
        family = finding.subject if finding.workload is None or ":" in finding.subject else ""
        key = (finding.kind, finding.workload or "", family)
        existing = merged.get(key)
        if existing is None:
            merged[key] = Finding(**{**finding.__dict__, "evidence": list(finding.evidence)})
            continue
        existing.count += finding.count
        if finding.weight > existing.weight:  # the copy that says why (a probe's cause) is the one to tell
            existing.title, existing.recommendations = finding.title, list(finding.recommendations)
        existing.weight = max(existing.weight, finding.weight)
        for line in finding.evidence:
            if line not in existing.evidence and len(existing.evidence) < 6:
                existing.evidence.append(line)
        if finding.timestamp and (existing.timestamp is None or finding.timestamp < existing.timestamp):
            existing.timestamp = finding.timestamp
        existing.related = sorted(set(existing.related) | set(finding.related))
    return list(merged.values())


def _pod_name(subject: str) -> str:
    return subject.split("/", 1)[1] if subject.startswith("pod/") else subject


def explains(cause: Finding, other: Finding, single_workload: bool) -> bool:
    if cause is other or cause.role != "cause":
        return False
    cross = bool(cause.workload) and (
        cause.workload in other.related
        or (other.workload is not None and other.workload in cause.related)
        or _pod_name(other.subject) in cause.related
    )
    same = (cause.workload is not None and cause.workload == other.workload) or (
        single_workload and (cause.workload is None or other.workload is None)
    )
    if other.role == "cause":
        if cross:
            return True
        if other.kind in QUOTA_REFUSALS and cause.kind not in QUOTA_REFUSALS:
            return False
        return same and cause.weight > other.weight and cause.kind != other.kind
    return same or cross


FOCUS_BONUS = 25  # about the subject the question names (or explains it)
OFF_FOCUS_PENALTY = 22  # about something else: "also noticed", unless nothing is found about the subject


def rank(
    findings: list[Finding], *, service: str | None = None, message: str = "", focus: Focus | None = None
) -> list[Scored]:
    findings = merge_duplicates(findings)
    workloads = {f.workload for f in findings if f.workload}
    single = len(workloads) <= 1
    scored = [Scored(f, float(f.weight)) for f in findings]
    for item in scored:
        for other in scored:
            if explains(item.finding, other.finding, single):
                item.explains.append(other.finding)
                other.explained_by.append(item.finding)
    lowered = message.lower()
    for item in scored:
        f = item.finding
        symptoms = [x for x in item.explains if x.role == "symptom"]
        causes = [x for x in item.explains if x.role == "cause"]
        item.score += 4 * min(3, len(symptoms)) + 6 * min(2, len(causes))
        if len({line.split(" ", 1)[0] for line in f.evidence}) >= 2:
            item.score += 4
        if any(c.weight >= f.weight - 10 and c.workload != f.workload for c in item.explained_by):
            item.score -= 12  # downstream of another cause
        if f.workload and ((service and service.lower() in f.workload.lower()) or f.workload.lower() in lowered):
            item.score += 5
        if f.role == "symptom":
            item.score -= 15
        if focus:
            if focus.covers(f) or any(focus.covers(x) for x in item.explains):
                item.score += FOCUS_BONUS
            elif f.workload or f.affected:  # a finding about no object in particular is neither
                item.score -= OFF_FOCUS_PENALTY
    scored.sort(key=lambda s: (-s.score, s.finding.role != "cause", s.finding.kind, s.finding.subject))
    if focus:  # what the question names comes first; another object's failure only when it explains the subject
        about = [s for s in scored if focus.covers(s.finding) or any(focus.covers(x) for x in s.explains)]
        if about:
            scored = about + [s for s in scored if s not in about]
    for index, item in enumerate(scored):
        item.confidence = confidence(item, scored[index + 1 :] if index == 0 else [])
    return scored


def confidence(item: Scored, rivals: list[Scored]) -> int:
    f = item.finding
    value = item.score
    lines = len(f.evidence)
    cap = 95 if lines >= 2 else 80
    if f.kind in GENERIC_KINDS:
        cap = min(cap, 68)
    if f.role != "cause":
        cap = min(cap, 45)
    if not f.evidence:
        cap = 30
    unrelated = [r for r in rivals if r.finding.role == "cause" and r.finding not in item.explains]
    if unrelated and unrelated[0].score >= item.score - 3:
        value -= 12  # a competing, unrelated explanation is nearly as strong
    return max(5, min(round(value), cap, 100))
