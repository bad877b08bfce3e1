"""A Gateway API route whose parentRef names a listener (sectionName) the Gateway does not have.

``parentRefs[].sectionName`` must equal a listener's ``name`` on the Gateway
(gateway-api.sigs.k8s.io/reference/spec/#parentreference); otherwise the route attaches nowhere (condition
``Accepted False``, reason ``NoMatchingParent``) and the gateway answers 404 for its hostnames.
"""
# ruff: noqa: E501  (user-facing messages read better unwrapped)

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import rec
from engine.facts import Observations
from engine.findings import Finding

_ROUTES = ("HTTPRoute", "GRPCRoute", "TLSRoute", "TCPRoute")


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    del ctx
    listeners: dict[str, list[str]] = {}
    for gw in obs.resources:
        if gw.kind == "Gateway" and isinstance(gw.raw.get("spec"), dict):
            names = [str(item.get("name")) for item in gw.raw["spec"].get("listeners") or [] if isinstance(item, dict)]
            listeners[gw.name] = names
            listeners[f"{gw.namespace}/{gw.name}"] = names
    if not listeners:
        return []
    for route, namespace, gateway, gw_namespace, section, cite in _parent_refs(obs):
        names = listeners.get(f"{gw_namespace or namespace}/{gateway}") or listeners.get(gateway) or []
        if not names or not section or section in names:
            continue
        return [
            Finding(
                kind="route_section_name_mismatch",
                subject=f"httproute/{route}",
                role="cause",
                title=(
                    f"the route {route} attaches to listener '{section}' (parentRefs sectionName) of Gateway {gateway}, which has no listener of that name "
                    f"(its listeners: {', '.join(names)}), so the route is not accepted (NoMatchingParent) and the gateway answers 404 for its hostnames"
                ),
                weight=92,
                evidence=[cite],
                workload=route,
                recommendations=[
                    rec(
                        "high",
                        f"Set sectionName of {route}'s parentRef to one of {', '.join(names)} (or drop sectionName to attach to every listener that allows it)",
                    )
                ],
                affected=[route],
            )
        ]
    return []


def _parent_refs(obs: Observations) -> Iterator[tuple[str, str, str, str, str, str]]:
    """(route, its namespace, gateway, gateway namespace, sectionName, evidence) from route objects and describes."""
    for route in obs.resources:
        if route.kind not in _ROUTES:
            continue
        raw = route.raw.get("spec")
        spec: dict[str, Any] = raw if isinstance(raw, dict) else {}
        for parent in spec.get("parentRefs") or []:
            if isinstance(parent, dict) and parent.get("sectionName"):
                yield (
                    route.name,
                    route.namespace or "",
                    str(parent.get("name")),
                    str(parent.get("namespace") or ""),
                    str(parent["sectionName"]),
                    route.quote("sectionName"),
                )
    for text in obs.texts:
        name = namespace = ""
        in_refs = False
        ref: dict[str, str] = {}
        for line in text.lines:
            stripped = line.strip()
            key, _, value = stripped.partition(":")
            if not line.startswith(" ") and key in ("Name", "Namespace"):
                name, namespace = (value.strip(), namespace) if key == "Name" else (name, value.strip())
                continue
            if stripped in ("Parent Refs:", "Parent Ref:"):
                in_refs, ref = True, {}
                continue
            if in_refs and key in ("Group", "Kind", "Name", "Namespace", "Section Name", "Port"):
                ref[key] = value.strip()
                if key == "Section Name" and name and ref.get("Name"):
                    yield (name, namespace, ref["Name"], ref.get("Namespace", ""), ref[key], f"{text.label} {stripped}")
                continue
            in_refs = False
