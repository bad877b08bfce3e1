"""A kubelet that cannot run, as its journal prints it, with the node it runs on.

- ``"command failed" err="failed to run Kubelet: ..."`` / ``failed to load kubelet config file ...`` /
  ``failed to validate kubelet flags``: the kubelet exits at start and systemd restarts it in a loop, so the node
  stops posting status (NodeStatusUnknown, KubeNodeNotReady). The error names what to fix: a config file that does
  not parse (``yaml: line 38: ...``), the cgroup driver that differs from the runtime's, swap, a missing bootstrap
  kubeconfig, an expired client certificate.
- ``PLEG is not healthy: pleg was last seen active 3m41s ago`` (Ready=False, flapping): the kubelet's relist of
  containers through the runtime (CRI) hangs. The reason is below the runtime: the kernel's log names it (an NVIDIA
  ``Xid`` / "GPU has fallen off the bus", hung tasks blocked on I/O, filesystem or disk I/O errors, the OOM
  killer), else the runtime's own deadline errors.
- ``openssl x509 ... -in /var/lib/kubelet/pki/kubelet-client-current.pem`` printing a ``notAfter=`` before now: the
  kubelet's client certificate expired, so the API server answers it ``Unauthorized`` and the node stops posting
  status (NodeStatusUnknown, KubeNodeUnreachable) while the network is fine. With ``rotateCertificates: false``
  (or no approved CSR) nothing renewed it; nodes joined on the same day expire together.
"""
# ruff: noqa: E501  (messages read better unwrapped)

from __future__ import annotations

import re
from datetime import UTC, datetime

from engine.analysis_context import AnalysisContext
from engine.analyzers import runtime_start
from engine.analyzers.common import rec
from engine.analyzers.scheduling_detail import lines_of, not_ready_nodes
from engine.facts import Observations
from engine.findings import Finding
from engine.parsers.command_line import prompt_host
from engine.parsers.common import excerpt

# journald: "Dec 07 02:43:41 bm-rack4-n12 kubelet[3381207]: E1207 ... run.go:72] "command failed" err="..."
_JOURNAL_HOST = re.compile(r"^\w{3}\s+\d{1,2}\s+[\d:]{8}\s+(?P<host>[\w.-]+)\s+kubelet\[\d+\]:")
_START_FAILED = re.compile(
    r"(?:\"command failed\" err=\"|(?:^|\s)(?:F|E)\d{4} [^\]]*\]\s*)?(?P<error>(?:failed to run Kubelet|failed to load kubelet config file|failed to validate kubelet (?:flags|configuration)|failed to construct kubelet dependencies|unable to load bootstrap kubeconfig|failed to initialize (?:top level QOS containers|container manager)|Failed to start ContainerManager)[^\n]*)"
)
_EXPIRED = re.compile(r"[^\"]*(?:is|has) expired[^\"]*")
_YAML = re.compile(r"(?P<path>/[\w./-]+\.ya?ml)[^\n]*?(?P<where>yaml: line \d+: [^\"\n]+)")


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    return [
        *_client_certificate_expired(obs, ctx),
        *_start_failure(obs, ctx),
        *runtime_start.analyze(obs, ctx),
        *_pleg_cause(obs, ctx),
        *_inotify_limit(obs, ctx),
        *_daemon_oom(obs, ctx),
    ]


NODE_AGENTS = ("kubelet", "containerd", "dockerd", "crio", "conmon", "systemd-journal", "systemd", "sshd", "kube-proxy")
_DAEMON_OOM = re.compile(rf"Out of memory: Killed process (?P<pid>\d+) \((?P<proc>{'|'.join(NODE_AGENTS)})\)")
_RESERVED_SET = re.compile(
    r"\b(?:systemReserved|kubeReserved|system-reserved|kube-reserved)\b(?![\"']?\s*[:=]\s*(?:null|~|\{\}|\"\"))"
)  # a key printed with null or {} reserves nothing
_SCORE_ADJ = re.compile(r"oom_score_adj:(?P<adj>-?\d+)")


