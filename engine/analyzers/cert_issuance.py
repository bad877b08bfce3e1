"""Why cert-manager cannot get a certificate issued, from what its objects and the ACME server print.

- An ACME problem document (RFC 8555 §6.7) in an Order's or Challenge's ``Reason:``/event or cert-manager's log,
  ``urn:ietf:params:acme:error:<type>``: ``rateLimited`` (Let's Encrypt's limits, e.g. 5 duplicate certificates a
  week, until the "retry after" time), ``caa`` (the domain's CAA record forbids the CA), ``unauthorized`` /
  ``incorrectResponse`` (the HTTP-01/DNS-01 answer was wrong), ``dns``, ``connection``, ``rejectedIdentifier``.
  Orders are named ``<certificate>-<revision>-<hash>``, so the certificate is known from the order's name.
- ``Referenced "Issuer" not found`` for a name that exists as a ClusterIssuer: ``issuerRef.kind`` defaults to
  ``Issuer`` (namespaced), and a ClusterIssuer must be referenced with ``kind: ClusterIssuer`` (and the reverse).
"""
# ruff: noqa: E501  (patterns and messages read better unwrapped)

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import rec
from engine.facts import Observations
from engine.findings import Finding
from engine.parsers.common import excerpt

_ACME_ERROR = re.compile(
    r"(?:(?P<status>\d{3})\s+)?urn:ietf:params:acme:error:(?P<type>\w+)\s*:?\s*(?P<detail>[^\n]{0,400})",
    re.IGNORECASE,
)
_MEANING = {
    "ratelimited": "the ACME server's rate limit refuses a new certificate (Let's Encrypt allows 5 certificates a week for the same set of names), so renewal is blocked until the limit resets",
    "caa": "the domain's CAA DNS record does not allow this certificate authority to issue for it",
    "unauthorized": "the ACME server could not validate control of the domain (the challenge answer was wrong or unreachable)",
    "incorrectresponse": "the ACME server got a wrong answer to the challenge",
    "dns": "the ACME server's DNS lookup for the domain failed",
    "connection": "the ACME server could not connect to the domain to validate the challenge",
    "rejectedidentifier": "the certificate authority refuses to issue for this name",
    "badcsr": "the ACME server rejected the certificate signing request",
    "invalidcontact": "the ACME server refuses the account's contact email",
}
_DESCRIBED = re.compile(
    r"\b(?:describe|get|cmctl\s+status)\s+(?P<kind>orders?|challenges?|certificaterequests?|certificates?|cert)(?:\.[\w.]+)?(?:/|\s+)(?P<name>[a-z0-9][\w.-]*)",
    re.IGNORECASE,
)
_ORDER_NAME = re.compile(r"\b(?P<cert>[a-z0-9][\w.-]*?)-\d+-\d{6,}\b")
_RETRY_AFTER = re.compile(r"retry after (?P<when>[\d-]+[ T][\d:]+(?: UTC)?)", re.IGNORECASE)
_EXPIRED = re.compile(r"certificate has expired|ERR_CERT_DATE_INVALID|certificate expired", re.IGNORECASE)
# openssl x509 -dates / -enddate, curl -v
_NOT_AFTER = re.compile(r"(?:notAfter=|expire date:\s*)(?P<when>\w{3}\s+\d{1,2} [\d:]{8} \d{4}) GMT")


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    return (
        (_acme_errors(obs, ctx) or _challenge_not_presented(obs) or _served_certificate(obs, ctx))
        + _issuer_kind(obs)
        + _tls_secret_elsewhere(obs)
    )


def _sources(obs: Observations) -> Iterator[tuple[str, str, list[str]]]:
    for text in obs.texts:
        yield text.label, text.command, text.lines
    for doc in obs.logs:
        yield doc.label, doc.command, doc.lines


