"""Who changed what: API server audit events (JSON lines) that wrote the configuration a failing service reads.

When "nobody deployed anything", the audit log answers: a ``patch``/``update`` of a ConfigMap or Secret by some
tool or person (``user.username``, ``userAgent``) just before the errors began. A write counts when it touches
what the asked service reads (an object named after it, or one its ServiceAccount reads in the same log), and
when the request body sets the host the service now fails to reach, that value is named too, with the existing
Service whose name is closest to it.
"""
# ruff: noqa: E501  (user-facing messages read better unwrapped)

from __future__ import annotations

import difflib
import json
import re
from typing import Any

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import workload_cause
from engine.facts import Observations
from engine.findings import Finding

_WRITES = ("patch", "update", "create", "delete")
_CONFIG = ("configmaps", "secrets")
_FAILED_HOST = re.compile(
    r"(?:lookup|resolve|resolving)\s+(?P<host>[a-z0-9][\w.-]*)(?:\s+on\s+\S+)?:\s*(?:no such host|server misbehaving)"
    r"|getaddrinfo (?:ENOTFOUND|EAI_AGAIN)\s+(?P<host2>[a-z0-9][\w.-]*)",
    re.IGNORECASE,
)


def _d(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    events = list(_audit_events(obs))
    if not events:
        return []
    service = ctx.service or (ctx.focus.owner() if ctx.focus else None)
    if not service:
        return []
    read_by_service = {
        _d(e.get("objectRef")).get("name")
        for e, _ in events
        if e.get("verb") in ("get", "list", "watch")
        and str(_d(e.get("user")).get("username", "")).endswith(f":{service}")
    }
    hosts = _failed_hosts(obs)
    services = [r.name for r in obs.resources if r.kind == "Service"] + [s.name for s in obs.services]
    findings: list[Finding] = []
    for event, cite in events:
        ref = _d(event.get("objectRef"))
        name, resource = str(ref.get("name") or ""), str(ref.get("resource") or "")
        if event.get("verb") not in _WRITES or resource not in _CONFIG or ref.get("subresource"):
            continue
        if not (name.startswith(f"{service}-") or name == service or name in read_by_service):
            continue
        body = json.dumps(event.get("requestObject") or {})
        user = str(_d(event.get("user")).get("username", "someone"))
        agent = str(event.get("userAgent") or "").split(" ", 1)[0]
        when = str(event.get("requestReceivedTimestamp") or "")[:19].replace("T", " ")
        kind = "ConfigMap" if resource == "configmaps" else "Secret"
        sets = next((h for h in hosts if h in body), None)
        detail = ""
        if sets:
            close = difflib.get_close_matches(sets.split(".")[0], services, n=1, cutoff=0.6)
            detail = f"; the new value sets {sets}, the host {service} now fails to resolve" + (
                f" (the Service is {close[0]})" if close else ""
            )
        findings.append(
            workload_cause(
                "audit_config_write",
                owner=service,
                fallback=name,
                title=f"{service}: {kind} {ref.get('namespace', '')}/{name}, which {service} reads, was changed ({event.get('verb')}) at {when} by {user}{' (' + agent + ')' if agent else ''}{detail}",
                weight=92 if sets else 86,
                evidence=[cite],
                fix=f"Restore {kind} {name} (or correct the value) and find why {user} changed it; make that tool's source of truth agree with {service}'s configuration",
            )
        )
    return findings[-1:]  # the latest write is the one in effect


def _audit_events(obs: Observations) -> list[tuple[dict[str, Any], str]]:
    found: list[tuple[dict[str, Any], str]] = []
    for doc in obs.logs:
        for line in doc.lines[:20000]:
            text = line.strip()
            if not text.startswith("{") or "audit.k8s.io/" not in text:
                continue
            try:
                event = json.loads(text)
            except ValueError:
                continue
            if isinstance(event, dict) and event.get("kind") == "Event":
                found.append((event, f"{doc.label} {text[:300]}"))
    return found


def _failed_hosts(obs: Observations) -> list[str]:
    hosts: list[str] = []
    for doc in obs.logs:
        for line in doc.lines[:20000]:
            match = _FAILED_HOST.search(line)
            host = (match.group("host") or match.group("host2")) if match else None
            if host and host not in hosts:
                hosts.append(host)
    return hosts
