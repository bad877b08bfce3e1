"""A Service's targetPort against its workload's containerPort, when both are printed by ``-o jsonpath``.

``kubectl get svc x -o jsonpath='{.spec.ports}'`` and ``kubectl get deploy x -o jsonpath='{...containers[0].ports}'``
print bare JSON arrays that are no Kubernetes object, so the object analyzers never see them. A Service forwards
to ``targetPort`` on its pods (kubernetes.io/docs/concepts/services-networking/service/#defining-a-service); a
number that no container of the workload of the same name declares is where connections are refused or reset.
"""
# ruff: noqa: E501  (user-facing messages read better unwrapped)

from __future__ import annotations

import json
import re
from typing import Any

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import rec
from engine.facts import Observations
from engine.findings import Finding

_GET = re.compile(
    r"\bget\s+(?P<kind>svc|services?|deploy(?:ments?)?|sts|statefulsets?|ds|daemonsets?|po|pods?)[/\s]+(?P<name>[a-z0-9][\w.-]*)"
)


def _json(lines: list[str]) -> Any:
    try:
        return json.loads("\n".join(lines))
    except ValueError:
        return None


def _ports(data: Any, key: str) -> list[tuple[int, str]]:
    """(port, the port's name) for every ``key`` in a list of port objects."""
    items = data if isinstance(data, list) else [data]
    found: list[tuple[int, str]] = []
    for item in items:
        if isinstance(item, dict) and isinstance(item.get(key), int):
            found.append((int(item[key]), str(item.get("name") or "")))
    return found


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    targets: dict[str, tuple[list[tuple[int, str]], str]] = {}
    containers: dict[str, tuple[list[tuple[int, str]], str]] = {}
    for text in obs.texts:
        command = text.command or ""
        got = _GET.search(command)
        if "jsonpath" not in command or got is None or not text.lines:
            continue
        data = _json(text.lines)
        cite = f"{text.label} {text.lines[0].strip()}"
        if got.group("kind").startswith(("svc", "service")):
            found = _ports(data, "targetPort")
            if found:
                targets[got.group("name")] = (found, cite)
        else:
            found = _ports(data, "containerPort")
            if found:
                name = got.group("name")
                if got.group("kind").startswith("po"):
                    name = re.sub(r"-[a-z0-9]{8,10}-[a-z0-9]{5}$|-[a-z0-9]{5}$", "", name)
                containers[name] = (found, cite)
    findings: list[Finding] = []
    for name, (ports, cite) in targets.items():
        declared = containers.get(name)
        if declared is None:
            continue
        listening = {port for port, _ in declared[0]}
        for target, port_name in ports:
            if target in listening:
                continue
            shown = ", ".join(str(p) for p in sorted(listening))
            findings.append(
                Finding(
                    kind="service_target_port_mismatch",
                    subject=f"service/{name}",
                    role="cause",
                    title=f"{name}: Service {name} sends its port {port_name or target} to targetPort {target}, but the {name} container listens on {shown}, so connections through the Service are refused or reset",
                    weight=86,
                    evidence=[cite, declared[1]],
                    workload=name,
                    recommendations=[
                        rec(
                            "high",
                            f"Set targetPort of Service {name} to {sorted(listening)[0]} (or a named port the container declares)",
                        )
                    ],
                    affected=[name],
                )
            )
            break
    return findings