def _acme_errors(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    for label, command, lines in _sources(obs):
        about = _DESCRIBED.search(command or "")
        for line in lines[:20000]:
            match = _ACME_ERROR.search(line[:4096])
            if match is None or match.group("type").lower() == "invalidcontact":
                continue  # an issuer's account registration is the certificates analyzer's
            order = _ORDER_NAME.search(line) or (_ORDER_NAME.search(about.group("name")) if about else None)
            certificate = order.group("cert") if order else (about.group("name") if about else None)
            return [_acme_finding(label, line, match, certificate, obs, ctx)]
    return []


def _acme_finding(
    label: str, line: str, match: re.Match[str], certificate: str | None, obs: Observations, ctx: AnalysisContext
) -> Finding:
    kind = match.group("type")
    detail = match.group("detail").strip().rstrip(".")
    status = f"{match.group('status')} " if match.group("status") else ""
    meaning = _MEANING.get(kind.lower(), "the ACME server refuses the order")
    retry = _RETRY_AFTER.search(detail)
    when = f" (retry after {retry.group('when')})" if retry else ""
    expired, expired_cite = _served_expired(obs, ctx)
    subject = certificate or "cert-manager"
    who = f"Certificate {certificate}" if certificate else "The certificate"
    title = (
        f"{subject}: {who} cannot be issued or renewed: the ACME order fails with {status}{kind} ({detail[:260]}): "
        f"{meaning}{when}{expired}"
    )
    evidence = [f"{label} {excerpt(line.strip(), around=kind)}", *([expired_cite] if expired_cite else [])]
    return Finding(
        kind="acme_order_failed",
        subject=f"certificate/{subject}",
        role="cause",
        title=title,
        weight=91,
        evidence=evidence,
        workload=subject,
        recommendations=[
            rec(
                "high",
                "Wait for the rate limit to reset and stop whatever makes cert-manager re-issue (a deleted/recreated Secret, changing dnsNames); use the staging issuer for tests"
                if kind.lower() == "ratelimited"
                else f"Fix what the ACME server reports ({kind}: {detail[:120]}), then let cert-manager retry (cmctl renew {subject})",
            )
        ],
        affected=[subject],
        related=["cert-manager"],
    )


def _served_expired(obs: Observations, ctx: AnalysisContext) -> tuple[str, str]:
    """', so the certificate still served has expired (notAfter ...)' when the input shows it."""
    seen = ""
    for label, _command, lines in _sources(obs):
        for line in lines[:20000]:
            after = _NOT_AFTER.search(line)
            if after:
                try:
                    when = datetime.strptime(" ".join(after.group("when").split()), "%b %d %H:%M:%S %Y")
                except ValueError:
                    continue
                if when.replace(tzinfo=ctx.now.tzinfo) < ctx.now:
                    return (
                        f", so the certificate still served has expired (notAfter {after.group('when')} GMT)",
                        f"{label} {line.strip()}",
                    )
            if not seen and _EXPIRED.search(line):
                seen = f"{label} {excerpt(line.strip())}"
    return (", so the certificate still served has expired", seen) if seen else ("", "")


# --- a DNS-01/HTTP-01 challenge the solver cannot present ------------------------------------------------------

_PRESENTING = re.compile(r"Error presenting challenge:\s*(?P<detail>.*)$")
_CONTINUATION = re.compile(r"^\s+(?![A-Z][\w ]*:\s{2,}|Events:|Type\s)(?P<text>\S.*)$")


def _challenge_not_presented(obs: Observations) -> list[Finding]:
    """``Error presenting challenge: <DNS provider error>``: the solver cannot create the TXT record (or the HTTP-01
    solver its Ingress); DNS providers' errors often span two lines ("Cloudflare API Error ...\\n Error: 10000:
    Authentication error"), so the continuation line is read with it."""
    for label, command, lines in _sources(obs):
        about = _DESCRIBED.search(command or "")
        for index, line in enumerate(lines[:20000]):
            match = _PRESENTING.search(line)
            if match is None:
                continue
            detail = match.group("detail").strip()
            following = lines[index + 1] if index + 1 < len(lines) else ""
            more = _CONTINUATION.match(following)
            if more and not _ENTRY_LINE.match(following):
                detail = f"{detail} {more.group('text').strip()}"
            named = (_ORDER_NAME.search(about.group("name")) if about else None) or _ORDER_NAME.search(line)
            if about and about.group("kind").lower().startswith("cert") and not named:
                certificate = about.group("name")  # `cmctl status certificate x`: the command names it
            else:
                certificate = named.group("cert") if named else (about.group("name") if about else "cert-manager")
            denied = _cloud_denial(detail, obs)
            if denied:
                detail = denied[0]
            return [
                Finding(
                    kind="acme_challenge_not_presented",
                    subject=f"certificate/{certificate}",
                    role="cause",
                    title=f"{certificate}: cert-manager cannot present the ACME challenge for Certificate {certificate}: {detail[: 560 if denied else 300]}, so the certificate is never issued (check the issuer solver's credentials and permissions)",
                    weight=89,
                    evidence=[
                        f"{label} {excerpt(line.strip(), around='not authorized' if denied else '')}",
                        *([f"{label} {following.strip()}"] if more else []),
                        *(denied[1] if denied else []),
                    ],
                    workload=certificate,
                    recommendations=[
                        rec(
                            "high",
                            "Fix the solver's access to the DNS provider (API token/keys and their permissions, e.g. Zone:DNS:Edit or route53:ChangeResourceRecordSets) referenced by the issuer, then let cert-manager retry",
                        )
                    ],
                    affected=[certificate],
                    related=["cert-manager"],
                )
            ]
    return []


_AWS_DENIED = re.compile(
    r"(?P<code>AccessDenied\w*)?[^\n]*?User: (?P<who>\S+) is not authorized to perform: (?P<action>[\w:*-]+) on resource: (?P<resource>[^\s,]+)"
)
_ZONE_ID = re.compile(r"hostedzone/(?P<id>[A-Z0-9]{8,32})")


def _cloud_denial(detail: str, obs: Observations) -> tuple[str, list[str]] | None:
    """An AWS ``AccessDenied``: which role may not do which action on which resource, the Route 53 zone that id is
    (a delegated sub-zone has its own id), and the resources the role's IAM policy does allow that action on."""
    match = _AWS_DENIED.search(detail)
    if match is None:
        return None
    who = match.group("who")
    role = re.search(r"(?:assumed-role|role|user)/([\w+=,.@-]+)", who)
    principal = f"role {role.group(1)}" if role else who
    action, resource = match.group("action"), match.group("resource")
    zones: dict[str, tuple[str, str]] = {}  # zone id -> (zone name, the line listing it)
    granted: list[str] = []
    evidence: list[str] = []
    for label, _command, lines in _sources(obs):
        for line in lines[:5000]:
            zone = _ZONE_ID.search(line)
            name = re.match(r"^\s*([a-z0-9][\w-]*(?:\.[\w-]+)+\.?)\s", line)
            if zone and name:
                zones.setdefault(zone.group("id"), (name.group(1), f"{label} {line.strip()}"))
            if zone and '"Resource"' in line and zone.group("id") not in resource:
                granted.append(zone.group("id"))
                evidence.append(f"{label} {line.strip()}")
    text = f"{match.group('code') or 'AccessDenied'}: {principal} is not authorized to perform {action} on {resource}"
    denied_zone = _ZONE_ID.search(resource)
    if denied_zone and denied_zone.group("id") in zones:
        text += f" (the hosted zone {zones[denied_zone.group('id')][0]})"
        evidence.append(zones[denied_zone.group("id")][1])
    if granted:
        shown = ", ".join(
            f"hostedzone/{g}" + (f" ({zones[g][0]})" if g in zones else "") for g in dict.fromkeys(granted)
        )
        text += f"; the role's IAM policy allows {action} only on {shown}, a different hosted zone (a delegated sub-zone has its own zone id)"
    return text, evidence[:2]


_ENTRY_LINE = re.compile(r"^\s*[A-Z][\w ]*:\s{2,}\S")  # a `Key: value` entry of the describe output, not a continuation


# --- the certificate a server presents --------------------------------------------------------------------

_HOST = (
    re.compile(r"-servername\s+(?P<host>[a-z0-9][\w.-]*\.[a-z]{2,})", re.IGNORECASE),
    re.compile(r"-connect\s+(?P<host>[a-z0-9][\w.-]*\.[a-z]{2,}):\d+", re.IGNORECASE),
    re.compile(r"^\s*subject\s*=.*?CN\s*=\s*(?P<host>[*a-z0-9][\w.*-]*\.[a-z]{2,})", re.IGNORECASE),
    re.compile(r"Connected to (?P<host>[a-z0-9][\w.-]*\.[a-z]{2,})", re.IGNORECASE),
)


def _served_certificate(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    """``openssl s_client``/``x509 -dates``/``curl -v`` output: the host whose served certificate's notAfter is in
    the past (``Verify return code: 10 (certificate has expired)``)."""
    for label, command, lines in _sources(obs):
        host = next(
            (m.group("host") for text in [command or "", *lines[:400]] for p in _HOST for m in [p.search(text)] if m),
            None,
        )
        for line in lines[:2000]:
            after = _NOT_AFTER.search(line)
            if host is None or after is None:
                continue
            try:
                when = datetime.strptime(" ".join(after.group("when").split()), "%b %d %H:%M:%S %Y")
            except ValueError:
                continue
            if when.replace(tzinfo=ctx.now.tzinfo) >= ctx.now:
                continue
            return [
                Finding(
                    kind="served_certificate_expired",
                    subject=f"host:{host}",
                    role="cause",  # above the generic "a certificate has expired": it names the host and date
                    title=f"{host}: the certificate {host} serves expired on {after.group('when')} GMT (notAfter), so clients reject it; it was not renewed or the renewed one is not the one served",
                    weight=90,
                    evidence=[f"{label} {line.strip()}"],
                    workload=host,
                    recommendations=[
                        rec(
                            "high",
                            f"Renew the certificate for {host} and make sure the server/Ingress serves the renewed Secret (cert-manager: kubectl describe certificate; cmctl renew)",
                        )
                    ],
                    affected=[host],
                )
            ]
    return []


# --- issuerRef kind ----------------------------------------------------------------------------------------

_NOT_FOUND = re.compile(
    r"Referenced \\?\"?(?P<kind>ClusterIssuer|Issuer)\\?\"? not found: [\w.-]+ \\?\"(?P<name>[\w.-]+)\\?\" not found"
)
_ISSUER_ROW = re.compile(
    r"\b(?P<kind>clusterissuer|issuer)s?(?:\.cert-manager\.io)?/(?P<name>[a-z0-9][\w.-]*)", re.IGNORECASE
)
_ISSUER_LIST = re.compile(r"\bget\s+(?P<kind>clusterissuers?|issuers?)(?:\.[\w.]+)?(?:\s|$)", re.IGNORECASE)


def _issuers(obs: Observations) -> dict[str, dict[str, str]]:
    """Issuers and ClusterIssuers seen anywhere: kind -> name -> the line that shows it."""
    found: dict[str, dict[str, str]] = {"Issuer": {}, "ClusterIssuer": {}}
    for resource in obs.resources:
        if resource.kind in found:
            found[resource.kind].setdefault(resource.name, resource.quote(resource.name))
    for label, command, lines in _sources(obs):
        listed = _ISSUER_LIST.search(command or "")
        only = (
            ("ClusterIssuer" if listed.group("kind").lower().startswith("cluster") else "Issuer")
            if listed and "," not in command
            else None
        )
        for line in lines[:20000]:
            if "not found" in line:
                continue
            for row in _ISSUER_ROW.finditer(line):
                kind = "ClusterIssuer" if row.group("kind").lower() == "clusterissuer" else "Issuer"
                found[kind].setdefault(row.group("name"), f"{label} {line.strip()}")
            cells = line.split()
            if only and cells and cells[0] not in ("NAME", "NAMESPACE") and re.fullmatch(r"[a-z0-9][\w.-]*", cells[0]):
                name = cells[1] if len(cells) > 3 and cells[2] in ("True", "False") else cells[0]
                found[only].setdefault(name, f"{label} {line.strip()}")
    return found


def _issuer_kind(obs: Observations) -> list[Finding]:
    issuers = _issuers(obs)
    for label, command, lines in _sources(obs):
        about = _DESCRIBED.search(command or "")
        for line in lines[:20000]:
            match = _NOT_FOUND.search(line)
            if match is None:
                continue
            wanted, name = match.group("kind"), match.group("name")
            other = "ClusterIssuer" if wanted == "Issuer" else "Issuer"
            if name in issuers[wanted] or name not in issuers[other]:
                continue
            request = re.search(r"certificaterequests?(?:\.cert-manager\.io)?/(?P<name>[a-z0-9][\w.-]*)", line)
            owner = request.group("name") if request else (about.group("name") if about else None)
            certificate = re.sub(r"-\d+$", "", owner) if owner else _certificate_using(obs, name)
            subject = certificate or name
            why = (
                "issuerRef.kind defaults to Issuer, a namespaced issuer looked up in the Certificate's own namespace; a ClusterIssuer must be referenced with kind: ClusterIssuer"
                if wanted == "Issuer"
                else "the issuerRef says kind: ClusterIssuer, but the issuer of that name is a namespaced Issuer"
            )
            return [
                Finding(
                    kind="issuer_kind_mismatch",
                    subject=f"certificate/{subject}",
                    role="cause",
                    title=f"{subject}: Certificate {subject}'s issuerRef looks up {wanted} {name}, which does not exist, while {name} is {'an' if other == 'Issuer' else 'a'} {other}: {why}",
                    weight=93,
                    evidence=[f"{label} {excerpt(line.strip(), around=name)}", issuers[other][name]],
                    workload=subject,
                    recommendations=[
                        rec(
                            "high",
                            f"Set issuerRef.kind: {other} (name {name}) in Certificate {subject} (or the Ingress annotation cert-manager.io/{'cluster-issuer' if other == 'ClusterIssuer' else 'issuer'})",
                        )
                    ],
                    affected=[subject],
                    related=[name, "cert-manager"],
                )
            ]
    return []


def _certificate_using(obs: Observations, issuer: str) -> str | None:
    for resource in obs.resources:
        spec = resource.raw.get("spec")
        if resource.kind == "Certificate" and isinstance(spec, dict):
            ref = spec.get("issuerRef")
            if isinstance(ref, dict) and ref.get("name") == issuer:
                return resource.name
    return None


# --- an Ingress TLS Secret that lives in another namespace -----------------------------------------------------

_SECRET_MISSING = re.compile(
    r"(?:SSL certificate|X\.509 certificate)[^\n]*?\\?\"?(?P<ns>[a-z0-9][\w-]*)/(?P<secret>[a-z0-9][\w.-]*)\\?\"?[^\n]*?(?:not found|no object matching)"
    r"|no object matching key \\?\"(?P<ns2>[a-z0-9][\w-]*)/(?P<secret2>[a-z0-9][\w.-]*)\\?\" in local store"
)


def _secret_homes(obs: Observations) -> dict[str, tuple[str, str]]:
    """TLS Secret name -> (namespace it exists in, evidence): Secrets and the Certificates that write them."""
    homes: dict[str, tuple[str, str]] = {}
    for resource in obs.resources:
        if not resource.namespace:
            continue
        row = resource.raw.get("row")
        spec = resource.raw.get("spec")
        if resource.kind == "Certificate":
            secret = (row.get("SECRET") if isinstance(row, dict) else None) or (
                spec.get("secretName") if isinstance(spec, dict) else None
            )
            if secret:
                homes.setdefault(str(secret), (resource.namespace, resource.quote(str(secret))))
        elif resource.kind == "Secret":
            homes.setdefault(resource.name, (resource.namespace, resource.quote(resource.name)))
    return homes


def _tls_secret_elsewhere(obs: Observations) -> list[Finding]:
    homes = _secret_homes(obs)
    if not homes:
        return []
    for label, _command, lines in _sources(obs):
        for line in lines[:20000]:
            match = _SECRET_MISSING.search(line[:4096])
            if match is None:
                continue
            namespace = match.group("ns") or match.group("ns2")
            secret = match.group("secret") or match.group("secret2")
            home = homes.get(secret)
            if home is None or home[0] == namespace:
                continue
            return [
                Finding(
                    kind="ingress_tls_secret_other_namespace",
                    subject=f"secret/{secret}",
                    role="cause",
                    title=f"{secret}: the Ingress in namespace {namespace} uses TLS Secret {secret}, which exists only in namespace {home[0]}; an Ingress can only use a Secret from its own namespace, so the controller serves its default (fake) certificate",
                    weight=92,
                    evidence=[f"{label} {excerpt(line.strip(), around=secret)}", home[1]],
                    workload=secret,
                    recommendations=[
                        rec(
                            "high",
                            f"Issue the certificate in namespace {namespace} (a Certificate there, or the cert-manager.io/cluster-issuer annotation on the Ingress), or copy/sync Secret {secret} into {namespace}",
                        )
                    ],
                    affected=[secret, namespace],
                )
            ]
    return []
