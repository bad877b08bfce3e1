"""An RBAC refusal next to the Role or ClusterRole that was meant to allow it: the rule it lacks.

The API server refuses a request with ``User "<user>" cannot <verb> resource "<resource>" in API group "<group>"``
when no rule of a Role/ClusterRole bound to the user grants that verb on that resource. RBAC is purely additive
and matches a subresource (``pods/exec``, ``pods/log``, ``deployments/scale``) only by its own name, ``<resource>/*``
or ``*``: a rule on ``pods`` grants nothing on ``pods/exec``, and ``kubectl exec`` needs ``create`` on ``pods/exec``
(kubernetes.io/docs/reference/access-authn-authz/rbac/#referring-to-resources). When the Role itself is pasted,
the rule it lacks is the decisive detail: which verbs it does grant on that resource, and what it would need.
"""
# ruff: noqa: E501  (patterns and messages read better unwrapped)

from __future__ import annotations

import re
from typing import Any

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import rec
from engine.facts import Observations, ResourceFact
from engine.findings import Finding
from engine.parsers.common import excerpt

_CANNOT = re.compile(
    r"(?:[\w.-]+ \\?\"(?P<name>[^\"\\]+)\\?\" is forbidden: )?User \\?\"(?P<user>[^\"\\]+)\\?\" cannot (?P<verb>[\w-]+) resource \\?\"(?P<resource>[\w./*-]+)\\?\""
    r"(?: in API group \\?\"(?P<group>[\w.-]*)\\?\")?(?:[^\n]*?in the namespace \\?\"(?P<ns>[\w.-]+)\\?\")?"
)


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    roles = [r for r in obs.resources if r.kind in ("Role", "ClusterRole") and isinstance(r.raw.get("rules"), list)]
    if not roles:
        return []
    refusal = first_refusal(obs)
    if refusal is None:
        return []
    match, cite = refusal
    verb, resource, group, namespace = (
        match.group("verb"),
        match.group("resource"),
        match.group("group") or "",
        match.group("ns"),
    )
    candidates = [r for r in roles if r.kind == "ClusterRole" or namespace is None or r.namespace in (None, namespace)]
    lacking = [r for r in candidates if not _grants(r.raw["rules"], verb, resource, group, match.group("name"))]
    if len(lacking) != 1 or len(candidates) != 1:
        return []  # which of several roles is bound to the account is not shown
    asked = (ctx.focus.owner() if ctx.focus else None) or (ctx.question.named if ctx.question else None)
    return [_finding(lacking[0], match, cite, asked)]


def first_refusal(obs: Observations) -> tuple[re.Match[str], str] | None:
    sources = [(t.label, t.lines) for t in obs.texts] + [(d.label, d.lines) for d in obs.logs]
    for label, lines in sources:
        for line in lines[:20000]:
            match = _CANNOT.search(line)
            if match:
                return match, f"{label} {excerpt(line.strip(), around='cannot')}"
    for event in obs.events:
        match = _CANNOT.search(event.message)
        if match:
            return match, event.cite
    return None


def _listed(rule: dict[str, Any], key: str) -> list[str]:
    value = rule.get(key)
    return [str(v) for v in value] if isinstance(value, list) else []


def _grants(rules: list[Any], verb: str, resource: str, group: str, name: str | None = None) -> bool:
    """Whether a rule grants the verb on the resource (on that object, when a rule lists resourceNames)."""
    base = resource.split("/", 1)[0]
    for rule in (r for r in rules if isinstance(r, dict)):
        groups, resources, verbs = _listed(rule, "apiGroups"), _listed(rule, "resources"), _listed(rule, "verbs")
        wanted = {resource, "*"} | ({f"{base}/*"} if "/" in resource else set())
        names = _listed(rule, "resourceNames")
        if names and name is not None and name not in names:
            continue  # resourceNames restrict the rule to those objects
        if (group in groups or "*" in groups) and wanted & set(resources) and (verb in verbs or "*" in verbs):
            return True
    return False


def _finding(role: ResourceFact, match: re.Match[str], cite: str, asked: str | None) -> Finding:
    """About the workload asked about when there is one (it runs as the refused account), else the account."""
    user, verb, resource = match.group("user"), match.group("verb"), match.group("resource")
    account = user.rsplit(":", 1)[-1] if user.startswith("system:serviceaccount:") else user
    base = resource.split("/", 1)[0]
    near = [
        f"{', '.join(_listed(rule, 'verbs'))} on {', '.join(r for r in _listed(rule, 'resources') if r.split('/', 1)[0] == base)}"
        for rule in role.raw["rules"]
        if isinstance(rule, dict) and any(r.split("/", 1)[0] == base for r in _listed(rule, "resources"))
    ]
    where = f" (namespace {role.namespace})" if role.namespace else ""
    name = match.group("name")
    named = [
        _listed(rule, "resourceNames")
        for rule in role.raw["rules"]
        if isinstance(rule, dict)
        and _grants([{**rule, "resourceNames": []}], verb, resource, match.group("group") or "")
    ]
    restricted = bool(name and any(named))
    if restricted:
        allowed = ", ".join(n for names in named for n in names)
        granted = f": its rule for '{verb}' on {resource} is limited by resourceNames to [{allowed}], which does not include {name} (still an old name?)"
    else:
        granted = f": on {base} it grants only {'; '.join(near)}" if near else ""
    sub = (
        f"; a rule on {base} does not cover the subresource {resource}, which needs its own entry ({resource} or {base}/*)"
        if "/" in resource
        and not any(resource in _listed(r, "resources") for r in role.raw["rules"] if isinstance(r, dict))
        else ""
    )
    label = f"{role.kind} {role.name}" if role.name != "?" else f"the {role.kind}"  # yq may strip the metadata
    return Finding(
        kind="rbac_rule_missing",
        subject=f"{role.kind.lower()}/{role.name}",
        role="cause",
        title=f"{asked or account}: {label}{where} has no rule granting '{verb}' on {resource}{f' {name}' if restricted else ''}{granted}{sub}, so the API server refuses {user} '{verb} {resource}'",
        weight=91,
        evidence=[cite, role.quote("rules:", fallback=f"{role.kind} {role.name} rules")],
        workload=asked or account,
        recommendations=[
            rec(
                "high",
                f"Add {name} to that rule's resourceNames in {label}"
                if restricted
                else f"Add a rule to {role.kind} {role.name} granting verbs ['{verb}'] on resources ['{resource}'] (apiGroups [\"{match.group('group') or ''}\"]), if {account} is meant to do it; check with kubectl auth can-i {verb} {resource} --as={user}",
            )
        ],
        affected=[asked or account, account, role.name],
        related=[role.name, account],  # the refusal of the account is this rule's consequence
    )