def _daemon_oom(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    """The kernel OOM killer taking the node's own agents (kubelet, the container runtime): the node ran out of
    memory because pods may use all of it (no kubeReserved/systemReserved, a tiny eviction threshold), and the
    node goes NotReady while its agents restart."""
    lines = list(lines_of(obs))
    kills = [(label, line, m) for label, line in lines if (m := _DAEMON_OOM.search(line))]
    if not kills:
        return []
    node = (
        next((on_host for _, line in lines if (on_host := prompt_host(line))), None)
        or next((m.group("host") for _, line, _ in kills if (m := _HOST.match(line))), None)
        or (ctx.question.named if ctx.question else None)
    )
    daemons = list(dict.fromkeys(m.group("proc") for _, _, m in kills))
    reserved = any(_RESERVED_SET.search(line) and "grep" not in line for _, line in lines)
    config_shown = any(re.search(r"evictionHard|KubeletConfiguration|kubelet/config", line) for _, line in lines)
    why = (
        "; the kubelet reserves no memory for the system (no kubeReserved/systemReserved in its config)"
        if config_shown and not reserved
        else ""
    )
    label, line, _ = kills[0]
    adj = _SCORE_ADJ.search(line)
    if (
        adj
        and int(adj.group("adj")) > -900
        and kills[0][2].group("proc") in ("containerd", "dockerd", "crio", "kubelet")
    ):
        # the runtime's unit normally sets OOMScoreAdjust=-999; at 0 it is a likelier victim than the pods (-997 for Guaranteed)
        why += f"; {kills[0][2].group('proc')} ran with oom_score_adj {adj.group('adj')} (its systemd unit sets no OOMScoreAdjust=-999), so the kernel picks it before the pods' processes"
    return [
        Finding(
            kind="node_daemon_oom",
            subject=f"node/{node}" if node else "node:daemon_oom",
            role="cause",
            title=f"{node + ': ' if node else ''}the node ran out of memory and the kernel OOM killer killed its own agents ({', '.join(daemons)}), so the node goes NotReady until they restart{why}",
            weight=93,
            evidence=[f"{label} {excerpt(line.strip(), around='Killed process')}"],
            workload=node,
            recommendations=[
                rec(
                    "high",
                    "Reserve memory for the node's daemons (kubeReserved/systemReserved), raise evictionHard memory.available so the kubelet evicts pods before the kernel OOM killer runs, and set memory limits on the pods there",
                )
            ],
            affected=[node] if node else [],
        )
    ]


_TOO_MANY_FILES = re.compile(r"too many open files", re.I)
_INOTIFY_SYSCTL = re.compile(r"fs\.inotify\.(?P<key>max_user_instances|max_user_watches)\s*=\s*(?P<value>\d+)")
_INOTIFY_CAT = re.compile(r"cat\s+/proc/sys/fs/inotify/(?P<key>max_user_instances|max_user_watches)\s*$")
_COUNT = re.compile(r"^\s*(?P<count>\d+)\s+(?P<name>[a-zA-Z][\w.-]*)\s*$")


def _inotify_limit(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    """``too many open files`` from a watch (kubectl logs -f, a sandbox's seccomp/inotify init, a file-tailing
    agent) next to the inotify sysctls: the per-user inotify instances are used up, usually by one agent that
    opens an instance per file it tails; the count of inotify fds per process names it."""
    symptom = next(((label, line) for label, line in lines_of(obs) if _TOO_MANY_FILES.search(line)), None)
    if symptom is None:
        return []
    limits: dict[str, tuple[str, str]] = {}
    lines = list(lines_of(obs))
    for index, (label, line) in enumerate(lines):
        found = _INOTIFY_SYSCTL.search(line)
        if found:
            limits.setdefault(found.group("key"), (found.group("value"), f"{label} {excerpt(line.strip())}"))
        cat = _INOTIFY_CAT.search(line)
        if cat and index + 1 < len(lines) and lines[index + 1][1].strip().isdigit():
            value = lines[index + 1][1].strip()
            limits.setdefault(cat.group("key"), (value, f"{lines[index + 1][0]} {value}"))
    if not limits:
        return []
    key = "max_user_instances" if "max_user_instances" in limits else "max_user_watches"
    value, limit_cite = limits[key]
    counts = [
        (int(m.group("count")), m.group("name"), label, line) for label, line in lines if (m := _COUNT.match(line))
    ]
    top = max(counts) if counts else None
    node = next((on_host for _, line in lines if (on_host := prompt_host(line))), None) or (
        ctx.question.named if ctx.question else None
    )
    holder = f"; {top[1]} holds {top[0]} of them" if top and top[0] >= int(value) // 4 else ""
    evidence = [f"{symptom[0]} {excerpt(symptom[1].strip(), around='too many open files')}", limit_cite]
    if holder and top:
        evidence.append(f"{top[2]} {excerpt(top[3].strip())}")
    return [
        Finding(
            kind="inotify_exhausted",
            subject=f"node/{node}" if node else "node:inotify",
            role="cause",
            title=f"{node + ': ' if node else ''}the node's inotify limit is used up (fs.inotify.{key} = {value}){holder}, so new watches fail with 'too many open files' (containers, kubectl logs -f, file tailers)",
            weight=90,
            evidence=evidence,
            workload=node,
            recommendations=[
                rec(
                    "high",
                    f"Raise fs.inotify.max_user_instances/max_user_watches on the nodes (sysctl, node image) and check why {top[1] if holder and top else 'the top consumer'} opens so many watches",
                )
            ],
            affected=[node] if node else [],
        )
    ]


# what hangs a container runtime, as the kernel prints it, most specific first
_KERNEL_CAUSES: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(r"NVRM: Xid[^\n]*|GPU has fallen off the bus[^\n]*"),
        "a GPU hardware fault (NVIDIA Xid): the GPU's driver hangs the runtime's container operations",
    ),
    (
        re.compile(r"task [\w./:-]+:\d+ blocked for more than \d+ seconds[^\n]*"),
        "processes hung on I/O (the kernel's hung-task detector): the disk under the runtime stalls",
    ),
    (
        re.compile(r"(?:EXT4-fs|XFS)[^\n]*(?:error|corrupt|shutdown)[^\n]*", re.I),
        "a filesystem error under the runtime's storage",
    ),
    (re.compile(r"(?:I/O error, dev \w+|nvme\w*: [^\n]*timeout)[^\n]*"), "disk I/O errors under the runtime's storage"),
    (
        re.compile(r"Out of memory: Killed process \d+ \([\w.-]+\)[^\n]*"),
        "the node's memory exhausted (kernel OOM killer)",
    ),
)
_PLEG = re.compile(r"PLEG is not healthy: pleg was last seen active [\w.]+ ago")
_KERNEL_LINE = re.compile(r"\bkernel:|^\[[^\]]{4,40}\]|NVRM:")


