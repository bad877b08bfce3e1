"""An HPA that does not scale down because its scale-down stabilization window is long.

With ``behavior.scaleDown.stabilizationWindowSeconds`` the HPA applies the highest replica recommendation of that
window (kubernetes.io/docs/tasks/run-application/horizontal-pod-autoscale/#stabilization-window; 300 s by default),
and reports ``AbleToScale True ScaleDownStabilized``. A window of an hour keeps a spike's replica count for an
hour after the load is gone: the HPA works as configured.
"""
# ruff: noqa: E501  (user-facing messages read better unwrapped)

from __future__ import annotations

import re
from typing import Any

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import rec
from engine.facts import Observations
from engine.findings import Finding
from engine.parsers.command_line import command_object
from engine.parsers.common import excerpt

_DEFAULT_WINDOW = 300
_WINDOW = re.compile(r"^\s*Stabilization Window:\s*(?P<seconds>\d+) seconds")
_STABILIZED = re.compile(r"\bScaleDownStabilized\b")
_PODS = re.compile(r"^\s*(?:Deployment|StatefulSet|\w+) pods:\s*(?P<current>\d+) current")


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    del ctx
    for text in obs.texts:
        found = _from_describe(text.label, text.lines, text.command)
        if found:
            return [found]
    for hpa in obs.resources:
        if hpa.kind != "HorizontalPodAutoscaler":
            continue
        window = _d(_d(_d(hpa.raw.get("spec")).get("behavior")).get("scaleDown")).get("stabilizationWindowSeconds")
        conditions = _d(hpa.raw.get("status")).get("conditions") or []
        stabilized = any(isinstance(c, dict) and c.get("reason") == "ScaleDownStabilized" for c in conditions)
        if stabilized and isinstance(window, int) and window > _DEFAULT_WINDOW:
            current = _d(hpa.raw.get("status")).get("currentReplicas")
            cite = hpa.quote(
                "stabilizationWindowSeconds", fallback=f"HPA {hpa.name}: stabilizationWindowSeconds {window}"
            )
            return [
                _finding(hpa.name, window, str(current) if current else "", [cite, hpa.quote("ScaleDownStabilized")])
            ]
    return []


def _d(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _from_describe(label: str, lines: list[str], command: str) -> Finding | None:
    named = command_object(command) if command else None
    name = named[1] if named and named[0] == "HorizontalPodAutoscaler" else ""
    window: tuple[int, str] | None = None
    stabilized = current = ""
    scale_down = False
    for line in lines:
        if line.startswith("Name:") and not name:
            name = line.split(":", 1)[1].strip()
        if line.strip() in ("Scale Down:", "Scale Up:"):
            scale_down = line.strip() == "Scale Down:"
        match = _WINDOW.match(line)
        if match and scale_down:
            window = (int(match.group("seconds")), f"{label} {excerpt(line.strip())}")
        pods = _PODS.match(line)
        if pods:
            current = pods.group("current")
        if _STABILIZED.search(line) and not stabilized:
            stabilized = f"{label} {excerpt(line.strip())}"
    if not (name and window and stabilized) or window[0] <= _DEFAULT_WINDOW:
        return None
    return _finding(name, window[0], current, [window[1], stabilized])


def _finding(name: str, window: int, current: str, evidence: list[str]) -> Finding:
    held = f" at {current} replicas" if current else ""
    return Finding(
        kind="hpa_scale_down_stabilization",
        subject=f"hpa/{name}",
        role="cause",
        title=(
            f"the HPA {name} keeps its workload{held} on purpose: its scale-down stabilization window (behavior.scaleDown.stabilizationWindowSeconds) "
            f"is {window} s ({window // 60} min, default 300 s), and it applies the highest recommendation of that window (ScaleDownStabilized), "
            f"so it scales down only when the load has stayed low for that long"
        ),
        weight=90,
        evidence=evidence,
        workload=name,
        recommendations=[
            rec(
                "medium",
                f"Shorten behavior.scaleDown.stabilizationWindowSeconds of HPA {name} (e.g. back to 300) if holding capacity that long is not intended",
            )
        ],
        affected=[name],
    )
