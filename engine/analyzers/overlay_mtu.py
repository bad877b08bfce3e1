"""An overlay network whose MTU leaves no room for its encapsulation header.

VXLAN (Calico, Flannel, Cilium) adds 50 bytes to every packet, Geneve at least 50, IP-in-IP 20 and WireGuard 60.
The pod (and tunnel) MTU must be the underlay's MTU minus that overhead (1450 for VXLAN on a 1500-byte network;
docs.tigera.io/calico/latest/networking/configuring/mtu). When the overlay keeps the underlay's MTU (1500 after a
switch from plain routing to VXLAN), small packets pass and full-size ones are dropped between nodes: health checks
answer, big responses and TLS handshakes hang, only across nodes. A ping with "don't fragment" at the full size
losing every packet while a size that fits the overhead answers confirms it.
"""
# ruff: noqa: E501  (patterns and messages read better unwrapped)

from __future__ import annotations

import re

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import rec
from engine.analyzers.scheduling_detail import lines_of
from engine.facts import Observations
from engine.findings import Finding
from engine.parsers.common import excerpt

# `ip link` / `ip -o link`: "17: vxlan.calico: <...> mtu 1500 ..."
_LINK = re.compile(r"^\s*\d+: (?P<dev>[\w.-]+)(?P<peer>@\S+)?: <[^>]*> mtu (?P<mtu>\d+)")
# tunnel devices by name, with their encapsulation and its overhead in bytes (IPv4 underlay)
_TUNNELS: tuple[tuple[re.Pattern[str], str, int], ...] = (
    (re.compile(r"^(?:vxlan[\w.-]*|flannel\.\d+|cilium_vxlan)$"), "VXLAN", 50),
    (re.compile(r"^(?:genev\w*|cilium_geneve)$"), "Geneve", 50),
    (re.compile(r"^tunl0$"), "IP-in-IP", 20),
    (re.compile(r"^(?:wireguard\.cali|flannel-wg|cilium_wg\d*|wg\d+)$"), "WireGuard", 60),
)
_UNDERLAY = re.compile(r"^(?:ens|eno|enp|enx|bond|eth)\w*$")
# an encapsulation setting with the MTU configured next to it (Calico Installation, IPPool, Flannel net-conf)
_ENCAP = re.compile(
    r"""(?P<key>encapsulation|vxlanMode|ipipMode|"?Type"?)\s*[:=]\s*"?(?P<encap>VXLAN\w*|IPIP\w*|Always|CrossSubnet|vxlan)\b"""
)
_MTU_SETTING = re.compile(r"""^\s*"?(?:mtu|veth_mtu|MTU|vethMTU)"?\s*[:=]\s*"?(?P<mtu>\d{3,5})\b""")
_DF_PING = re.compile(r"ping\b[^\n]*-M do[^\n]*-s (?P<size>\d+)")
_LOSS = re.compile(r"(?P<loss>\d+)% packet loss")


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    del ctx
    lines = list(lines_of(obs))
    links = [(label, line, m) for label, line in lines if (m := _LINK.match(line))]
    underlay = max(
        (int(m.group("mtu")) for _, _, m in links if _UNDERLAY.match(m.group("dev")) and not m.group("peer")),
        default=None,
    )
    tunnel = next(
        (
            (label, line, m, name, overhead)
            for label, line, m in links
            for pattern, name, overhead in _TUNNELS
            if pattern.match(m.group("dev"))
        ),
        None,
    )
    if tunnel is not None:
        label, line, link, encap, overhead = tunnel
        mtu, cite = int(link.group("mtu")), f"{label} {excerpt(line.strip(), around='mtu')}"
    else:
        configured = _configured(lines)
        if configured is None:
            return []
        encap, overhead, mtu, cite = configured
    base = underlay or 1500
    if mtu + overhead <= base:
        return []
    evidence = [cite, *_df_ping(lines)]
    right = base - overhead
    title = (
        f"the pod network's {encap} overlay runs with MTU {mtu} on a {base}-byte underlay: {encap} adds {overhead} bytes to every packet, "
        f"so full-size packets between nodes no longer fit and are dropped (small requests work, large responses and TLS handshakes hang, only across nodes); "
        f"the overlay and pod MTU must be {right} ({base} - {overhead} bytes)"
    )
    return [
        Finding(
            kind="overlay_mtu",
            subject="network:overlay_mtu",
            role="cause",
            title=title[:1].upper() + title[1:],
            weight=92,
            evidence=evidence[:3],
            workload=None,
            recommendations=[
                rec(
                    "high",
                    f"Set the CNI's MTU to {right} (Calico: Installation spec.calicoNetwork.mtu, or leave it unset for auto-detection; Flannel/Cilium: their MTU setting) and restart the pods so their interfaces take it",
                ),
            ],
        )
    ]


def _configured(lines: list[tuple[str, str]]) -> tuple[str, int, int, str] | None:
    """(encapsulation, overhead, configured MTU, cite) when a config enables encapsulation and sets an MTU."""
    found = next((m for _, line in lines if (m := _ENCAP.search(line)) and not line.lstrip().startswith("-")), None)
    if found is None:
        return None
    encap = "IPIP" if found.group("key") == "ipipMode" else found.group("encap")
    setting = next(((label, line, m) for label, line in lines if (m := _MTU_SETTING.match(line))), None)
    if setting is None:
        return None
    name, overhead = ("IP-in-IP", 20) if encap.upper().startswith("IPIP") else ("VXLAN", 50)
    label, line, match = setting
    return name, overhead, int(match.group("mtu")), f"{label} {excerpt(line.strip())}"


def _df_ping(lines: list[tuple[str, str]]) -> list[str]:
    """A don't-fragment ping at full size that loses every packet: the drop the MTU explains."""
    found: list[str] = []
    for index, (label, line) in enumerate(lines):
        if _DF_PING.search(line) is None:
            continue
        for _, after in lines[index + 1 : index + 8]:
            loss = _LOSS.search(after)
            if loss and loss.group("loss") == "100":
                found.append(f"{label} {excerpt(line.strip())}")
                break
            if loss or _DF_PING.search(after):
                break
    return found[:1]
