"""A native sidecar listed after the init container that needs it.

Since Kubernetes 1.29 an init container with ``restartPolicy: Always`` is a sidecar: it starts in its place in
``initContainers`` and keeps running. Init containers still start strictly in order, each one only after the
previous one completed (a sidecar: after it started). A regular init container (a migration) listed *before* the
sidecar it talks to (a Cloud SQL / database proxy, a mesh proxy, a Vault agent) runs while the sidecar has not
started: it gets "connection refused" on localhost and crash-loops, and the sidecar waits in PodInitializing
forever. The sidecar has to come first in the list.
"""
# ruff: noqa: E501  (user-facing messages read better unwrapped)

from __future__ import annotations

import re
from dataclasses import dataclass

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import rec, text_docs, workload_name
from engine.facts import Observations, PodFact
from engine.findings import Finding
from engine.parsers.common import excerpt


@dataclass
class _Init:
    name: str
    sidecar: bool
    line: str


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    for doc in text_docs(obs):
        order = _describe_order(doc.lines) or _yaml_order(doc.lines)
        if not order:
            continue
        for i, sidecar in enumerate(order):
            if not sidecar.sidecar:
                continue
            for before in order[:i]:
                if before.sidecar:
                    continue
                pod = _failing(before.name, obs)
                if pod is None:
                    continue
                return [_finding(pod, before, sidecar, doc.label)]
    return []


def _failing(name: str, obs: Observations) -> PodFact | None:
    for pod in obs.pods:
        for c in pod.containers:
            if (
                c.init
                and c.name == name
                and (
                    c.reason in ("CrashLoopBackOff", "Error") or (c.last_exit_code or 0) != 0 or (c.exit_code or 0) != 0
                )
            ):
                return pod
    return None


def _finding(pod: PodFact, before: _Init, sidecar: _Init, label: str) -> Finding:
    workload = workload_name(pod)
    return Finding(
        kind="sidecar_after_init",
        subject=f"{workload}:sidecar_after_init",
        role="cause",
        title=(
            f"{workload}: init container {before.name} is listed before the native sidecar {sidecar.name} (restartPolicy: Always) in initContainers; "
            f"init containers start in order, so {sidecar.name} only starts after {before.name} completes, while {before.name} fails without it (nothing serves what the sidecar provides yet) and crash-loops"
        ),
        weight=93,
        evidence=[f"{label} {excerpt(before.line.strip())}", f"{label} {excerpt(sidecar.line.strip())}"],
        workload=workload,
        affected=[workload, pod.name],
        related=[sidecar.name],
        recommendations=[
            rec(
                "high",
                f"Declare {sidecar.name} first in initContainers (before {before.name}), ideally with a startupProbe so {before.name} starts only once the sidecar is ready",
            ),
        ],
    )


def _describe_order(lines: list[str]) -> list[_Init]:
    """Init containers of a ``kubectl describe pod`` in order; a sidecar prints ``Restart Policy: Always``."""
    start = next((i for i, line in enumerate(lines) if re.match(r"^\s*Init Containers:\s*$", line)), None)
    if start is None:
        return []
    base = len(lines[start]) - len(lines[start].lstrip())
    found: list[_Init] = []
    child: int | None = None
    for line in lines[start + 1 :]:
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip())
        if indent <= base:
            break
        head = re.match(r"^(\s*)([a-z0-9][\w.-]*):\s*$", line)
        if head and (child is None or indent == child):
            child = indent
            found.append(_Init(head.group(2), False, line))
        elif found and re.match(r"^\s*Restart Policy:\s*Always\b", line):
            found[-1].sidecar = True
    return found


def _yaml_order(lines: list[str]) -> list[_Init]:
    """``initContainers:`` items in order from YAML or a unified diff's new side; ``restartPolicy: Always`` marks a sidecar."""
    found: list[_Init] = []
    base: int | None = None
    item: int | None = None
    diff = any(line.startswith(("@@", "+++ ")) for line in lines)
    for raw in lines:
        if diff and raw.startswith(("-", "@@", "+++")):
            continue  # a diff's removed line or header
        line = raw[1:] if diff else raw
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip())
        if base is None:
            if re.match(r"^\s*\"?initContainers\"?\s*:\s*$", line):
                base = indent
            continue
        if indent <= base and not line.lstrip().startswith("- "):
            break
        name = re.match(r"^(\s*)-\s+\"?name\"?\s*:\s*\"?([a-z0-9][\w.-]*)", line)
        if name and (item is None or indent == item):
            item = indent
            found.append(_Init(name.group(2), False, raw))
        elif found and re.match(r"^\s*\"?restartPolicy\"?\s*:\s*\"?Always\b", line):
            found[-1].sidecar = True
    return found
