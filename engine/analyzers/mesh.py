"""Istio service-mesh policies behind connection errors, after istio.io's documentation.

- PeerAuthentication ``STRICT``: the server's sidecar accepts only mutual TLS. A client without a sidecar (its
  namespace lacks ``istio-injection=enabled``) sends plaintext; the server's proxy has no filter chain for it
  (``NR filter_chain_not_found`` in its access log) and the client sees "connection reset by peer".
- Envoy's ``reset reason: overflow`` (a 503 "upstream connect error or disconnect/reset before headers"): the
  circuit breaker of the upstream cluster tripped, i.e. a DestinationRule's ``connectionPool`` limits
  (``http1MaxPendingRequests``, ``http2MaxRequests``, ``maxConnections``) are reached.
- A VirtualService route to a ``subset`` that no DestinationRule for that host defines (istioctl analyze
  IST0101 "Referenced host+subset in destinationrule not found"): Envoy has no cluster for it, so that route's
  share of the requests fails with 503 ``NC`` (``cluster_not_found``).
- ``istioctl analyze`` errors name the object and the problem themselves.
"""
# ruff: noqa: E501  (patterns and messages read better unwrapped)

from __future__ import annotations

import re
from typing import Any

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import rec
from engine.facts import Observations
from engine.findings import Finding
from engine.parsers.common import excerpt

_RESET = re.compile(
    r"connection reset by peer|ECONNRESET|filter_chain_not_found|upstream connect error[^\n]*reset reason: connection termination",
    re.IGNORECASE,
)
_OVERFLOW = re.compile(
    r"reset reason: overflow|\bUO\b upstream_reset_before_response_started\{overflow\}|upstream_rq_pending_overflow",
    re.IGNORECASE,
)
_POOL_LIMITS = (
    "http1MaxPendingRequests",
    "http2MaxRequests",
    "maxConnections",
    "maxRequestsPerConnection",
    "maxPendingRequests",
)


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    return _strict_mtls(obs) + _pool_overflow(obs) + (_missing_subsets(obs) or _analyze_errors(obs))


def _log_lines(obs: Observations) -> list[tuple[str, str]]:
    return [(doc.label, line) for doc in obs.logs for line in doc.lines[:20_000]]


def _strict_mtls(obs: Observations) -> list[Finding]:
    strict: tuple[str, str] | None = None  # (policy, cite)
    for resource in obs.resources:
        mode = str(_get(resource.raw, "spec", "mtls", "mode") or _get(resource.raw, "row", "MODE") or "")
        if resource.kind == "PeerAuthentication" and mode.upper() == "STRICT":
            strict = (
                f"{resource.namespace + '/' if resource.namespace else ''}{resource.name}",
                resource.quote("STRICT"),
            )
    for text in obs.texts:
        if strict is None and "peerauthentication" in text.command.lower():
            row = next((line for line in text.lines if re.search(r"\bSTRICT\b", line)), None)
            if row:
                parts = row.split()
                name = "/".join(parts[:2]) if len(parts) >= 3 and parts[2] == "STRICT" else parts[0]
                strict = (name, f"{text.label} {row.strip()}")
    if strict is None:
        return []
    reset = next(((label, line) for label, line in _log_lines(obs) if _RESET.search(line)), None)
    if reset is None:
        return []
    unmeshed = [
        r.name
        for r in obs.resources
        if r.kind == "Namespace"
        and "istio-injection=enabled" not in str(_get(r.raw, "row", "LABELS") or "")
        and "istio.io/rev" not in str(_get(r.raw, "row", "LABELS") or "")
        and _get(r.raw, "row", "LABELS") is not None
    ]
    proxy = next(((label, line) for label, line in _log_lines(obs) if "filter_chain_not_found" in line), None)
    client = (
        f" from namespace {', '.join(unmeshed)}, which has no istio-injection label and so no sidecar"
        if unmeshed
        else " from a workload without an Istio sidecar"
    )
    evidence = [strict[1], f"{reset[0]} {excerpt(reset[1].strip())}"]
    if proxy and proxy != reset:
        evidence.append(f"{proxy[0]} {excerpt(proxy[1].strip())}")
    return [
        Finding(
            kind="mtls_strict_plaintext_client",
            subject=f"peerauthentication/{strict[0]}",
            role="cause",
            title=f"PeerAuthentication {strict[0]} enforces STRICT mutual TLS, so the server's sidecar accepts only mTLS; the plaintext call{client} is rejected (filter_chain_not_found) and the client sees connection reset by peer",
            weight=90,
            evidence=evidence,
            workload=unmeshed[0] if unmeshed else None,
            related=unmeshed,
            recommendations=[
                rec(
                    "high",
                    f"Give the client a sidecar (label namespace {unmeshed[0] if unmeshed else '<client-ns>'} istio-injection=enabled and restart it), or allow plaintext for that port with a PERMISSIVE PeerAuthentication on the server",
                ),
            ],
            affected=unmeshed,
        )
    ]


