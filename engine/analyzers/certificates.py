"""cert-manager objects as ``kubectl describe`` (often cut with ``sed``) and ``cmctl status certificate`` print them.

Structured objects (YAML/JSON) are read by ``cluster``'s condition rule; this module reads the text forms: a
``Conditions:`` block (``Message``/``Reason``/``Status``/``Type`` entries) or cmctl's one-line conditions
(``Ready: False, Reason: X, Message: Y``), attributed to the object the command or ``Name:`` line names.

What cert-manager's documentation says the reasons mean: ``ErrRegisterACMEAccount`` (RFC 8555
``invalidContact``) is the ACME server refusing the issuer's ``spec.acme.email``; ``ErrInitIssuer`` a CA/secret
the issuer cannot load. A Ready certificate with a ``Renewal Time`` is renewed by cert-manager by itself.
"""
# ruff: noqa: E501  (patterns and messages read better unwrapped)

from __future__ import annotations

import re
from dataclasses import dataclass, field

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import rec
from engine.facts import Observations
from engine.findings import Finding
from engine.parsers.common import excerpt

_KINDS = {
    "certificate": "Certificate",
    "certificates": "Certificate",
    "cert": "Certificate",
    "certificaterequest": "CertificateRequest",
    "cr": "CertificateRequest",
    "issuer": "Issuer",
    "issuers": "Issuer",
    "clusterissuer": "ClusterIssuer",
    "clusterissuers": "ClusterIssuer",
    "order": "Order",
    "challenge": "Challenge",
}
_COMMAND = re.compile(
    r"(?:kubectl\b.*?\bdescribe|cmctl\s+status)\s+(?P<kind>clusterissuers?|issuers?|certificates?|cert|certificaterequest|order|challenge)(?:\.[\w.]+)?(?:/|\s+)(?P<name>[a-z0-9][\w.-]*)",
    re.IGNORECASE,
)
_ONE_LINE = re.compile(
    r"^\s*(?P<type>Ready|Issuing|Approved|Denied|InvalidRequest)\s*:\s*(?P<status>True|False),\s*Reason:\s*(?P<reason>[^,]*),\s*Message:\s*(?P<message>.+)$"
)
_ENTRY = re.compile(
    r"^\s*(?P<key>Message|Reason|Status|Type|Email|Renewal Time|Not After|Name|Kind)\s*:\s*(?P<value>.*)$"
)
_INVALID_CONTACT = re.compile(r"invalidContact|ErrRegisterACMEAccount|Failed to register ACME account", re.IGNORECASE)


@dataclass
class _Object:
    kind: str
    name: str
    label: str
    entries: dict[str, tuple[str, str]] = field(default_factory=dict)  # key -> (value, line)
    failed: list[tuple[str, str, str, str]] = field(default_factory=list)  # (type, reason, message, line)
    ready_line: str | None = None


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    findings: list[Finding] = _ingress_secret_mismatch(obs, ctx)
    objects = read_objects(obs)
    issuers = [o for o in objects if o.kind in ("Issuer", "ClusterIssuer") and o.failed]
    certificates = [o.name for o in objects if o.kind in ("Certificate", "CertificateRequest") and o.failed]
    for item in objects:
        if not item.failed:
            continue
        # A certificate is not issued while its issuer is not Ready: the issuer's reason is the cause.
        behind_issuer = len(issuers) == 1 and item.kind in ("Certificate", "CertificateRequest")
        ctype, reason, message, line = item.failed[0]
        email = item.entries.get("Email")
        evidence = [f"{item.label} {excerpt(line.strip(), around=message[:30])}"]
        if _INVALID_CONTACT.search(f"{reason} {message}"):
            contact = f" the contact email {email[0]}" if email else " its contact email"
            if email:
                evidence.append(f"{item.label} {email[1].strip()}")
            title = f"{item.kind} {item.name} is not Ready ({reason}): the ACME server refuses to register its ACME account because{contact} is invalid ({message[:220]}), so no certificate from this issuer can be issued"
            action = f"Set spec.acme.email of {item.kind} {item.name} to a real address on a public domain; cert-manager then registers the account and issues the pending certificates"
        else:
            title = f"{item.kind} {item.name} is not {ctype} ({reason}): {message[:260]}"
            action = f"kubectl describe {item.kind.lower()} {item.name} and fix what it reports: {message[:120]}"
        still_valid = _renewing_while_valid(item, reason, ctx)
        if still_valid:  # a renewal in progress: the Secret still holds the current, valid certificate
            title += (
                f"; the certificate it serves stays valid until {still_valid}, so clients are not affected by this yet"
            )
        findings.append(
            Finding(
                kind=f"{item.kind.lower()}_not_ready",
                subject=f"{item.kind.lower()}/{item.name}",
                role="symptom" if behind_issuer or still_valid else "cause",
                title=title,
                weight=40 if still_valid else (70 if behind_issuer else (90 if item in issuers else 86)),
                evidence=evidence,
                workload=item.name,
                recommendations=[rec("high", action)],
                affected=[item.name],
                related=["cert-manager", *(certificates if item in issuers else [])],
            )
        )
    return findings


