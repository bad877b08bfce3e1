"""RBAC privilege-escalation prevention: a Role/ClusterRole (or binding) that grants what its author lacks.

The API server refuses to create or update a Role that grants permissions the requesting user does not hold
("is attempting to grant RBAC permissions not currently held"), unless the user has the ``escalate`` verb on
roles (``bind`` for bindings) — kubernetes.io/docs/reference/access-authn-authz/rbac/#privilege-escalation-
prevention-and-bootstrapping. The permissions it lacks are printed after the message, often on the next lines.
"""
# ruff: noqa: E501  (patterns and messages read better unwrapped)

from __future__ import annotations

import re

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import rec
from engine.facts import Observations
from engine.findings import Finding
from engine.parsers.common import excerpt

_REFUSED = re.compile(
    r"(?P<kind>(?:cluster)?roles?(?:bindings?)?)(?:\.rbac\.authorization\.k8s\.io)? \\?\"(?P<name>[\w:.-]+)\\?\" is forbidden: "
    r"user \\?\"(?P<user>[^\"\\]+)\\?\"[^\n]*?is attempting to grant RBAC permissions not currently held",
    re.IGNORECASE,
)
_RULE = re.compile(
    r"\{APIGroups:\[(?P<groups>[^\]]*)\],\s*Resources:\[(?P<resources>[^\]]*)\][^}]*?Verbs:\[(?P<verbs>[^\]]*)\]"
)


def _words(raw: str) -> list[str]:
    quoted = re.findall(r"\\?\"([^\"\\]*)\\?\"", raw)
    return [w for w in quoted if w] if quoted else raw.split()  # [""] is the core API group: no name


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    sources = [(t.label, t.lines) for t in obs.texts] + [(d.label, d.lines) for d in obs.logs]
    for label, lines in sources:
        for i, line in enumerate(lines[:20000]):
            match = _REFUSED.search(line)
            if match is None:
                continue
            rules = [m for near in lines[i : i + 6] for m in _RULE.finditer(near)]
            return [_finding(match, rules, f"{label} {excerpt(line.strip(), around='attempting')}")]
    return []


def _finding(match: re.Match[str], rules: list[re.Match[str]], cite: str) -> Finding:
    user, kind, name = match.group("user"), match.group("kind").lower(), match.group("name")
    account = user.rsplit(":", 1)[-1] if user.startswith("system:serviceaccount:") else user
    lacking = "; ".join(
        f"{' '.join(_words(r.group('verbs')))} on {', '.join(_words(r.group('resources')))}"
        + (f" (API group {', '.join(_words(r.group('groups')))})" if _words(r.group("groups")) else "")
        for r in rules[:3]
    )
    verb = "bind" if "binding" in kind else "escalate"
    singular = kind.rstrip("s")
    return Finding(
        kind="rbac_escalation_refused",
        subject=f"{account}:rbac_escalation_refused",
        role="cause",
        title=(
            f"{account}: the API server refuses {singular} {name}: RBAC privilege-escalation prevention forbids "
            f"{user} to grant permissions it does not hold itself (attempting to grant RBAC permissions not currently held"
            + (f": {lacking}" if lacking else "")
            + ")"
        ),
        weight=90,
        evidence=[cite],
        workload=account,
        recommendations=[
            rec(
                "high",
                f"Give {user} the permissions the {singular} grants"
                + (f" ({lacking})" if lacking else "")
                + f", or the '{verb}' verb on {'rolebindings' if verb == 'bind' else 'roles'} in that namespace; or have a cluster admin apply the RBAC manifests",
            )
        ],
        affected=[account],
    )