def _pleg_cause(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    pleg = next(((label, line) for label, line in lines_of(obs) if _PLEG.search(line)), None)
    pleg_node = next(
        (n.name for n in obs.nodes for c in n.conditions if c.type == "Ready" and _PLEG.search(c.message or "")),
        None,
    )
    if pleg is None and pleg_node is None:
        return []
    kernel = [(label, line) for label, line in lines_of(obs) if _KERNEL_LINE.search(line)]
    for pattern, meaning in _KERNEL_CAUSES:
        hit = next(((label, line, m) for label, line in kernel if (m := pattern.search(line))), None)
        if hit is None:
            continue
        label, line, found = hit
        host = _HOST.match(line)
        node = pleg_node or (host.group("host") if host else None) or (ctx.question.named if ctx.question else None)
        cites = [f"{label} {excerpt(line.strip(), around=found.group(0)[:30])}"]
        if pleg:
            cites.insert(0, f"{pleg[0]} {excerpt(pleg[1].strip(), around='PLEG')}")
        return [
            Finding(
                kind="pleg_kernel_cause",
                subject=f"node/{node}" if node else "node:pleg",
                role="cause",
                title=f"{node + ': ' if node else ''}PLEG is not healthy (the kubelet's relist of containers through the container runtime times out, so the node flaps NotReady) because of {meaning}: {found.group(0).strip()}",
                weight=93,
                evidence=cites,
                workload=node,
                recommendations=[
                    rec(
                        "high",
                        f"Cordon and drain {node or 'the node'}, then repair or replace it ({'reset the GPU or replace the instance' if 'GPU' in meaning else 'check the disk and the kernel log'}); restarting the runtime does not clear a hardware fault",
                    )
                ],
                affected=[node] if node else [],
            )
        ]
    return []


_HOST = re.compile(r"^\w{3}\s+\d{1,2}\s+[\d:]{8}\s+(?P<host>[\w.-]+)\s")


def _start_failure(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    for label, line in lines_of(obs):
        found = _START_FAILED.search(line)
        if not found or "kubelet" not in line.lower():
            continue
        error = found.group("error").replace('" err="', ": ").replace('\\"', '"').strip()
        if error.count('"') % 2:  # the closing quote of err="..."
            error = error[: error.rindex('"')] + error[error.rindex('"') + 1 :]
        host = _JOURNAL_HOST.match(line)
        node = host.group("host") if host else (ctx.question.named if ctx.question else None)
        config = _YAML.search(error)
        if config:
            what = f"its config file {config.group('path')} is not valid YAML ({config.group('where').strip()})"
            fix = f"Fix {config.group('path')} at the line the error names (indentation of a key, a tab) on every node the change reached, then restart the kubelet"
        else:
            expired = next(
                (ln for _, ln in lines_of(obs) if "kubelet" in ln and re.search(r"(?:is|has) expired", ln)), None
            )
            before = _EXPIRED.search(expired) if expired else None
            what = error + (f" (before it: {before.group(0)})" if before else "")
            if re.search(r"Reserved Cgroup[^\n]*missing paths", error, re.IGNORECASE):
                what += (
                    "; enforceNodeAllocatable lists system-reserved/kube-reserved, so the kubelet limits the cgroup that "
                    "systemReservedCgroup/kubeReservedCgroup names, and it does not create it: on a cgroup v1 host that "
                    "cgroup must exist under every controller the error lists"
                )
            fix = "Fix what the kubelet's start error names on the node, then restart the kubelet (systemctl restart kubelet)"
        others = [n for n in not_ready_nodes(obs) if n != node]
        also = f"; the other NotReady nodes ({', '.join(others[:4])}) likely got the same change" if others else ""
        return [
            Finding(
                kind="kubelet_start_failure",
                subject=f"node/{node}" if node else "kubelet:start_failure",
                role="cause",
                title=f"{node + ': ' if node else ''}the kubelet exits at startup and systemd restarts it in a loop, so the node stops posting status (NotReady): {what}{also}",
                weight=94,
                evidence=[f"{label} {excerpt(line.strip(), around=found.group('error')[:40])}"],
                workload=node,
                recommendations=[rec("high", fix)],
                affected=[node, *others[:4]] if node else others[:4],
            )
        ]
    return []


_OPENSSL_KUBELET = re.compile(r"\bopenssl\s+x509\b.*?-in\s+(?P<path>\S*kubelet\S*\.(?:pem|crt))")
_NOT_AFTER = re.compile(r"notAfter=(?P<when>\w{3}\s+\d{1,2} [\d:]{8} \d{4}) GMT")
_ROTATION_OFF = re.compile(r"rotateCertificates:\s*false|--rotate-certificates=false")


def _client_certificate_expired(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    """The kubelet's client certificate, read with openssl on the node, expired before the investigation's clock."""
    path = host = None
    for label, line in lines_of(obs):
        command = _OPENSSL_KUBELET.search(line)
        if command:
            path = command.group("path")
            host = prompt_host(line)
            continue
        after = _NOT_AFTER.search(line)
        if not after or not path:
            continue
        try:
            when = datetime.strptime(" ".join(after.group("when").split()), "%b %d %H:%M:%S %Y")
        except ValueError:
            continue
        if when.replace(tzinfo=UTC) >= ctx.now:
            continue
        node = host or (ctx.question.named if ctx.question else None)
        evidence = [f"{label} {line.strip()}"]
        rotation = next(((lb, ln) for lb, ln in lines_of(obs) if _ROTATION_OFF.search(ln)), None)
        why = ""
        if rotation:
            why = "; certificate rotation is off (rotateCertificates: false), so nothing renewed it"
            evidence.append(f"{rotation[0]} {rotation[1].strip()}")
        denied = next(((lb, ln) for lb, ln in lines_of(obs) if "kubelet" in ln and "Unauthorized" in ln), None)
        if denied:
            evidence.append(f"{denied[0]} {excerpt(denied[1].strip(), around='Unauthorized')}")
        others = [n for n in not_ready_nodes(obs) if n != node]
        also = (
            f"; the other NotReady nodes ({', '.join(others[:4])}) were likely joined the same day and expired together"
            if others
            else ""
        )
        return [
            Finding(
                kind="kubelet_client_certificate_expired",
                subject=f"node/{node}" if node else "kubelet:client_certificate",
                role="cause",
                title=(
                    f"{node + ': ' if node else ''}the kubelet's client certificate {path} expired on {after.group('when')} GMT (notAfter), "
                    f"so the API server rejects the kubelet (Unauthorized) and the node stops posting status (NotReady/Unknown); "
                    f"the network is not the cause{why}{also}"
                ),
                weight=96,
                evidence=evidence,
                workload=node,
                recommendations=[
                    rec(
                        "high",
                        "Renew the kubelet client certificate (kubeadm: kubeadm certs renew / rejoin the node, or approve its CSR with kubectl certificate approve), enable rotateCertificates: true, then restart the kubelet",
                    )
                ],
                affected=[node, *others[:4]] if node else others[:4],
            )
        ]
    return []
