"""Where a pod tries to connect, checked against the policies that select it.

General knowledge from the Kubernetes NetworkPolicy and Cilium policy documentation:

- An egress ``ipBlock`` admits ``cidr`` minus its ``except`` ranges: a destination inside an excluded range is
  dropped (the client times out), even though the broad ``cidr`` seems to allow it.
- One ``from``/``to`` element holding both ``namespaceSelector`` and ``podSelector`` admits only pods that match
  both (AND); two elements admit either (OR). Pods of the selected namespace without the pod labels are dropped.
- A ``CiliumNetworkPolicy`` ``toFQDNs`` rule admits only the names it lists (``matchName``) or patterns
  (``matchPattern``); a pod that starts calling another host name is dropped.

Destinations come from what the input shows: resolver output (``getent``, ``nslookup``, ``dig``), ``dial tcp``
errors, Hubble flows, URLs in logs.
"""
# ruff: noqa: E501  (user-facing messages read better unwrapped)

from __future__ import annotations

import ipaddress
import itertools
import re
from dataclasses import dataclass
from typing import Any

import yaml

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import rec
from engine.facts import Observations
from engine.findings import Finding, workload_of
from engine.parsers.command_line import command_object


@dataclass
class _Policy:
    kind: str
    name: str
    namespace: str | None
    spec: dict[str, Any]
    label: str
    lines: list[str]

    def quote(self, *needles: str) -> str:
        for line in self.lines:
            if all(n in line for n in needles):
                return f"{self.label} {line.strip()}"
        return f"{self.label} {self.kind} {self.name}"


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    findings: list[Finding] = described_egress_without_dns(obs)
    policies = _policies(obs)
    if not policies:
        return findings
    destinations = _destinations(obs)
    findings += hubble_ingress_drops([p for p in policies if p.kind != "GlobalNetworkPolicy"], obs)
    for policy in policies:
        if policy.kind in ("NetworkPolicy", "GlobalNetworkPolicy") and "action" in str(policy.spec.get("egress")):
            findings += _calico_denied(policy, destinations)  # projectcalico.org/v3: ordered Allow/Deny rules
        elif policy.kind == "GlobalNetworkPolicy":
            continue
        elif policy.kind == "NetworkPolicy":
            ports = _dialled_ports(obs, destinations)
            findings += _excluded_ip_blocks(policy, destinations, ports)
            findings += _cidr_misses(policy, destinations, ports)
            findings += _outside_egress_rules(policy, destinations, ports)
            findings += _and_selectors(policy, obs)
        else:
            findings += _fqdns_not_listed(policy, obs)
            findings += _cidr_misses(
                _cilium_as_ip_blocks(policy, destinations), destinations, _dialled_ports(obs, destinations)
            )
    return findings


def _cilium_as_ip_blocks(policy: _Policy, destinations: dict[str, tuple[str, str]]) -> _Policy:
    """A CiliumNetworkPolicy's egress as NetworkPolicy ``ipBlock`` rules: ``toCIDR``/``toCIDRSet`` are ranges,
    ``toEntities: [world|all]`` every address; ``toEndpoints``/``toServices``/``toFQDNs`` select by identity (kept as
    a selector peer, which leaves the decision open). Egress is isolated once any egress rule exists."""
    egress = []
    for rule in (_d(r) for r in _l(policy.spec.get("egress"))):
        peers: list[dict[str, Any]] = [{"ipBlock": {"cidr": str(c)}} for c in _l(rule.get("toCIDR"))]
        peers += [
            {"ipBlock": {"cidr": str(_d(c).get("cidr")), "except": _l(_d(c).get("except"))}}
            for c in _l(rule.get("toCIDRSet"))
            if _d(c).get("cidr")
        ]
        if {"world", "all"} & {str(e) for e in _l(rule.get("toEntities"))}:
            peers.append({"ipBlock": {"cidr": "0.0.0.0/0"}})
        if any(rule.get(key) for key in ("toEndpoints", "toServices", "toFQDNs", "toGroups")):
            peers.append({"podSelector": {}})
        ports = [{"port": str(_d(p).get("port"))} for t in _l(rule.get("toPorts")) for p in _l(_d(t).get("ports"))]
        if peers:
            egress.append({"to": peers, **({"ports": ports} if ports else {})})
    spec = {
        "podSelector": policy.spec.get("endpointSelector") or {},
        "policyTypes": ["Egress"] if egress else [],
        "egress": egress,
    }
    return _Policy(policy.kind, policy.name, policy.namespace, spec, policy.label, policy.lines)


