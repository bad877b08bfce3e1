"""EKS ``aws-auth``: a role ARN mapped with its IAM path, which the authenticator never matches.

The aws-auth ConfigMap's ``mapRoles[].rolearn`` must not include the role's path
(docs.aws.amazon.com/eks/latest/userguide/auth-configmap.html): a caller authenticates as the assumed-role ARN
(``arn:aws:sts::<acct>:assumed-role/<name>/<session>``), which carries no path, and aws-iam-authenticator
compares it with ``arn:aws:iam::<acct>:role/<name>``. A mapping written as ``role/teams/platform/<name>``
matches nothing, so the user gets ``You must be logged in to the server (Unauthorized)`` and the authenticator
logs ``ARN is not mapped``.
"""
# ruff: noqa: E501  (messages read better unwrapped)

from __future__ import annotations

import re

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import rec
from engine.facts import Observations
from engine.findings import Finding
from engine.parsers.common import excerpt

_ROLEARN = re.compile(
    r"rolearn:\s*\"?(?P<arn>arn:aws[\w-]*:iam::(?P<account>\d+):role/(?P<path>[\w+=,.@-]+/(?:[\w+=,.@-]+/)*)(?P<name>[\w+=,.@-]+))"
)
_CALLER = re.compile(
    r"(?:arn:aws[\w-]*:sts::\d+:assumed-role/|arn:aws[\w-]*:iam::\d+:role/)(?P<name>[\w+=,.@-]+)(?:/[\w+=,.@-]+)?\"?[^\n]*?(?P<unmapped>ARN is not mapped)?"
)


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    del ctx
    lines = [(t.label, ln) for t in obs.texts for ln in t.lines] + [(d.label, ln) for d in obs.logs for ln in d.lines]
    for label, line in lines:
        mapped = _ROLEARN.search(line)
        if mapped is None:
            continue
        name = mapped.group("name")
        refused = _refusal(lines, name)
        if refused is None:
            continue
        plain = f"arn:aws:iam::{mapped.group('account')}:role/{name}"
        return [
            Finding(
                kind="aws_auth_role_path",
                subject="configmap/aws-auth",
                role="cause",
                title=(
                    f"aws-auth maps rolearn {mapped.group('arn')} with the role's IAM path (/{mapped.group('path')}): the "
                    f"authenticator matches the path-less ARN {plain} (what the assumed role presents), so the role is not mapped "
                    f"and its users get Unauthorized: a rolearn in aws-auth must be written without the path"
                ),
                weight=92,
                evidence=[refused, f"{label} {excerpt(line.strip())}"],
                workload="aws-auth",
                recommendations=[
                    rec(
                        "high",
                        f"Change the mapRoles entry to rolearn: {plain} (remove the path /{mapped.group('path')}), or map it with eksctl/an access entry, then retry kubectl",
                    )
                ],
                affected=["aws-auth"],
                related=[name],
            )
        ]
    return []


def _refusal(lines: list[tuple[str, str]], name: str) -> str | None:
    """The authenticator's 'ARN is not mapped' for the role, else an Unauthorized login next to its assumed-role ARN."""
    unauthorized = any("Unauthorized" in line or "access denied" in line for _, line in lines)
    fallback = None
    for label, line in lines:
        caller = _CALLER.search(line)
        if caller is None or caller.group("name") != name or "rolearn" in line:
            continue
        if "ARN is not mapped" in line:
            return f"{label} {excerpt(line.strip(), around='not mapped')}"
        if unauthorized and fallback is None:
            fallback = f"{label} {excerpt(line.strip())}"
    return fallback
