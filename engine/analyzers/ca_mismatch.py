"""``x509: certificate signed by unknown authority`` explained by the CA bundle the client trusts.

When ``openssl`` shows the server's certificate issuer (``openssl s_client -connect host | openssl x509 -issuer``)
and the subject of the CA the client is configured with (``kubectl get cm|secret <ca> ... | openssl x509
-subject``) and the two differ, the server's certificate was issued by a CA that is not in the trusted bundle:
typically the issuing CA was rotated (G1 -> G2) and the bundle a client mounts (caBundle, caProvider, a CA
ConfigMap) still holds the old one.
"""
# ruff: noqa: E501  (user-facing messages read better unwrapped)

from __future__ import annotations

import re
from collections.abc import Iterator

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import rec
from engine.analyzers.log_signatures import _subject_named_in, doc_source
from engine.facts import Observations
from engine.findings import Finding, workload_of
from engine.parsers.common import excerpt

_UNKNOWN_CA = re.compile(
    r"certificate signed by unknown authority|unable to get local issuer certificate|self[- ]signed certificate in certificate chain"
)
_CN = re.compile(r"^\s*(?P<field>subject|issuer)\s*=\s*.*?CN\s*=\s*(?P<cn>[^,/\n]+?)\s*(?:,|/|$)")
_CA_SOURCE = re.compile(r"\b(?:get|describe)\s+(?:cm|configmaps?|secrets?)(?:/|\s+)(?P<name>[a-z0-9][a-z0-9.-]*)")
_S_CLIENT = re.compile(r"s_client\b[^|]*?-connect\s+(?P<host>[\w.-]+)(?::\d+)?")
_URL_HOST = re.compile(r"https://(?P<host>[\w.-]+)")


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    failing = next(
        ((doc, line) for doc in obs.logs for line in doc.lines[:20000] if _UNKNOWN_CA.search(line)),
        None,
    )
    if failing is None:
        return []
    trusted: tuple[str, str, str] | None = None  # CN, where it comes from, evidence
    served: tuple[str, str, str] | None = None  # CN, host, evidence
    for label, command, lines in _sources(obs):
        for line in lines:
            if line.lstrip().startswith(("$ ", "# ")):  # the next command of the paste
                command = line
                continue
            ca = _CA_SOURCE.search(command)
            client = _S_CLIENT.search(command)
            found = _CN.match(line)
            if found is None:
                continue
            cite = f"{label} {excerpt(line.strip())}"
            if found.group("field") == "subject" and ca and trusted is None:
                trusted = (found.group("cn"), ca.group("name"), cite)
            if found.group("field") == "issuer" and client and served is None:
                served = (found.group("cn"), client.group("host"), cite)
    if trusted is None or served is None or trusted[0].lower() == served[0].lower():
        return []
    doc, line = failing
    owner = _subject_named_in([line], ctx) or doc_source(doc, ctx)
    workload = workload_of(owner) if owner else None
    target = _URL_HOST.search(line)
    host = target.group("host") if target else served[1]
    return [
        Finding(
            kind="tls_ca_bundle_mismatch",
            subject=f"{workload or 'client'}:tls_ca_bundle_mismatch",
            role="cause",
            title=(
                f"{workload + ': ' if workload else ''}TLS verification of {host} fails (certificate signed by unknown authority): the server's certificate is issued by "
                f"'{served[0]}', but the CA the client trusts ({trusted[1]}) is '{trusted[0]}': the issuing CA changed and the trusted bundle still holds the old one"
            ),
            weight=94,
            evidence=[f"{doc.label} {excerpt(line.strip())}", served[2], trusted[2]],
            workload=workload,
            recommendations=[
                rec(
                    "high",
                    f"Add the issuing CA '{served[0]}' (and its root) to {trusted[1]}, keeping '{trusted[0]}' until every certificate it signed is gone",
                )
            ],
            affected=[workload] if workload else [],
            related=[host],
        )
    ]


def _sources(obs: Observations) -> Iterator[tuple[str, str, list[str]]]:
    for text in obs.texts:
        yield text.label, text.command, text.lines[:2000]
    for doc in obs.logs:
        yield doc.label, doc.command, doc.lines[:2000]
