"""A cloud load balancer's health check that the application answers with something other than 200.

GKE Ingress, AWS ALB/NLB and Azure load balancers send their own health-check requests to each backend
(``GoogleHC/1.0``, ``ELB-HealthChecker/2.0``, ``Azure Traffic Manager Endpoint Monitor``...) on the path the
health check or BackendConfig names (GKE: ``/`` unless the readinessProbe path or ``healthCheck.requestPath``
says otherwise; ALB: ``alb.ingress.kubernetes.io/healthcheck-path``). Only 200 counts as healthy: a redirect (an
SSO login added in front of ``/``), a 401/403 or a 404 marks every backend UNHEALTHY and the balancer answers 502
(GKE: "Error: Server Error") for all requests, while the pods look fine and ``curl`` from inside the cluster works.
"""
# ruff: noqa: E501  (user-facing messages read better unwrapped)

from __future__ import annotations

import json
import re

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import rec
from engine.facts import Observations
from engine.findings import Finding, workload_of

_CHECKERS = re.compile(
    r"GoogleHC|ELB-HealthChecker|Azure Traffic Manager|kube-proxy health|Amazon-Route53-Health-Check|health-?checker",
    re.IGNORECASE,
)
_ACCESS = re.compile(r'"(?:GET|HEAD) (?P<path>/\S*) HTTP/[\d.]+" (?P<status>\d{3})')
_PROBE_PATH = re.compile(r'"?readinessProbe"?[^\n]*?"?path"?\s*[:=]\s*"?(?P<path>/[\w./-]*)')


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    for doc in obs.logs:
        for line in doc.lines[:5000]:
            if not _CHECKERS.search(line):
                continue
            request = _request(line)
            if request is None or request[1] == "200" or not request[1].startswith(("3", "4", "5")):
                continue
            path, status, location = request
            checker = _CHECKERS.search(line).group(0)  # type: ignore[union-attr]
            workload = workload_of(doc.pod) if doc.pod else (ctx.service or "the backend")
            where = f" (redirect to {location})" if location else ""
            probe = _kubelet_probe(doc.label, doc.lines) or _readiness_path(obs, workload)
            better = f"; its probe path {probe[0]} answers 200" if probe else ""
            return [
                Finding(
                    kind="lb_health_check_failing",
                    subject=f"{workload}:lb_health_check_failing",
                    role="cause",
                    title=f"{workload}: the load balancer's health check ({checker}) requests {path} and {workload} answers {status}{where}; only 200 counts as healthy, so every backend is marked UNHEALTHY and the load balancer answers 502 for all requests{better}",
                    weight=90,
                    evidence=[e for e in (f"{doc.label} {line.strip()[:300]}", probe[1] if probe else "") if e],
                    workload=workload,
                    recommendations=[
                        rec(
                            "high",
                            f"Point the health check at a path that answers 200 without authentication ({probe[0] if probe else '/healthz'}: GKE BackendConfig healthCheck.requestPath, ALB alb.ingress.kubernetes.io/healthcheck-path), or exempt {path} from the redirect for the health checker",
                        )
                    ],
                    affected=[workload],
                )
            ]
    return []


def _request(line: str) -> tuple[str, str, str] | None:
    """(path, status, redirect location) of one access-log line, plain or JSON."""
    text = line.strip()
    if text.startswith("{"):
        try:
            data = json.loads(text)
        except ValueError:
            data = None
        if isinstance(data, dict):
            flat = {str(k).lower(): v for k, v in data.items()}
            path = flat.get("path") or flat.get("uri") or flat.get("url") or flat.get("request_uri")
            status = flat.get("status") or flat.get("status_code") or flat.get("statuscode")
            if path and status is not None:
                return str(path), str(status), str(flat.get("location") or "")
    match = _ACCESS.search(text)
    if match:
        location = re.search(r"location[\"=: ]+(\S+)", text, re.IGNORECASE)
        return match.group("path"), match.group("status"), location.group(1).strip('",') if location else ""
    return None


def _kubelet_probe(label: str, lines: list[str]) -> tuple[str, str] | None:
    """The path the kubelet probes (``kube-probe/1.29``) and gets 200 on, from the same access log."""
    for line in lines[:5000]:
        if "kube-probe" in line:
            request = _request(line)
            if request and request[1] == "200":
                return request[0], f"{label} {line.strip()[:300]}"
    return None


def _readiness_path(obs: Observations, workload: str) -> tuple[str, str] | None:
    sources = [(t.label, t.command, t.lines) for t in obs.texts] + [(d.label, d.command, d.lines) for d in obs.logs]
    for label, command, lines in sources:
        if command and workload not in command:
            continue
        for line in lines[:2000]:
            if "probe" in command and line.strip().startswith("{"):
                found = re.search(r'"path"\s*:\s*"(/[^"]*)"', line)
                if found:
                    return found.group(1), f"{label} {line.strip()}"
            found = _PROBE_PATH.search(line)
            if found:
                return found.group("path"), f"{label} {line.strip()[:300]}"
    return None
