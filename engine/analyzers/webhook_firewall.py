"""An admission webhook the API server cannot reach because the control plane's firewall omits its targetPort.

The API server calls a webhook Service's pods directly on the Service's ``targetPort`` (istiod: 443 -> 15017,
cert-manager: 443 -> 10250, Gatekeeper: 443 -> 8443). On a GKE private cluster the control plane reaches the
nodes only through the firewall rule GKE creates for the master CIDR (``gke-<cluster>-<id>-master``: tcp:443 and
tcp:10250), so a webhook on any other port times out (``failed calling webhook ... context deadline exceeded``)
until a rule allows the master CIDR to that port (istio.io/latest/docs/setup/platform-setup/gke/,
cloud.google.com/kubernetes-engine/docs/how-to/private-clusters#add_firewall_rules). EKS security groups
between the cluster and the nodes behave the same way.
"""
# ruff: noqa: E501  (messages read better unwrapped)

from __future__ import annotations

import re
from typing import Any

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import rec
from engine.facts import Observations
from engine.findings import Finding
from engine.parsers.common import excerpt

_TIMED_OUT = re.compile(
    r"failed calling webhook \\?\"(?P<hook>[\w.-]+)\\?\"[^\n]*?https://(?P<service>[a-z0-9-]+)\.(?P<ns>[a-z0-9-]+)\.svc(?::(?P<port>\d+))?/[^\n]*?"
    r"(?:context deadline exceeded|i/o timeout|Client\.Timeout)"
)
_PORT_ARROW = re.compile(r"^\s*(?:[\w-]+\s+)?(?P<port>\d+)\s*->\s*(?P<target>\d+)\s*$")
_MASTER_RULE = re.compile(
    r"^\s*(?P<name>\S*master\S*)\s+INGRESS\s+(?P<source>[\d./,]+)\s+(?P<allow>(?:(?:tcp|udp|all)(?::[\d-]+)?,?)+)", re.I
)


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    del ctx
    lines = [(t.label, ln) for t in obs.texts for ln in t.lines] + [(d.label, ln) for d in obs.logs for ln in d.lines]
    lines += [(e.cite.split("] ", 1)[0] + "]", e.message) for e in obs.events]
    failure = next(((m, lb, ln) for lb, ln in lines if (m := _TIMED_OUT.search(ln))), None)
    if failure is None:
        return []
    match, label, line = failure
    service, port = match.group("service"), match.group("port") or "443"
    target = _target_port(obs, lines, service, port)
    rule = next(((m, lb, ln) for lb, ln in lines if (m := _MASTER_RULE.match(ln))), None)
    if target is None or rule is None or _allows(rule[0].group("allow"), target[0]):
        return []
    allowed, source = rule[0].group("allow"), rule[0].group("source")
    return [
        Finding(
            kind="webhook_port_firewalled",
            subject=f"service/{service}",
            role="cause",
            title=(
                f"{service}: the API server cannot reach the admission webhook {match.group('hook')}: it calls the pods of Service "
                f"{service} on targetPort {target[0]} (port {port} -> {target[0]}), but the control plane's firewall rule "
                f"{rule[0].group('name')} (source {source}) allows only {allowed} to the nodes, so the call times out and every "
                f"request the webhook intercepts is refused"
            ),
            weight=94,
            evidence=[
                f"{label} {excerpt(line.strip(), around='webhook')}",
                target[1],
                f"{rule[1]} {excerpt(rule[2].strip())}",
            ],
            workload=service,
            recommendations=[
                rec(
                    "high",
                    f"Add a firewall rule allowing the control plane ({source}) to reach the nodes on tcp:{target[0]} (gcloud compute firewall-rules create ... --source-ranges {source} --allow tcp:{target[0]} --target-tags <node tag>)",
                )
            ],
            affected=[service],
            related=[match.group("hook")],
        )
    ]


def _target_port(obs: Observations, lines: list[tuple[str, str]], service: str, port: str) -> tuple[str, str] | None:
    """The Service port's targetPort: from the Service object, else a printed ``port->targetPort`` line."""
    for resource in obs.resources:
        if resource.kind == "Service" and resource.name == service:
            for entry in _list(_dict(resource.raw.get("spec")).get("ports")):
                entry = _dict(entry)
                if str(entry.get("port")) == port and entry.get("targetPort") is not None:
                    return str(entry["targetPort"]), resource.quote(str(entry["targetPort"]))
    for label, line in lines:
        arrow = _PORT_ARROW.match(line)
        if arrow and arrow.group("port") == port and arrow.group("target") != port:
            return arrow.group("target"), f"{label} {line.strip()}"
    return None


def _allows(allowed: str, port: str) -> bool:
    for item in allowed.split(","):
        protocol, _, ports = item.partition(":")
        if protocol.lower() == "all" or (protocol.lower() == "tcp" and not ports):
            return True
        low, _, high = ports.partition("-")
        if low.isdigit() and int(low) <= int(port) <= int(high or low):
            return True
    return False


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []
