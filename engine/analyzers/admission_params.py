"""A ValidatingAdmissionPolicy whose binding's parameter object is gone.

A ValidatingAdmissionPolicyBinding's ``paramRef`` names the object (of the policy's ``paramKind``, often a
ConfigMap or a CRD) holding the policy's parameters. When that object does not exist and the binding says
``parameterNotFoundAction: Deny``, the API server refuses every request the binding matches with ``failed to
configure binding: no params found for policy binding with `Deny` parameterNotFoundAction``: the objects are
fine, the parameters are missing (deleted, pruned by GitOps, or in another namespace than ``paramRef.namespace``).
"""
# ruff: noqa: E501  (patterns and messages read better unwrapped)

from __future__ import annotations

import re

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import rec
from engine.analyzers.scheduling_detail import lines_of
from engine.facts import Observations
from engine.findings import Finding
from engine.parsers.common import excerpt

_NO_PARAMS = re.compile(
    r"(?:\\?\"(?P<object>[\w.-]+)\\?\" is forbidden: )?ValidatingAdmissionPolicy '(?P<policy>[^']+)'(?: with binding '(?P<binding>[^']+)')? denied request: failed to configure binding: no params? found"
)
_PARAM_REF = re.compile(r"""^(?P<indent>\s*)"?paramRef"?\s*:\s*(?P<inline>\{.*)?$""")
_FIELD = re.compile(r"""^\s*"?(?P<key>name|namespace)"?\s*:\s*"?(?P<value>[\w.-]+)"?""")
_INLINE_FIELD = re.compile(r""""?(?P<key>name|namespace)"?\s*:\s*"?(?P<value>[\w.-]+)""")
_PARAM_KIND = re.compile(r"""^\s*"?kind"?\s*:\s*"?(?P<kind>[A-Z]\w+)""")


def _param_ref(obs: Observations) -> tuple[str, str | None, str] | None:
    """(name, namespace, cite) of a binding's paramRef as pasted (YAML block, JSON, -o yaml object)."""
    for resource in obs.resources:
        ref = (
            (resource.raw.get("spec") or {}).get("paramRef")
            if resource.kind == "ValidatingAdmissionPolicyBinding"
            else None
        )
        if isinstance(ref, dict) and isinstance(ref.get("name"), str):
            return ref["name"], ref.get("namespace"), resource.quote("name:", ref["name"])
    docs = [(t.label, t.lines) for t in obs.texts] + [(d.label, d.lines) for d in obs.logs]
    for label, lines in docs:
        for index, line in enumerate(lines):
            match = _PARAM_REF.match(line)
            if match is None:
                continue
            fields: dict[str, tuple[str, str]] = {}
            if match.group("inline"):
                for found in _INLINE_FIELD.finditer(match.group("inline")):
                    fields.setdefault(found.group("key"), (found.group("value"), line))
            else:
                indent = len(match.group("indent"))
                for following in lines[index + 1 : index + 8]:
                    if not following.strip() or len(following) - len(following.lstrip()) <= indent:
                        break
                    if field := _FIELD.match(following):
                        fields.setdefault(field.group("key"), (field.group("value"), following))
            if "name" in fields:
                name, cited = fields["name"]
                namespace = fields.get("namespace", (None, ""))[0]
                return name, namespace, f"{label} {excerpt(cited.strip())}"
    return None


def _absent(obs: Observations, name: str) -> str | None:
    """The line showing the parameter object does not exist (a NotFound for it)."""
    for label, line in lines_of(obs):
        if name in line and re.search(r"\(NotFound\)|\bnot found\b", line):
            return f"{label} {excerpt(line.strip(), around=name)}"
    return None


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    denials = [(label, line, m) for label, line in lines_of(obs) if (m := _NO_PARAMS.search(line))]
    if not denials:
        return []
    owner = ctx.focus.owner() if ctx.focus is not None else None
    # the denial of the object asked about, else the first
    denial = next((d for d in denials if owner and d[2].group("object") == owner), denials[0])
    ref = _param_ref(obs)
    if ref is None:
        return []
    label, line, match = denial
    name, namespace, ref_cite = ref
    policy, binding = match.group("policy"), match.group("binding")
    kind = next(
        (
            m.group("kind")
            for _, text in lines_of(obs)
            if "paramKind" not in text and (m := _PARAM_KIND.match(text)) and m.group("kind") in ("ConfigMap", "Secret")
        ),
        "",
    )
    missing = _absent(obs, name)
    where = f" in namespace {namespace}" if namespace else ""
    title = (
        f"ValidatingAdmissionPolicy {policy}"
        + (f" (binding {binding})" if binding else "")
        + f" refuses every request it matches because its parameter object {kind + ' ' if kind else ''}{name}{where} (the binding's paramRef) "
        + ("does not exist" if missing else "is not found")
        + " and the binding's parameterNotFoundAction is Deny: the objects are not at fault, the policy's parameters are missing"
    )
    evidence = [f"{label} {excerpt(line.strip(), around='no params')}", ref_cite] + ([missing] if missing else [])
    return [
        Finding(
            kind="admission_policy_params_missing",
            subject=f"validatingadmissionpolicy/{policy}",
            role="cause",
            title=title,
            weight=93,
            evidence=evidence,
            workload=match.group("object") or policy,  # the refused object's owner asked about it
            recommendations=[
                rec(
                    "high",
                    f"Recreate {name}{where} (restore it in Git if a prune deleted it) or point the binding's paramRef at the object that holds the parameters",
                )
            ],
            affected=[a for a in (match.group("object"), policy, name) if a],
        )
    ]
