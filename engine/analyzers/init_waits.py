"""Init containers that wait for a dependency: the host they wait for and why it does not answer.

A pod stuck in ``Init:0/N`` whose init container prints "waiting for <host>:<port>" and "Connection refused",
"timed out" or "bad address" is blocked by that dependency, not by itself (kubernetes.io: init containers). The
host is named as the container printed it (``rabbitmq.messaging.svc.cluster.local:5672``); when the matching
Service was pasted, why it refuses is named too: it has no endpoints, and its pods are not Running/Ready.
"""
# ruff: noqa: E501  (patterns and messages read better unwrapped)

from __future__ import annotations

import re

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import rec, workload_name
from engine.facts import LogDoc, Observations, PodFact
from engine.findings import Finding
from engine.parsers.common import excerpt

_FAILURE = re.compile(
    r"connection refused|timed? ?out|bad address|no such host|could not resolve|name or service not known"
    r"|unknown host|NXDOMAIN|can't resolve|no route to host",
    re.IGNORECASE,
)
_HOST_PORT = re.compile(  # host:port, netcat's "host (10.96.44.12:5672)", "host port 5672"
    r"\b([a-z][a-z0-9-]*(?:\.[a-z0-9-]+)*[a-z0-9])(?::(\d{2,5})\b| \(\[?[\d.:a-f]+\]?:(\d{2,5})\)|,? port (\d{2,5})\b)",
    re.IGNORECASE,
)
_SVC_HOST = re.compile(r"^([a-z0-9][a-z0-9-]*)(?:\.([a-z0-9][a-z0-9-]*))?(?:\.svc(?:\.[\w.-]+)?)?$")
_NOT_HOSTS = {"tcp", "udp", "http", "https", "port", "localhost", "waiting", "for"}


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    findings: list[Finding] = []
    for doc in obs.logs:
        pod = next((p for p in obs.pods if doc.pod and p.name == doc.pod), None)
        if pod is None or not _is_init_log(pod, doc):
            continue
        finding = _waiting(pod, doc, obs)
        if finding is not None:
            findings.append(finding)
    return findings


def _is_init_log(pod: PodFact, doc: LogDoc) -> bool:
    if doc.container and any(c.init and c.name in (doc.container, "?") for c in pod.containers):
        return True
    return bool(doc.container) and (pod.status_reason or pod.phase or "").startswith("Init:")


def _target(doc: LogDoc) -> tuple[str, str, str] | None:
    """(host, port, failing line) of the dependency the init container's log says it cannot reach."""
    for line in reversed(doc.lines[-60:]):
        if not _FAILURE.search(line):
            continue
        for match in _HOST_PORT.finditer(line):
            host, port = match.group(1), next(g for g in match.groups()[1:] if g)
            if host.lower() not in _NOT_HOSTS and ("." in host or "-" in host):
                return host, port, line.strip()
    return None


def _why(host: str, obs: Observations, evidence: list[str]) -> str:
    match = _SVC_HOST.match(host.lower())
    if match is None:
        return ""
    name, namespace = match.group(1), match.group(2)
    empty = None
    for service in obs.services:
        same = service.name == name and (namespace is None or service.namespace in (None, namespace))
        if same and service.endpoints in ("<none>", ""):
            empty = service.cites.get("endpoints", "")
    for text in obs.texts:
        for line in text.lines:
            if re.match(rf"^\s*(?:endpoints(?:lices?)?(?:\.[\w.]+)?/)?{re.escape(name)}\s+<none>", line):
                empty = f"{text.label} {excerpt(line.strip())}"
    if empty is None:
        return ""
    evidence.append(empty)
    where = f" in namespace {namespace}" if namespace else ""
    backing = [
        p
        for p in obs.pods
        if p.name.startswith(f"{name}-")
        and (p.phase in ("Pending", "Failed") or (p.status_reason or "") not in ("", "Running"))
    ]
    what = f"; Service {name}{where} has no endpoints"
    if backing:
        states = ", ".join(f"{p.name} {p.status_reason or p.phase}" for p in backing[:3])
        what += f" (its pods are not ready: {states})"
        cite = backing[0].cites.get("row") or backing[0].cites.get("phase")
        if cite:
            evidence.append(cite)
    return what


def _waiting(pod: PodFact, doc: LogDoc, obs: Observations) -> Finding | None:
    target = _target(doc)
    if target is None:
        return None
    host, port, line = target
    workload = workload_name(pod)
    failure = _FAILURE.search(line)
    said = failure.group(0) if failure else "no answer"
    evidence = [f"{doc.label} {excerpt(line)}"]
    why = _why(host, obs, evidence)
    return Finding(
        kind="init_waits_on_dependency",
        subject=f"pod/{pod.name}",
        role="cause",
        title=(
            f"{workload}: init container {doc.container} waits for {host}:{port}, which does not answer ({said}), "
            f"so the application containers never start{why}"
        ),
        weight=84 if why else 78,
        evidence=evidence,
        workload=workload,
        recommendations=[
            rec(
                "high",
                f"Make {host}:{port} reachable (check its Service's endpoints and pods), or fix the host/port the init container waits for",
            )
        ],
        affected=[workload],
        related=[host],
    )
