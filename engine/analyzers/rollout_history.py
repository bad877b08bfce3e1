"""``revisionHistoryLimit: 0``: a Deployment that keeps no old ReplicaSet has nothing to roll back to.

A Deployment's rollout history *is* its old ReplicaSets (scaled to zero, kept up to ``revisionHistoryLimit``,
default 10). With 0 the controller deletes each old ReplicaSet as soon as a rollout finishes, so ``kubectl rollout
undo`` answers "no rollout history found" / "unable to find specified revision N in history" right when a bad
release needs rolling back. Platforms set it to trim etcd, or a default patch sets it cluster-wide.
"""
# ruff: noqa: E501  (user-facing messages read better unwrapped)

from __future__ import annotations

import re

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import rec, text_docs
from engine.facts import Observations
from engine.findings import Finding
from engine.parsers.common import excerpt

_LIMIT_ZERO = re.compile(r"^\s*\+?\s*\"?revisionHistoryLimit\"?\s*:\s*\"?0\"?,?\s*$|Revision ?History ?Limit:?\s+0\s*$")
_NO_HISTORY = re.compile(
    r"no rollout history found for deployment \"(?P<name>[\w.-]+)\"|unable to find (?:the )?specified revision \d+ in history"
    r"|\b(?:roll(?:ing)? ?back|rollout undo|undo)\b",
    re.I,
)


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    zero = _limit_zero(obs)
    if zero is None:
        return []
    name, cite = zero
    asked = ctx.question.message if ctx.question else ""
    texts = [asked, *(line for doc in text_docs(obs) for line in doc.lines)]
    refused = next((m for text in texts if (m := _NO_HISTORY.search(text))), None)
    if refused is None:
        return []
    named = next((m.group("name") for text in texts if (m := _NO_HISTORY.search(text)) and m.group("name")), None)
    name = name or named or "deployment"
    return [
        Finding(
            kind="no_rollout_history",
            subject=f"{name}:no_rollout_history",
            role="cause",
            title=(
                f"{name}: revisionHistoryLimit is 0, so the Deployment controller deletes every old ReplicaSet after a rollout and the Deployment keeps no revision history: "
                f"kubectl rollout undo has nothing to roll back to (no rollout history found)"
            ),
            weight=94,
            evidence=[cite],
            workload=name,
            affected=[name],
            recommendations=[
                rec(
                    "high",
                    f"Roll back by redeploying the previous image/manifest (set the old image tag on {name} or revert the commit in Git), then set revisionHistoryLimit back to a small non-zero number (3-10) so later rollbacks work",
                ),
            ],
        )
    ]


def _limit_zero(obs: Observations) -> tuple[str | None, str] | None:
    for resource in obs.resources:
        spec = resource.raw.get("spec") if isinstance(resource.raw, dict) else None
        if resource.kind == "Deployment" and isinstance(spec, dict) and spec.get("revisionHistoryLimit") == 0:
            return resource.name, resource.quote("revisionHistoryLimit", "0")
    for doc in text_docs(obs):
        for line in doc.lines:
            if _LIMIT_ZERO.search(line):
                return None, f"{doc.label} {excerpt(line.strip())}"
    return None
