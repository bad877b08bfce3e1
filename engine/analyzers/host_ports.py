"""Host ports: which of the pasted objects already binds the hostPort a pending pod asks for.

The scheduler's NodePorts filter only says "node(s) didn't have free ports for the requested pod ports"; the
object holding the port on those nodes (another DaemonSet, a second release of the same chart) is what an SRE
names. A port line is attributed to the object its command line names (``kubectl -n datadog get ds
datadog-agent -o jsonpath=...``) or to the API object it was read from; lines about the pending workload
itself are what it requests.
"""
# ruff: noqa: E501  (patterns and messages read better unwrapped)

from __future__ import annotations

import re
from dataclasses import dataclass

from engine.facts import Observations
from engine.findings import workload_of
from engine.parsers.command_line import command_object
from engine.parsers.common import excerpt

_HOST_PORT = re.compile(r"\"?hostPort\"?\s*[:=]\s*(\d+)|Host Ports?:\s+(\d+)(?:/\w+)?", re.IGNORECASE)
_NAMESPACE = re.compile(r"(?:-n|--namespace)[\s=]([a-z0-9][a-z0-9-]*)")


@dataclass(frozen=True)
class PortClaim:
    port: str
    holder: str  # "DaemonSet datadog-agent (namespace datadog)", or "" for the pending workload itself
    cite: str


def _ports(line: str) -> list[str]:
    described = re.match(r"\s*Host Ports?:\s+(.*)", line, re.IGNORECASE)  # "Host Ports:  4317/TCP, 4318/TCP, 0/TCP"
    if described:
        return [p for p in re.findall(r"(\d+)(?:/\w+)?", described.group(1)) if p != "0"]
    return [m.group(1) or m.group(2) for m in _HOST_PORT.finditer(line) if (m.group(1) or m.group(2)) != "0"]


def _is_subject(name: str, workload: str) -> bool:
    return name == workload or workload_of(name) == workload or name.startswith(f"{workload}-")


def claims(obs: Observations, workload: str) -> list[PortClaim]:
    """Every hostPort line read, attributed to the pending workload ("") or to the other object that binds it."""
    found: list[PortClaim] = []
    # a filtered print (``get pod x -o yaml | yq .spec.containers[0].ports``) may be read as a log, not an object
    printed = [(t.label, t.command, t.lines) for t in obs.texts] + [(d.label, d.command, d.lines) for d in obs.logs]
    for label, command, lines in printed:
        named = command_object(command) if command else None
        namespace = _NAMESPACE.search(command or "")
        holder = ""
        if named and not _is_subject(named[1], workload):
            holder = f"{named[0]} {named[1]}" + (f" (namespace {namespace.group(1)})" if namespace else "")
        for line in lines:
            for port in _ports(line):
                found.append(PortClaim(port, holder, f"{label} {excerpt(line.strip(), around='ort')}"))
    for resource in obs.resources:
        if _is_subject(resource.name, workload):
            continue
        where = f" (namespace {resource.namespace})" if resource.namespace else ""
        for line in resource.lines:
            for port in _ports(line):
                claim = PortClaim(port, f"{resource.kind} {resource.name}{where}", f"{resource.label} {line.strip()}")
                if claim not in found:
                    found.append(claim)
    return found


def taken_by(obs: Observations, workload: str) -> tuple[list[str], list[PortClaim]]:
    """The hostPorts the workload asks for, and the other objects' claims on the same ports (every hostPort
    any other object binds when the workload's own ports were not printed)."""
    found = claims(obs, workload)
    wanted = sorted({c.port for c in found if not c.holder}, key=int)
    others = [c for c in found if c.holder and (not wanted or c.port in wanted)]
    return wanted, others


def held_elsewhere(obs: Observations, workload: str, evidence: list[str]) -> str | None:
    """Why the scheduler finds no free host port, naming the object that binds it; None when none was pasted."""
    _, others = taken_by(obs, workload)
    if not others:
        return None
    evidence.extend(c.cite for c in others[:2])
    ports = ", ".join(dict.fromkeys(c.port for c in others))  # the ports it asks for that another object binds
    holders = ", ".join(dict.fromkeys(c.holder for c in others))
    return f"its hostPort {ports} is already bound on those nodes by {holders} (only one pod per node can bind a host port)"
