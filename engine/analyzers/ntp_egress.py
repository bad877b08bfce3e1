"""A clock that never synchronises because the node may not send NTP (UDP 123) out: the firewall, not chrony.

NodeClockNotSynchronising / chrony "Can't synchronise: no selectable sources" with every source unreachable
(``Reach 0``, ``^?``) means no NTP reply ever came back. When the node's AWS security group egress rules are pasted
and none allows UDP port 123 (only TCP, or UDP 53 for DNS), that is why: NTP is UDP 123, and a node pool created
with a tighter security group cannot reach the time servers the older pools reach.
"""
# ruff: noqa: E501  (user-facing messages read better unwrapped)

from __future__ import annotations

import re

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import rec
from engine.analyzers.scheduling_detail import lines_of
from engine.facts import Observations
from engine.findings import Finding
from engine.parsers.common import excerpt

_UNSYNCED = re.compile(
    r"no selectable sources|Leap status\s*:\s*Not synchronised|System clock synchronized:\s*no|NTP synchronized:\s*no"
    r"|no server suitable for synchronization|unsynchronised|Clock [\w.:]+ is not synchronising|NodeClockNotSynchronising",
    re.IGNORECASE,
)
_SG = re.compile(r"\bsg-[0-9a-f]{8,17}\b")
_SG_NAME = re.compile(r'"GroupName"\s*:\s*"(?P<name>[^"]+)"\s*,\s*"GroupId"\s*:\s*"(?P<id>sg-[0-9a-f]+)"')
_RULE = re.compile(
    r'"IpProtocol"\s*:\s*"(?P<proto>[^"]+)"(?:\s*,\s*"FromPort"\s*:\s*(?P<from>-?\d+)\s*,\s*"ToPort"\s*:\s*(?P<to>-?\d+))?'
)


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    lines = list(lines_of(obs))
    unsynced = next(((label, line) for label, line in lines if _UNSYNCED.search(line)), None)
    alert = ctx.question.alert if ctx.question else None
    if unsynced is None and alert not in ("NodeClockNotSynchronising", "NodeClockSkewDetected"):
        return []
    names = {m.group("id"): m.group("name") for _, line in lines for m in _SG_NAME.finditer(line)}
    egress: dict[str, list[tuple[str, int | None, int | None, str]]] = {}
    # each pasted command's output keeps its command line: the egress rules of the group it asked about
    outputs = [(t.label, t.lines, t.command or "") for t in obs.texts] + [
        (d.label, d.lines, d.command or "") for d in obs.logs
    ]
    for label, text_lines, command in outputs:
        group: str | None = None
        for line in [command, *text_lines]:
            stripped = line.strip()
            if "describe-security-groups" in line:
                wanted = _SG.findall(line) if "egress" in line.lower() else []
                group = wanted[0] if wanted else None
                continue
            if group is None:
                continue
            for rule in _RULE.finditer(line):
                low = int(rule.group("from")) if rule.group("from") else None
                high = int(rule.group("to")) if rule.group("to") else None
                rules = egress.setdefault(group, [])
                if not any(r[:3] == (rule.group("proto"), low, high) for r in rules):
                    rules.append((rule.group("proto"), low, high, f"{label} {excerpt(stripped)}"))
    for sg, rules in egress.items():
        if any(_allows_ntp(proto, low, high) for proto, low, high, _ in rules):
            continue
        shown = ", ".join(_rule_text(proto, low, high) for proto, low, high, _ in rules[:4])
        name = names.get(sg)
        which = f"{name} ({sg})" if name else sg
        evidence = ([f"{unsynced[0]} {excerpt(unsynced[1].strip())}"] if unsynced else []) + [rules[0][3]]
        return [
            Finding(
                kind="ntp_egress_blocked",
                subject=f"securitygroup/{sg}",
                role="cause",
                title=f"the clock never synchronises because NTP traffic is blocked: security group {which} allows no UDP port 123 egress (its egress rules: {shown}), so chrony/ntpd never gets a reply from its time servers",
                weight=92,
                evidence=evidence,
                workload=name or sg,
                recommendations=[
                    rec(
                        "high",
                        f"Allow egress UDP 123 to the NTP servers (or the Amazon Time Sync Service 169.254.169.123) in security group {which}, then check chronyc sources shows Reach > 0",
                    )
                ],
                affected=[name or sg],
            )
        ]
    return []


def _allows_ntp(proto: str, low: int | None, high: int | None) -> bool:
    if proto in ("-1", "all"):
        return True
    if proto.lower() not in ("udp", "17"):
        return False
    return low is None or high is None or low <= 123 <= high or low == -1


def _rule_text(proto: str, low: int | None, high: int | None) -> str:
    ports = "" if low is None else f" {low}" if low == high else f" {low}-{high}"
    return f"{proto}{ports}"
