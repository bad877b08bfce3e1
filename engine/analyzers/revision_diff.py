"""What changed between two revisions of a workload, from ``kubectl rollout history --revision=N`` prints.

``rollout history deploy/x --revision=N`` prints the Pod Template of revision N (image, environment,
change-cause). "What changed?" is the difference between the newest revision and the one before it; a change-cause
such as "tidy env vars" does not say that a value changed. When a changed variable is a timeout and the app's log
shows requests timing out, that change is the cause: the new value is what the requests now wait at most.
"""
# ruff: noqa: E501  (documented messages read better unwrapped)

from __future__ import annotations

import re
from dataclasses import dataclass, field

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import rec
from engine.facts import Observations
from engine.findings import Finding
from engine.parsers.common import excerpt

_HEADER = re.compile(r"^\s*(?:deployment|daemonset|statefulset)\.apps/(?P<name>[\w.-]+) with revision #(?P<rev>\d+)")
_ENV = re.compile(r"^\s+(?P<key>[A-Z][A-Z0-9_]{2,}):\s+(?P<value>\S.*?)\s*$")
_IMAGE = re.compile(r"^\s+Image:\s+(?P<value>\S+)\s*$")
_CAUSE = re.compile(r"kubernetes\.io/change-cause:\s*(?P<cause>\S.*?)\s*$")
_TIMEOUT_VAR = re.compile(r"TIMEOUT|DEADLINE", re.IGNORECASE)
_TIMED_OUT = re.compile(r"deadline exceeded|timed? ?out|Timeout exceeded|ETIMEDOUT", re.IGNORECASE)


@dataclass
class _Revision:
    number: int
    workload: str
    label: str
    values: dict[str, tuple[str, str]] = field(default_factory=dict)  # key -> (value, line)
    cause: str = ""


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    del ctx
    revisions = _revisions(obs)
    if len(revisions) < 2:
        return []
    ordered = sorted(revisions.values(), key=lambda r: r.number)
    new, old = ordered[-1], ordered[-2]
    changed = [
        (key, old.values.get(key, ("(unset)", ""))[0], value, line)
        for key, (value, line) in new.values.items()
        if old.values.get(key, ("",))[0] != value
    ]
    removed = [(key, value, "(unset)", line) for key, (value, line) in old.values.items() if key not in new.values]
    changes = changed + removed
    if not changes:
        return []
    timeouts = _timeout_lines(obs)
    culprit = next((c for c in changes if _TIMEOUT_VAR.search(c[0])), None) if timeouts else None
    said = f" (change-cause '{new.cause}')" if new.cause else ""
    listed = "; ".join(f"{key} {before} -> {after}" for key, before, after, _ in changes[:4])
    evidence = [f"{new.label} {excerpt(line.strip())}" for *_, line in changes[:3] if line]
    if culprit is not None:
        key, before, after, _ = culprit
        evidence.append(timeouts[0])
        title = (
            f"{new.workload}: revision {new.number}{said} changed {key} from {before} to {after}, so requests that "
            f"took longer than {after} now fail with a timeout"
        )
        weight, action = (
            92,
            f"Restore {key}={before} (kubectl rollout undo to revision {old.number}, or fix the value in the manifest)",
        )
    else:
        title = (
            f"{new.workload}: revision {new.number}{said} changed the pod template from revision {old.number}: {listed}"
        )
        weight, action = (
            62,
            f"Check whether the change in revision {new.number} explains the problem; kubectl rollout undo --to-revision={old.number} reverts it",
        )
    return [
        Finding(
            kind="revision_change",
            subject=f"{new.workload}:revision_change",
            role="cause",
            title=title,
            weight=weight,
            evidence=evidence,
            workload=new.workload,
            recommendations=[rec("high", action)],
            affected=[new.workload],
        )
    ]


def _revisions(obs: Observations) -> dict[int, _Revision]:
    found: dict[int, _Revision] = {}
    docs = [(t.label, t.command, t.lines) for t in obs.texts] + [(d.label, d.command, d.lines) for d in obs.logs]
    for label, command, lines in docs:
        current: _Revision | None = None
        for line in [command, *lines]:
            header = _HEADER.match(line)
            if header:
                number = int(header.group("rev"))
                current = found.setdefault(number, _Revision(number, header.group("name"), label))
                continue
            if current is None:
                continue
            if line.lstrip().startswith("$ "):
                current = None
                continue
            cause = _CAUSE.search(line)
            if cause:
                current.cause = cause.group("cause")
                continue
            image = _IMAGE.match(line)
            env = _ENV.match(line)
            if image:
                current.values.setdefault("image", (image.group("value"), line))
            elif env:
                current.values.setdefault(env.group("key"), (env.group("value"), line))
    return found


def _timeout_lines(obs: Observations) -> list[str]:
    return [
        f"{doc.label} {excerpt(line.strip(), around='deadline')}"
        for doc in obs.logs
        for line in doc.lines
        if _TIMED_OUT.search(line)
    ][:1]
