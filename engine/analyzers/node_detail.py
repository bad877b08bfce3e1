"""Node-level failures with the thing behind them, as an SRE reads a node's output.

- ``nf_conntrack: table full, dropping packet`` (kernel): new connections through the node are dropped; the
  ``nf_conntrack_count``/``nf_conntrack_max`` sysctls give the size, and ``conntrack -L`` counted by source
  names the address (and the pod with that IP) that fills it.
- ``NetworkReady=false ... cni plugin not initialized`` (kubelet): the node stays NotReady until the CNI agent
  on it (cilium, calico-node, aws-node, flannel, weave, antrea, kube-router...) writes its config; when that
  agent's pod fails, its own failing container and log line are the reason.
- CoreDNS ``plugin/errors: ... read udp <pod>-><upstream>:53: i/o timeout``: the ``forward`` upstream resolver
  does not answer, so external names fail while cluster names (answered by the kubernetes plugin) resolve.
- ``ImageGCFailed`` (kubelet): image garbage collection cannot free space because what fills the disk is not
  unused images (running containers' writable layers, logs, emptyDirs), so DiskPressure evictions follow.
"""
# ruff: noqa: E501  (messages read better unwrapped)

from __future__ import annotations

import re
from collections import Counter

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import rec
from engine.analyzers.pid_exhaustion import pid_pressure
from engine.analyzers.scheduling_detail import lines_of
from engine.facts import Observations
from engine.findings import Finding
from engine.logs.reader import decisive_lines
from engine.parsers.common import excerpt

_CONNTRACK_FULL = re.compile(r"nf_conntrack: table full")
_SYSCTL = re.compile(r"net\.netfilter\.nf_conntrack_(count|max)\s*=\s*(\d+)")
_TALKER = re.compile(r"^\s*(\d+)\s+src=((?:\d{1,3}\.){3}\d{1,3})\s*$")
_CNI_AGENTS = re.compile(
    r"^(cilium|calico-node|aws-node|kube-flannel|flannel|weave-net|antrea-agent|kube-router|canal|kube-ovn-cni|azure-cns)(?:-ds)?-[a-z0-9]{4,10}$"
)
_CNI_DOWN = re.compile(
    r"cni plugin not initialized|NetworkPluginNotReady|network plugin is not ready|NetworkReady=false", re.I
)
_DNS_UPSTREAM = re.compile(
    r"plugin/(?:errors|forward)[^\n]*?(?P<name>[\w.-]+\.) (?:A|AAAA|[A-Z]+): read (?:udp|tcp) [\d.:]+->(?P<upstream>(?:\d{1,3}\.){3}\d{1,3}:\d+): i/o timeout"
)
_SHELL_HOST = re.compile(r"^\[?[\w.-]+@([\w.-]+)(?::|\s+[^\]\s]*\][#$])")  # root@n-2:~# or [ec2-user@ip-10-0-1-5 ~]$


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    return [
        *_bare_conditions(obs, ctx),
        *_conntrack(obs),
        *_cni_agent(obs),
        *_dns_upstream(obs),
        *_image_gc(obs),
        *pid_pressure(obs),
        *_pods_near_capacity(obs),
    ]


def _host(obs: Observations) -> str | None:
    """The node a pasted root shell ran on (``root@gw-node-2:~#``)."""
    for _, line in lines_of(obs):
        found = _SHELL_HOST.match(line)
        if found:
            return found.group(1)
    return None