def _renewing_while_valid(item: _Object, reason: str, ctx: AnalysisContext) -> str | None:
    """``Ready False, Reason: Renewing`` (or Issuing) with a ``Not After`` still ahead: cert-manager is renewing, and
    until that date the Secret keeps serving the current certificate, so it is no cause of an outage now."""
    expires = item.entries.get("Not After")
    if item.kind != "Certificate" or reason not in ("Renewing", "Issuing") or expires is None:
        return None
    stamp = _ISO.search(expires[0])
    if stamp is None or stamp.group(1) <= ctx.now.strftime("%Y-%m-%dT%H:%M:%SZ"):
        return None
    return stamp.group(1)


_SECRET_NAME = re.compile(r"\"?secretName\"?\s*:\s*\"?(?P<secret>[a-z0-9][\w.-]*)")
_INGRESS_CMD = re.compile(r"\bingress(?:es)?(?:\.[\w.]+)?(?:/|\s+)(?P<name>[a-z0-9][\w.-]*)")
_ISO = re.compile(r"\b(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z)\b")


def _ingress_secret_mismatch(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    """An Ingress serving a TLS Secret that no Certificate renews, while a Certificate renews another one: the
    Ingress (kubernetes.io Ingress TLS) serves exactly the secretName it references, expired or not."""
    renewed: dict[str, tuple[str, str]] = {}  # secret -> (certificate, cite)
    for resource in obs.resources:
        if resource.kind != "Certificate":
            continue
        row = resource.raw.get("row")
        spec = resource.raw.get("spec")
        secret = (row.get("SECRET") if isinstance(row, dict) else None) or (
            spec.get("secretName") if isinstance(spec, dict) else None
        )
        if secret:
            renewed[str(secret)] = (resource.name, resource.quote(str(secret)))
    if not renewed:
        return []
    owners = {  # secret -> the Ingress whose spec.tls names it (YAML/JSON objects)
        str(tls.get("secretName")): r.name
        for r in obs.resources
        if r.kind == "Ingress" and isinstance(r.raw.get("spec"), dict)
        for tls in r.raw["spec"].get("tls") or []
        if isinstance(tls, dict) and tls.get("secretName")
    }
    findings: list[Finding] = []
    for text in obs.texts:
        ingress = _INGRESS_CMD.search(text.command)
        for line in text.lines:
            found = _SECRET_NAME.search(line)
            if not found or found.group("secret") in renewed:
                continue
            secret = found.group("secret")
            meant = [s for s in renewed if s.startswith(secret) or secret.startswith((s, renewed[s][0]))]
            if not meant:
                continue
            certificate, cert_cite = renewed[meant[0]]
            expiry = _expiry(obs, secret)
            expired = (
                f", which expired at {expiry[0]}"
                if expiry and ctx.now.isoformat() > expiry[0].replace("Z", "+00:00")
                else ""
            )
            name = ingress.group("name") if ingress else owners.get(secret, "the Ingress")
            evidence = [f"{text.label} {excerpt(line.strip())}", cert_cite, *([expiry[1]] if expiry else [])]
            findings.append(
                Finding(
                    kind="ingress_tls_wrong_secret",
                    subject=f"ingress/{name}",
                    role="cause",
                    title=f"Ingress {name} serves TLS from Secret {secret}{expired}, but Certificate {certificate} renews Secret {meant[0]}: the Ingress's secretName still names the old Secret, so clients get the old certificate",
                    weight=93,
                    evidence=evidence,
                    workload=name,
                    related=[certificate, secret, meant[0]],
                    recommendations=[
                        rec(
                            "high",
                            f"Set spec.tls[].secretName of Ingress {name} to {meant[0]} (or point Certificate {certificate}'s secretName back at {secret})",
                        )
                    ],
                    affected=[name],
                )
            )
            return findings
    return findings


def _expiry(obs: Observations, secret: str) -> tuple[str, str] | None:
    for text in obs.texts:
        for line in text.lines:
            parts = line.split()
            if parts and parts[0] == secret:
                stamp = _ISO.search(line)
                if stamp:
                    return stamp.group(1), f"{text.label} {line.strip()}"
    return None


def healthy_certificates(obs: Observations) -> list[tuple[str, str]]:
    """Ready certificates with their renewal time, as facts for a health answer (fact, evidence)."""
    found: list[tuple[str, str]] = []
    for item in read_objects(obs):
        renew = item.entries.get("Renewal Time")
        if item.kind != "Certificate" or item.failed or item.ready_line is None or renew is None:
            continue
        expires = item.entries.get("Not After")
        until = f", valid until {expires[0]}" if expires else ""
        found.append(
            (
                f"Certificate {item.name} is Ready and up to date{until}; cert-manager renews it automatically at {renew[0]}, nothing to do",
                f"{item.label} {renew[1].strip()}",
            )
        )
    return found


def read_objects(obs: Observations) -> list[_Object]:
    objects: list[_Object] = []
    for text in obs.texts:
        current: _Object | None = None
        top: _Object | None = None
        block: dict[str, tuple[str, str]] = {}
        for line in [text.command, *text.lines]:
            command = _COMMAND.search(line)
            if command:
                top = current = _Object(_KINDS[command.group("kind").lower()], command.group("name"), text.label)
                objects.append(current)
                block = {}
                continue
            named = re.match(r"^Name:\s+([a-z0-9][\w.-]*)\s*$", line)
            if named and (top is None or top.name != named.group(1)):
                top = current = _Object("", named.group(1), text.label)  # a describe block; Kind: says what
                objects.append(current)
                block = {}
                continue
            if current is None or top is None:
                continue
            if line[:1].strip() and current is not top:
                current = top  # back at the top level after cmctl's nested section
            if line.startswith("Issuer:") and current.kind == "Certificate":
                current = _Object("", "", text.label)  # cmctl's nested issuer section (its Kind: says which)
                objects.append(current)
                continue
            one = _ONE_LINE.match(line)
            if one:
                _condition(
                    current, one.group("type"), one.group("status"), one.group("reason"), one.group("message"), line
                )
                continue
            entry = _ENTRY.match(line)
            if entry is None:
                continue
            key, value = entry.group("key"), entry.group("value").strip()
            if key == "Name" and not current.name:
                current.name = value
            elif key == "Kind" and not current.kind and (current is not top or not line[:1].isspace()):
                current.kind = _KINDS.get(value.lower(), "")
            elif key in ("Message", "Reason", "Status"):
                block[key] = (value, line)
            elif key == "Type" and block:
                status = block.get("Status", ("", ""))[0]
                message = block.get("Message", ("", ""))
                reason = block.get("Reason", ("", ""))[0]
                _condition(current, value, status, reason, message[0], message[1] or line)
                block = {}
            else:
                current.entries.setdefault(key, (value, line))
    return [o for o in objects if o.name and o.kind]


def _condition(item: _Object, ctype: str, status: str, reason: str, message: str, line: str) -> None:
    if ctype == "Ready" and status == "True":
        item.ready_line = line
    elif (ctype == "Ready" and status == "False") or (ctype in ("Denied", "InvalidRequest") and status == "True"):
        item.failed.append((ctype, reason or status, message or reason or "not ready", line))
