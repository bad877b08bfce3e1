"""Cloud workload identity: the Kubernetes service account the pods run as is not the one the cloud trusts.

- EKS IRSA: the IAM role's trust policy admits one identity per ``StringEquals`` condition on the OIDC
  provider's ``:sub`` claim, ``system:serviceaccount:<namespace>:<name>``. Pods running as another service account
  (renamed by a chart refactor, moved to another namespace) get ``AccessDenied ... AssumeRoleWithWebIdentity``
  even though the role ARN annotation and the role's permissions are unchanged.
- GKE Workload Identity: the Google service account's ``roles/iam.workloadIdentityUser`` binding names the member
  ``serviceAccount:<project>.svc.id.goog[<namespace>/<ksa>]``. Pods running as another namespace/name get a 403
  from the metadata server: ``Permission 'iam.serviceAccounts.getAccessToken' denied``.

The finding names the identity the cloud trusts and the one the pods present, read from the pod spec's
``serviceAccountName`` (a jsonpath print, YAML/JSON, describe's ``Service Account:``) or the annotated
ServiceAccount, and the namespace from the command line, the object or the question.
"""
# ruff: noqa: E501  (patterns and messages read better unwrapped)

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import rec
from engine.facts import Observations
from engine.findings import Finding, workload_of
from engine.parsers.common import excerpt

_STS_REFUSED = re.compile(
    r"(?:Not authorized|AccessDenied)[^\n]{0,200}AssumeRoleWithWebIdentity|AssumeRoleWithWebIdentity[^\n]{0,200}(?:AccessDenied|Not authorized)",
    re.IGNORECASE,
)
_GKE_REFUSED = re.compile(
    r"iam\.serviceAccounts\.getAccessToken\W{0,6} denied|Unable to generate access token; IAM returned 403",
    re.IGNORECASE,
)
_TRUSTED_SUB = re.compile(r":sub\W{1,6}[^\n]{0,40}?(?P<subs>system:serviceaccount:[\w.*-]+:[\w.*-]+)")
_SUB_ITEM = re.compile(r"system:serviceaccount:(?P<ns>[\w.*-]+):(?P<sa>[\w.*-]+)")
_WI_MEMBER = re.compile(r"serviceAccount:(?P<pool>[\w.-]+\.svc\.id\.goog)\[(?P<ns>[\w.-]+)/(?P<sa>[\w.-]+)\]")
_SA_FIELD = re.compile(r"""(?:serviceAccountName|Service Account)["']?\s*:\s*["']?(?P<sa>[a-z0-9][a-z0-9.-]*)""")
_NS_FLAG = re.compile(r"(?:^|\s)(?:-n|--namespace)[ =](?P<ns>[a-z0-9][a-z0-9-]*)")
_ANNOTATIONS = ("eks.amazonaws.com/role-arn", "iam.gke.io/gcp-service-account")


@dataclass(frozen=True)
class _Identity:
    namespace: str | None
    name: str
    cite: str


def _docs(obs: Observations) -> Iterator[tuple[str, str, list[str]]]:
    for text in obs.texts:
        yield text.label, text.command, text.lines
    for doc in obs.logs:
        yield doc.label, doc.command, doc.lines


def _namespace_of(command: str) -> str | None:
    match = _NS_FLAG.search(command)
    return match.group("ns") if match else None


def _running_as(obs: Observations, ctx: AnalysisContext) -> _Identity | None:
    """The service account the pods run as."""
    for label, command, lines in _docs(obs):
        if "serviceaccountname" in command and "jsonpath" in command:
            value = next((line.strip() for line in lines if line.strip()), "")
            if re.fullmatch(r"[a-z0-9][a-z0-9.-]*", value):
                return _Identity(_namespace_of(command) or ctx.namespace, value, f"{label} {value}")
        for line in lines:
            match = _SA_FIELD.search(line)
            if match and "serviceaccount:" not in line.lower():
                return _Identity(
                    _namespace_of(command) or ctx.namespace, match.group("sa"), f"{label} {excerpt(line.strip())}"
                )
    for resource in obs.resources:
        annotations = (resource.raw.get("metadata") or {}).get("annotations") or {}
        if resource.kind == "ServiceAccount" and any(key in annotations for key in _ANNOTATIONS):
            return _Identity(resource.namespace or ctx.namespace, resource.name, resource.quote("name:", resource.name))
    return None


