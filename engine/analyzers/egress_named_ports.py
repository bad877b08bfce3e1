"""An egress rule whose named port the destination pods no longer declare.

A named ``port`` in an egress rule is resolved against the container ports of the *destination* pods the rule's
peer selects. When their chart renames the port (``grpc`` -> ``grpc-api``), the name resolves to nothing and
the rule admits no traffic: the client's connections time out while other clients, whose policies use the port
number, are fine. The destination pods' port names are read from what is printed next to their names (a
``jsonpath`` of each pod's ports, ``get pod -o yaml`` of one of them).
"""
# ruff: noqa: E501  (user-facing messages read better unwrapped)

from __future__ import annotations

import re
from typing import Any

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import rec
from engine.analyzers.network_peers import network_policies
from engine.facts import Observations, ResourceFact
from engine.findings import Finding

_JSON_PORT = (
    re.compile(r'"containerPort"\s*:\s*(?P<number>\d+)\s*,\s*"name"\s*:\s*"(?P<name>[\w-]+)"'),
    re.compile(r'"name"\s*:\s*"(?P<name>[\w-]+)"\s*,\s*"containerPort"\s*:\s*(?P<number>\d+)'),
)
_DIALLED = re.compile(r"dial tcp [\d.]+:(?P<port>\d{2,5}): (?:i/o timeout|connect: connection timed out)")


def _d(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _l(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    findings: list[Finding] = []
    for policy in network_policies(obs):
        spec = _d(policy.raw.get("spec"))
        for rule in map(_d, _l(spec.get("egress"))):
            names = [str(_d(p).get("port")) for p in _l(rule.get("ports")) if not str(_d(p).get("port", "0")).isdigit()]
            peers = [
                str(v)
                for peer in _l(rule.get("to"))
                for v in _d(_d(_d(peer).get("podSelector")).get("matchLabels")).values()
            ]
            if not names or not peers:
                continue
            declared = _destination_ports(obs, peers)
            missing = [n for n in names if declared and n not in declared]
            if missing:
                findings.append(_finding(policy, missing[0], peers[0], declared, obs))
    return findings


def _destination_ports(obs: Observations, peers: list[str]) -> dict[str, tuple[int, str]]:
    """Port name -> (number, evidence) declared on a line that names one of the peer's pods."""
    pod = re.compile(rf"(?<![\w-])(?:{'|'.join(re.escape(p) for p in peers)})-[a-z0-9]+(?:-[a-z0-9]+)?\b")
    found: dict[str, tuple[int, str]] = {}
    for label, lines in [(t.label, t.lines) for t in obs.texts] + [(d.label, d.lines) for d in obs.logs]:
        for line in lines[:5000]:
            if "containerPort" not in line or not pod.search(line):
                continue
            for pattern in _JSON_PORT:
                for match in pattern.finditer(line):
                    found.setdefault(match.group("name"), (int(match.group("number")), f"{label} {line.strip()[:300]}"))
    return found


def _finding(
    policy: ResourceFact, name: str, peer: str, declared: dict[str, tuple[int, str]], obs: Observations
) -> Finding:
    labels = _d(_d(_d(policy.raw.get("spec")).get("podSelector")).get("matchLabels"))
    source = next(
        (str(labels[k]) for k in ("app", "app.kubernetes.io/name", "k8s-app", "name") if k in labels), policy.name
    )
    dialled = {
        int(m.group("port"))
        for lines in [d.lines for d in obs.logs]
        for line in lines[:5000]
        for m in [_DIALLED.search(line)]
        if m
    }
    meant = next((n for n, (number, _) in declared.items() if number in dialled), None) or next(
        (n for n in declared if name in n or n in name), None
    )
    now = f" (the port it means is now named '{meant}', {declared[meant][0]})" if meant else ""
    ports = ", ".join(f"{n} ({v[0]})" for n, v in sorted(declared.items()))
    cite = declared[meant or next(iter(declared))][1]
    return Finding(
        kind="netpol_egress_named_port_missing",
        subject=f"networkpolicy/{policy.name}",
        role="cause",
        title=f"{source}: NetworkPolicy {policy.name} allows egress to the {peer} pods only on the named port '{name}', but those pods declare no container port named '{name}' (their ports: {ports}){now}, so the named port resolves to nothing, the rule admits no traffic and connections from {source} time out",
        weight=92,
        evidence=[policy.quote(name, fallback=f"NetworkPolicy {policy.name}: port {name}"), cite],
        workload=source,
        recommendations=[
            rec(
                "high",
                f"Use the destination's port number{' (' + str(declared[meant][0]) + ')' if meant else ''} or its current name{' (' + meant + ')' if meant else ''} in the egress rule of NetworkPolicy {policy.name}",
            )
        ],
        affected=[source, policy.name],
        related=[peer],
    )
