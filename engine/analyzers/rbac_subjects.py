"""A binding listed by ``kubectl get rolebinding -o wide`` whose ServiceAccount subject names the right account in the
wrong namespace (a binding printed as an object is checked in ``cluster.py``).

A ServiceAccount subject is ``namespace/name``: a binding that lists ``queues/queue-operator`` grants nothing to
``system:serviceaccount:queue-system:queue-operator``, which the API server then refuses (``is forbidden: User
"system:serviceaccount:<ns>:<name>" cannot ...``). ``kubectl get rolebinding -o wide`` prints the subjects in its
SERVICEACCOUNTS column as ``<namespace>/<name>``, comma-separated
(kubernetes.io/docs/reference/access-authn-authz/rbac/#referring-to-subjects).
"""
# ruff: noqa: E501  (patterns and messages read better unwrapped)

from __future__ import annotations

import re

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import rec
from engine.facts import Observations
from engine.findings import Finding
from engine.parsers.common import excerpt

_FORBIDDEN = re.compile(r"User \\?\"system:serviceaccount:(?P<ns>[\w.-]+):(?P<name>[\w.-]+)\\?\" cannot")
_WIDE_ROW = re.compile(r"^\s*(?P<binding>[\w.:-]+)\s+(?P<role>(?:Cluster)?Role/[\w.:-]+)\s")


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    sources = [(t.label, t.lines) for t in obs.texts] + [(d.label, d.lines) for d in obs.logs]
    refused: dict[str, tuple[str, str]] = {}  # account name -> (its namespace, the evidence line)
    for label, lines in sources:
        for line in lines[:20000]:
            match = _FORBIDDEN.search(line)
            if match and match.group("name") not in refused:
                refused[match.group("name")] = (match.group("ns"), f"{label} {excerpt(line.strip())}")
    if not refused:
        return []
    for label, lines in sources:
        for binding, bound_ns, name, line in _bound_accounts(lines):
            if name not in refused or bound_ns == refused[name][0]:
                continue
            namespace, cite = refused[name]
            return [
                Finding(
                    kind="rbac_subject_namespace",
                    subject=f"serviceaccount:{namespace}/{name}",
                    role="cause",
                    title=(
                        f"{name}: the binding {binding} names ServiceAccount {bound_ns}/{name}, not {namespace}/{name}: "
                        f"the subject's namespace is wrong, so system:serviceaccount:{namespace}:{name} is granted nothing and is forbidden"
                    ),
                    weight=91,
                    evidence=[cite, f"{label} {excerpt(line.strip())}"],
                    workload=name,
                    recommendations=[
                        rec(
                            "high",
                            f"Set the subject of {binding} to namespace {namespace} (kind: ServiceAccount, name: {name}, namespace: {namespace}); check with kubectl auth can-i ... --as=system:serviceaccount:{namespace}:{name}",
                        )
                    ],
                    affected=[name],
                )
            ]
    return []


def _bound_accounts(lines: list[str]) -> list[tuple[str, str, str, str]]:
    """(binding, subject namespace, subject name, the row) from ``get rolebinding|clusterrolebinding -o wide`` rows."""
    found: list[tuple[str, str, str, str]] = []
    for line in lines[:20000]:
        row = _WIDE_ROW.match(line)
        if row:
            for namespace, name in re.findall(r"(?<![\w/])([\w.-]+)/([\w.-]+)(?=,|\s|$)", line[row.end() :]):
                found.append((row.group("binding"), namespace, name, line))
    return found
