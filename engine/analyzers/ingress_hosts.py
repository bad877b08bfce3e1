"""A host the person reaches that no Ingress rule serves.

An ingress controller routes a request by its Host header: a host that matches no rule's ``host`` (exactly, or
one label under a ``*.`` wildcard) goes to the controller's default backend, which answers 404
(kubernetes.io/docs/concepts/services-networking/ingress/#name-based-virtual-hosting). When the question or a
``curl`` in the attachments names a host under the same domain as the Ingresses' hosts, a 404 is in sight, and
no Ingress rule serves that host (and none serves every host), the missing rule is the cause.
"""
# ruff: noqa: E501  (user-facing messages read better unwrapped)

from __future__ import annotations

import re
from typing import Any

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import rec
from engine.facts import Observations, ResourceFact
from engine.findings import Finding

_HOST = re.compile(r"(?<![\w.@/-])((?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,24})(?![\w-])", re.IGNORECASE)
_NOT_PUBLIC = re.compile(
    r"\.(?:svc|local|internal|cluster|yaml|yml|json|txt|log|conf|py|js|go|sh|io\.k8s)$|\.k8s\.io$", re.IGNORECASE
)
_NOT_FOUND = re.compile(r"(?<!\d)404(?!\d)|not found|default backend", re.IGNORECASE)


def _d(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _l(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _rule_hosts(ingress: ResourceFact) -> list[str]:
    """The hosts the Ingress's rules serve; "*" when one rule (or the default backend) serves every host."""
    row = _d(ingress.raw.get("row"))
    spec = _d(ingress.raw.get("spec"))
    if row.get("HOSTS"):
        return [h.strip().lower() for h in str(row["HOSTS"]).split(",") if h.strip()]
    if spec.get("defaultBackend") or spec.get("backend"):
        return ["*"]
    return [str(_d(rule).get("host") or "*").lower() for rule in _l(spec.get("rules"))]


def _served(host: str, patterns: list[str]) -> bool:
    for pattern in patterns:
        if pattern == "*" or pattern == host:
            return True
        if pattern.startswith("*.") and host.endswith(pattern[1:]) and "." not in host[: -len(pattern) + 1]:
            return True
    return False


def _domain(host: str) -> str:
    return ".".join(host.lstrip("*.").split(".")[-2:])


def _asked_hosts(obs: Observations, message: str) -> tuple[list[str], list[str]]:
    """Hosts the question names or a curl in the attachments reached, and the lines that show them."""
    hosts = [h.lower() for h in _HOST.findall(message)]
    lines: list[str] = []
    for text in obs.texts:
        for line in text.lines:
            if re.search(r"\bcurl\b|^\s*Host:", line, re.IGNORECASE):
                found = [h.lower() for h in _HOST.findall(line)]
                hosts += found
                if found:
                    lines.append(f"{text.label} {line.strip()}")
    return [h for h in dict.fromkeys(hosts) if not _NOT_PUBLIC.search(h)], lines


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    ingresses = [r for r in obs.resources if r.kind == "Ingress"]
    if not ingresses:
        return []
    served = {ingress.name: _rule_hosts(ingress) for ingress in ingresses}
    patterns = [p for hosts in served.values() for p in hosts]
    if not patterns or "*" in patterns:
        return []
    message = ctx.question.message if ctx.question else ""
    seen_404 = _NOT_FOUND.search(message) or any(
        _NOT_FOUND.search(line) for text in obs.texts for line in text.lines if not line.lstrip().startswith("$")
    )
    if not seen_404:
        return []
    asked, curl_lines = _asked_hosts(obs, message)
    domains = {_domain(p) for p in patterns}
    findings: list[Finding] = []
    for host in asked:
        if _served(host, patterns) or _domain(host) not in domains:
            continue
        near = [(name, hosts) for name, hosts in served.items() if any(_domain(h) == _domain(host) for h in hosts)]
        name, hosts = near[0]
        ingress = next(i for i in ingresses if i.name == name)
        shown = ", ".join(hosts)
        findings.append(
            Finding(
                kind="ingress_host_unrouted",
                subject=f"ingress/{name}",
                role="cause",
                title=f"{host}: no Ingress rule serves host {host} (Ingress {name} serves only {shown}), so the ingress controller sends requests for {host} to its default backend, which answers 404",
                weight=84,
                evidence=[
                    ingress.quote(hosts[0], fallback=f"Ingress {name} hosts: {shown}"),
                    *[line for line in curl_lines if host in line.lower()][:2],
                ],
                workload=name,
                recommendations=[
                    rec(
                        "high",
                        f"Add {host} to the rules (and TLS hosts) of Ingress {name}, or a wildcard *.{_domain(host)} rule, or redirect {host} to {hosts[0]}",
                    )
                ],
                affected=[name, host],
            )
        )
    return findings[:1]
