"""A ClusterRole meant to be aggregated into admin/edit/view whose aggregation label nothing selects.

The user-facing ClusterRoles ``admin``, ``edit`` and ``view`` carry an ``aggregationRule`` selecting ClusterRoles
labelled ``rbac.authorization.k8s.io/aggregate-to-admin|edit|view: "true"``; the controller copies the rules of
every selected ClusterRole into them (kubernetes.io/docs/reference/access-authn-authz/rbac/#aggregated-clusterroles).
A label with another suffix (``aggregate-to-editor``, ``aggregate-to-viewer``) is selected by nothing, so the
custom resource's rules never reach the users bound to ``edit``: they are refused while ``admin`` (correctly
labelled) works. Labels an aggregationRule in the evidence selects count as known too.
"""
# ruff: noqa: E501  (patterns and messages read better unwrapped)

from __future__ import annotations

import re
from typing import Any

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import rec
from engine.analyzers.rbac_rules import first_refusal
from engine.analyzers.scheduling_detail import lines_of
from engine.facts import Observations
from engine.findings import Finding

_PREFIX = "rbac.authorization.k8s.io/aggregate-to-"
_BUILTIN = {"admin", "edit", "view", "cluster-reader"}  # upstream roles, and OpenShift's cluster-reader
_SELECTED = re.compile(r"rbac\.authorization\.k8s\.io/aggregate-to-(?P<target>[\w.-]+)")


def _rules_cover(rules: Any, resource: str, group: str) -> bool:
    for rule in rules if isinstance(rules, list) else []:
        if not isinstance(rule, dict):
            continue
        groups, resources = rule.get("apiGroups") or [], rule.get("resources") or []
        if (group in groups or "*" in groups) and (resource in resources or "*" in resources):
            return True
    return False


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    del ctx
    roles = [r for r in obs.resources if r.kind == "ClusterRole"]
    labelled = [
        (role, key.removeprefix(_PREFIX))
        for role in roles
        for key, value in ((role.raw.get("metadata") or {}).get("labels") or {}).items()
        if key.startswith(_PREFIX) and str(value).lower() == "true"
    ]
    if not labelled:
        return []
    refusal = first_refusal(obs)
    if refusal is None:
        return []
    match, cite = refusal
    resource, group = match.group("resource"), match.group("group") or ""
    selected = set(_BUILTIN)
    for role in roles:
        rule = role.raw.get("aggregationRule") or {}
        for selector in rule.get("clusterRoleSelectors") or [] if isinstance(rule, dict) else []:
            for key in ((selector or {}).get("matchLabels") or {}) if isinstance(selector, dict) else {}:
                if key.startswith(_PREFIX):
                    selected.add(key.removeprefix(_PREFIX))
    for _label, line in lines_of(obs):
        if "clusterRoleSelectors" in line or "matchLabels" in line:
            selected.update(m.group("target") for m in _SELECTED.finditer(line))
    for role, target in labelled:
        if target in selected or not _rules_cover(role.raw.get("rules"), resource, group):
            continue
        meant = min((name for name in ("admin", "edit", "view") if name[:3] == target[:3]), default="admin/edit/view")
        title = (
            f"ClusterRole {role.name} carries the label {_PREFIX}{target}, which no aggregating ClusterRole selects "
            f"(the built-in one is {_PREFIX}{meant}), so its rules on {resource} never reach the users bound to {meant}, "
            f"and the API server refuses {match.group('user')} '{match.group('verb')} {resource}'"
        )
        return [
            Finding(
                kind="rbac_aggregation_label",
                subject=f"clusterrole/{role.name}",
                role="cause",
                title=title,
                weight=93,
                evidence=[cite, role.quote(f"aggregate-to-{target}", fallback=f"ClusterRole {role.name} labels")],
                workload=role.name,
                recommendations=[
                    rec("high", f'Label ClusterRole {role.name} {_PREFIX}{meant}: "true" (fix the chart\'s label)')
                ],
                affected=[role.name, resource],
                related=[match.group("user")],
            )
        ]
    return []
