"""DNS search-path amplification (``ndots``), as CoreDNS's query log prints it.

A pod's ``/etc/resolv.conf`` carries ``options ndots:5`` and the search list ``<ns>.svc.cluster.local
svc.cluster.local cluster.local [<cloud domain>]``: a name with fewer than five dots (``api.stripe.com``) is first
tried under every search domain, each try answered NXDOMAIN (for A and AAAA), before the name itself. One
chatty client of external names thus multiplies CoreDNS's load (CPU, latency, conntrack entries, upstream
queries). CoreDNS's ``log`` plugin prints every try: ``"A IN api.stripe.com.payments.svc.cluster.local. udp ..."
NXDOMAIN``. The fix is the client's: a fully qualified name with a trailing dot, ``dnsConfig.options ndots: "2"``,
or a cache (NodeLocal DNSCache) in front of CoreDNS.
"""
# ruff: noqa: E501  (messages read better unwrapped)

from __future__ import annotations

import re
from collections import Counter

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import rec
from engine.analyzers.scheduling_detail import lines_of
from engine.facts import Observations
from engine.findings import Finding, workload_of
from engine.parsers.common import excerpt

# [INFO] 10.8.3.17:51234 - 4412 "A IN s3.amazonaws.com.ingest.svc.cluster.local. udp 72 false 512" NXDOMAIN qr,aa,rd ...
_QUERY = re.compile(
    r'(?P<client>(?:\d{1,3}\.){3}\d{1,3})(?::\d+)?\s+-\s+\d+\s+"(?:A|AAAA)\s+IN\s+(?P<name>[\w.-]+?)\.?\s+(?:udp|tcp)\b[^"]*"\s+(?P<rcode>NXDOMAIN|NOERROR)'
)
_CLUSTER_SUFFIX = re.compile(
    r"\.(?:(?:[a-z0-9-]+\.)?svc\.)?cluster\.local$|\.[a-z0-9-]+\.compute\.internal$|\.ec2\.internal$|\.internal$"
)
_SEARCH = re.compile(r"^\s*search\s+(?P<domains>.+)$")
_NDOTS = re.compile(r"\bndots:\s*(?P<n>\d+)")
_POD_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]*-(?:[a-z0-9]{5}|\d+)$")
_MIN_TRIES = 5  # a few search-domain tries are every cluster's normal traffic; a client repeating them is not


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    searches: list[str] = []
    ndots: tuple[str, str] | None = None
    for label, line in lines_of(obs):
        search = _SEARCH.match(line)
        if search:
            searches += [d.rstrip(".") for d in search.group("domains").split() if d.rstrip(".") not in searches]
        dots = _NDOTS.search(line)
        if dots and ndots is None:
            ndots = (dots.group("n"), f"{label} {excerpt(line.strip())}")
    queries = [(label, line, found) for label, line in lines_of(obs) if (found := _QUERY.search(line))]
    asked = {found.group("name").lower() for _, _, found in queries}
    # the bases a cluster suffix gives, so that the other tries of the same name group with them
    asked |= {b for _, _, f in queries if (b := _base_of(f.group("name").lower(), set(), searches)) and "." in b}
    tries: Counter[tuple[str, str]] = Counter()  # (client, base name) -> NXDOMAIN tries under a search domain
    cites: dict[tuple[str, str], str] = {}
    for label, line, found in queries:
        if found.group("rcode") != "NXDOMAIN":
            continue
        name = found.group("name").lower()
        base = _base_of(name, asked, searches)
        if base is None or "." not in base:
            continue
        key = (found.group("client"), base)
        tries[key] += 1
        cites.setdefault(key, f"{label} {excerpt(line.strip())}")
    if not tries:
        return []
    (client, base), count = tries.most_common(1)[0]
    if count < (3 if ndots else _MIN_TRIES):
        return []
    pod = _pod_with_ip(obs, client)
    who = f"{pod} ({client})" if pod else f"the client {client}"
    ndots_value = ndots[0] if ndots else "5"
    domains = ", ".join(searches[:4]) if searches else "<namespace>.svc.cluster.local, svc.cluster.local, cluster.local"
    evidence = [cites[(client, base)]]
    if ndots:
        evidence.append(ndots[1])
    workload = workload_of(pod) if pod else None
    return [
        Finding(
            kind="dns_search_amplification",
            subject=f"pod/{pod}" if pod else f"dns-client:{client}",
            role="cause",
            title=f"DNS search-path amplification (ndots:{ndots_value}): {who} looks up the external name {base} without a trailing dot, so its resolver first tries it under every search domain ({domains}) — {count} NXDOMAIN answers from CoreDNS for one name before the real lookup, multiplying CoreDNS's load and DNS latency",
            weight=86,
            evidence=evidence,
            workload=workload,
            recommendations=[
                rec(
                    "high",
                    f"Make {base} fully qualified with a trailing dot ({base}.) in {pod or 'the client'}'s configuration, or set the pod's dnsConfig options ndots: \"2\"; NodeLocal DNSCache absorbs the rest",
                ),
            ],
            affected=[workload or "coredns"],
        )
    ]


def _base_of(name: str, asked: set[str], searches: list[str]) -> str | None:
    """The name a search-domain try was made for (``api.stripe.com`` for ``api.stripe.com.svc.cluster.local``),
    or None when the query is not such a try: the longest other queried name it extends, else a known search
    domain or a cluster suffix stripped."""
    extended = [other for other in asked if "." in other and name.startswith(other + ".")]
    if extended:
        return max(extended, key=len)
    for domain in sorted(searches, key=len, reverse=True):
        if name.endswith("." + domain.lower()):
            return name[: -len(domain) - 1]
    stripped = _CLUSTER_SUFFIX.sub("", name)
    # "<svc>.<ns>.svc.cluster.local" is a cluster name, not a try: a try keeps a dotted name in front
    return stripped if stripped != name and stripped.count(".") >= 2 else None


def _pod_with_ip(obs: Observations, ip: str) -> str | None:
    """The pod whose row (``get pods -o wide``) prints this IP."""
    token = re.compile(rf"(?<![\d.]){re.escape(ip)}(?![\d.])")
    for _, line in lines_of(obs):
        if not token.search(line) or '"' in line:
            continue
        for cell in line.split():
            if cell == ip:
                break
            if _POD_NAME.match(cell):
                return cell
    return None
