"""Calico BGP sessions that never come up because TCP 179 is not allowed between the nodes.

Calico (BIRD) exchanges pod routes with the other nodes over BGP, TCP port 179
(docs.tigera.io/calico/latest/getting-started/kubernetes/requirements). A node whose sessions stay in ``start``
/ ``Connect`` / ``Active Socket: Connection timed out`` (``calicoctl node status``) and whose calico-node reports
``BIRD is not ready: BGP not established with <peers>`` gets no routes to pods on other nodes: same-node traffic
works, cross-node traffic does not. When the evidence shows the network's filter (a firewall ACL that permits
other ports and ends in a deny, an ``nc`` probe to 179 that times out while other ports connect), the finding
names it.
"""
# ruff: noqa: E501  (patterns and messages read better unwrapped)

from __future__ import annotations

import re
from collections import Counter

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import rec
from engine.analyzers.scheduling_detail import lines_of
from engine.facts import Observations
from engine.findings import Finding
from engine.parsers.command_line import prompt_host
from engine.parsers.common import excerpt

_NOT_ESTABLISHED = re.compile(r"BGP not established with (?P<peers>[\d.:a-f,]+)")
_PEER_ROW = re.compile(
    r"^\|\s*(?P<peer>[\d.]+)\s*\|[^|]*\|\s*(?:start|down|passive)\s*\|[^|]*\|\s*(?P<info>(?:Active|Connect|OpenSent|Idle)[^|]*?)\s*\|"
)
_PERMIT_PORT = re.compile(r"\bpermit\s+tcp\b[^\n]*?\b(?:eq|range)\s+(?P<port>\d+|bgp)(?:\s+(?P<high>\d+))?")
_DENY_ALL = re.compile(r"\bdeny\s+(?:ip|any)\s+any\s+any\b|\bdeny\s+ip\b")
_NC_179 = re.compile(r"\b(?:nc|ncat|telnet)\b[^\n]*\b179\b")


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    del ctx
    lines = list(lines_of(obs))
    down = next(((label, line, m) for label, line in lines if (m := _NOT_ESTABLISHED.search(line))), None)
    rows: list[tuple[str, str, str, str | None]] = []  # (label, line, peer, host of the prompt above)
    host: str | None = None
    for label, line in lines:
        host = prompt_host(line) or host
        row = _PEER_ROW.match(line.strip())
        if row:
            rows.append((label, line, row.group("peer"), host))
    if down is None and not rows:
        return []
    node = _node(obs, rows)
    peers = down[2].group("peers").split(",") if down else [peer for _, _, peer, _ in rows]
    blocked, block_cite = _filter(lines)
    evidence = [f"{down[0]} {excerpt(down[1].strip(), around='BGP not established')}"] if down else []
    if rows:
        evidence.append(f"{rows[0][0]} {excerpt(rows[0][1].strip())}")
    if block_cite:
        evidence.append(block_cite)
    where = f"{node}: " if node else ""
    title = (
        f"{where}calico-node's BGP sessions with its peers ({', '.join(peers[:4])}) are not established, so the node gets no routes to pods on other nodes "
        f"(same-node traffic works, cross-node traffic does not); {blocked or 'BGP needs TCP 179 open between all nodes: check the firewalls/ACLs between their subnets'}"
    )
    return [
        Finding(
            kind="bgp_not_established",
            subject=f"node/{node}" if node else "network:bgp",
            role="cause",
            title=title,
            weight=93 if blocked else 88,
            evidence=evidence[:3],
            workload=node,
            recommendations=[
                rec(
                    "high",
                    "Allow TCP 179 (BGP) between the nodes' subnets in the firewall/ACL (or switch the IP pool to VXLAN encapsulation), then check calicoctl node status shows Established",
                ),
            ],
            affected=[node, "calico-node"] if node else ["calico-node"],
        )
    ]


def _node(obs: Observations, rows: list[tuple[str, str, str, str | None]]) -> str | None:
    """The node whose sessions are down: the host that printed the failing peer table, else the node of the
    calico-node pod that is not ready."""
    hosts = Counter(host for _, _, _, host in rows if host)
    if hosts:
        return hosts.most_common(1)[0][0]
    calico = [pod for pod in obs.pods if pod.name.startswith("calico-node") and pod.node]
    unready = [pod for pod in calico if any(c.ready is False for c in pod.containers)]
    if unready or len(calico) == 1:
        return (unready or calico)[0].node
    # the shell that probed the peers ([root@node ~]# nc -zv peer 179)
    return next((host for _, line in lines_of(obs) if _NC_179.search(line) and (host := prompt_host(line))), None)


def _filter(lines: list[tuple[str, str]]) -> tuple[str, str]:
    """What blocks 179, when shown: an ACL that permits other TCP ports and then denies, or a probe timing out."""
    permits = [(label, line, m) for label, line in lines if (m := _PERMIT_PORT.search(line))]
    if permits and any(_DENY_ALL.search(line) for _, line in lines):

        def covers(m: re.Match[str]) -> bool:
            if m.group("port") == "bgp":
                return True
            low = int(m.group("port"))
            return low == 179 or (m.group("high") is not None and low <= 179 <= int(m.group("high")))

        if not any(covers(m) for _, _, m in permits):
            ports = ", ".join(
                dict.fromkeys(
                    m.group("port") + (f"-{m.group('high')}" if m.group("high") else "") for _, _, m in permits
                )
            )
            label, line, _ = permits[0]
            return (
                f"the firewall ACL between the subnets permits TCP {ports} and denies the rest, so TCP 179 (BGP) is blocked",
                f"{label} {excerpt(line.strip())}",
            )
    probe = next((index for index, (_, line) in enumerate(lines) if _NC_179.search(line)), None)
    if probe is not None and any(
        "TIMEOUT" in line or "timed out" in line.lower() for _, line in lines[probe : probe + 12]
    ):
        label, line = lines[probe]
        return (
            "a TCP probe to port 179 (BGP) times out, so a firewall between the nodes drops it",
            f"{label} {excerpt(line.strip())}",
        )
    return "", ""
