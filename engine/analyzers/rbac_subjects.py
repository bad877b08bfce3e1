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
_REFUSED_IN = re.compile(
    r"User \\?\"system:serviceaccount:(?P<ns>[\w.-]+):(?P<name>[\w.-]+)\\?\" cannot [^\n]*?in the namespace \\?\"(?P<where>[\w.-]+)"
)
# ``kubectl get rolebindings -A -o wide``: NAMESPACE NAME ROLE AGE USERS GROUPS SERVICEACCOUNTS
_ALL_NAMESPACES_ROW = re.compile(r"^\s*(?P<ns>[a-z0-9][\w.-]*)\s+(?P<binding>[\w.:-]+)\s+(?P<role>Role/[\w.:-]+)\s")
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
    asked = (ctx.focus.owner() if ctx.focus else None) or (ctx.question.named if ctx.question else None)
    elsewhere = _bound_elsewhere(sources, asked)
    if elsewhere:
        return elsewhere
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


def _bound_elsewhere(sources: list[tuple[str, list[str]]], asked: str | None) -> list[Finding]:
    """A ServiceAccount refused in namespace X whose RoleBindings (``get rolebindings -A -o wide``) are all in other
    namespaces, one of them plainly meant for X (named after it, or created in the account's own namespace): a
    RoleBinding grants its Role only in the namespace the binding itself lives in. About the workload asked about
    when there is one (it runs as the refused account), else the account."""
    refusal = next(
        (
            (m, f"{label} {excerpt(line.strip(), around='cannot')}")
            for label, lines in sources
            for line in lines[:20000]
            if (m := _REFUSED_IN.search(line))
        ),
        None,
    )
    if refusal is None:
        return []
    match, cite = refusal
    home, name, where = match.group("ns"), match.group("name"), match.group("where")
    accounts = (f"system:serviceaccount:{home}:{name}", f"{home}/{name}")
    rows = [
        (row, f"{label} {excerpt(line.strip())}")
        for label, lines in sources
        for line in lines[:20000]
        if (row := _ALL_NAMESPACES_ROW.match(line))
        and any(re.search(rf"(?<![\w:/-]){re.escape(a)}(?![\w-])", line) for a in accounts)
    ]
    if not rows or any(row.group("ns") == where for row, _ in rows):
        return []
    meant = [(r, c) for r, c in rows if where in r.group("binding")] or [
        (r, c) for r, c in rows if r.group("ns") == home != where
    ]
    if len(meant) != 1:
        return []
    row, row_cite = meant[0]
    binding, bound_in, role = row.group("binding"), row.group("ns"), row.group("role")
    return [
        Finding(
            kind="rbac_binding_namespace",
            subject=f"rolebinding:{bound_in}/{binding}",
            role="cause",
            title=(
                f"{asked or name}: RoleBinding {binding} (binding {role} to system:serviceaccount:{home}:{name}) was created in namespace {bound_in}, "
                f"not {where}: a RoleBinding grants only in its own namespace, so no binding grants {name} anything in {where} and the API server refuses it there"
            ),
            weight=92,
            evidence=[cite, row_cite],
            workload=asked or name,
            recommendations=[
                rec(
                    "high",
                    f"Create the RoleBinding in namespace {where} (kubectl -n {where} create rolebinding {binding} --role={role.split('/', 1)[1]} --serviceaccount={home}:{name}, with the Role existing in {where}) and delete the one in {bound_in}",
                )
            ],
            affected=[asked or name, name],
            related=[binding],
        )
    ]
