"""A Service without a selector whose hand-written Endpoints no longer point at the backend.

Kubernetes maintains the Endpoints of a Service only when the Service has a selector; a Service without one
forwards to whatever addresses someone wrote into its Endpoints object, and nothing updates them when the
backend (a VM, a database outside the cluster) moves
(kubernetes.io/docs/concepts/services-networking/service/#services-without-selectors). When the question says
clients cannot reach such a Service, its fixed addresses are the first suspect, and another address that the
attachments show for a host of the same name is where the backend went.
"""
# ruff: noqa: E501  (user-facing messages read better unwrapped)

from __future__ import annotations

import re
from typing import Any

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import rec
from engine.facts import Observations
from engine.findings import Finding

_UNREACHABLE = re.compile(
    r"time[sd]? ?out|timing out|refused|can'?t (?:reach|connect)|cannot (?:reach|connect)|unreachable|no route to host"
    r"|not reachable|connection (?:fails|failed|errors?)",
    re.IGNORECASE,
)
_IP = re.compile(r"(?<![\d.])((?:\d{1,3}\.){3}\d{1,3})(?![\d.])")
_SELECTOR_NONE = re.compile(r"^\s*Selector:\s*<none>\s*$")


def _d(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _l(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _selectorless(obs: Observations) -> dict[str, tuple[list[str], str]]:
    """Selector-less Services by name: the addresses their Endpoints hold and the line that shows them."""
    found: dict[str, tuple[list[str], str]] = {}
    endpoints = {r.name: r for r in obs.resources if r.kind == "Endpoints"}
    for service in (r for r in obs.resources if r.kind == "Service"):
        spec = _d(service.raw.get("spec"))
        if not spec or spec.get("selector") or spec.get("type") == "ExternalName" or service.name not in endpoints:
            continue
        held = endpoints[service.name]
        ips = [
            str(_d(address).get("ip"))
            for subset in _l(held.raw.get("subsets"))
            for address in _l(_d(subset).get("addresses")) + _l(_d(subset).get("notReadyAddresses"))
            if _d(address).get("ip")
        ]
        if ips:
            found[service.name] = (ips, held.quote(ips[0], fallback=f"Endpoints {service.name}: {', '.join(ips)}"))
    for text in obs.texts:
        if text.kind != "describe" or not any(_SELECTOR_NONE.match(line) for line in text.lines):
            continue
        for described in obs.services:
            cite = described.cites.get("endpoints", "")
            if described.selector or not described.endpoints or not cite.startswith(text.label):
                continue
            ips = _IP.findall(described.endpoints)
            if ips and described.name not in found:
                found[described.name] = (ips, cite)
    return found


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    message = ctx.question.message if ctx.question else ""
    if not _UNREACHABLE.search(message):
        return []
    findings: list[Finding] = []
    for name, (ips, cite) in _selectorless(obs).items():
        if name.lower() not in message.lower():
            continue
        elsewhere = [
            (ip, f"{text.label} {line.strip()}")
            for text in obs.texts
            for line in text.lines
            if name in line and not line.lstrip().startswith("$")
            for ip in _IP.findall(line)
            if ip not in ips
        ]
        moved = (
            f"; the attachments show the backend {name} at {elsewhere[0][0]}, an address the Endpoints do not hold"
            if elsewhere
            else ""
        )
        findings.append(
            Finding(
                kind="manual_endpoints_stale",
                subject=f"service/{name}",
                role="cause",
                title=f"{name}: Service {name} has no selector, so Kubernetes never updates its Endpoints: they still send traffic to {', '.join(ips)}, written by hand{moved}",
                weight=78 if elsewhere else 68,
                evidence=[cite, *[line for _, line in elsewhere[:1]]],
                workload=name,
                recommendations=[
                    rec(
                        "high",
                        f"Update the Endpoints (or EndpointSlice) of {name} to the backend's current address"
                        + (f" ({elsewhere[0][0]})" if elsewhere else "")
                        + ", or use an ExternalName Service pointing at a DNS name that follows the backend",
                    )
                ],
                affected=[name],
            )
        )
    return findings
