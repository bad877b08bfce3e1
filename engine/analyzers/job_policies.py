"""Job and CronJob settings that end or remove runs on purpose, read as the cause of "it failed / it vanished".

- ``podFailurePolicy`` with ``action: FailJob`` fails the whole Job on the first pod failure its rule matches (an
  exit code, a pod condition), whatever ``backoffLimit`` says: the Job controller prints "... matching FailJob rule
  at index N" (kubernetes.io/docs/concepts/workloads/controllers/job/#pod-failure-policy).
- ``concurrencyPolicy: Replace`` on a CronJob deletes the Job still running when the next schedule comes; a run
  longer than the interval is killed partway (SIGTERM, "Deleted job ...") every time and none completes.
- ``ttlSecondsAfterFinished`` makes the TTL-after-finished controller delete a finished Job and its pods (and their
  logs) N seconds after it finished: "NotFound" minutes after a KubeJobFailed page is that, not a person.
"""
# ruff: noqa: E501  (user-facing messages read better unwrapped)

from __future__ import annotations

import re
from collections.abc import Iterator

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import every_line, rec, text_docs
from engine.facts import Observations
from engine.findings import Finding, workload_of
from engine.parsers.common import excerpt

_FAIL_JOB = re.compile(
    r"Container (?P<container>[\w.-]+) for pod (?:[\w.-]+/)?(?P<pod>[\w.-]+) failed with exit code (?P<code>\d+) matching FailJob rule at index (?P<index>\d+)"
    r"|Pod (?:[\w.-]+/)?(?P<pod2>[\w.-]+) has condition (?P<cond>\w+) matching FailJob rule at index (?P<index2>\d+)"
)
_REPLACE = re.compile(r"(?:\"?concurrencyPolicy\"?|Concurrency Policy)\s*[:=]\s*\"?Replace\b")
_DELETED_JOB = re.compile(r"Deleted job (?P<job>[\w.-]+)")
_TTL = re.compile(r"\"?ttlSecondsAfterFinished\"?\s*[:=]\s*\"?(?P<seconds>\d+)")
_JOB_NOT_FOUND = re.compile(r"jobs(?:\.batch)? \"(?P<job>[\w.-]+)\" not found")
_TTL_DELETE = re.compile(r"ttl-after-finished-controller")
_AUDIT_JOB = re.compile(r"/jobs/(?P<job>[\w.-]+)\"")


def _lines(obs: Observations) -> Iterator[tuple[str, str]]:
    """Every line read, then each event's ready-made cite (label "")."""
    yield from every_line(obs)
    for event in obs.events:
        if event.cite:
            yield "", event.cite


def _cite(label: str, line: str, around: str) -> str:
    if not label:  # an event's ready-made cite
        return line
    return f"{label} {excerpt(line.strip(), around=around)}"


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    lines = list(_lines(obs))
    return [*_fail_job(lines), *_replace(lines, obs), *_ttl(lines)]


def _fail_job(lines: list[tuple[str, str]]) -> list[Finding]:
    hit = next(((label, line, m) for label, line in lines if (m := _FAIL_JOB.search(line))), None)
    if hit is None:
        return []
    label, line, m = hit
    pod = m.group("pod") or m.group("pod2") or ""
    job = re.sub(r"-[a-z0-9]{5}$", "", pod)
    cronjob = workload_of(job)
    index = m.group("index") or m.group("index2")
    what = (
        f"exit code {m.group('code')} of container {m.group('container')}"
        if m.group("code")
        else f"pod condition {m.group('cond')}"
    )
    limit = next(
        (
            f" (backoffLimit: {b.group(1)})"
            for _, ln in lines
            if (b := re.search(r"backoffLimit\"?\s*[:=]\s*\"?(\d+)", ln))
        ),
        "",
    )
    return [
        Finding(
            kind="job_fail_job_policy",
            subject=f"{cronjob}:job_fail_job_policy",
            role="cause",
            title=(
                f"{cronjob}: Job {job} failed on its first attempt because its podFailurePolicy rule at index {index} (action: FailJob) matched {what}: "
                f"a FailJob rule fails the whole Job at once and skips the backoffLimit retries{limit}"
            ),
            weight=93,
            evidence=[_cite(label, line, "FailJob")],
            workload=cronjob,
            affected=[cronjob, job, pod],
            recommendations=[
                rec(
                    "high",
                    f"Fix what makes the pod exit with {what} (its log says why), or, if that failure is retryable, change the podFailurePolicy rule's action from FailJob to Count so backoffLimit applies",
                ),
            ],
        )
    ]