def _conntrack(obs: Observations) -> list[Finding]:
    full = next(((label, line) for label, line in lines_of(obs) if _CONNTRACK_FULL.search(line)), None)
    if full is None:
        return []
    evidence = [f"{full[0]} {excerpt(full[1].strip())}"]
    sizes: dict[str, str] = {}
    talkers: list[tuple[int, str, str]] = []
    for label, line in lines_of(obs):
        for key, value in _SYSCTL.findall(line):
            sizes.setdefault(key, value)
            if key == "max":
                evidence.append(f"{label} {excerpt(line.strip())}")
        talker = _TALKER.match(line)
        if talker:
            talkers.append((int(talker.group(1)), talker.group(2), f"{label} {excerpt(line.strip())}"))
    # the shell it ran in, else the node the kernel log's attachment is named after (edge-03-dmesg.txt)
    known = [n.name for n in obs.nodes] + [
        e.object_name for e in obs.events if e.object_kind == "Node" and e.object_name
    ]
    known += [u.name for u in obs.usage if u.kind == "node"]
    node = _host(obs) or next((name for name in sorted(set(known), key=len, reverse=True) if name in full[0]), None)
    detail = ""
    if sizes.get("max"):
        detail += f" (nf_conntrack_count {sizes.get('count', '?')} of nf_conntrack_max {sizes['max']})"
    top = max(talkers, default=None)
    if top:
        evidence.append(top[2])
        owner = next(
            (
                (name, f"{label} {excerpt(line.strip())}")
                for label, line in lines_of(obs)
                if re.search(rf"(?<![\d.]){re.escape(top[1])}(?![\d.])", line) and "src=" not in line
                for name in re.findall(r"\b([a-z0-9][a-z0-9-]*-[a-z0-9]{5})\b", line)[:1]
            ),
            None,
        )
        who = f" (pod {owner[0]})" if owner else ""
        if owner:
            evidence.append(owner[1])
        detail += (
            f"; {top[0]} of the entries come from {top[1]}{who}, which opens connections far faster than the others"
        )
    where = f"{node}: the node's" if node else "The node's"
    return [
        Finding(
            kind="conntrack_table_full",
            subject=f"{node or 'node'}:conntrack_table_full",
            role="cause",
            title=f"{where} connection-tracking table is full{detail}, so the kernel drops new connections (nf_conntrack: table full) and pods there see random timeouts",
            weight=93,
            evidence=evidence[:4],
            workload=node,
            recommendations=[
                rec(
                    "high",
                    "Stop the connection flood from the top source (reuse connections / keep-alive, fix its retry loop) and raise net.netfilter.nf_conntrack_max (kube-proxy --conntrack-max-per-core)",
                ),
            ],
            affected=[node] if node else [],
        )
    ]


def _cni_agent(obs: Observations) -> list[Finding]:
    if not any(_CNI_DOWN.search(line) for _, line in lines_of(obs)):
        return []
    agents = [p for p in obs.pods if _CNI_AGENTS.match(p.name)]
    failing = [
        p
        for p in agents
        if p.phase in ("Pending", "Failed")
        or any(c.reason or c.restart_count or c.ready is False for c in p.containers)
        or (p.status_reason or "").startswith(("Init:", "CrashLoop"))
    ]
    rows = _agent_rows(obs) if not failing else []
    if not failing and not rows:
        return []
    pod_names = [p.name for p in failing] or [name for name, _, _ in rows]
    agent = _CNI_AGENTS.match(pod_names[0])
    family = agent.group(1) if agent else pod_names[0]
    names = ", ".join(pod_names)
    evidence = [p.cites.get("status") or next(iter(p.cites.values()), "") for p in failing[:2]] or [
        c for _, _, c in rows[:2]
    ]
    reason = ""
    docs = [d for d in obs.logs if d.pod in set(pod_names)]
    best: tuple[float, str, str, str] | None = None
    for doc in docs:
        for candidate in decisive_lines(doc.lines, limit=1):
            if best is None or candidate.score > best[0]:
                best = (candidate.score, candidate.line, doc.container or "", doc.label)
    if best and best[0] >= 3.0:
        evidence.append(f"{best[3]} {excerpt(best[1])}")
        container = f"its container {best[2]}" if best[2] else "it"
        reason = f"; {container} fails: '{best[1]}'"
    nodes = sorted({p.node for p in failing if p.node} | {node for _, node, _ in rows if node})
    on = f" on node(s) {', '.join(nodes)}" if nodes else ""
    return [
        Finding(
            kind="cni_agent_failing",
            subject=f"{family}:cni_agent_failing",
            role="cause",
            title=f"The nodes are NotReady because the network plugin (CNI) is not initialized: the {family} agent pod(s) {names}{on} are not running{reason}",
            weight=93,
            evidence=[e for e in evidence if e],
            workload=family,
            recommendations=[
                rec(
                    "high",
                    f"Fix the {family} agent on the new nodes (kubectl -n kube-system logs <pod> -c <failing container>); the nodes turn Ready once it writes its CNI config",
                ),
            ],
            affected=[family, *nodes],
        )
    ]


