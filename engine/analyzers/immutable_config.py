"""A config change that never reached the pods because its ConfigMap/Secret is immutable.

With ``immutable: true`` the API server refuses any change to a ConfigMap's or Secret's data ("data: Forbidden:
field is immutable when `immutable` is set", kubernetes.io ConfigMap docs); a pipeline that applies the new data
and restarts the workload anyway (``apply ... || true``, "continuing") leaves the pods reading the old values,
so the change looks deployed but never took effect. The workload is the one that references the object, or the
one applied and restarted next to it.
"""
# ruff: noqa: E501  (documented messages read better unwrapped)

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import rec
from engine.facts import Observations
from engine.findings import Finding
from engine.parsers.common import excerpt

_REFUSED = re.compile(
    r"(?P<kind>ConfigMap|Secret) \\?\"(?P<name>[\w.-]+)\\?\" is invalid: [^\n]*?field is immutable when .immutable. is set"
)
_APPLIED_WORKLOAD = re.compile(
    r"^\s*(?:deployment|statefulset|daemonset)\.apps/(?P<name>[\w.-]+) (?:configured|created|restarted|unchanged)"
)
_RESTARTED = re.compile(r"rollout restart|\brestarted\b")


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    docs = [(t.label, t.lines) for t in obs.texts] + [(d.label, d.lines) for d in obs.logs]
    for label, lines in docs:
        for line in lines:
            refused = _REFUSED.search(line)
            if refused:
                return [_finding(obs, ctx, refused, f"{label} {excerpt(line.strip(), around='immutable')}", lines)]
    return []


def _finding(obs: Observations, ctx: AnalysisContext, refused: re.Match[str], cite: str, lines: list[str]) -> Finding:
    kind, name = refused.group("kind"), refused.group("name")
    owner = _referencing(obs, name) or next(
        (m.group("name") for line in lines for m in [_APPLIED_WORKLOAD.match(line)] if m), None
    )
    owner = owner or (ctx.question.named if ctx.question and ctx.question.named else name)
    restarted = (
        " and the restart only reloaded the old values" if any(_RESTARTED.search(line) for line in lines) else ""
    )
    return Finding(
        kind="immutable_config_not_applied",
        subject=f"{owner}:immutable_config_not_applied",
        role="cause",
        title=(
            f"{owner}: the {kind} {name} is immutable (immutable: true), so the API server refused the new data "
            f"(field is immutable when `immutable` is set); the pods still read the old {kind} data{restarted}"
        ),
        weight=93,
        evidence=[cite],
        workload=owner,
        related=[name],
        recommendations=[
            rec(
                "high",
                f"Create the {kind} under a new name (or delete and recreate {name}) with the new data and roll {owner} "
                "onto it; make the pipeline fail when kubectl apply fails",
            )
        ],
        affected=[owner],
    )


def _referencing(obs: Observations, name: str) -> str | None:
    """The workload whose pod spec mounts or imports the object."""
    for resource in obs.resources:
        if resource.kind in ("Deployment", "StatefulSet", "DaemonSet") and name in set(_names(resource.raw)):
            return resource.name
    return None


def _names(data: Any) -> Iterator[str]:
    if isinstance(data, dict):
        for key, value in data.items():
            if key in (
                "configMap",
                "secret",
                "configMapRef",
                "secretRef",
                "configMapKeyRef",
                "secretKeyRef",
            ) and isinstance(value, dict):
                yield str(value.get("name") or value.get("secretName") or "")
            else:
                yield from _names(value)
    elif isinstance(data, list):
        for item in data:
            yield from _names(item)