def _replace(lines: list[tuple[str, str]], obs: Observations) -> list[Finding]:
    policy = next(((label, line) for label, line in lines if _REPLACE.search(line)), None)
    if policy is None:
        policy = _jsonpath_replace(obs)
    if policy is None:
        return []
    deleted = [(label, line, m) for label, line in lines if (m := _DELETED_JOB.search(line))]
    killed = next(
        (
            (label, line)
            for label, line in lines
            if re.search(r"\bSIGTERM\b|\bterminat(?:ed|ing)\b|\bsignal 15\b", line)
        ),
        None,
    )
    if not deleted and killed is None:
        return []
    job = deleted[-1][2].group("job") if deleted else ""
    cronjob = workload_of(job) if job else next((workload_of(p.name) for p in obs.pods), "cronjob")
    evidence = [_cite(policy[0], policy[1], "Replace")]
    evidence.extend(_cite(label, line, "Deleted job") for label, line, _ in deleted[-2:])
    if killed:
        evidence.append(_cite(killed[0], killed[1], "SIGTERM"))
    return [
        Finding(
            kind="cronjob_replace_kills_runs",
            subject=f"{cronjob}:cronjob_replace_kills_runs",
            role="cause",
            title=(
                f"{cronjob}: the CronJob's concurrencyPolicy is Replace, so each new schedule deletes the Job still running from the previous one"
                f"{f' (Deleted job {job})' if job else ''}: runs now take longer than the schedule interval, are killed partway (SIGTERM) and none completes"
            ),
            weight=92,
            evidence=evidence,
            workload=cronjob,
            affected=[cronjob],
            recommendations=[
                rec(
                    "high",
                    f"Set concurrencyPolicy: Forbid on {cronjob} (a late run then skips the next schedule instead of killing the running one), or widen the schedule interval beyond the run's duration / make the run shorter",
                ),
            ],
        )
    ]


def _jsonpath_replace(obs: Observations) -> tuple[str, str] | None:
    """``kubectl get cronjob x -o jsonpath='{.spec.concurrencyPolicy} ...'`` prints the value alone: the first word
    of the line after a command whose first jsonpath field is the policy."""
    for doc in text_docs(obs):
        for i, line in enumerate(doc.lines[:-1]):
            if re.search(r"jsonpath=['\"]?\{\.spec\.concurrencyPolicy\}", line) and doc.lines[i + 1].split()[:1] == [
                "Replace"
            ]:
                return doc.label, doc.lines[i + 1]
        if (
            re.search(r"jsonpath=['\"]?\{\.spec\.concurrencyPolicy\}", doc.command)
            and doc.lines
            and doc.lines[0].split()[:1] == ["Replace"]
        ):
            return doc.label, doc.lines[0]
    return None


def _ttl(lines: list[tuple[str, str]]) -> list[Finding]:
    ttl = next(((label, line, m) for label, line in lines if (m := _TTL.search(line))), None)
    if ttl is None:
        return []
    gone = next(((label, line, m.group("job")) for label, line in lines if (m := _JOB_NOT_FOUND.search(line))), None)
    by_ttl = next(
        (
            (label, line, a.group("job"))
            for label, line in lines
            if _TTL_DELETE.search(line) and (a := _AUDIT_JOB.search(line))
        ),
        None,
    )
    if gone is None and by_ttl is None:
        return []
    job = (gone or by_ttl or ("", "", ""))[2]
    cronjob = workload_of(job)
    seconds = ttl[2].group("seconds")
    evidence = [_cite(ttl[0], ttl[1], "ttlSecondsAfterFinished")]
    if by_ttl:
        evidence.append(_cite(by_ttl[0], by_ttl[1], "ttl-after-finished-controller"))
    if gone:
        evidence.append(_cite(gone[0], gone[1], "not found"))
    return [
        Finding(
            kind="job_ttl_deleted",
            subject=f"{cronjob}:job_ttl_deleted",
            role="cause",
            title=(
                f"{cronjob}: Job {job} is gone because ttlSecondsAfterFinished: {seconds} lets the TTL-after-finished controller delete a finished Job "
                f"{seconds} s after it finishes, failed or not, together with its pods and their logs: no person deleted it"
            ),
            weight=90,
            evidence=evidence,
            workload=cronjob,
            affected=[cronjob, job],
            recommendations=[
                rec(
                    "high",
                    f"Raise ttlSecondsAfterFinished (or drop it and rely on failedJobsHistoryLimit) so a failed Job stays long enough to investigate, and ship job logs to a log store; rerun it now with kubectl create job --from=cronjob/{cronjob} to see the failure",
                ),
            ],
        )
    ]
