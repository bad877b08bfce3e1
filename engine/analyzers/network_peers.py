"""NetworkPolicy rules that let nothing through in practice: a peer podSelector no pod matches, and ingress rules
whose ports leave out the port the Service sends traffic to.

General knowledge from the NetworkPolicy documentation: a ``from``/``to`` peer with only a ``podSelector`` selects
pods in the policy's own namespace by label; once a policy selects a pod for Ingress, only the listed ports are
admitted, so a Service whose targetPort is not among them times out (the packets are dropped, not refused).
"""
# ruff: noqa: E501  (user-facing messages read better unwrapped)

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import rec
from engine.facts import Observations, PodFact, ResourceFact
from engine.findings import Finding


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    policies = network_policies(obs)
    findings: list[Finding] = []
    for policy in policies:
        findings += _peers_matching_nothing(policy, obs)
        findings += _ingress_ports(policy, obs)
        findings += _egress_ports(policy, obs)
    return findings


_DESCRIBED_PORT = re.compile(r"^(?P<port>[\w-]+)(?:/(?P<protocol>[A-Z]+))?$")


def _selector(text: str) -> dict[str, Any]:
    """``app=api,tier=web`` as kubectl describe prints a label selector; ``<none>`` selects everything."""
    pairs = dict(re.findall(r"([\w./-]+)=([\w.-]*)", text))
    return {"matchLabels": pairs} if pairs else {}


def network_policies(obs: Observations) -> list[ResourceFact]:
    """Every NetworkPolicy observed, a described one (``kubectl describe netpol``) with its spec read back from the
    description, so analyzers read ``raw["spec"]`` the same way for both."""
    return [
        p if isinstance(p.raw.get("spec"), dict) else replace(p, raw={**p.raw, "spec": described_spec(p.lines)})
        for p in obs.resources
        if p.kind == "NetworkPolicy" and (isinstance(p.raw.get("spec"), dict) or p.raw.get("described"))
    ]


def described_spec(lines: list[str]) -> dict[str, Any]:
    """The spec of a NetworkPolicy as ``kubectl describe networkpolicy`` prints it: "Allowing ingress traffic:",
    each rule's "To Port:" lines and "From:"/"To:" peers (one per header, selectors of one peer ANDed), rules
    separated by a dashed line, "Policy Types:"."""
    spec: dict[str, Any] = {}
    section: str | None = None
    rule: dict[str, Any] | None = None
    peer: dict[str, Any] | None = None
    for raw in lines:
        line = raw.strip()
        key, _, value = line.partition(":")
        value = value.strip()
        if line.startswith(("Allowing ingress traffic", "Allowing egress traffic")):
            section, rule, peer = ("ingress" if "ingress" in line else "egress"), None, None
            spec.setdefault(section, [])
        elif line.startswith("Not affecting"):
            section = None
        elif key == "Policy Types":
            spec["policyTypes"] = [t.strip() for t in value.split(",") if t.strip()]
        elif section is None:
            if key == "PodSelector" and "podSelector" not in spec:
                spec["podSelector"] = _selector(value)
        elif line.startswith("-----"):
            rule, peer = None, None
        elif line.startswith("<none>"):
            rule, peer = None, None  # the selected pods are isolated: no rule
        elif key in ("To Port", "From", "To"):
            if rule is None or (key == "To Port" and (rule.get("from") or rule.get("to"))):
                rule = {}
                spec[section].append(rule)
                peer = None
            if key == "To Port":
                port = _DESCRIBED_PORT.match(value.split(" ")[0])
                if port and not value.startswith("<any>"):
                    number = port.group("port")
                    rule.setdefault("ports", []).append(
                        {
                            "port": int(number) if number.isdigit() else number,
                            "protocol": port.group("protocol") or "TCP",
                        }
                    )
            elif value.startswith("<any>"):
                peer = None
            else:
                peer = {}
                rule.setdefault("from" if section == "ingress" else "to", []).append(peer)
        elif peer is not None and key in ("PodSelector", "NamespaceSelector"):
            peer["podSelector" if key == "PodSelector" else "namespaceSelector"] = _selector(value)
        elif peer is not None and key == "CIDR":
            peer.setdefault("ipBlock", {})["cidr"] = value
    return spec


