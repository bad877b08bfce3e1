"""A Service's endpoints on a port the application does not listen on, from what people print when they debug it.

The Kubernetes "Debug Services" guide asks whether the pods listen on the Service's ``targetPort``: the
endpoints (``kubectl get endpoints x``: ``10.1.2.3:8080``, or the Service's ``targetPort`` printed by ``yq`` or
``jsonpath``) say where traffic is sent; the application's own start-up line ("Server listening at
http://0.0.0.0:3000") or ``ss -ltn``/``netstat -ltn`` run in the pod say where it listens. When the two sets do
not meet, every connection through the Service is refused (proxies log "connect() failed (111: Connection
refused) while connecting to upstream"), however healthy the pods look.
"""
# ruff: noqa: E501  (user-facing messages read better unwrapped)

from __future__ import annotations

import re

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import rec
from engine.facts import Observations
from engine.findings import Finding

_LISTENING = re.compile(
    r"\b(?:listening|listens|serving|started server|server started|started on|bound|running on|tomcat started)\b[^\n]{0,40}?(?:port\(?s?\)?:?\s+|:)(?P<port>\d{2,5})\b(?![:.]\d)",
    re.IGNORECASE,
)
_SOCKET = re.compile(  # ss -ltn (state first) / netstat -ltn (state last)
    r"\bLISTEN\b[^\n]*?(?:\*|[\d.]+|\[[:\w]*\]|::):(?P<port>\d{2,5})\s"
    r"|^\s*tcp6?\s+\d+\s+\d+\s+(?:\*|[\d.]+|::|:::?)\S*?:(?P<nport>\d{2,5})\s[^\n]*\bLISTEN\b"
)
_TARGET = re.compile(r'"?targetPort"?\s*:\s*"?(?P<port>\d{2,5})\b')
_REFUSED = re.compile(r"Connection refused|ECONNREFUSED|connection refused", re.IGNORECASE)


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    findings: list[Finding] = []
    for name, (targets, cite) in _targets(obs).items():
        if any(s.name == name and any(p.isdigit() for p in s.target_ports) and s.selector for s in obs.services):
            continue  # routing's targetPort rule reads the Service and its pods
        listening = _listening(obs, name)
        if listening is None or set(listening[0]) & targets:
            continue
        shown = ", ".join(str(p) for p in sorted(targets))
        ports = ", ".join(str(p) for p in listening[0])
        refused = next(
            (
                f"{label} {line.strip()[:300]}"
                for label, lines in [(d.label, d.lines) for d in obs.logs]
                for line in lines[:5000]
                if _REFUSED.search(line) and any(f":{p}" in line for p in targets)
            ),
            "",
        )
        findings.append(
            Finding(
                kind="service_target_port_mismatch",
                subject=f"service/{name}",
                role="cause",
                title=f"{name}: Service {name} sends traffic to port {shown} of its pods (its endpoints), but the {name} application listens on {ports}, so every connection through the Service is refused",
                weight=90,
                evidence=[e for e in (cite, listening[1], refused) if e],
                workload=name,
                recommendations=[
                    rec(
                        "high",
                        f"Make the targetPort of Service {name} (and the containerPort) {listening[0][0]}, or make the application listen on {sorted(targets)[0]} again (its PORT setting)",
                    )
                ],
                affected=[name],
            )
        )
    return findings


def _targets(obs: Observations) -> dict[str, tuple[set[int], str]]:
    """Service name -> the pod ports traffic is sent to: Endpoints rows (``ip:port``), or a printed targetPort."""
    found: dict[str, tuple[set[int], str]] = {}
    for resource in obs.resources:
        row = resource.raw.get("row")
        if resource.kind != "Endpoints" or not isinstance(row, dict):
            continue
        ports = {int(p) for p in re.findall(r"\d+\.\d+\.\d+\.\d+:(\d{2,5})", str(row.get("ENDPOINTS", "")))}
        if ports:
            found[resource.name] = (ports, resource.quote(resource.name))
    for text in obs.texts:
        service = re.search(r"\bget\s+(?:svc|services?)(?:/|\s+)([a-z0-9][\w.-]*)", text.command or "")
        if service is None or service.group(1) in found:
            continue
        ports = {int(m.group("port")) for line in text.lines[:200] for m in [_TARGET.search(line)] if m}
        if ports:
            line = next(line for line in text.lines if _TARGET.search(line))
            found[service.group(1)] = (ports, f"{text.label} {line.strip()}")
    return found


def _listening(obs: Observations, name: str) -> tuple[list[int], str] | None:
    """Where the workload's application listens: ``ss``/``netstat`` in its pod, else its own start-up log line."""
    ours = re.compile(rf"(?:/|\s){re.escape(name)}(?:-[a-z0-9]+){{0,2}}(?:\s|$)")
    sources = [(t.label, t.command, t.lines) for t in obs.texts] + [(d.label, d.command, d.lines) for d in obs.logs]
    for label, command, lines in sources:
        if not command or "exec" not in command or not ours.search(command.split("--", 1)[0] + " "):
            continue
        ports = sorted(
            {
                int(m.group("port") or m.group("nport"))
                for line in lines[:500]
                for m in [_SOCKET.search(line + " ")]
                if m
            }
        )
        if ports:
            line = next(line for line in lines if _SOCKET.search(line + " "))
            return ports, f"{label} {line.strip()}"
    for doc in obs.logs:
        pod = doc.pod or ""
        if not (pod == name or pod.startswith(f"{name}-")):
            continue
        for line in doc.lines[:2000]:
            match = _LISTENING.search(line)
            if match:
                return [int(match.group("port"))], f"{doc.label} {line.strip()[:300]}"
    return None