_AGENT_ROW = re.compile(
    r"^\s*(?P<name>\S+)\s+(?P<ready>\d+)/(?P<want>\d+)\s+(?P<status>\S+)\s+\d+.*?(?P<node>\S+)?\s*$"
)


def _agent_rows(obs: Observations) -> list[tuple[str, str, str]]:
    """CNI agent pods from ``get pods`` rows whose header was filtered away (``| grep``): (name, node, cite)."""
    rows: list[tuple[str, str, str]] = []
    for label, line in lines_of(obs):
        row = _AGENT_ROW.match(line)
        if not row or not _CNI_AGENTS.match(row.group("name")):
            continue
        if row.group("status") == "Running" and row.group("ready") == row.group("want"):
            continue
        cells = line.split()
        node = cells[-1] if len(cells) >= 7 and not cells[-1].startswith("<") else ""
        rows.append((row.group("name"), node, f"{label} {excerpt(line.strip())}"))
    return rows


def _dns_upstream(obs: Observations) -> list[Finding]:
    upstreams: Counter[str] = Counter()
    names: list[str] = []
    cites: list[str] = []
    for label, line in lines_of(obs):
        found = _DNS_UPSTREAM.search(line)
        if found:
            upstreams[found.group("upstream")] += 1
            if found.group("name").rstrip(".") not in names:
                names.append(found.group("name").rstrip("."))
            if len(cites) < 2:
                cites.append(f"{label} {excerpt(line.strip())}")
    if not upstreams:
        return []
    upstream, count = upstreams.most_common(1)[0]
    forward = next(
        (
            f"{label} {excerpt(line.strip())}"
            for label, line in lines_of(obs)
            if re.match(rf"^\s*forward\s+\.\s+.*{re.escape(upstream.split(':')[0])}", line)
        ),
        "",
    )
    return [
        Finding(
            kind="dns_upstream_timeout",
            subject="coredns:dns_upstream_timeout",
            role="cause",
            title=f"CoreDNS cannot reach its upstream resolver {upstream} (the forward plugin): {count} queries for external names ({', '.join(names[:3])}) time out, while cluster names are answered locally — DNS lookups of external hosts fail from every namespace",
            weight=92,
            evidence=[c for c in (*cites, forward) if c],
            workload="coredns",
            recommendations=[
                rec(
                    "high",
                    f"Check the upstream resolver {upstream} from a node (dig @{upstream.split(':')[0]}), the VPC resolver limits (packets per second per ENI) and network policies/security groups on port 53; consider NodeLocal DNSCache",
                ),
            ],
            affected=["coredns"],
        )
    ]


def _image_gc(obs: Observations) -> list[Finding]:
    event = next((e for e in obs.events if e.reason == "ImageGCFailed"), None)
    if event is None:
        return []
    node = event.object_name
    freed = re.search(r"Attempted to free (\d+) bytes, but only found (\d+) bytes eligible", event.message)
    detail = (
        f" (it must free {int(freed.group(1)) / 2**30:.0f} GiB but only {int(freed.group(2)) / 2**30:.0f} GiB of images are unused)"
        if freed
        else ""
    )
    pressure = [
        e
        for e in obs.events
        if e.object_name == node and ("DiskPressure" in e.reason or "ephemeral-storage" in e.message)
    ]
    evidence = [event.cite, *(e.cite for e in pressure[:1])]
    return [
        Finding(
            kind="image_gc_failed",
            subject=f"{node or 'node'}:image_gc_failed",
            role="symptom",
            title=f"{node + ': ' if node else ''}image garbage collection cannot free disk space (ImageGCFailed){detail}: what fills the disk is not unused images but running containers' writable layers, logs or emptyDirs"
            + (", so the kubelet evicts pods under DiskPressure" if pressure else ""),
            weight=80,
            evidence=evidence,
            workload=node,
            recommendations=[
                rec(
                    "high",
                    "Find the container whose writable layer or logs fill the node's disk (crictl stats, du on the snapshotter directory) and give it an emptyDir/PVC with a sizeLimit or an ephemeral-storage limit",
                )
            ],
            affected=[node] if node else [],
        )
    ]


