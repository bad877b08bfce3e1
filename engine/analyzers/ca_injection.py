"""cert-manager's CA injector pointed at a Certificate that does not exist.

``cert-manager.io/inject-ca-from: <namespace>/<certificate>`` on a webhook configuration, CRD or APIService asks
cainjector to copy that Certificate's CA into the object's ``caBundle``. When the named Certificate does not
exist (a chart renamed it, a value that set its name was dropped), cainjector logs "unable to fetch associated
certificate ... not found" and leaves the old caBundle in place; the API server then cannot verify the
webhook's current serving certificate ("x509: certificate signed by unknown authority") and every call fails,
while the operator and its (renamed) Certificate both look healthy.
"""
# ruff: noqa: E501  (user-facing messages read better unwrapped)

from __future__ import annotations

import difflib
import re

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import workload_cause
from engine.facts import Observations
from engine.findings import Finding

_ANNOTATION = re.compile(r"cert-manager\.io/inject-ca-from\"?\s*[:=]\s*\"?(?P<ns>[\w.-]+)/(?P<name>[a-z0-9][\w.-]*)")
_NOT_FOUND = re.compile(r"Certificate(?:\.cert-manager\.io)?\s+\\?\"(?P<name>[a-z0-9][\w.-]*)\\?\" not found")
_LISTED = re.compile(r"(?:^|\s)certificates?(?:\.cert-manager\.io)?/(?P<name>[a-z0-9][\w.-]*)\s")
_CERT_COMMAND = re.compile(r"\bget\s+(?:[\w.,-]*,)?(?:certificates?|certs?)(?:\.cert-manager\.io)?\b")
_INJECTABLE = (
    "ValidatingWebhookConfiguration",
    "MutatingWebhookConfiguration",
    "CustomResourceDefinition",
    "APIService",
)


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    docs = [(t.label, t.command, t.lines) for t in obs.texts] + [(d.label, d.command, d.lines) for d in obs.logs]
    existing, listed = _certificates(obs, docs)
    findings: list[Finding] = []
    for target, namespace, name, cite in _annotations(obs):
        missing = next(
            (
                f"{label} {line.strip()[:300]}"
                for label, _, lines in docs
                for line in lines[:20000]
                for m in [_NOT_FOUND.search(line)]
                if m and m.group("name") == name
            ),
            None,
        )
        if missing is None and not (listed and name not in existing):
            continue
        close = difflib.get_close_matches(name, sorted(existing - {name}), n=1, cutoff=0.6)
        instead = f"; the Certificate that exists is {close[0]}" if close else ""
        owner = (ctx.focus.owner() if ctx.focus else None) or _owner_of(target)
        findings.append(
            workload_cause(
                "ca_injection_missing_certificate",
                owner=owner,
                fallback=target,
                title=f"{owner + ': ' if owner else ''}{target}'s cert-manager.io/inject-ca-from names Certificate {namespace}/{name}, which does not exist{instead}, so cainjector never updates its caBundle and the API server cannot verify the webhook's serving certificate (x509: certificate signed by unknown authority)",
                weight=93,
                evidence=[e for e in (cite, missing) if e],
                fix=f"Point the inject-ca-from annotation of {target} at the Certificate that issues the webhook's serving cert{' (' + namespace + '/' + close[0] + ')' if close else ''}, or recreate Certificate {namespace}/{name}",
            )
        )
    return findings


def _owner_of(target: str) -> str:
    """pipeline-operator-validating -> pipeline-operator: the release a webhook configuration belongs to."""
    return re.sub(r"-(?:validating|mutating|webhook|webhooks|validation|mutation|conversion)(?:-.*)?$", "", target)


def _annotations(obs: Observations) -> list[tuple[str, str, str, str]]:
    found: list[tuple[str, str, str, str]] = []
    for resource in obs.resources:
        if resource.kind not in _INJECTABLE:
            continue
        annotations = (resource.raw.get("metadata") or {}).get("annotations") or {}
        value = str(annotations.get("cert-manager.io/inject-ca-from", ""))
        if "/" in value:
            namespace, name = value.split("/", 1)
            found.append((resource.name, namespace, name, resource.quote("inject-ca-from")))
    return found


def _certificates(obs: Observations, docs: list[tuple[str, str, list[str]]]) -> tuple[set[str], bool]:
    """The Certificates known to exist, and whether a Certificate listing was printed at all."""
    names = {r.name for r in obs.resources if r.kind == "Certificate"}
    listed = bool(names)
    for _, command, lines in docs:
        current = command or ""
        for line in lines[:5000]:
            if line.lstrip().startswith("$ "):
                current = line
                continue
            row = _LISTED.search(line)
            if row:
                names.add(row.group("name"))
                listed = True
            elif _CERT_COMMAND.search(current) and re.match(r"^[a-z0-9][\w.-]*\s+(?:True|False)\s", line):
                names.add(line.split()[0])
                listed = True
    return names, listed