def _matches(pattern: str, value: str | None) -> bool:
    if value is None:
        return True
    return re.fullmatch(re.escape(pattern).replace(r"\*", ".*"), value) is not None


def _subject(ctx: AnalysisContext, running: _Identity) -> str:
    if ctx.service:
        return workload_of(ctx.service)
    if ctx.focus is not None and ctx.focus.owner():
        return ctx.focus.owner() or running.name
    return running.name


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    lines = [(label, line) for label, _, doc_lines in _docs(obs) for line in doc_lines]
    sts = next(((label, line) for label, line in lines if _STS_REFUSED.search(line)), None)
    gke = next(((label, line) for label, line in lines if _GKE_REFUSED.search(line)), None)
    if sts is None and gke is None:
        return []
    running = _running_as(obs, ctx)
    if running is None:
        return []
    findings: list[Finding] = []
    if sts is not None:
        trusted = [
            (label, line, m) for label, line in lines for m in _SUB_ITEM.finditer(line) if _TRUSTED_SUB.search(line)
        ]
        if trusted and not any(
            _matches(m.group("sa"), running.name) and _matches(m.group("ns"), running.namespace) for _, _, m in trusted
        ):
            label, line, match = trusted[0]
            findings.append(
                _finding(
                    ctx,
                    running,
                    "irsa_trust_policy_subject",
                    f"the IAM role's trust policy admits only {match.group(0)} (its StringEquals condition on the OIDC :sub claim), but the pods run as service account "
                    f"{running.namespace + ':' if running.namespace else ''}{running.name}, so STS refuses AssumeRoleWithWebIdentity",
                    [
                        f"{sts[0]} {excerpt(sts[1].strip(), around='AssumeRoleWithWebIdentity')}",
                        f"{label} {excerpt(line.strip())}",
                        running.cite,
                    ],
                    f"Change the trust policy's :sub condition to system:serviceaccount:{running.namespace or '<namespace>'}:{running.name} (or run the pods as the service account it names)",
                )
            )
    if gke is not None:
        members = [(label, line, m) for label, line in lines for m in _WI_MEMBER.finditer(line)]
        if members and not any(
            m.group("sa") == running.name and _matches(m.group("ns"), running.namespace) for _, _, m in members
        ):
            label, line, match = members[0]
            findings.append(
                _finding(
                    ctx,
                    running,
                    "workload_identity_binding",
                    f"the Google service account's roles/iam.workloadIdentityUser binding admits only {match.group(0).removeprefix('serviceAccount:')}, but the pods run as "
                    f"{running.namespace + '/' if running.namespace else ''}{running.name}, so the metadata server cannot mint a token (403 on iam.serviceAccounts.getAccessToken)",
                    [
                        f"{gke[0]} {excerpt(gke[1].strip(), around='getAccessToken')}",
                        f"{label} {excerpt(line.strip())}",
                        running.cite,
                    ],
                    f"Add the member serviceAccount:{match.group('pool')}[{running.namespace or '<namespace>'}/{running.name}] with roles/iam.workloadIdentityUser on the Google service account",
                )
            )
    return findings


def _finding(ctx: AnalysisContext, running: _Identity, kind: str, title: str, evidence: list[str], fix: str) -> Finding:
    who = _subject(ctx, running)
    return Finding(
        kind=kind,
        subject=f"{who}:{kind}",
        role="cause",
        title=f"{who}: {title}",
        weight=92,
        evidence=evidence,
        workload=who,
        recommendations=[rec("high", fix)],
        affected=[who],
    )
