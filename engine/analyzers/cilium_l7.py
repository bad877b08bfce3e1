"""Requests a Cilium L7 (HTTP) rule does not allow: Cilium's Envoy proxy answers them 403 "Access denied".

Once a CiliumNetworkPolicy port carries ``rules: http:``, only requests matching one of its method/path entries
(regular expressions, anchored to the whole method and path) pass; every other request on that port is refused
by the proxy with ``403 Access denied`` (Hubble: ``http-request DROPPED``), although L3/L4 connectivity and the
application are fine. A new endpoint or method (a POST search next to GET reads) needs its own entry.
"""
# ruff: noqa: E501  (user-facing messages read better unwrapped)

from __future__ import annotations

import re
from typing import Any

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import rec
from engine.facts import Observations, ResourceFact
from engine.findings import Finding

_HUBBLE_DROP = re.compile(
    r"->\s+(?:[\w.-]+/)?(?P<dest>[a-z0-9][\w.-]*?)(?::\d+)?\s[^\n]*?http-request DROPPED \(HTTP/[\d.]+ (?P<method>[A-Z]+) (?:https?://[^/\s]+)?(?P<path>/[^\s)]*)\)"
)
_CURL_REQUEST = re.compile(r"^\s*>\s+(?P<method>[A-Z]+)\s+(?P<path>/\S*)\s+HTTP/")
_CURL_HOST = re.compile(r"^\s*>\s+Host:\s+(?P<host>[a-z0-9][\w.-]*)", re.IGNORECASE)
_DENIED = re.compile(r"^\s*(?:<\s+HTTP/[\d.]+ 403\b|Access denied\s*$)")
_POLICY_KINDS = ("CiliumNetworkPolicy", "CiliumClusterwideNetworkPolicy")


def _d(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _l(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    policies = [r for r in obs.resources if r.kind in _POLICY_KINDS and _http_rules(r)]
    if not policies:
        return []
    findings: list[Finding] = []
    seen: set[tuple[str, str, str]] = set()
    for dest, method, path, cite in _refused_requests(obs):
        for policy in policies:
            if not _selects(policy, dest):
                continue
            rules = _http_rules(policy)
            if any(_allows(rule, method, path) for rule in rules):
                continue
            key = (policy.name, method, path)
            if key in seen:
                continue
            seen.add(key)
            target = _selected(policy) or dest
            allowed = "; ".join(f"{r.get('method', 'any method')} {r.get('path', 'any path')}" for r in rules)
            only = sorted({str(r.get("method")) for r in rules if r.get("method")})
            methods = f" (it only allows {', '.join(only)})" if len(only) == 1 and method not in only else ""
            findings.append(
                Finding(
                    kind="cilium_l7_request_denied",
                    subject=f"ciliumnetworkpolicy/{policy.name}",
                    role="cause",
                    title=f"{target}: {policy.kind} {policy.name} has an HTTP (L7) rule on the port, and {method} {path} matches none of its entries ({allowed}){methods}, so Cilium's proxy refuses it with 403 Access denied before it reaches {target}",
                    weight=93,
                    evidence=[cite, policy.quote("method", fallback=f"{policy.kind} {policy.name}: rules.http")],
                    workload=target,
                    recommendations=[
                        rec(
                            "high",
                            f"Add an http entry for {method} {path} (method: {method}, path: a regex covering it) to {policy.kind} {policy.name}",
                        )
                    ],
                    affected=[target, policy.name],
                )
            )
    return findings


def _http_rules(policy: ResourceFact) -> list[dict[str, Any]]:
    spec = _d(policy.raw.get("spec"))
    return [
        _d(entry)
        for rule in _l(spec.get("ingress"))
        for to_port in _l(_d(rule).get("toPorts"))
        for entry in _l(_d(_d(to_port).get("rules")).get("http"))
    ]


def _selected(policy: ResourceFact) -> str | None:
    labels = _d(_d(_d(policy.raw.get("spec")).get("endpointSelector")).get("matchLabels"))
    return next((str(labels[k]) for k in ("app", "app.kubernetes.io/name", "k8s-app", "name") if k in labels), None)


def _selects(policy: ResourceFact, dest: str) -> bool:
    target = _selected(policy)
    return target is None or dest == target or dest.startswith((f"{target}-", f"{target}."))


def _allows(rule: dict[str, Any], method: str, path: str) -> bool:
    try:
        method_ok = re.fullmatch(str(rule.get("method") or ".*"), method) is not None
        path_ok = re.fullmatch(str(rule.get("path") or ".*"), path.split("?", 1)[0]) is not None
    except re.error:
        return True  # a pattern we cannot read: never claim it refuses
    return method_ok and path_ok


def _refused_requests(obs: Observations) -> list[tuple[str, str, str, str]]:
    """(destination, method, path, evidence) of requests Hubble saw dropped or curl saw refused with 403."""
    found: list[tuple[str, str, str, str]] = []
    for label, lines in [(t.label, t.lines) for t in obs.texts] + [(d.label, d.lines) for d in obs.logs]:
        request: tuple[str, str] | None = None
        host = ""
        for line in lines[:20000]:
            drop = _HUBBLE_DROP.search(line)
            if drop:
                found.append(
                    (drop.group("dest"), drop.group("method"), drop.group("path"), f"{label} {line.strip()[:300]}")
                )
                continue
            sent = _CURL_REQUEST.match(line)
            if sent:
                request, host = (sent.group("method"), sent.group("path")), ""
                continue
            named = _CURL_HOST.match(line)
            if named:
                host = named.group("host")
                continue
            if request and host and _DENIED.match(line):
                found.append((host.split(".")[0], request[0], request[1], f"{label} {line.strip()}"))
                request = None
    return found
