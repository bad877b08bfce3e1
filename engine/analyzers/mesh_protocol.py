"""Istio sending HTTP/1.1 to a gRPC (HTTP/2) server because the Service port is named ``http-*``.

Istio selects a port's protocol from ``appProtocol`` or the port name's prefix (``grpc-``, ``http2-``, ``http-``,
...; istio.io/latest/docs/ops/configuration/traffic-management/protocol-selection/). A gRPC server behind a port
named ``http-api`` is proxied as HTTP/1.1: the sidecar opens HTTP/1.1 connections to it, the gRPC server rejects
them (grpc-go: "received bogus greeting from client"), and callers see ``upstream connect error or
disconnect/reset before headers``.
"""
# ruff: noqa: E501  (user-facing messages read better unwrapped)

from __future__ import annotations

import re
from collections.abc import Iterator

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import rec
from engine.analyzers.datastore_text import text_lines
from engine.analyzers.log_signatures import doc_source
from engine.facts import Observations
from engine.findings import Finding, workload_of
from engine.parsers.common import excerpt

_BOGUS = re.compile(
    r"received bogus greeting from client|http2: server: error reading preface|client preface|PRI \* HTTP/2\.0",
    re.IGNORECASE,
)
_HTTP1 = re.compile(r"^http(?:$|-(?!2))|^http1")
_ISTIOCTL_PORT = re.compile(r"^\s*Port:\s+(?P<name>[\w-]+) (?P<port>\d+)/(?P<proto>[A-Z0-9]+)\b")
_NAME = re.compile(r"^\s*-?\s*name:\s*(?P<name>[\w-]+)\s*$")
_PORT = re.compile(r"^\s*-?\s*port:\s*(?P<port>\d+)\s*$")


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    refused = next(((doc, line) for doc in obs.logs for line in doc.lines[:20000] if _BOGUS.search(line)), None)
    if refused is None:
        return []
    server = doc_source(refused[0], ctx) or ctx.service or ""
    for name, port, cite in _ports(obs):
        if not _HTTP1.match(name):
            continue
        return [
            Finding(
                kind="mesh_port_protocol_http1",
                subject=f"service/{workload_of(server) or name}",
                role="cause",
                title=(
                    f"{workload_of(server) or 'the server'}: its Service port {port} is named {name}, so Istio's protocol selection treats it as HTTP/1.1 and the "
                    f"sidecars forward the gRPC (HTTP/2) calls as HTTP/1.1, which the gRPC server rejects ('bogus greeting'); callers see upstream resets"
                ),
                weight=94,
                evidence=[cite, f"{refused[0].label} {excerpt(refused[1].strip(), around='bogus')}"],
                workload=workload_of(server) or None,
                recommendations=[
                    rec(
                        "high",
                        f"Rename the Service port {name} to grpc-... (or set appProtocol: grpc) so the mesh proxies it as HTTP/2",
                    )
                ],
                affected=[workload_of(server)] if server else [],
            )
        ]
    return []


def _ports(obs: Observations) -> Iterator[tuple[str, str, str]]:
    """(port name, port, evidence) of Service ports as objects, ``istioctl x describe`` or a printed ports list."""
    for svc in obs.resources:
        spec = svc.raw.get("spec") if svc.kind == "Service" else None
        for port in (spec or {}).get("ports") or [] if isinstance(spec, dict) else []:
            if isinstance(port, dict) and port.get("name") and port.get("appProtocol") in (None, "http"):
                yield str(port["name"]), str(port.get("port", "")), svc.quote(str(port["name"]))
    lines = list(text_lines(obs))
    for index, (label, line) in enumerate(lines):
        match = _ISTIOCTL_PORT.match(line)
        if match and match.group("proto") == "HTTP":
            yield match.group("name"), match.group("port"), f"{label} {line.strip()}"
        named = _NAME.match(line)
        if named:
            following = next((m for _, ln in lines[index + 1 : index + 4] if (m := _PORT.match(ln))), None)
            if following:
                yield named.group("name"), following.group("port"), f"{label} {line.strip()}"