def _d(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _l(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _labels(selector: dict[str, Any]) -> dict[str, str]:
    return {str(k): str(v) for k, v in _d(selector.get("matchLabels")).items()}


def _pods(obs: Observations, namespace: str | None) -> list[PodFact]:
    return [p for p in obs.pods if p.labels and (namespace is None or p.namespace in (None, namespace))]


def _matches(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


def _target(policy: ResourceFact) -> str:
    selected = _labels(_d(_d(policy.raw["spec"]).get("podSelector")))
    return ",".join(f"{k}={v}" for k, v in selected.items()) or "every pod"


def _peers_matching_nothing(policy: ResourceFact, obs: Observations) -> list[Finding]:
    pods = _pods(obs, policy.namespace)
    if not pods:
        return []
    spec = policy.raw["spec"]
    findings: list[Finding] = []
    for direction, peers_key in (("ingress", "from"), ("egress", "to")):
        for rule in _l(spec.get(direction)):
            for peer in _l(_d(rule).get(peers_key)):
                peer = _d(peer)
                wanted = _labels(_d(peer.get("podSelector")))
                if not wanted or "namespaceSelector" in peer or any(_matches(wanted, p.labels) for p in pods):
                    continue
                text = ",".join(f"{k}={v}" for k, v in wanted.items())
                near = _nearest(wanted, pods)
                actual = f"; the pods are labelled e.g. {near.name}: {_shown(near.labels)}" if near else ""
                side = "from" if direction == "ingress" else "to"
                findings.append(
                    Finding(
                        kind="netpol_peer_matches_nothing",
                        subject=f"networkpolicy/{policy.name}",
                        role="cause",
                        title=(
                            f"NetworkPolicy {policy.name} allows {direction} for {_target(policy)} only {side} pods labelled {text}, "
                            f"which no pod in the namespace carries, so that traffic is dropped{actual}"
                        ),
                        weight=86,
                        evidence=[
                            e
                            for e in (
                                policy.quote(
                                    next(iter(wanted)), fallback=f"NetworkPolicy {policy.name}: podSelector {text}"
                                ),
                                near.cites.get("row", "") if near else "",
                            )
                            if e
                        ],
                        workload=policy.name,
                        recommendations=[
                            rec(
                                "high",
                                f"Make NetworkPolicy {policy.name}'s podSelector {text} match the pods' labels (kubectl get pods --show-labels)",
                            )
                        ],
                        affected=[policy.name],
                    )
                )
    return findings


def _nearest(wanted: dict[str, str], pods: list[PodFact]) -> PodFact | None:
    """The pod whose labels share the most keys or values with the selector."""
    values = set(wanted.values())
    scored = [
        (sum(1 for k in wanted if k in p.labels) + sum(1 for v in p.labels.values() if v in values), p) for p in pods
    ]
    best = max(scored, key=lambda item: item[0], default=(0, None))
    return best[1] if best[0] else None


def _shown(labels: dict[str, str]) -> str:
    return ",".join(f"{k}={v}" for k, v in labels.items() if k != "pod-template-hash")


def _ingress_ports(policy: ResourceFact, obs: Observations) -> list[Finding]:
    spec = policy.raw["spec"]
    types = [str(t) for t in _l(spec.get("policyTypes"))] or ["Ingress"]
    rules = [_d(r) for r in _l(spec.get("ingress"))]
    if "Ingress" not in types or not rules or any(not _l(r.get("ports")) for r in rules):
        return []  # no rule, or a rule admitting every port
    allowed = {str(_d(p).get("port")) for r in rules for p in _l(r.get("ports"))}
    if any(not a.isdigit() for a in allowed):
        return []  # named ports: resolved against the pods' container ports, not compared here
    selected = _labels(_d(spec.get("podSelector")))
    findings: list[Finding] = []
    for service in obs.services:
        if policy.namespace and service.namespace not in (None, policy.namespace):
            continue
        if not service.selector or not selected or not _matches(selected, service.selector):
            continue
        targets = [t for t in service.target_ports if t.isdigit()]
        target_cite = service.cites.get("target_port", "")
        if not targets:
            targets, target_cite = printed_target_ports(obs, service.name)
        if not targets or any(t in allowed for t in targets):
            continue
        ports = ", ".join(sorted(allowed, key=int))
        findings.append(
            Finding(
                kind="netpol_ingress_port_blocked",
                subject=f"networkpolicy/{policy.name}",
                role="cause",
                title=(
                    f"{service.name}: NetworkPolicy {policy.name} admits ingress to {_target(policy)} only on port {ports}, "
                    f"but Service {service.name} sends traffic to port {', '.join(targets)}, so connections time out"
                ),
                weight=88,
                evidence=[
                    e
                    for e in (
                        policy.quote(
                            "port", next(iter(allowed)), fallback=f"NetworkPolicy {policy.name}: ingress ports {ports}"
                        ),
                        target_cite,
                    )
                    if e
                ],
                workload=service.name,
                recommendations=[
                    rec(
                        "high",
                        f"Allow port {targets[0]} in NetworkPolicy {policy.name}'s ingress rule (the pod port, not the Service port)",
                    )
                ],
                affected=[service.name, policy.name],
            )
        )
    return findings


def printed_target_ports(obs: Observations, service: str) -> tuple[list[str], str]:
    """The pod ports a Service sends to when no Service object says: its ``.spec.ports`` printed by ``jsonpath``
    (``"targetPort":8443``), else its EndpointSlice/Endpoints row (``PORTS 8443`` or ``10.1.2.3:8443``)."""
    for text in obs.texts:
        if not re.search(rf"\bget\s+(?:svc|services?)(?:/|\s+){re.escape(service)}\b", text.command or ""):
            continue
        for line in text.lines[:50]:
            ports = re.findall(r'"?targetPort"?\s*:\s*"?(\d{2,5})\b', line)
            if ports:
                return sorted(set(ports)), f"{text.label} {line.strip()}"
    for fact in obs.resources:
        row = _d(fact.raw.get("row"))
        owner = fact.name if fact.kind == "Endpoints" else re.sub(r"-[a-z0-9]{5}$", "", fact.name)
        if fact.kind not in ("Endpoints", "EndpointSlice") or owner != service or not row:
            continue
        ports = re.findall(r"^\d{2,5}$", str(row.get("PORTS", "")).strip()) or re.findall(
            r"\d+\.\d+\.\d+\.\d+:(\d{2,5})", str(row.get("ENDPOINTS", ""))
        )
        if ports:
            return sorted(set(ports)), fact.quote(fact.name)
    return [], ""


def _egress_ports(policy: ResourceFact, obs: Observations) -> list[Finding]:
    """Egress rules are checked after the Service's address is translated to a pod's: a rule that allows the
    destination pods only on the Service's ``port`` drops traffic sent to its different ``targetPort``."""
    spec = _d(policy.raw.get("spec"))
    if "Egress" not in [str(t) for t in _l(spec.get("policyTypes"))]:
        return []
    rules = [_d(r) for r in _l(spec.get("egress"))]
    findings: list[Finding] = []
    for service in obs.services:
        if policy.namespace and service.namespace not in (None, policy.namespace):
            continue
        targets = [t for t in service.target_ports if t.isdigit()]
        if not service.selector or not targets:
            continue
        covering = []  # the rules whose peers include the Service's pods (or every destination)
        for rule in rules:
            peers = [_d(p) for p in _l(rule.get("to"))]
            if not peers or any(
                set(peer) == {"podSelector"} and _matches(_labels(_d(peer.get("podSelector"))), service.selector)
                for peer in peers
            ):
                covering.append(rule)
        named = [r for r in covering if _l(r.get("to"))]
        if not named or any(not _l(r.get("ports")) for r in covering):
            continue  # the Service's pods are not named, or a rule allows them on every port
        allowed = {str(_d(p).get("port")) for r in covering for p in _l(r.get("ports"))}
        if any(not a.isdigit() for a in allowed) or any(t in allowed for t in targets):
            continue
        to_pods = {str(_d(p).get("port")) for r in named for p in _l(r.get("ports"))}
        ports = ", ".join(sorted(to_pods, key=lambda v: int(v) if v.isdigit() else 0))
        findings.append(
            Finding(
                kind="netpol_egress_port_blocked",
                subject=f"networkpolicy/{policy.name}",
                role="cause",
                title=(
                    f"{service.name}: NetworkPolicy {policy.name} lets {_target(policy)} reach Service {service.name}'s pods only on port {ports}, "
                    f"but the Service forwards to targetPort {', '.join(targets)} (egress rules see the pod port, not the Service port), so connections time out"
                ),
                weight=88,
                evidence=[
                    e
                    for e in (
                        policy.quote(
                            "port", next(iter(to_pods)), fallback=f"NetworkPolicy {policy.name}: egress ports {ports}"
                        ),
                        service.cites.get("target_port", ""),
                    )
                    if e
                ],
                workload=service.name,
                recommendations=[
                    rec(
                        "high",
                        f"Allow port {targets[0]} (the pod port) in NetworkPolicy {policy.name}'s egress rule to {service.name}'s pods",
                    )
                ],
                affected=[service.name, policy.name],
            )
        )
    return findings
