"""A Job's pods: what keeps a Job from completing, and what its failed pods printed.

- A Job completes when its pods terminate. A regular (non-native) sidecar container (``istio-proxy``, a Cloud
  SQL proxy, a log shipper) keeps running after the main container exits 0, so the pod stays Running (NotReady)
  and the Job never completes (kubernetes.io: sidecar containers; Jobs).
- A failed Job (backoff limit, failed indexes, pod failure policy) is explained by what its pods printed: a log
  read from ``kubectl logs <job>-<index>-<hash>`` (or ``logs job/<job>``) is that Job's pod's log, even when the
  pod itself was not listed.
"""
# ruff: noqa: E501  (patterns and messages read better unwrapped)

from __future__ import annotations

from dataclasses import replace
from typing import Any

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import rec
from engine.facts import ContainerFact, LogDoc, Observations, PodFact
from engine.findings import Finding, workload_of
from engine.logs.index import LogIndex
from engine.parsers.common import excerpt

_STRONG_LINE = 5.0


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    jobs = {w.name for w in obs.workloads if w.kind == "Job"}
    states = _printed_states(obs)
    findings = [f for pod in obs.pods if (f := _sidecar_keeps_running(_with_states(pod, jobs, states))) is not None]
    index = ctx.logs if ctx.logs is not None else LogIndex.build(obs.logs)
    for job in _failed_jobs(obs):
        finding = _failed_pod_log(job, obs, index)
        if finding is not None:
            findings.append(finding)
    return findings


def _printed_states(obs: Observations) -> list[ContainerFact]:
    """Container states printed as JSON outside a Pod object (``jq '.status.containerStatuses[]'``)."""
    found: list[ContainerFact] = []

    def walk(node: Any) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, dict):
            state = node.get("state")
            if isinstance(node.get("name"), str) and isinstance(state, dict) and state:
                which = next(iter(state))
                detail = state[which] if isinstance(state[which], dict) else {}
                code = detail.get("exitCode")
                fact = ContainerFact(
                    name=node["name"], state=str(which), exit_code=code if isinstance(code, int) else None
                )
                fact.cites["state"] = doc.quote(f'"{node["name"]}"')
                found.append(fact)
            else:
                for value in node.values():
                    walk(value)

    for doc in obs.documents:
        walk(doc.data)
    return found


def _with_states(pod: PodFact, jobs: set[str], states: list[ContainerFact]) -> PodFact:
    """A Job's pod listed without its containers takes the container states printed next to it."""
    if any(c.name != "?" for c in pod.containers) or not states:
        return pod
    job = next((j for j in jobs if pod.name.startswith(f"{j}-")), None)
    if job is None:
        return pod
    return replace(pod, owner_kind="Job", owner_name=job, containers=states)


def _job_of(pod: PodFact) -> str | None:
    if pod.owner_kind == "Job" and pod.owner_name:
        return pod.owner_name
    return pod.labels.get("batch.kubernetes.io/job-name") or pod.labels.get("job-name")


def _sidecar_keeps_running(pod: PodFact) -> Finding | None:
    job = _job_of(pod)
    regular = [c for c in pod.containers if not c.init]
    if job is None or len(regular) < 2:
        return None
    done = [c for c in regular if c.state == "terminated" and c.exit_code == 0]
    running = [c for c in regular if c.state == "running"]
    if not done or not running:
        return None
    main, sidecars = done[0], ", ".join(c.name for c in running)
    evidence = [c.cites[k] for c in (main, *running) for k in ("state", "reason") if k in c.cites]
    return Finding(
        kind="job_sidecar_running",
        subject=f"job/{job}",
        role="cause",
        title=(
            f"Job {job} never completes: its container {main.name} finished (Completed, exit code 0) but the "
            f"sidecar container {sidecars} keeps running in pod {pod.name}, so the pod never terminates"
        ),
        weight=90,  # it also explains a CronJob that skips runs under concurrencyPolicy Forbid
        evidence=list(dict.fromkeys(evidence))[:3],
        workload=workload_of(job),
        recommendations=[
            rec(
                "high",
                f"Run {sidecars} as a native sidecar (an init container with restartPolicy: Always, Kubernetes 1.29+) "
                f"or have {main.name} stop it when done (e.g. curl -X POST localhost:15020/quitquitquit for istio-proxy)",
            )
        ],
        affected=[job],
    )


def _failed_jobs(obs: Observations) -> list[str]:
    names = [
        w.name
        for w in obs.workloads
        if w.kind == "Job" and any(c.type in ("Failed", "FailureTarget") and c.status == "True" for c in w.conditions)
    ]
    names += [
        r.name
        for r in obs.resources
        if r.kind == "Job"
        and any(
            c.get("type") == "Failed" and c.get("status") == "True"
            for c in (r.raw.get("status") or {}).get("conditions") or []
            if isinstance(c, dict)
        )
    ]
    names += [
        e.object_name
        for e in obs.events
        if e.object_name and e.reason in ("BackoffLimitExceeded", "FailedIndexes", "PodFailurePolicy")
    ]
    return list(dict.fromkeys(names))


def _job_log(doc: LogDoc, job: str) -> bool:
    pod = doc.pod or ""
    return pod == job or (pod.startswith(f"{job}-") and pod[len(job) + 1 :][:1].isalnum())


def _failed_pod_log(job: str, obs: Observations, index: LogIndex) -> Finding | None:
    best: tuple[float, LogDoc, str] | None = None
    for doc in obs.logs:
        if not _job_log(doc, job):
            continue
        for candidate in index.of(doc).decisive[:1]:
            if candidate.score >= _STRONG_LINE and (best is None or candidate.score > best[0]):
                best = (candidate.score, doc, candidate.line)
    if best is None:
        return None
    _, doc, line = best
    said = line.strip()
    said = said if len(said) <= 220 else said[:219] + "…"
    pod = f"pod {doc.pod}" if doc.pod and doc.pod != job else "its pod"
    return Finding(
        kind="job_pod_error",
        subject=f"job/{job}",
        role="cause",
        title=f"Job {job} failed because {pod} exits with an error: {said}",
        weight=82,
        evidence=[f"{doc.label} {excerpt(line.strip())}"],
        workload=job,
        recommendations=[
            rec("high", f"Fix what {pod} reports, then re-run Job {job} (kubectl delete job {job} and re-apply)")
        ],
        affected=[job],
    )
