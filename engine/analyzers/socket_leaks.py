""" "Too many open files" explained by sockets left in CLOSE-WAIT: a connection leak to one peer.

A socket sits in CLOSE-WAIT when the peer has closed its side and the local application never calls ``close()``
(a response body or client never closed, a pool that forgets connections). Each such socket keeps a file
descriptor, so a leak ends at the process's ``nofile`` limit: accept() and file opens fail with EMFILE ("Too
many open files") and the service refuses connections. ``ss -tan`` counted by state shows the leak; counted by
peer address it names the dependency whose client leaks, and a Service row with that ClusterIP names it.
"""
# ruff: noqa: E501  (user-facing messages read better unwrapped)

from __future__ import annotations

import re
from collections import Counter

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import workload_cause
from engine.facts import Observations
from engine.findings import Finding, workload_of

_EMFILE = re.compile(r"too many open files|\bEMFILE\b", re.IGNORECASE)
_STATE_COUNT = re.compile(r"^\s*(?P<count>\d+)\s+CLOSE[-_]WAIT\s*$", re.IGNORECASE)
_PEER_COUNT = re.compile(r"^\s*(?P<count>\d+)\s+(?:\[?::ffff:)?(?P<ip>\d{1,3}(?:\.\d{1,3}){3})\]?(?::\d+)?\s*$")
_SS_ROW = re.compile(  # ss -tan / netstat -tan rows in CLOSE-WAIT: the peer is the last address:port
    r"(?:^\s*CLOSE[-_]WAIT\s+\d+\s+\d+\s+\S+\s+(?:\[?::ffff:)?(?P<ip>\d{1,3}(?:\.\d{1,3}){3})\]?:\d+"
    r"|^\s*tcp6?\s+\d+\s+\d+\s+\S+\s+(?:::ffff:)?(?P<nip>\d{1,3}(?:\.\d{1,3}){3}):\d+\s+CLOSE_WAIT)",
    re.IGNORECASE,
)
_PROMPT = re.compile(r"^\s*(?:\S*[$#])\s+(?P<command>\S.*)$")
_POD = re.compile(r"(?<![\w.-])(?P<pod>[a-z0-9][a-z0-9-]*-[a-z0-9]{6,10}-[a-z0-9]{5})(?![\w.-])")
_MANY = 100  # sockets in CLOSE-WAIT no healthy client keeps


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    docs = [(t.label, t.command, t.lines) for t in obs.texts] + [(d.label, d.command, d.lines) for d in obs.logs]
    emfile = next(
        (f"{label} {line.strip()[:300]}" for label, _, lines in docs for line in lines[:20000] if _EMFILE.search(line)),
        None,
    )
    if emfile is None:
        return []
    total, total_cite, peers, pod = 0, "", Counter[str](), None
    for label, command, lines in docs:
        current = command
        for line in lines[:20000]:
            prompt = _PROMPT.match(line)
            if prompt:
                current = prompt.group("command").lower()
                continue
            state = _STATE_COUNT.match(line)
            if state and int(state.group("count")) > total:
                total, total_cite = int(state.group("count")), f"{label} {line.strip()}"
                pod = pod or _pod_in(current)
            peer = _PEER_COUNT.match(line)
            if peer and "close" in current and "wait" in current:
                peers[peer.group("ip")] += int(peer.group("count"))
                pod = pod or _pod_in(current)
            row = _SS_ROW.match(line)
            if row:
                peers[row.group("ip") or row.group("nip")] += 1
    if not total:
        total = sum(peers.values())
        total_cite = ""
    if total < _MANY:
        return []
    ip, held = peers.most_common(1)[0] if peers else ("", 0)
    service, service_cite = _service_at(ip, docs) if ip else (None, "")
    peer_text = ""
    if ip and held * 2 >= total:
        peer_text = (
            f" to {ip}" + (f" (Service {service})" if service else "") + (f" ({held} of them)" if held < total else "")
        )
    owner = workload_of(pod) if pod else (ctx.focus.owner() if ctx.focus else None) or ctx.service
    who = f"{owner}: " if owner else ""
    fix_peer = f" for {service or ip}" if peer_text else ""
    return [
        workload_cause(
            "socket_leak_close_wait",
            owner=owner,
            fallback="process",
            title=f"{who}the process leaks connections: {total} sockets sit in CLOSE-WAIT{peer_text} (the peer closed them, the application never closes its end), each holding a file descriptor until the nofile limit is reached, so accepts and file opens fail with 'Too many open files'",
            weight=93,
            evidence=[e for e in (emfile, total_cite, service_cite) if e],
            fix=f"Close the responses/connections of the client{fix_peer} (or reuse a pooled client) and restart the pods to release the descriptors; raising the nofile limit only delays the next exhaustion",
        )
    ]


def _pod_in(command: str) -> str | None:
    found = _POD.search(command or "")
    return found.group("pod") if found else None


def _service_at(ip: str, docs: list[tuple[str, str, list[str]]]) -> tuple[str | None, str]:
    """The Service whose ClusterIP is ``ip``, from a pasted ``get svc`` row."""
    row = re.compile(
        rf"^\s*(?:[\w.-]+\s+)?(?P<name>[a-z0-9][\w.-]*)\s+(?:ClusterIP|NodePort|LoadBalancer)\s+{re.escape(ip)}\s"
    )
    for label, _, lines in docs:
        for line in lines[:20000]:
            found = row.match(line)
            if found:
                return found.group("name"), f"{label} {line.strip()}"
    return None, ""
