"""A NetworkPolicy that shuts Prometheus out of the metrics port: TargetDown while the app serves traffic.

Once a NetworkPolicy selects a pod for Ingress, only what its rules allow gets in. Charts often allow the ingress
controller on the serving port (8080) and forget the scrape: Prometheus runs in another namespace (``monitoring``)
and scrapes another port (9090 / ``metrics``), so its connections are dropped and every scrape ends with ``context
deadline exceeded`` (a drop, not a refusal). All targets of the job go down at once while user traffic is fine.
The fix is an ingress rule from the monitoring namespace (or the Prometheus pods) to the metrics port.
"""
# ruff: noqa: E501  (messages read better unwrapped)

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import rec
from engine.analyzers.network_peers import network_policies
from engine.facts import Observations
from engine.findings import Finding
from engine.parsers.common import excerpt

# Prometheus's /api/v1/targets, flattened: data.activeTargets[3].scrapeUrl: http://10.1.2.3:9090/metrics
_FIELD = re.compile(
    r"activeTargets\[(?P<i>\d+)\]\.(?P<key>labels\.job|labels\.pod|labels\.namespace|scrapeUrl|lastError|health):\s*(?P<value>.*)$"
)
_DROPPED = re.compile(r"context deadline exceeded|i/o timeout|connection timed out|Client\.Timeout", re.IGNORECASE)
_PORT = re.compile(r"^\w+://[^/:]+:(?P<port>\d+)")
_SCRAPER_NS = re.compile(r"monitor|prometheus|observab|metrics", re.IGNORECASE)


@dataclass
class _Target:
    job: str = ""
    pod: str = ""
    namespace: str = ""
    url: str = ""
    error: str = ""
    health: str = ""
    cite: str = ""


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    down = [t for t in _targets(obs) if t.health == "down" and _DROPPED.search(t.error) and _PORT.match(t.url)]
    if not down:
        return []
    policies = network_policies(obs)
    for target in down:
        port = int(_PORT.match(target.url).group("port"))  # type: ignore[union-attr]
        isolating = [
            policy
            for policy in policies
            if not (target.namespace and policy.namespace and policy.namespace != target.namespace)
            and _selects(policy.raw.get("spec") or {}, target)
            and _ingress_isolated(policy.raw.get("spec") or {})
        ]
        # policies add up: one of them admitting the scrape (e.g. a separate allow-prometheus policy) lets it in
        if any(_admits(rule, port) for policy in isolating for rule in _ingress_rules(policy.raw)):
            continue
        for policy in isolating:
            rules = _ingress_rules(policy.raw)
            allowed = sorted({str(p.get("port")) for r in rules for p in r.get("ports") or [] if isinstance(p, dict)})
            only = f" (it allows port {', '.join(allowed)} only)" if allowed else ""
            return [
                Finding(
                    kind="netpol_blocks_scrape",
                    subject=f"networkpolicy/{policy.name}",
                    role="cause",
                    title=f"{target.job}: NetworkPolicy {policy.name} selects {target.job}'s pods and admits no traffic from the monitoring namespace to the metrics port {port}{only}, so Prometheus's scrapes are dropped ({target.error.split(': ')[-1][:60]}) and the targets are down while the app serves traffic",
                    weight=92,
                    evidence=[target.cite, policy.quote("podSelector", fallback=f"NetworkPolicy {policy.name}")],
                    workload=target.job,
                    related=[policy.name, *([target.pod] if target.pod else [])],
                    affected=[target.job],
                    recommendations=[
                        rec(
                            "high",
                            f"Add an ingress rule to NetworkPolicy {policy.name} from the monitoring namespace (namespaceSelector kubernetes.io/metadata.name: monitoring, or the Prometheus pods) to port {port}",
                        )
                    ],
                )
            ]
    return []


def _ingress_rules(raw: dict[str, Any]) -> list[dict[str, Any]]:
    return [rule for rule in (raw.get("spec") or {}).get("ingress") or [] if isinstance(rule, dict)]


def _targets(obs: Observations) -> list[_Target]:
    found: dict[tuple[str, str], _Target] = {}
    for doc in obs.logs:
        for line in doc.lines[:5000]:
            match = _FIELD.search(line)
            if match is None:
                continue
            target = found.setdefault((doc.label, match.group("i")), _Target())
            value = match.group("value").strip().strip('"')
            key = match.group("key").rsplit(".", 1)[-1]
            if key == "scrapeUrl":
                target.url = value
            elif key == "lastError":
                target.error = value
                target.cite = f"{doc.label} {excerpt(line.strip())}"
            else:
                setattr(target, key, value)
    return list(found.values())


def _labels(selector: Any) -> dict[str, str]:
    labels = selector.get("matchLabels") if isinstance(selector, dict) else None
    return {str(k): str(v) for k, v in labels.items()} if isinstance(labels, dict) else {}


def _selects(spec: dict[str, Any], target: _Target) -> bool:
    values = set(_labels(spec.get("podSelector")).values())
    return bool(values) and any(v == target.job or (target.pod and target.pod.startswith(v + "-")) for v in values)


def _ingress_isolated(spec: dict[str, Any]) -> bool:
    types = spec.get("policyTypes")
    return "Ingress" in types if isinstance(types, list) else "ingress" in spec or not spec.get("egress")


def _admits(rule: dict[str, Any], port: int) -> bool:
    ports = [p for p in rule.get("ports") or [] if isinstance(p, dict)]
    if ports and not any(str(p.get("port")) in (str(port), "None") or _in_range(p, port) for p in ports):
        return False
    peers = [p for p in rule.get("from") or [] if isinstance(p, dict)]
    if not peers:
        return True
    for peer in peers:
        if "ipBlock" in peer:
            return True
        ns = peer.get("namespaceSelector")
        if isinstance(ns, dict) and (not ns or any(_SCRAPER_NS.search(v) for v in _labels(ns).values())):
            return True
    return False


def _in_range(port: dict[str, Any], number: int) -> bool:
    start, end = port.get("port"), port.get("endPort")
    return isinstance(start, int) and isinstance(end, int) and start <= number <= end
