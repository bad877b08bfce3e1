"""Error-tracker issues (Sentry): a new error that first appears right after a change to its service.

An error tracker groups every occurrence of one error into an issue and records when it was first seen. An issue
whose first occurrence falls shortly after a deploy, rollout or config change of the same service is an error
that release introduced: code that did not throw before throws now. That is direct evidence, so the change is
named as the cause with the error quoted as the tracker reports it (type, message, culprit). A new issue with no
change before it is a symptom of something else; issues first seen before the window are history.
"""

from __future__ import annotations

from datetime import UTC, datetime

from engine.analysis_context import AnalysisContext
from engine.analyzers.changes import Change, ChangeKind, observed_changes
from engine.analyzers.names import normalize_service
from engine.facts import ErrorIssueFact, Observations
from engine.findings import Finding
from engine.models import Recommendation

# How soon after a change a new error counts as that change's: a release's new code path is usually exercised
# within minutes of traffic reaching it; half an hour covers staged rollouts and low-traffic endpoints.
NEW_AFTER_CHANGE = 30 * 60.0
INTRODUCING_KINDS = frozenset({ChangeKind.DEPLOY, ChangeKind.ROLLOUT, ChangeKind.CONFIG, ChangeKind.PR_MERGED})


def describe_error(issue: ErrorIssueFact) -> str:
    """The error as the tracker reports it: ``KeyError: 'currency'`` at its culprit, else the issue title."""
    what = f"{issue.error_type}: {issue.error_value}" if issue.error_type else issue.title
    return f"{what} (in {issue.culprit})" if issue.culprit else what


def introducing_change(issue: ErrorIssueFact, changes: list[Change]) -> Change | None:
    """The latest change to the issue's service in the ``NEW_AFTER_CHANGE`` before it was first seen."""
    if issue.first_seen is None:
        return None
    first = issue.first_seen.timestamp()
    service = normalize_service(issue.service)
    candidates = [
        c
        for c in changes
        if c.kind in INTRODUCING_KINDS
        and 0.0 <= first - c.timestamp <= NEW_AFTER_CHANGE
        and service in {normalize_service(c.service), *(normalize_service(t) for t in c.touches)}
    ]
    return max(candidates, key=lambda c: c.timestamp, default=None)


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    if not obs.issues:
        return []
    changes = observed_changes(obs)
    findings: list[Finding] = []
    for issue in obs.issues:
        if issue.first_seen is None or ctx.is_stale(issue.first_seen):
            continue
        error = describe_error(issue)
        evidence = [issue.cite] if issue.cite else []
        change = introducing_change(issue, changes)
        if change is None:
            findings.append(
                Finding(
                    kind="new_error",
                    subject=f"issue/{issue.tracker.lower()}/{issue.issue_id}",
                    role="symptom",
                    title=f"New {issue.tracker} error in {issue.service}: {error}, {issue.count} events",
                    weight=35,
                    evidence=evidence,
                    workload=issue.service,
                    timestamp=issue.first_seen,
                    affected=[issue.service],
                )
            )
            continue
        minutes = (issue.first_seen.timestamp() - change.timestamp) / 60.0
        if change.source_tool.startswith("["):
            evidence.append(change.source_tool)
        findings.append(
            Finding(
                kind="error_after_change",
                subject=f"change/{change.service}/{change.ref or int(change.timestamp)}",
                role="cause",
                title=(
                    f"{change.description}, and {minutes:.0f} min later a new {issue.tracker} error appeared in "
                    f"{issue.service}: {error} ({issue.count} events)"
                ),
                weight=90,
                evidence=evidence,
                workload=issue.service,
                timestamp=datetime.fromtimestamp(change.timestamp, UTC),
                recommendations=[
                    Recommendation(
                        priority="high",
                        action=f"Roll back {change.service} to the release before {change.ref or 'this change'}",
                    ),
                    Recommendation(
                        priority="medium",
                        action=f"Fix the code path that now raises {issue.error_type or issue.title}"
                        + (f" in {issue.culprit}" if issue.culprit else ""),
                    ),
                ],
                affected=[issue.service],
            )
        )
    return findings
