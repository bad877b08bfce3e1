"""An Ingress whose TLS secret does not exist in its namespace.

An Ingress's ``tls[].secretName`` names a ``kubernetes.io/tls`` Secret in the Ingress's own namespace; when the
controller cannot find it, ingress-nginx serves its "Kubernetes Ingress Controller Fake Certificate" for those
hosts and browsers reject it (kubernetes.github.io/ingress-nginx/user-guide/tls/,
kubernetes.io/docs/concepts/services-networking/ingress/#tls). The secret is missing when a listing of that
namespace's Secrets is in the attachments and does not hold it; a near name in the listing is the likely rename.
"""
# ruff: noqa: E501  (user-facing messages read better unwrapped)

from __future__ import annotations

import difflib
import re
from typing import Any

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import rec
from engine.facts import Observations
from engine.findings import Finding

_TERMINATES = re.compile(r"^\s+(?P<secret>[a-z0-9][\w.-]*) terminates (?P<hosts>\S.*)$")
_NAMESPACE_LINE = re.compile(r"^Namespace:\s+(?P<ns>[\w.-]+)")
_NAMESPACE_FLAG = re.compile(r"(?:-n|--namespace)[= ](?P<ns>[\w.-]+)")
_SECRETS_COMMAND = re.compile(r"\bget\s+(?:secrets?)\b(?!\s+[a-z0-9][\w.-]*\s+-o)")
_SECRET_ROW = re.compile(
    r"^(?:(?P<ns>[a-z0-9][\w.-]*)\s+)?(?P<name>[a-z0-9][\w.-]*)\s+(?P<type>[\w./-]+)\s+\d+\s+\S+\s*$"
)


def _d(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _l(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _tls_refs(obs: Observations) -> list[tuple[str, str | None, str, str, str]]:
    """(ingress, namespace, secret, hosts, evidence) for every TLS section seen."""
    refs: list[tuple[str, str | None, str, str, str]] = []
    for ingress in (r for r in obs.resources if r.kind == "Ingress"):
        for tls in (_d(t) for t in _l(_d(ingress.raw.get("spec")).get("tls"))):
            secret = str(tls.get("secretName") or "")
            if secret:
                hosts = ", ".join(str(h) for h in _l(tls.get("hosts")))
                refs.append((ingress.name, ingress.namespace, secret, hosts, ingress.quote(secret)))
    for text in obs.texts:
        if text.kind != "describe":
            continue
        namespace = next((m.group("ns") for m in map(_NAMESPACE_LINE.match, text.lines) if m), None)
        name = next((line.split(":", 1)[1].strip() for line in text.lines if line.startswith("Name:")), "")
        for line in text.lines:
            match = _TERMINATES.match(line)
            if match and name:
                refs.append(
                    (
                        name,
                        namespace,
                        match.group("secret"),
                        match.group("hosts").strip(),
                        f"{text.label} {line.strip()}",
                    )
                )
    return refs


def _secret_listings(obs: Observations) -> dict[str, tuple[set[str], str]]:
    """Namespace -> the Secret names a ``kubectl get secrets`` listing shows there, and its label."""
    listings: dict[str, tuple[set[str], str]] = {}
    for text in obs.texts:
        command = text.command or ""
        if not _SECRETS_COMMAND.search(command) or "|" in command:
            continue  # a grep'd listing may hide the secret
        flag = _NAMESPACE_FLAG.search(command)
        for line in text.lines:
            row = _SECRET_ROW.match(line.strip())
            if not row or row.group("name") in ("NAME", "NAMESPACE"):
                continue
            namespace = row.group("ns") or (flag.group("ns") if flag else None)
            if namespace:
                names, _ = listings.setdefault(namespace, (set(), text.label))
                names.add(row.group("name"))
    return listings


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    listings = _secret_listings(obs)
    if not listings:
        return []
    findings: list[Finding] = []
    for ingress, namespace, secret, hosts, evidence in dict.fromkeys(_tls_refs(obs)):
        listing = listings.get(namespace or "") or (
            next(iter(listings.values())) if len(listings) == 1 and namespace is None else None
        )
        if listing is None or secret in listing[0]:
            continue
        near = difflib.get_close_matches(secret, sorted(listing[0]), n=1, cutoff=0.6)
        hint = f"; Secret {near[0]} exists there (a renamed secret?)" if near else ""
        where = f" in namespace {namespace}" if namespace else ""
        findings.append(
            Finding(
                kind="ingress_tls_secret_missing",
                subject=f"ingress/{ingress}",
                role="cause",
                title=f"{ingress}: Ingress {ingress} terminates TLS for {hosts or 'its hosts'} with Secret {secret}, which does not exist{where}{hint}, so the ingress controller serves its default (fake) certificate and clients reject it",
                weight=86,
                evidence=[evidence],
                workload=ingress,
                recommendations=[
                    rec(
                        "high",
                        f"Point tls.secretName of Ingress {ingress} at {near[0]}"
                        if near
                        else f"Create the kubernetes.io/tls Secret {secret}{where} (or let cert-manager issue it)",
                    )
                ],
                affected=[ingress, secret],
            )
        )
    return findings