def _d(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _l(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _policies(obs: Observations) -> list[_Policy]:
    found = [
        _Policy(r.kind, r.name, r.namespace, _d(r.raw.get("spec")), r.label, r.lines)
        for r in obs.resources
        if r.kind in ("NetworkPolicy", "CiliumNetworkPolicy", "GlobalNetworkPolicy")
        and isinstance(r.raw.get("spec"), dict)
    ]
    for text in obs.texts:  # `kubectl get netpol x -o yaml | yq .spec`: the spec alone, named by the command
        named = command_object(text.command) if text.command else None
        if text.kind != "structured" or named is None or named[0] != "NetworkPolicy":
            continue
        try:
            spec = yaml.safe_load("\n".join(text.lines))
        except yaml.YAMLError:
            continue
        spec = _d(spec)
        spec = _d(spec.get("spec")) or spec
        if "podSelector" in spec:
            found.append(_Policy("NetworkPolicy", named[1], None, spec, text.label, text.lines))
    return found


def _app_of(spec: dict[str, Any], key: str = "podSelector") -> str:
    labels = {str(k): str(v) for k, v in _d(_d(spec.get(key)).get("matchLabels")).items()}
    for name in ("app", "app.kubernetes.io/name", "k8s-app", "name"):
        if name in labels:
            return labels[name]
    return ",".join(f"{k}={v}" for k, v in labels.items())


# --- destinations --------------------------------------------------------------------------------------------

_IP = r"(?:\d{1,3}\.){3}\d{1,3}"
_RESOLVED = (
    re.compile(rf"^\s*(?P<ip>{_IP})\s+(?P<host>[a-z0-9][\w.-]*\.[a-z]{{2,}})\.?\s*$", re.IGNORECASE),  # getent hosts
    re.compile(rf"(?P<host>[a-z0-9][\w.-]*\.[a-z]{{2,}})\.?\s+\d+\s+IN\s+A\s+(?P<ip>{_IP})", re.IGNORECASE),  # dig
)
_DIALED = re.compile(rf"(?:dial tcp|connect to|<>|->|\bTrying)\s*(?P<ip>{_IP})[:\s](?P<port>\d{{1,5}})")
_LOOKUP = re.compile(
    r"\b(?:dig|host|nslookup|getent\s+hosts)\b(?:\s+[-+@]\S*)*\s+(?P<host>[a-z0-9][\w-]*(?:\.[\w-]+)+\.[a-z]{2,})\.?",
    re.IGNORECASE,
)
_BARE_IP = re.compile(rf"^\s*(?P<ip>{_IP})\s*$")


def _destinations(obs: Observations) -> dict[str, tuple[str, str]]:
    """IP -> (the host name it stands for, or the IP; the line that shows it)."""
    found: dict[str, tuple[str, str]] = {}
    sources = [(t.label, t.lines) for t in obs.texts] + [(d.label, d.lines) for d in obs.logs]
    for label, command, lines in [(t.label, t.command, t.lines) for t in obs.texts] + [
        (d.label, d.command, d.lines) for d in obs.logs
    ]:
        looked_up = _LOOKUP.search(command or "")  # `dig +short api.x.com`: bare addresses, the name is the command's
        if looked_up is None:
            continue
        for line in lines[:200]:
            bare = _BARE_IP.match(line)
            if bare:
                found.setdefault(bare.group("ip"), (looked_up.group("host"), f"{label} {line.strip()}"))
    for label, lines in sources:
        for line in lines[:5000]:
            for pattern in _RESOLVED:
                match = pattern.search(line)
                if match:
                    found[match.group("ip")] = (match.group("host"), f"{label} {line.strip()}")
            match = _DIALED.search(line)
            if match and match.group("ip") not in found:
                found[match.group("ip")] = (match.group("ip"), f"{label} {line.strip()}")
    return found


# --- ipBlock except ------------------------------------------------------------------------------------------


def _dialled_ports(obs: Observations, destinations: dict[str, tuple[str, str]]) -> dict[str, tuple[str, str]]:
    """IP -> (the port a client dials it on, the line that shows it): ``nc: connect to db.x (10.1.2.3) port 5432``,
    ``dial tcp 10.1.2.3:5432``, ``Failed to connect to api.x port 443``, or a URL's scheme (``https://api.x/`` is
    port 443) in the output or the command that printed it."""
    found: dict[str, tuple[str, str]] = {}
    sources = [(t.label, [t.command, *t.lines]) for t in obs.texts] + [
        (d.label, [d.command, *d.lines]) for d in obs.logs
    ]
    for ip, (host, _) in destinations.items():
        names = f"{re.escape(ip)}|{re.escape(host)}"
        explicit = re.compile(rf"(?:{names})\)?(?::| port )(?P<port>\d{{2,5}})\b")
        url = re.compile(rf"\b(?P<scheme>https?)://(?:{names})(?=[/\s'\"]|$)")
        lines = [(label, line) for label, source in sources for line in source[:5000]]
        hit = next(
            (
                (m.group("port"), f"{label} {line.strip()}")
                for label, line in lines
                for m in [explicit.search(line)]
                if m
            ),
            None,
        )
        scheme = next(
            ((m.group("scheme"), f"{label} {line.strip()}") for label, line in lines for m in [url.search(line)] if m),
            None,
        )
        if hit:
            found[ip] = hit
        elif scheme:
            found[ip] = ("443" if scheme[0] == "https" else "80", scheme[1])
    return found


def _admits_port(rule: dict[str, Any], port: str | None) -> bool:
    ports = [str(_d(p).get("port", "")) for p in _l(rule.get("ports"))]
    return port is None or not ports or port in ports or any(not p.isdigit() for p in ports)


def _cidr_misses(
    policy: _Policy, destinations: dict[str, tuple[str, str]], dialled: dict[str, tuple[str, str]]
) -> list[Finding]:
    """The egress rules for the dialled port admit only ``ipBlock`` ranges, none of which holds the destination:
    typically a database whose address moved (a failover to a standby in another subnet) out of the range that
    was written for it."""
    if "Egress" not in [str(t) for t in _l(policy.spec.get("policyTypes"))]:
        return []
    findings: list[Finding] = []
    for ip, (port, port_cite) in sorted(dialled.items()):
        try:
            address = ipaddress.ip_address(ip)
        except ValueError:
            continue
        rules = [_d(r) for r in _l(policy.spec.get("egress")) if _admits_port(_d(r), port)]
        explicit = [r for r in rules if _l(r.get("ports"))]  # rules written for this port
        peers = [_d(p) for r in rules for p in _l(r.get("to"))]
        if not explicit or any(not _l(r.get("to")) for r in rules) or not peers:
            continue
        outside = _external_name(destinations[ip][0]) and policy.kind == "CiliumNetworkPolicy"
        if any(set(p) != {"ipBlock"} for p in peers) and not outside:
            continue  # a pod/namespace selector may admit it: not decidable from addresses alone
        peers = [p for p in peers if set(p) == {"ipBlock"}]
        if not peers:
            continue
        cidrs = [str(_d(p["ipBlock"]).get("cidr", "")) for p in peers]
        if any(_contains(c, address) for c in cidrs):
            continue  # admitted, or dropped by an except range (reported on its own)
        host = destinations[ip][0]
        shown = f"{host} ({ip})" if host != ip else ip
        app = _app_of(policy.spec) or policy.name
        ranges = ", ".join(c for c in cidrs if c)
        what = "the toCIDR/toCIDRSet range" if policy.kind == "CiliumNetworkPolicy" else "the ipBlock cidr"
        findings.append(
            Finding(
                kind="netpol_egress_cidr_misses",
                subject=f"networkpolicy/{policy.name}",
                role="cause",
                title=f"{app}: {policy.kind} {policy.name} admits egress on port {port} only to {what} {ranges}, which does not contain {shown}: the destination's address is outside the allowed range, so connections from {app} to it are dropped (they time out)",
                weight=92,
                evidence=[policy.quote(cidrs[0]), destinations[ip][1], port_cite],
                workload=app,
                recommendations=[
                    rec(
                        "high",
                        f"Widen the ipBlock of NetworkPolicy {policy.name}'s port-{port} rule to cover {ip} (every subnet {host} can move to, e.g. the standby's after a failover), or allow it by a stable range",
                    )
                ],
                affected=[app],
                related=[policy.name],
            )
        )
    return findings


def _external_name(host: str) -> bool:
    """A DNS name outside the cluster (a cloud endpoint): its address is no pod, whatever selectors say."""
    return "." in host and not re.fullmatch(r"[\d.]+", host) and not host.endswith((".svc", ".cluster.local", ".local"))


def _excluded_ip_blocks(
    policy: _Policy, destinations: dict[str, tuple[str, str]], dialled: dict[str, tuple[str, str]] | None = None
) -> list[Finding]:
    if not destinations or "Egress" not in [str(t) for t in _l(policy.spec.get("policyTypes"))] + (
        ["Egress"] if policy.spec.get("egress") is not None else []
    ):
        return []
    findings: list[Finding] = []
    for ip, (host, cite) in sorted(destinations.items()):
        try:
            address = ipaddress.ip_address(ip)
        except ValueError:
            continue
        if address.is_loopback or address.is_link_local:
            continue
        port = (dialled or {}).get(ip, (None, ""))[0]
        rules = [_d(r) for r in _l(policy.spec.get("egress")) if _admits_port(_d(r), port)]  # rules for its port
        excluded: tuple[str, str] | None = None
        allowed = False
        for rule in rules:
            peers = [_d(p) for p in _l(rule.get("to"))]
            if not peers:
                allowed = True  # no `to`: every destination (on the listed ports)
                continue
            for peer in peers:
                block = _d(peer.get("ipBlock"))
                if not block.get("cidr"):
                    continue
                try:
                    network = ipaddress.ip_network(str(block["cidr"]), strict=False)
                except ValueError:
                    continue
                if address not in network:
                    continue
                hit = next(
                    (str(e) for e in _l(block.get("except")) if _contains(str(e), address)),
                    None,
                )
                if hit:
                    excluded = (str(block["cidr"]), hit)
                else:
                    allowed = True
        if allowed or excluded is None:
            continue
        app = _app_of(policy.spec) or policy.name
        shown = f"{host} ({ip})" if host != ip else ip
        findings.append(
            Finding(
                kind="netpol_egress_excluded_range",
                subject=f"networkpolicy/{policy.name}",
                role="cause",
                title=f"{app}: NetworkPolicy {policy.name} allows egress to {excluded[0]} except {excluded[1]}, and {shown} lies inside the excluded range {excluded[1]}, so connections from {app} to it are dropped (they time out)",
                weight=90,
                evidence=[policy.quote(excluded[1]), cite],
                workload=app,
                recommendations=[
                    rec(
                        "high",
                        f"Remove {excluded[1]} from the except list of NetworkPolicy {policy.name} (or add an egress rule for {ip}/32), if {host} is meant to be reachable",
                    )
                ],
                affected=[app],
                related=[policy.name],
            )
        )
    return findings


# where pod, Service and node addresses live (RFC 1918, shared CGNAT space, loopback, link-local, IPv6 ULA)
_CLUSTER_RANGES = (
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "100.64.0.0/10",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "fc00::/7",
    "fe80::/10",
    "::1/128",
)


def _outside_egress_rules(
    policy: _Policy, destinations: dict[str, tuple[str, str]], dialled: dict[str, tuple[str, str]] | None = None
) -> list[Finding]:
    """A public address (never a pod's) that no egress rule admits: no ``ipBlock`` holds it on the dialled port,
    and no rule without ``to`` allows that port; pod and namespace selectors never match addresses outside the
    cluster, so the connection is dropped."""
    if "Egress" not in [str(t) for t in _l(policy.spec.get("policyTypes"))]:
        return []
    rules = [_d(r) for r in _l(policy.spec.get("egress"))]
    findings: list[Finding] = []
    for ip, (host, cite) in sorted(destinations.items()):
        direct = _DIALED.search(cite)
        try:
            address = ipaddress.ip_address(ip)
        except ValueError:
            continue
        port = direct.group("port") if direct else (dialled or {}).get(ip, ("", ""))[0]
        if not port or any(_contains(n, address) for n in _CLUSTER_RANGES):
            continue  # a private address may be a pod's: selectors could admit it
        admitted = False
        for rule in rules:
            ports = [str(_d(p).get("port", "")) for p in _l(rule.get("ports"))]
            if ports and (port not in ports and any(not p.isdigit() for p in ports)):
                admitted = True  # a named port: cannot be compared, give the benefit of the doubt
            if ports and port not in ports:
                continue
            peers = [_d(p) for p in _l(rule.get("to"))]
            if not peers or any(
                _d(p.get("ipBlock")).get("cidr")
                and _contains(str(_d(p.get("ipBlock"))["cidr"]), address)
                and not any(_contains(str(e), address) for e in _l(_d(p.get("ipBlock")).get("except")))
                for p in peers
            ):
                admitted = True
        if admitted or any(
            _contains(str(e), address)
            for r in rules
            for p in _l(r.get("to"))
            for e in _l(_d(_d(p).get("ipBlock")).get("except"))
        ):
            continue  # admitted, or dropped by an except range (reported on its own)
        app = _app_of(policy.spec) or policy.name
        shown = f"{host} ({ip})" if host != ip else ip
        findings.append(
            Finding(
                kind="netpol_egress_not_allowed",
                subject=f"networkpolicy/{policy.name}",
                role="cause",
                title=f"{app}: NetworkPolicy {policy.name} isolates {app} for egress, and none of its egress rules admits {shown} on port {port}, so connections from {app} to it are dropped (they time out)",
                weight=86,
                evidence=[policy.quote("egress"), cite],
                workload=app,
                recommendations=[
                    rec(
                        "high",
                        f"Add an egress rule to NetworkPolicy {policy.name} for {ip}/32 (ipBlock) on port {port}, if {host} is meant to be reachable",
                    )
                ],
                affected=[app],
                related=[policy.name],
            )
        )
    return findings


def _calico_denied(policy: _Policy, destinations: dict[str, tuple[str, str]]) -> list[Finding]:
    """A Calico policy applies its egress rules in order; the first whose destination matches decides. A TCP
    connection to an address whose first matching rule is ``action: Deny`` is dropped (the client times out)."""
    findings: list[Finding] = []
    for ip, (host, cite) in sorted(destinations.items()):
        try:
            address = ipaddress.ip_address(ip)
        except ValueError:
            continue
        if address.is_loopback or address.is_link_local:
            continue
        for rule in (_d(r) for r in _l(policy.spec.get("egress"))):
            destination = _d(rule.get("destination"))
            if (
                str(rule.get("protocol", "TCP")).upper() != "TCP"
                or destination.get("ports")
                or destination.get("selector")
            ):
                continue  # another protocol, or ports/selectors this address cannot be checked against
            nets = [str(n) for n in _l(destination.get("nets"))]
            if nets and not any(_contains(n, address) for n in nets):
                continue
            if str(rule.get("action")) != "Deny":
                break
            net = next((n for n in nets if _contains(n, address)), "every destination")
            selector = str(policy.spec.get("selector", "")).strip() or "the selected pods"
            shown = f"{host} ({ip})" if host != ip else ip
            findings.append(
                Finding(
                    kind="netpol_egress_denied",
                    subject=f"networkpolicy/{policy.name}",
                    role="cause",
                    title=f"{policy.name}: Calico {policy.kind} {policy.name} denies egress from {selector} to {net}, and no earlier rule allows {shown}, so those connections are dropped (they time out)",
                    weight=90,
                    evidence=[policy.quote("Deny"), cite],
                    workload=policy.name,
                    recommendations=[
                        rec(
                            "high",
                            f"Add an Allow rule for {ip}/32 (or the provider's ranges) before the Deny rule of policy {policy.name}, if {host} is meant to be reachable",
                        )
                    ],
                    affected=[policy.name],
                )
            )
            break
    return findings


def _contains(cidr: str, address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    try:
        return address in ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        return False


# --- namespaceSelector AND podSelector in one element --------------------------------------------------------


def _and_selectors(policy: _Policy, obs: Observations) -> list[Finding]:
    findings: list[Finding] = []
    for rule in (_d(r) for r in _l(policy.spec.get("ingress"))):
        for peer in (_d(p) for p in _l(rule.get("from"))):
            namespaces = {str(k): str(v) for k, v in _d(_d(peer.get("namespaceSelector")).get("matchLabels")).items()}
            pod_labels = {str(k): str(v) for k, v in _d(_d(peer.get("podSelector")).get("matchLabels")).items()}
            if not namespaces or not pod_labels:
                continue
            namespace = namespaces.get("kubernetes.io/metadata.name") or namespaces.get("name")
            left_out = [
                p
                for p in obs.pods
                if p.labels
                and (namespace is None or p.namespace in (None, namespace))
                and any(p.labels.get(k) != v for k, v in pod_labels.items())
                and (p.namespace == namespace or p.namespace is None)
                and p.namespace != policy.namespace
            ]
            if not left_out and namespace is None:
                continue
            selector = ",".join(f"{k}={v}" for k, v in pod_labels.items())
            where = f"namespace {namespace}" if namespace else "the selected namespaces"
            example = f" (e.g. {left_out[0].name})" if left_out else ""
            target = _app_of(policy.spec) or policy.name
            findings.append(
                Finding(
                    kind="netpol_and_selectors",
                    subject=f"networkpolicy/{policy.name}",
                    role="cause",
                    title=f"{target}: NetworkPolicy {policy.name} puts namespaceSelector and podSelector in the same from element, which means AND: only pods labelled {selector} in {where} are admitted, so other pods of {where}{example} are dropped; as two separate elements (- namespaceSelector / - podSelector) they would be ORed",
                    weight=88 if left_out else 72,
                    evidence=[
                        policy.quote("namespaceSelector"),
                        *([left_out[0].cites.get("name", "")] if left_out else []),
                    ],
                    workload=target,
                    recommendations=[
                        rec(
                            "high",
                            f"Split the from element of NetworkPolicy {policy.name} into separate namespaceSelector and podSelector entries, or add the pods of {where} that must connect to the podSelector",
                        )
                    ],
                    affected=[target],
                    related=[policy.name, *([namespace] if namespace else [])],
                )
            )
    for finding in findings:
        finding.evidence = [e for e in finding.evidence if e]
    return findings


# --- Cilium toFQDNs ------------------------------------------------------------------------------------------

_URL_HOST = re.compile(r"https?://(?P<host>[a-z0-9][\w.-]*\.[a-z]{2,})", re.IGNORECASE)
_DNS_QUERY = re.compile(r"DNS Query (?P<host>[a-z0-9][\w.-]*\.[a-z]{2,})\.?", re.IGNORECASE)


def _fqdn_allowed(host: str, names: list[str], patterns: list[str]) -> bool:
    if host in names:
        return True
    for pattern in patterns:
        if pattern == "*":
            return True
        if re.fullmatch(re.escape(pattern).replace(r"\*", r"[-a-z0-9_.]*"), host, re.IGNORECASE):
            return True
    return False


def _fqdns_not_listed(policy: _Policy, obs: Observations) -> list[Finding]:
    names: list[str] = []
    patterns: list[str] = []
    for rule in (_d(r) for r in _l(policy.spec.get("egress"))):
        for fqdn in (_d(f) for f in _l(rule.get("toFQDNs"))):
            if fqdn.get("matchName"):
                names.append(str(fqdn["matchName"]).rstrip("."))
            if fqdn.get("matchPattern"):
                patterns.append(str(fqdn["matchPattern"]).rstrip("."))
    if not names and not patterns:
        return []
    sources = [(t.label, t.lines) for t in obs.texts] + [(d.label, d.lines) for d in obs.logs]
    for label, lines in sources:
        for line in lines[:5000]:
            for pattern in (_URL_HOST, _DNS_QUERY):
                match = pattern.search(line)
                if match is None:
                    continue
                host = match.group("host").rstrip(".").lower()
                if _fqdn_allowed(host, names, patterns) or not _related(host, names + patterns):
                    continue
                app = _app_of(policy.spec, "endpointSelector") or policy.name
                listed = ", ".join(names + patterns)
                return [
                    Finding(
                        kind="cilium_fqdn_not_allowed",
                        subject=f"ciliumnetworkpolicy/{policy.name}",
                        role="cause",
                        title=f"{app}: {policy.kind} {policy.name} allows egress by name only to {listed} (toFQDNs), but {app} now connects to {host}, which no matchName/matchPattern admits, so that traffic is dropped",
                        weight=90,
                        evidence=[
                            policy.quote("matchName") if names else policy.quote("matchPattern"),
                            f"{label} {line.strip()}",
                        ],
                        workload=app,
                        recommendations=[
                            rec(
                                "high",
                                f"Add {host} (matchName, or a matchPattern covering it) to the toFQDNs of {policy.kind} {policy.name}",
                            )
                        ],
                        affected=[app],
                        related=[policy.name, host],
                    )
                ]
    return []


def _related(host: str, allowed: list[str]) -> bool:
    """A host in the same domain as an allowed name (``eu-west.uploads.example.com`` vs ``uploads.example.com``)."""
    suffix = ".".join(host.split(".")[-2:])
    return any(a.lstrip("*.").endswith(suffix) for a in allowed)


# --- `kubectl describe networkpolicy`: egress that leaves out DNS ----------------------------------------

_TO_PORT = re.compile(r"^\s*To Port:\s*(?P<port>\S+)")


def described_egress_without_dns(obs: Observations) -> list[Finding]:
    """``kubectl describe networkpolicy`` lists the egress each policy allows ("Allowing egress traffic: To Port:
    5432/TCP"). Policies add up: DNS is blocked only when some policy isolates the pods for egress and no policy
    admits port 53 (or every port); then lookups of the selected pods time out."""
    described: list[tuple[str, str, str, list[str], bool, str]] = []  # name, selector, types, ports, all, cite
    for text in obs.texts:
        if text.kind != "describe" or not any("Allowing egress traffic" in line for line in text.lines):
            continue
        starts = [i for i, ln in enumerate(text.lines) if ln.startswith("Name:")] + [len(text.lines)]
        for begin, end in itertools.pairwise(starts):
            policy = text.lines[begin:end]
            name = policy[0].split(":", 1)[1].strip()
            selector = next((ln.split(":", 1)[1].strip() for ln in policy if ln.strip().startswith("PodSelector:")), "")
            types = next((ln.split(":", 1)[1] for ln in policy if "Policy Types:" in ln), "")
            start = next((i for i, ln in enumerate(policy) if "Allowing egress traffic" in ln), None)
            if start is None or "Egress" not in types:
                continue
            block: list[str] = []
            for line in policy[start + 1 :]:
                if re.match(r"^\s*Policy Types:", line) or (line and not line.startswith(" ")):
                    break
                block.append(line)
            ports = [m.group("port") for ln in block if (m := _TO_PORT.match(ln))]
            isolated = any("<none>" in ln for ln in block)
            opens_all = any("<any>" in p for p in ports) or (bool(block) and not ports and not isolated)
            first = next((ln.strip() for ln in block if ln.strip()), "Allowing egress traffic:")
            described.append((name, selector, types, ports, opens_all, f"{text.label} {first}"))
    if not described or any(
        opens_all or any(p.split("/")[0] in ("53", "dns", "dns-tcp") for p in ports)
        for _, _, _, ports, opens_all, _ in described
    ):
        return []
    name, selector, _, ports, _, cite = sorted(described, key=lambda d: d[1].startswith("<none>"))[0]
    every = not selector or selector.startswith("<none>")
    app = name if every else (selector.split("=", 1)[1].split(",")[0] if "=" in selector else name)
    pods = "every pod in the namespace" if every else selector
    allowed = ", ".join(ports) if ports else "nothing"
    return [
        Finding(
            kind="netpol_dns_blocked",
            subject=f"networkpolicy/{name}",
            role="cause",
            title=f"{app}: NetworkPolicy {name} restricts egress of {pods} to {allowed} and no policy allows DNS (port 53 to kube-dns), so name lookups from those pods time out",
            weight=90,
            evidence=[cite],
            workload=app,
            recommendations=[
                rec(
                    "high",
                    f"Add an egress rule (to NetworkPolicy {name} or a separate policy) allowing UDP and TCP port 53 to the kube-dns pods in kube-system",
                )
            ],
            affected=[app],
            related=[name],
        )
    ]


# --- Hubble drops explained by the policy that selects the pod ---------------------------------------------

_FLOW = re.compile(
    r"(?P<src_ns>[\w-]+)/(?P<src>[a-z0-9][\w.-]*):\d+ \(ID:\d+\) (?:->|<>) (?P<dst_ns>[\w-]+)/(?P<dst>[a-z0-9][\w.-]*):(?P<port>\d+) [^\n]*?(?:Policy denied DROPPED|INGRESS DENIED|policy-verdict:none INGRESS)"
)


def _selects(spec: dict[str, Any], workload: str) -> bool:
    labels = {
        str(k): str(v)
        for k, v in _d(_d(spec.get("podSelector") or spec.get("endpointSelector")).get("matchLabels")).items()
    }
    return any(v == workload for k, v in labels.items() if k in ("app", "app.kubernetes.io/name", "k8s-app", "name"))


def _peers(spec: dict[str, Any]) -> str:
    shown: list[str] = []
    for rule in (_d(r) for r in _l(spec.get("ingress"))):
        for peer in (_d(p) for p in _l(rule.get("from") or rule.get("fromEndpoints"))):
            labels = _d(_d(peer.get("podSelector")).get("matchLabels")) or _d(peer.get("matchLabels"))
            shown += [f"{k}={v}" for k, v in labels.items()]
    return ", ".join(dict.fromkeys(shown)) or "nothing"


def hubble_ingress_drops(policies: list[_Policy], obs: Observations) -> list[Finding]:
    for label, lines in [(t.label, t.lines) for t in obs.texts] + [(d.label, d.lines) for d in obs.logs]:
        for line in lines[:5000]:
            flow = _FLOW.search(line)
            if flow is None:
                continue
            source, target = workload_of(flow.group("src")), workload_of(flow.group("dst"))
            for policy in policies:
                if policy.namespace not in (None, flow.group("dst_ns")) or not _selects(policy.spec, target):
                    continue
                if policy.spec.get("ingress") is None and "Ingress" not in [
                    str(t) for t in _l(policy.spec.get("policyTypes"))
                ]:
                    continue
                allowed = _peers(policy.spec)
                return [
                    Finding(
                        kind="netpol_ingress_drop",
                        subject=f"{policy.kind.lower()}/{policy.name}",
                        role="cause",
                        title=f"{target}: {policy.kind} {policy.name} selects {target} for ingress and admits only {allowed}, so connections from {source} to {target}:{flow.group('port')} are dropped (Hubble: policy denied)",
                        weight=90,
                        evidence=[
                            f"{label} {line.strip()}",
                            policy.quote("podSelector")
                            if policy.kind == "NetworkPolicy"
                            else policy.quote("endpointSelector"),
                        ],
                        workload=target,
                        recommendations=[
                            rec(
                                "high",
                                f"Add {source}'s pods (their labels) to the ingress peers of {policy.kind} {policy.name} on port {flow.group('port')}, if {source} is meant to call {target}",
                            )
                        ],
                        affected=[target, source],
                        related=[policy.name],
                    )
                ]
    return []