def _pods_near_capacity(obs: Observations) -> list[Finding]:
    """A described node running (nearly) as many pods as its allocatable ``pods`` (kubelet maxPods)."""
    found: list[Finding] = []
    for text in obs.texts:
        name, section, allocatable, running = "", "", 0, 0
        cites: list[str] = []
        for line in text.lines:
            if line.startswith("Name:"):
                name = line.split(":", 1)[1].strip()
            if line and not line[0].isspace():
                section = line.split(":", 1)[0]
            pods = re.match(r"^\s+pods:\s+(\d+)\s*$", line)
            if pods and section == "Allocatable":
                allocatable = int(pods.group(1))
                cites.append(f"{text.label} {excerpt(line.strip())}")
            total = _NON_TERMINATED.search(line)
            if total:
                running = int(total.group(1))
                cites.append(f"{text.label} {excerpt(line.strip())}")
        if name and allocatable and running >= 0.9 * allocatable:
            found.append(
                Finding(
                    kind="node_pods_near_capacity",
                    subject=f"{name}:node_pods_near_capacity",
                    role="cause",
                    title=f"{name}: the node runs {running} of its {allocatable} allocatable pods ({running / allocatable:.0%}, the kubelet's maxPods), so new pods soon cannot be scheduled there (Too many pods)",
                    weight=84,
                    evidence=cites[:2],
                    workload=name,
                    recommendations=[
                        rec(
                            "high",
                            f"Spread pods to other nodes (add nodes) or raise the kubelet's maxPods on {name} if its CNI IP capacity allows",
                        )
                    ],
                    affected=[name],
                )
            )
    return found


_NON_TERMINATED = re.compile(r"Non-terminated Pods:\s*\((\d+) in total\)")


_CONDITION_ROW = re.compile(
    r"^\s*(?P<type>MemoryPressure|DiskPressure|PIDPressure|Ready|NetworkUnavailable)(?:\s+|\s*[=:]\s*)(?P<status>True|False|Unknown)\s+"
    r"(?:.*?\s)?(?P<reason>Kubelet\w+|NodeStatusUnknown):?\s+(?P<message>\S.*?)\s*$"
)
_TROUBLE = {("Ready", "False"), ("Ready", "Unknown"), ("NetworkUnavailable", "True")}


def _bare_conditions(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    """A node condition row pasted alone (no describe around it): the node is the one the question names."""
    if obs.nodes:
        return []  # a described node: the nodes analyzer reads its conditions
    subject = ctx.focus.subject if ctx.focus else None
    node = (
        subject.name
        if subject is not None and subject.kind == "node"
        else (ctx.question.named if ctx.question else None)
    )
    for label, line in lines_of(obs):
        row = _CONDITION_ROW.match(line)
        if not row:
            continue
        kind, status = row.group("type"), row.group("status")
        if not (kind.endswith("Pressure") and status == "True") and (kind, status) not in _TROUBLE:
            continue
        what = {
            "MemoryPressure": "memory pressure: the kubelet evicts pods to reclaim memory",
            "DiskPressure": "disk pressure: the node's disk (nodefs/imagefs) is nearly full, so the kubelet evicts pods and garbage-collects images",
            "PIDPressure": "PID pressure: the node is running out of process IDs",
        }.get(kind, f"{kind}={status}: the kubelet does not report the node healthy")
        return [
            Finding(
                kind="node_condition_row",
                subject=f"{node or 'node'}:node_condition_row",
                role="cause",
                title=f"{node + ': ' if node else ''}the node reports {what} ({row.group('reason')}: {row.group('message')})",
                weight=84,
                evidence=[f"{label} {excerpt(line.strip())}"],
                workload=node,
                recommendations=[
                    rec(
                        "high",
                        "Find what fills the node (kubectl describe node; df -h and du on the node; kubectl top pods on it) and free or move it",
                    )
                ],
                affected=[node] if node else [],
            )
        ]
    return []
