"""Calico policies applied in order: a Deny in a lower-order policy wins over an Allow in a higher-order one.

Calico evaluates the (Global)NetworkPolicies that select an endpoint in ascending ``order`` (a policy without
order comes last); the first rule whose action is Allow or Deny decides, so a new platform-wide Deny at order
100 cuts traffic a team's own Allow at order 500 still lists. The timed-out destination (ip:port from the
client's log) is checked against each policy's egress rules (``nets``/``notNets``/``ports``) in that order.
"""
# ruff: noqa: E501  (user-facing messages read better unwrapped)

from __future__ import annotations

import ipaddress
import re
from typing import Any

import yaml

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import rec
from engine.facts import Observations, ResourceFact
from engine.findings import Finding

_TIMED_OUT = re.compile(
    r"(?P<ip>\d{1,3}(?:\.\d{1,3}){3}):(?P<port>\d{1,5})\b[^\n]*?|(?:timeout|timed out)[^\n]*?(?P<ip2>\d{1,3}(?:\.\d{1,3}){3}):(?P<port2>\d{1,5})\b",
)
_TIMEOUT_WORDS = re.compile(r"time(?:d)? ?out|deadline exceeded|no route to host", re.IGNORECASE)
_NAMESPACE_SET = re.compile(r"projectcalico\.org/namespace\s+(?P<op>not in|in)\s+\{(?P<names>[^}]*)\}")
_PROMPT = re.compile(r"^\s*(?:\S*[$#%>])\s+\S")
_EQUALS = re.compile(r"^\s*(?P<key>[\w./-]+)\s*==\s*['\"](?P<value>[^'\"]+)['\"]\s*$")


def _d(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _l(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    policies = sorted(_calico_policies(obs), key=_order)
    client = ctx.service or (ctx.focus.owner() if ctx.focus else None)
    if len(policies) < 2 or not client:
        return []
    for ip, port, cite in _timeouts(obs):
        decided = [
            (p, action) for p in policies for action in [_first_action(p, ip, port, client, ctx.namespace)] if action
        ]
        if len(decided) < 2 or decided[0][1] != "Deny":
            continue
        allow = next((p for p, action in decided[1:] if action == "Allow"), None)
        if allow is None:
            continue
        deny = decided[0][0]
        return [
            Finding(
                kind="calico_order_deny",
                subject=f"{deny.kind.lower()}/{deny.name}",
                role="cause",
                title=f"{client}: Calico {deny.kind} {deny.name} (order {_shown(deny)}) denies egress to {ip}:{port} before {allow.kind} {allow.name} (order {_shown(allow)}), which allows it, is evaluated: Calico applies policies in ascending order and the first Allow or Deny wins, so connections from {client} to {ip}:{port} time out",
                weight=93,
                evidence=[
                    deny.quote("Deny", fallback=f"{deny.kind} {deny.name}: action Deny"),
                    allow.quote("Allow", fallback=f"{allow.kind} {allow.name}: action Allow"),
                    cite,
                ],
                workload=client,
                recommendations=[
                    rec(
                        "high",
                        f"Give {allow.kind} {allow.name} an order below {_shown(deny)} (or add an Allow for {ip}/32 port {port} to {deny.name} or an exception in its notNets/selector)",
                    )
                ],
                affected=[client, allow.name, deny.name],
            )
        ]
    return []


def _calico_policies(obs: Observations) -> list[ResourceFact]:
    """Calico (Global)NetworkPolicies: parsed objects, else the YAML ``calicoctl get ... -o yaml`` printed in a
    paste the parsers read as plain text (split at each prompt and ``---``)."""
    found = [r for r in obs.resources if _is_calico(r.raw)]
    if found:
        return found
    for label, lines in [(t.label, t.lines) for t in obs.texts] + [(d.label, d.lines) for d in obs.logs]:
        if not any("projectcalico.org/" in line for line in lines[:5000]):
            continue
        segment: list[str] = []
        for line in [*lines[:5000], "---"]:
            if line.strip() == "---" or _PROMPT.match(line):
                found += _loaded(segment, label)
                segment = []
            else:
                segment.append(line)
    return found


def _is_calico(raw: dict[str, Any]) -> bool:
    return str(raw.get("apiVersion", "")).startswith("projectcalico.org/") and raw.get("kind") in (
        "NetworkPolicy",
        "GlobalNetworkPolicy",
    )


def _loaded(segment: list[str], label: str) -> list[ResourceFact]:
    if not any("projectcalico.org/" in line for line in segment):
        return []
    try:
        document = yaml.safe_load("\n".join(segment))
    except yaml.YAMLError:
        return []
    if not isinstance(document, dict) or not _is_calico(document):
        return []
    metadata = _d(document.get("metadata"))
    return [
        ResourceFact(
            str(document["kind"]), str(metadata.get("name", "")), metadata.get("namespace"), document, label, segment
        )
    ]


def _order(policy: ResourceFact) -> float:
    try:
        return float(_d(policy.raw.get("spec")).get("order", float("inf")))
    except (TypeError, ValueError):
        return float("inf")


def _shown(policy: ResourceFact) -> str:
    order = _order(policy)
    return "none, so applied last" if order == float("inf") else f"{order:g}"


def _timeouts(obs: Observations) -> list[tuple[str, int, str]]:
    found: list[tuple[str, int, str]] = []
    for doc in obs.logs:
        for line in doc.lines[:20000]:
            if not _TIMEOUT_WORDS.search(line):
                continue
            match = _TIMED_OUT.search(line)
            if match:
                ip, port = match.group("ip") or match.group("ip2"), match.group("port") or match.group("port2")
                found.append((ip, int(port), f"{doc.label} {line.strip()[:300]}"))
                break
    return found


def _selects(selector: str, client: str, namespace: str | None, policy: ResourceFact) -> bool:
    """A small reading of Calico selectors: all(), namespace (not) in {...}, key == 'value'; unknown: selects."""
    if policy.kind == "NetworkPolicy" and namespace and policy.namespace and policy.namespace != namespace:
        return False
    selector = selector.strip()
    if not selector or selector == "all()":
        return True
    names = _NAMESPACE_SET.search(selector)
    if names and namespace:
        listed = {n.strip().strip("'\"") for n in names.group("names").split(",")}
        return (namespace in listed) == (names.group("op") == "in")
    equals = _EQUALS.match(selector)
    if equals:
        return equals.group("value") == client or (
            equals.group("key") == "projectcalico.org/namespace" and equals.group("value") == namespace
        )
    return True


def _in(ip: str, nets: list[Any]) -> bool:
    address = ipaddress.ip_address(ip)
    for net in nets:
        try:
            if address in ipaddress.ip_network(str(net), strict=False):
                return True
        except ValueError:
            continue
    return False


def _first_action(policy: ResourceFact, ip: str, port: int, client: str, namespace: str | None) -> str | None:
    spec = _d(policy.raw.get("spec"))
    if not _selects(str(spec.get("selector", "all()")), client, namespace, policy):
        return None
    for rule in map(_d, _l(spec.get("egress"))):
        destination = _d(rule.get("destination"))
        nets, not_nets = _l(destination.get("nets")), _l(destination.get("notNets"))
        ports = [int(p) for p in _l(destination.get("ports")) if str(p).isdigit()]
        if nets and not _in(ip, nets):
            continue
        if not_nets and _in(ip, not_nets):
            continue
        if ports and port not in ports:
            continue
        if rule.get("action") in ("Allow", "Deny"):
            return str(rule["action"])
    return None
