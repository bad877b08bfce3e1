"""A reverse proxy in the pod dialling the application on a loopback port the application no longer listens on.

An nginx (or Envoy) sidecar proxies to ``127.0.0.1:<port>``: the application container shares the pod's network
namespace, so the only thing that can answer is the application itself. When the proxy logs "connect() failed
(111: Connection refused) while connecting to upstream" for ``127.0.0.1:8080`` while the application's own
start-up line says it listens on 8081 (a changed ``PORT``/``--bind``), every proxied request gets a 502 although
both containers are Running and the proxy's own health check passes.
"""
# ruff: noqa: E501  (user-facing messages read better unwrapped)

from __future__ import annotations

import re

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import workload_cause
from engine.facts import Observations
from engine.findings import Finding, workload_of

_REFUSED = re.compile(
    r"(?:\(111: Connection refused\)|connection refused|ECONNREFUSED|delayed connect error: 111)"
    r"[^\n]*?(?:upstream:?\s*\\?\"?(?:https?|fastcgi|grpc|uwsgi)?:?/*|\s)(?P<host>127\.0\.0\.1|localhost|\[::1\]):(?P<port>\d{2,5})\b",
    re.IGNORECASE,
)
_LISTENING = re.compile(
    r"\b(?:listening (?:at|on)|listens on|serving on|server started on|started server on|bound to|running on|binding to)"
    r":?\s+(?:port\s+(?P<bare>\d{2,5})\b|(?:(?:https?|tcp)://)?(?:0\.0\.0\.0|\[?::\]?|\*|localhost|127\.0\.0\.1)?:(?P<port>\d{2,5})\b)",
    re.IGNORECASE,
)
_POD_PREFIX = re.compile(r"^(?:\[pod/)?(?P<pod>[a-z0-9][a-z0-9-]*-[a-z0-9]{6,10}-[a-z0-9]{5})[\s/]")


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    findings: list[Finding] = []
    for doc in obs.logs:
        refused: dict[int, tuple[str, str]] = {}
        listening: dict[int, str] = {}
        pod = doc.pod
        for line in doc.lines[:20000]:
            hit = _REFUSED.search(line)
            if hit and int(hit.group("port")) not in refused:
                refused[int(hit.group("port"))] = (line.strip(), hit.group("host"))
                prefix = _POD_PREFIX.match(line)
                pod = pod or (prefix.group("pod") if prefix else None)
                continue
            heard = _LISTENING.search(line)
            if heard:
                listening.setdefault(int(heard.group("port") or heard.group("bare")), line.strip())
        if not refused or not listening or set(refused) & set(listening):
            continue
        port, (refusal, host) = min(refused.items())
        heard_port, heard_line = min(listening.items())
        owner = workload_of(pod) if pod else (ctx.service or None)
        who = f"{owner}: " if owner else ""
        findings.append(
            workload_cause(
                "loopback_upstream_port",
                owner=owner,
                fallback="pod",
                title=f"{who}the proxy in the pod sends requests to {host}:{port}, but the application in the same pod listens on port {heard_port} (its start-up line), so every proxied request is refused (111: Connection refused) and clients get 502",
                weight=91,
                evidence=[f"{doc.label} {refusal[:300]}", f"{doc.label} {heard_line[:300]}"],
                fix=f"Point the proxy's upstream at {host}:{heard_port}, or make the application listen on {port} again (its PORT / bind setting)",
            )
        )
    return findings