def _pool_overflow(obs: Observations) -> list[Finding]:
    overflow = next(((label, line) for label, line in _log_lines(obs) if _OVERFLOW.search(line)), None)
    if overflow is None:
        return []
    rules = [
        r
        for r in obs.resources
        if r.kind == "DestinationRule" and _get(r.raw, "spec", "trafficPolicy", "connectionPool")
    ]
    if not rules:
        return []
    rule = rules[0]
    pool = _get(rule.raw, "spec", "trafficPolicy", "connectionPool") or {}
    limits = [
        f"{key} {value}"
        for section in pool.values()
        if isinstance(section, dict)
        for key, value in section.items()
        if key in _POOL_LIMITS
    ]
    host = str(_get(rule.raw, "spec", "host") or rule.name)
    return [
        Finding(
            kind="mesh_pool_overflow",
            subject=f"destinationrule/{rule.name}",
            role="cause",
            title=f"The circuit breaker for {host} is tripping (Envoy 'reset reason: overflow' → 503): DestinationRule {rule.name} limits its connection pool ({', '.join(limits) or 'connectionPool'}), and requests beyond those limits are rejected instead of queued",
            weight=88,
            evidence=[
                f"{overflow[0]} {excerpt(overflow[1].strip())}",
                rule.quote("connectionPool", fallback=f"DestinationRule {rule.name} connectionPool"),
            ],
            workload=host.split(".")[0],
            related=[host.split(".")[0]],
            recommendations=[
                rec(
                    "high",
                    f"Raise the connectionPool limits of DestinationRule {rule.name} to the traffic {host} really gets (or scale {host.split('.')[0]}), then watch upstream_rq_pending_overflow",
                ),
            ],
            affected=[host.split(".")[0]],
        )
    ]


def _get(data: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def _short(host: str) -> str:
    return host.split(".")[0]


def _missing_subsets(obs: Observations) -> list[Finding]:
    defined: dict[str, tuple[set[str], str]] = {}  # short host -> (subset names, DestinationRule)
    for rule in (r for r in obs.resources if r.kind == "DestinationRule"):
        host = _short(str(_get(rule.raw, "spec", "host") or ""))
        subsets = {str(s.get("name")) for s in _get(rule.raw, "spec", "subsets") or [] if isinstance(s, dict)}
        known = defined.get(host, (set(), rule.name))
        defined[host] = (known[0] | subsets, known[1])
    findings: list[Finding] = []
    for service in (r for r in obs.resources if r.kind == "VirtualService"):
        for route in _get(service.raw, "spec", "http") or []:
            for entry in (route.get("route") or []) if isinstance(route, dict) else []:
                destination = entry.get("destination") if isinstance(entry, dict) else None
                if not isinstance(destination, dict) or not destination.get("subset"):
                    continue
                host, subset = _short(str(destination.get("host", ""))), str(destination["subset"])
                if host not in defined or subset in defined[host][0]:
                    continue
                subsets, rule_name = defined[host]
                weight = f" (weight {entry['weight']})" if isinstance(entry, dict) and entry.get("weight") else ""
                nc = next(
                    (
                        f"{label} {excerpt(line.strip())}"
                        for label, line in _log_lines(obs)
                        if re.search(r"\bNC\b|cluster_not_found", line)
                    ),
                    "",
                )
                findings.append(
                    Finding(
                        kind="mesh_subset_missing",
                        subject=f"virtualservice/{service.name}",
                        role="cause",
                        title=f"{host}: VirtualService {service.name} routes{weight} to subset {subset} of {host}, but DestinationRule {rule_name} defines only subset {', '.join(sorted(subsets)) or 'none'}, so Envoy has no cluster for it and that share of the requests fails with 503 NC (cluster_not_found)",
                        weight=90,
                        evidence=[e for e in (service.quote(subset), nc) if e],
                        workload=host,
                        recommendations=[
                            rec(
                                "high",
                                f"Add subset {subset} (with the pods' version label) to DestinationRule {rule_name}, or route only to the defined subsets",
                            )
                        ],
                        affected=[host],
                        related=[service.name, rule_name],
                    )
                )
    return findings


_ANALYZE_ERROR = re.compile(
    r"^\s*Error \[(?P<code>IST\d{4})\] \((?P<kind>\w+) (?:(?P<ns>[\w-]+)/)?(?P<name>[\w.-]+)[^)]*\) (?P<message>.+)$"
)


def _analyze_errors(obs: Observations) -> list[Finding]:
    """``istioctl analyze``: ``Error [IST0101] (VirtualService shop/catalog) Referenced host+subset ... not found``."""
    sources = [(t.label, t.lines) for t in obs.texts] + [(d.label, d.lines) for d in obs.logs]
    for label, lines in sources:
        for line in lines[:5000]:
            match = _ANALYZE_ERROR.match(line)
            if match is None:
                continue
            name, kind, message = match.group("name"), match.group("kind"), match.group("message").strip()
            return [
                Finding(
                    kind="istio_analyze_error",
                    subject=f"{kind.lower()}/{name}",
                    role="cause",
                    title=f"{name}: istioctl analyze reports {match.group('code')} on {kind} {name}: {message[:240]}",
                    weight=86,
                    evidence=[f"{label} {excerpt(line.strip())}"],
                    workload=name,
                    recommendations=[
                        rec(
                            "high",
                            f"Fix {kind} {name}: {message[:160]} (istio.io/latest/docs/reference/config/analysis/{match.group('code').lower()}/)",
                        )
                    ],
                    affected=[name],
                )
            ]
    return []
