"""Whether the input shows name resolution failing, or connections that got past it.

Clients print a failed lookup in their own words (glibc ``Temporary failure in name resolution``, Node's
``EAI_AGAIN``, Go's ``no such host`` / ``lookup x on 10.96.0.10:53: i/o timeout``, Java's
``UnknownHostException``, curl's ``Could not resolve host``, nslookup/dig's ``no servers could be reached``). A
connection that timed out on an address (curl's ``Connection timed out after``, ``dial tcp 10.1.2.3:443: i/o
timeout``) was resolved first: whatever blocks it, it is not DNS.
"""

from __future__ import annotations

import re

from engine.facts import Observations

DNS_FAILURE = re.compile(
    r"name resolution|EAI_AGAIN|ENOTFOUND|no such host|lookup \S+ on [\d.:\[\]a-f]+:53|UnknownHostException"
    r"|Could not resolve host|no servers could be reached|Name or service not known|could not translate host name"
    r"|NXDOMAIN|getaddrinfo|Resolving timed out|SERVFAIL|nodename nor servname",
    re.IGNORECASE,
)
CONNECT_TIMEOUT = re.compile(
    r"Connection timed out after|connect to \d+\.\d+\.\d+\.\d+ port \d+ failed: (?:Connection )?timed out"
    r"|dial tcp \d+\.\d+\.\d+\.\d+:\d+: (?:i/o timeout|connect: connection timed out)",
    re.IGNORECASE,
)


def _labelled(obs: Observations) -> list[tuple[str, str]]:
    lines = [(text.label, line) for text in obs.texts for line in text.lines[:5000]]
    lines += [(doc.label, line) for doc in obs.logs for line in doc.lines[:5000]]
    lines += [(event.cite.split(" ", 1)[0], event.message) for event in obs.events]
    return lines


def dns_failure_lines(obs: Observations) -> list[tuple[str, str]]:
    """(label, line) where a lookup fails."""
    return [(label, line.strip()) for label, line in _labelled(obs) if DNS_FAILURE.search(line)]


def resolved_but_timing_out(obs: Observations) -> bool:
    """Connections time out after their name was resolved, and no lookup is seen failing."""
    lines = [line for _, line in _labelled(obs)]
    return any(CONNECT_TIMEOUT.search(line) for line in lines) and not any(DNS_FAILURE.search(line) for line in lines)
