"""A load balancer's target-group health check (AWS; GKE's BackendConfig) asking for a path the app does not serve.

AWS target groups mark a target unhealthy when its health check gets an unexpected status
(``Target.ResponseCodeMismatch``: "Health checks failed with these codes: [404]"); with every target unhealthy the
ALB answers 503. The path it requests is the target group's ``HealthCheckPath`` (the AWS Load Balancer
Controller sets it from ``alb.ingress.kubernetes.io/healthcheck-path``; GKE from a BackendConfig's
``healthCheck.requestPath``). A 404 there means the path is wrong for this version of the application, typically
after a route was renamed; the application's own access log shows the health checker's requests failing.
"""
# ruff: noqa: E501  (user-facing messages read better unwrapped)

from __future__ import annotations

import re
from collections.abc import Iterator

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import rec
from engine.facts import Observations
from engine.findings import Finding, workload_of
from engine.parsers.common import excerpt

_MISMATCH = re.compile(r"Health checks failed with these codes: \[(?P<code>[1-5]\d\d)")
_PATH = re.compile(
    r"\bHealthCheckPath\"?\s*[:=]\s*\"?(?P<path>/[^\"\s,]*)|healthcheck-path\"?\s*[:=]\s*\"?(?P<path2>/[^\"\s,]*)"
    r"|\brequestPath\"?\s*[:=]\s*\"?(?P<path3>/[^\"\s,]*)"
)
_HEALTH_ROUTE = re.compile(
    r"(?<![\w/])(?P<route>/[\w/.-]*(?:health|healthz|ready|readyz|livez|ping|status)[\w/.-]*)", re.IGNORECASE
)


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    lines = list(_lines(obs))
    failed = next(((label, line, m.group("code")) for label, line in lines if (m := _MISMATCH.search(line))), None)
    if failed is None:
        return []
    configured = next(((label, line, _first(m)) for label, line in lines if (m := _PATH.search(line))), None)
    evidence = [f"{failed[0]} {excerpt(failed[1].strip())}"]
    code = failed[2]
    if configured is None:
        return []
    path = configured[2]
    evidence.append(f"{configured[0]} {excerpt(configured[1].strip())}")
    answered = re.compile(rf"{re.escape(path)}(?:[?\s\"]|$)[^\n]*?\b{code}\b")
    seen = next(((label, line) for label, line in lines if answered.search(line) and not _PATH.search(line)), None)
    if seen:
        evidence.append(f"{seen[0]} {excerpt(seen[1].strip())}")
    served = next(
        (
            (label, line, m.group("route"))
            for label, line in lines
            if (m := _HEALTH_ROUTE.search(line))
            and m.group("route") != path
            and not _PATH.search(line)
            and re.search(r"mount|route|regist|map|listen|serv", line, re.IGNORECASE)
        ),
        None,
    )
    instead = ""
    if served:
        evidence.append(f"{served[0]} {excerpt(served[1].strip())}")
        instead = f"; the application serves {served[2]} instead, so the health-check path is stale"
    owner = ctx.service or (ctx.focus.subject.name if ctx.focus and ctx.focus.subject else None)
    workload = workload_of(owner) if owner else None
    return [
        Finding(
            kind="lb_health_check_path",
            subject=f"{workload or 'load-balancer'}:lb_health_check_path",
            role="cause",
            title=(
                f"{workload + ': ' if workload else ''}the load balancer's health check requests {path} and gets HTTP {code} (Target.ResponseCodeMismatch), "
                f"so it marks every target unhealthy and answers clients with 503{instead}"
            ),
            weight=90,
            evidence=list(dict.fromkeys(evidence)),
            workload=workload,
            recommendations=[
                rec(
                    "high",
                    "Point the health check at a path the application serves (alb.ingress.kubernetes.io/healthcheck-path or the target group's HealthCheckPath; a BackendConfig's requestPath on GKE), or serve the old path again",
                )
            ],
            affected=[workload] if workload else [],
        )
    ]


def _first(match: re.Match[str]) -> str:
    return next(value for value in match.groups() if value)


def _lines(obs: Observations) -> Iterator[tuple[str, str]]:
    for text in obs.texts:
        for line in text.lines[:20000]:
            yield text.label, line
    for document in obs.documents:
        for line in document.lines[:20000]:
            yield document.label, line
    for doc in obs.logs:
        for line in doc.lines[:20000]:
            yield doc.label, line
