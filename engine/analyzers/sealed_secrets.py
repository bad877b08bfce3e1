"""A SealedSecret the controller cannot unseal: it was sealed with another controller's public certificate.

Each sealed-secrets controller has its own key pair (bitnami-labs/sealed-secrets README); ``no key could decrypt
secret`` (status, ``ErrUnsealFailed`` events, the controller's log) means none of this controller's private keys
matches the certificate the values were sealed with: another cluster's certificate (a ``.pub-cert.pem`` fetched
from staging), or a key that was rotated out and deleted. The Secret is then never created or updated, and pods
that reference it fail with CreateContainerConfigError. When the paste prints certificate fingerprints per
``kubeseal --context X --fetch-cert``, the context whose fingerprint matches the one sealed with is named.
"""
# ruff: noqa: E501  (documented messages read better unwrapped)

from __future__ import annotations

import re

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import rec, secret_waiting_workload
from engine.analyzers.scheduling_detail import lines_of
from engine.facts import Observations
from engine.findings import Finding
from engine.parsers.common import excerpt

_NO_KEY = re.compile(r"no key could decrypt secret", re.IGNORECASE)
_NAMED = re.compile(
    r"(?:Error updating|Updating|unseal(?:ing)?|Failed to unseal)\s+(?:[\w-]+/)?(?P<name>[\w.-]+)[,:]?\s[^\n]*no key could decrypt"
    r"|Name:\"(?P<name2>[\w.-]+)\"[^\n]*no key could decrypt"
    r"|^\s*(?:sealedsecret(?:\.bitnami\.com)?/)?(?P<name3>[\w.-]+)\s+no key could decrypt"
    r"|sealedsecret(?:\.bitnami\.com)?/(?P<name4>[\w.-]+)[^\n]*no key could decrypt",
    re.IGNORECASE,
)
_FINGERPRINT = re.compile(r"Fingerprint=(?P<fp>[0-9A-F:]{20,})", re.IGNORECASE)
_CONTEXT = re.compile(r"kubeseal\b[^\n|]*?--context[= ](?P<ctx>[\w.@:/-]+)[^\n|]*--fetch-cert")


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    failed = next(((label, line) for label, line in lines_of(obs) if _NO_KEY.search(line)), None)
    if failed is None:
        return []
    label, line = failed
    name = _sealed_name(obs)
    evidence = [f"{label} {excerpt(line.strip(), around='no key could decrypt')}"]
    sealed_with = _matching_context(obs)
    if sealed_with:
        other, cite = sealed_with
        evidence.append(cite)
        which = f"the {other} cluster's public certificate (its fingerprint matches the certificate it was sealed with), not this cluster's"
    else:
        which = "a public certificate whose private key this controller does not hold (another cluster's certificate, or a key rotated out)"
    owner = secret_waiting_workload(obs, ctx, name)
    return [
        Finding(
            kind="sealedsecret_wrong_cert",
            subject=f"sealedsecret/{name or 'unknown'}",
            role="cause",
            title=(
                f"{owner}: the SealedSecret {name or ''} cannot be unsealed (no key could decrypt secret): it was sealed "
                f"with {which}, so the Secret is not created or updated and the pods that reference it cannot start"
            ).replace("SealedSecret  ", "SealedSecret "),
            weight=95,
            evidence=evidence,
            workload=owner,
            recommendations=[
                rec(
                    "high",
                    "Re-seal the values with this cluster's certificate (kubeseal --fetch-cert against this cluster's "
                    "controller) and commit the new SealedSecret; keep each cluster's pub-cert separate",
                )
            ],
            affected=[owner],
        )
    ]


def _sealed_name(obs: Observations) -> str | None:
    for _, line in lines_of(obs):
        named = _NAMED.search(line)
        if named:
            return next(v for v in named.groupdict().values() if v)
    return None


def _matching_context(obs: Observations) -> tuple[str, str] | None:
    """The kubeseal context, of two or more printed, whose certificate fingerprint equals one printed for a file."""
    by_context: dict[str, tuple[str, str]] = {}  # fingerprint -> (context, cite)
    others: list[str] = []  # fingerprints printed by other commands (the repository's cert file)
    docs = [(t.label, t.command, t.lines) for t in obs.texts] + [(d.label, d.command, d.lines) for d in obs.logs]
    for label, command, lines in docs:
        context = _CONTEXT.search(command)
        for line in lines:
            if line.lstrip().startswith("$ "):
                context = _CONTEXT.search(line)
                continue
            printed = _FINGERPRINT.search(line)
            if not printed:
                continue
            fingerprint = printed.group("fp").upper()
            if context:
                by_context.setdefault(fingerprint, (context.group("ctx"), f"{label} {excerpt(line.strip())}"))
            else:
                others.append(fingerprint)
    if len({c for c, _ in by_context.values()}) < 2:
        return None  # one cluster's certificate alone cannot say the values were sealed for another one
    return next((by_context[f] for f in others if f in by_context), None)
