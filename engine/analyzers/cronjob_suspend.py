"""A suspended CronJob: the controller creates no Job while ``spec.suspend`` is true, so "did it run?" is answered no.

kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/#schedule-suspension: while a CronJob is suspended,
no new Job is scheduled (runs already started are not affected). Teams suspend one for a maintenance window and
forget to resume it; the symptom is "the nightly job did not run" or "nothing newer than Tuesday" with every other
object healthy. Suspending is also done on purpose, so it is a cause only when the question is about that CronJob
(its name or a distinctive part of it) or about a scheduled run that did not happen.
"""
# ruff: noqa: E501  (user-facing messages read better unwrapped)

from __future__ import annotations

import re

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import rec
from engine.facts import Observations
from engine.findings import Finding

# Parts of a CronJob's name that say how often it runs, not what it is.
_GENERIC = frozenset({"cron", "cronjob", "job", "jobs", "nightly", "daily", "hourly", "weekly", "monthly", "task"})
_DID_NOT_RUN = re.compile(
    r"\b(?:did|does|has|have|hasn't|haven't|didn't|doesn't|was|wasn't|is|isn't)\b[^.?!]{0,60}?\b(?:run|ran|running|fire|fired|trigger(?:ed)?|execute[ds]?|kick(?:ed)? off|start(?:ed)?)\b"
    r"|\bno (?:new |fresh |recent )?(?:backups?|runs?|jobs?|reports?|exports?|snapshots?|dumps?)\b|\bnothing (?:newer|since|after)\b"
    r"|\b(?:not|never|stopped) (?:run(?:ning)?|ran|firing|triggering)\b|\b(?:missed|skipped) (?:its |the )?(?:run|schedule)\b",
    re.IGNORECASE,
)


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    question = ctx.question
    message = question.message if question else ""
    words = {w.lower() for w in (question.words if question else ())}
    asks_run = _DID_NOT_RUN.search(message) is not None
    findings: list[Finding] = []
    for name, schedule, last, cite in _suspended(obs):
        parts = {p for p in name.lower().split("-") if len(p) >= 4 and p not in _GENERIC and not p.isdigit()}
        named = name.lower() in words or bool(parts & words) or bool(ctx.focus and name in ctx.focus.names)
        if not named:
            continue
        weight = 90 if asks_run else 82
        when = f" ({schedule})" if schedule else ""
        since = f"; its last Job was scheduled {last}" if last else ""
        findings.append(
            Finding(
                kind="cronjob_suspended",
                subject=f"cronjob/{name}",
                role="cause",
                title=f"{name}: CronJob {name} is suspended (suspend: true), so the controller creates no Job for its schedule{when} and it has not run since it was suspended{since}",
                weight=weight,
                evidence=[cite],
                workload=name,
                recommendations=[
                    rec(
                        "high",
                        f'Resume it once the reason it was paused is over: kubectl patch cronjob {name} -p \'{{"spec":{{"suspend":false}}}}\' (and trigger the missed run by hand: kubectl create job --from=cronjob/{name} {name}-manual)',
                    )
                ],
                affected=[name],
            )
        )
    return findings


def _suspended(obs: Observations) -> list[tuple[str, str, str, str]]:
    """(name, schedule, last schedule, cite) of every CronJob read as suspended, from tables and objects."""
    found: dict[str, tuple[str, str, str, str]] = {}
    for resource in obs.resources:
        if resource.kind != "CronJob":
            continue
        raw_row = resource.raw.get("row")
        row: dict[str, object] = raw_row if isinstance(raw_row, dict) else {}
        if str(row.get("SUSPEND", "")).lower() != "true":
            continue
        last = str(row.get("LAST SCHEDULE") or "")
        found.setdefault(
            resource.name,
            (
                resource.name,
                str(row.get("SCHEDULE") or ""),
                f"{last} ago" if last and last not in ("<none>",) and last[-1:].isalpha() else "",
                resource.quote(resource.name, "True"),
            ),
        )
    for workload in obs.workloads:
        if workload.kind == "CronJob" and "suspend" in workload.cites:
            last = workload.cites.get("last_schedule", "")
            found.setdefault(
                workload.name, (workload.name, "", f"at {last}" if last else "", workload.cites["suspend"])
            )
    return list(found.values())
