"""What a firing kube-prometheus alert means, read together with what was pasted next to it.

The alert's labels name the object (``pod``, ``container``, ``instance``, ``mountpoint``); its runbook says what
to look at (runbooks.prometheus-operator.dev). Each rule here is that runbook's triage step over whatever the
person attached, in whichever format it was printed:

- ``CPUThrottlingHigh``: the container's CPU limit (describe, YAML/JSON, a jsonpath dump) against its usage
  (``kubectl top --containers``): the CFS quota of the limit, not the node, caps it.
- ``etcdHighFsyncDurations`` / ``etcdHighCommitDurations`` / ``etcdSlow…`` and etcd's own "slow fdatasync" /
  "took too long" warnings: etcd waits on its disk; ``iostat`` rows at ~100 %util or with write waits of
  hundreds of ms say the disk is saturated, and ``iotop``'s busiest process that is not etcd is what saturates it.
- ``NodeFilesystemSpaceFillingUp`` / ``NodeFilesystemAlmostOutOfSpace``: the ``df`` row of the alert's
  mountpoint, and what fills it: a container runtime's directory holds images (``crictl images`` counts, the
  repository most images come from), and the kubelet removes unused images only above
  ``imageGCHighThresholdPercent``.
"""
# ruff: noqa: E501  (patterns and messages read better unwrapped)

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import rec
from engine.facts import Observations
from engine.findings import Finding, workload_of
from engine.parsers.common import excerpt, millicores

# root@cp-2:~# and core@cp-2 ~ $ (or /path $)
_PROMPT_HOST = re.compile(r"^\s*[\w.-]+@(?P<host>[\w.-]+)(?::[^#$]*|\s+[~/][^#$\s]*)?\s?[#$]\s")
_IOSTAT_HEADER = re.compile(r"^\s*Device\b.*\bw_await\b.*%util", re.IGNORECASE)
_IOTOP_ROW = re.compile(
    r"^\s*\d+\s+\S+\s+\S+\s+[\d.]+\s*\S+\s+[\d.]+\s*\S+\s+[\d.]+\s*%\s+(?P<io>[\d.]+)\s*%\s+(?P<command>\S.*)$"
)
_ETCD_SLOW = re.compile(
    r"slow fdatasync|apply request took too long|took too long \([\d.]+m?s\) to execute|wal.*sync duration|disk sync",
    re.IGNORECASE,
)
_FSYNC_ALERTS = ("etcdHighFsyncDurations", "etcdHighCommitDurations", "etcdSlowDiskWrites", "etcdBackendQuotaLowSpace")
_DISK_ALERTS = ("NodeFilesystemSpaceFillingUp", "NodeFilesystemAlmostOutOfSpace", "NodeFilesystemFilesFillingUp")
_DF_ROW = re.compile(
    r"^(?P<fs>/\S+|\S+:\S*)\s+(?P<size>\S+)\s+(?P<used>\S+)\s+(?P<avail>\S+)\s+(?P<pct>\d+)%\s+(?P<mount>/\S*)\s*$"
)
_IMAGE_ROW = re.compile(r"^(?P<repo>[a-z0-9][\w.-]*(?::\d+)?/[\w./-]+)\s+\S+\s+[0-9a-f]{6,}\s+[\d.]+\s*[KMGT]?i?B\s*$")
_IMAGE_GC = re.compile(r"imageGCHighThresholdPercent\s*[:=]\s*(\d+)|--image-gc-high-threshold[= ](\d+)")
_COUNT = re.compile(r"^\s*(\d+)\s*$")
_RUNTIME_DIRS = ("/var/lib/containerd", "/var/lib/docker", "/var/lib/containers")
_FLOW_CPU_LIMIT = re.compile(r"^(?P<sign>[+-]?)\s*limits:\s*\{[^}]*?\bcpu:\s*['\"]?(?P<cpu>\d+(?:\.\d+)?m?)['\"]?")
_CPU_MAX = re.compile(r"^(\d+) (\d+)$")
_THROTTLE_SHARE = re.compile(r"([\d.]+)\s*%\s*throttling")


@dataclass(frozen=True)
class _Line:
    label: str
    text: str
    host: str | None  # the host whose shell prompt printed it (root@cp-2:~#), when there is one
    command: str  # the command whose output it is ("" when unknown)


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    question = ctx.question
    alert = question.alert if question else None
    labels = dict(question.labels) if question else {}
    lines = list(_lines(obs))
    findings: list[Finding] = []
    if alert == "CPUThrottlingHigh":
        findings += _cpu_throttling(obs, labels, lines)
    if alert in _FSYNC_ALERTS or any(_ETCD_SLOW.search(line.text) for line in lines):
        findings += _etcd_disk(labels, lines, alert)
    if alert in _DISK_ALERTS:
        findings += _filesystem_filling(labels, lines, alert)
    findings += _alert_storm(obs)
    findings += _clock_unsynchronised(labels, lines, alert)
    findings += _expiring_certificates(lines, ctx)
    if alert == "KubePersistentVolumeErrors":
        findings += _volume_errors(labels, lines)
    if alert in _SCRAPE_ALERTS or any("lastError" in line.text for line in lines):
        findings += _scrape_port_mismatch(labels, lines)
    return findings


# --- KubePersistentVolumeErrors: the volume's own status message -----------------------------------------------

_PV_STATUS = re.compile(r"^\s*(?:Status|phase)\s*:\s*\"?(?P<phase>Failed|Pending)\"?\s*$")
_PV_MESSAGE = re.compile(r"^\s*(?:Message|message)\s*:\s*(?P<q>[\"']?)(?P<message>\S.{5,}?)(?P=q)\s*$")
_PV_WARNING = re.compile(r"^\s*Warning\s+(?P<reason>\w+)\s+\S+.*?\s{2,}(?P<message>\S.{5,})$")


def _volume_errors(labels: dict[str, str], lines: list[_Line]) -> list[Finding]:
    """The runbook's first step: ``kubectl describe pv`` — a Failed/Pending volume says why in its status message
    or its Warning events (a reclaim that cannot delete or detach the disk, a provisioner error)."""
    volume = labels.get("persistentvolume", "")
    phase = next(
        (m.group("phase") for line in lines for m in [_PV_STATUS.match(line.text)] if m), labels.get("phase", "")
    )
    said = next(((line, m.group("message")) for line in lines for m in [_PV_MESSAGE.match(line.text)] if m), None)
    if said is None:
        said = next(
            (
                (line, f"{m.group('reason')}: {m.group('message')}")
                for line in lines
                for m in [_PV_WARNING.match(line.text)]
                if m
            ),
            None,
        )
    if said is None:
        return []
    line, message = said
    name = volume or "the PersistentVolume"
    return [
        Finding(
            kind="persistentvolume_error",
            subject=f"persistentvolume/{name}",
            role="cause",
            title=f"PersistentVolume {name} is {phase or 'in error'}: {message}",
            weight=86,
            evidence=[f"{line.label} {excerpt(line.text.strip())}"],
            workload=name,
            recommendations=[
                rec(
                    "high",
                    f"Fix what the message names for {name} (detach the disk from the instance holding it, or the "
                    "provisioner's permissions), then let the controller retry or clean the volume up by hand",
                )
            ],
            affected=[name],
        )
    ]


# --- TargetDown: the scrape is refused on a port the target does not listen on --------------------------------

_SCRAPE_ALERTS = ("TargetDown", "PrometheusTargetMissing", "KubeletDown", "KubeProxyDown", "NodeExporterDown")
_REFUSED = re.compile(r"dial tcp (?P<ip>[\d.]+|\[[\w:]+\]):(?P<port>\d{2,5}): connect: connection refused")
# How servers and exporters print or are told the address they listen on (not a spec's containerPort).
_LISTENS = re.compile(
    r"(?:\blistening\s+(?:on|at)\b|--web\.listen-address\b|\blisten[-_]addr(?:ess)?\b|--(?:http-)?port\b|\bbind(?:ing)?\s+to\b)"
    r"[^\n]{0,60}?[:= ](?P<port>\d{2,5})\b",
    re.IGNORECASE,
)


def _pod_file_workload(label: str) -> str | None:
    """``[attachment:node-exporter-x2kq9.log]`` -> ``node-exporter``: the workload a pod's saved log is from."""
    match = re.match(r"^\[attachment:(?:.*/)?([a-z][a-z0-9-]*-[a-z0-9]{5})\.(?:log|txt)\]$", label)
    return workload_of(match.group(1)) if match else None


def _scrape_port_mismatch(labels: dict[str, str], lines: list[_Line]) -> list[Finding]:
    """A scrape target refused on port P while the target's own log or arguments say it listens on port Q: the
    Service/ServiceMonitor (or the pod's declared containerPort) points at a port nothing listens on."""
    refused = next((m for m in (_REFUSED.search(line.text) for line in lines) if m), None)
    if refused is None:
        return []
    port = refused.group("port")
    listening = [(m.group("port"), line) for line in lines for m in [_LISTENS.search(line.text)] if m]
    if not listening or any(found == port for found, _ in listening):
        return []
    other, where = listening[0]
    refused_line = next(line for line in lines if _REFUSED.search(line.text))
    job = re.search(r"\bjob=\"([\w.-]+)\"", refused_line.text)
    subject = (
        labels.get("job")
        or labels.get("service")
        or labels.get("pod")
        or (job.group(1) if job else None)
        or _pod_file_workload(where.label)
        or refused.group("ip")
    )
    return [
        Finding(
            kind="scrape_port_mismatch",
            subject=f"target:{subject}",
            role="cause",
            title=(
                f"{subject}: the scrape of port {port} is refused (connection refused) because the target listens on "
                f"port {other}, not {port}: the Service/ServiceMonitor port (or containerPort) still says {port}"
            ),
            weight=90,
            evidence=[
                f"{refused_line.label} {excerpt(refused_line.text.strip())}",
                f"{where.label} {excerpt(where.text.strip())}",
            ],
            workload=workload_of(subject),
            recommendations=[
                rec(
                    "high",
                    f"Make the ports agree: point the Service/ServiceMonitor (and containerPort) at {other}, or run "
                    f"{subject} on {port} again",
                )
            ],
            affected=[workload_of(subject)],
        )
    ]


# --- Several alerts at once: the one that explains the others -----------------------------------------------------

# A lower layer's alert explains the alerts of what runs on it (runbooks: a NotReady node's pods go NotReady and
# their targets down; slow or leaderless etcd makes the API server fail and everything that calls it).
_ROOT_ALERTS = {
    "KubeNodeNotReady": "node",
    "KubeNodeUnreachable": "node",
    "NodeFilesystemAlmostOutOfSpace": "instance",
    "etcdNoLeader": "instance",
    "etcdInsufficientMembers": "job",
    "etcdHighFsyncDurations": "instance",
    "etcdMembersDown": "job",
}


def _alert_storm(obs: Observations) -> list[Finding]:
    alerts: list[dict[str, str]] = []
    for document in obs.documents:
        data = document.data
        items = data.get("alerts") if isinstance(data, dict) else data
        if isinstance(data, dict) and isinstance(data.get("data"), dict):
            items = data["data"].get("alerts", items)
        for item in items if isinstance(items, list) else []:
            labels = item.get("labels") if isinstance(item, dict) else None
            if isinstance(labels, dict) and isinstance(labels.get("alertname"), str):
                alerts.append({str(k): str(v) for k, v in labels.items()})
        if len(alerts) < 3:
            continue
        roots = [a for a in alerts if a["alertname"] in _ROOT_ALERTS]
        if not roots:
            continue
        root = roots[0]
        where = root.get(_ROOT_ALERTS[root["alertname"]], "") or root.get("instance", "")
        others = [a for a in alerts if a is not root]
        names = sorted({a["alertname"] for a in others})
        objects = sorted({a.get("pod") or a.get("instance") or a.get("deployment") or "" for a in others} - {""})
        return [
            Finding(
                kind="alert_storm_root",
                subject=f"node/{where}" if _ROOT_ALERTS[root["alertname"]] == "node" else f"alert/{root['alertname']}",
                role="cause",
                title=f"{len(alerts)} alerts fire together and {root['alertname']}{' for ' + where if where else ''} explains the others ({', '.join(names[:5])}): they are about what runs on or depends on it",
                weight=82,
                evidence=[document.quote(root["alertname"], fallback=f"alertname {root['alertname']}")],
                workload=where or root["alertname"],
                related=objects[:20],
                recommendations=[
                    rec(
                        "high",
                        f"Work on {root['alertname']}{' (' + where + ')' if where else ''} first; the other alerts should clear with it",
                    )
                ],
                affected=[where] if where else [],
            )
        ]
    return []


# --- NodeClockNotSynchronising / NodeClockSkewDetected -----------------------------------------------------------

_UNSYNCED = re.compile(
    r"System clock synchronized:\s*no|NTP synchronized:\s*no|Leap status\s*:\s*Not synchronised|unsynchronised|^\s*NTP service:\s*inactive",
    re.IGNORECASE,
)
_NTP_CAUSE = re.compile(
    r"NTP service:\s*inactive|chronyd?\.service.*(?:inactive|failed|dead)|Active:\s*(?:inactive|failed)|Can't synchronise: no selectable sources|no reachable servers|\b0 sources\b|Could not resolve|No route to host|Timed out",
    re.IGNORECASE,
)


def _clock_unsynchronised(labels: dict[str, str], lines: list[_Line], alert: str | None) -> list[Finding]:
    """timedatectl/chronyc output (node_exporter's timex collector feeds NodeClockNotSynchronising): the clock
    is not synchronised, and the NTP daemon's state or its sources say why."""
    unsynced = next((line for line in lines if _UNSYNCED.search(line.text)), None)
    if unsynced is None or (alert is None and unsynced.host is None):
        return []
    why = next((line for line in lines if _NTP_CAUSE.search(line.text) and line is not unsynced), None)
    node = labels.get("instance", "").split(":")[0] or unsynced.host or "the node"
    reason = f": {why.text.strip()[:160]}" if why else ""
    evidence = [
        f"{unsynced.label} {excerpt(unsynced.text.strip())}",
        *([f"{why.label} {excerpt(why.text.strip())}"] if why else []),
    ]
    return [
        Finding(
            kind="clock_not_synchronised",
            subject=f"node/{node}",
            role="cause",
            title=f"{node}: the system clock is not synchronised with NTP{reason}; a drifting clock breaks TLS validity checks, token expiry and log ordering",
            weight=84 if why else 74,
            evidence=evidence,
            workload=node,
            recommendations=[
                rec(
                    "high",
                    f"Start and enable the NTP daemon on {node} (chronyd/systemd-timesyncd) and make its servers reachable (UDP 123)",
                )
            ],
            affected=[node],
        )
    ]


# --- KubeClientCertificateExpiration / kubeadm certificates -------------------------------------------------------

_CERT_ROW = re.compile(
    r"^(?P<name>[\w.-]+)\s+(?P<expires>[A-Z][a-z]{2} \d{2}, \d{4} \d{2}:\d{2} UTC)\s+(?P<left><invalid>|\d+[dhmy])\b"
)


def _expiring_certificates(lines: list[_Line], ctx: AnalysisContext) -> list[Finding]:
    """``kubeadm certs check-expiration``: a row whose RESIDUAL TIME is under a week (or <invalid>, expired)."""
    soon: list[tuple[_Line, str, str]] = []
    for line in lines:
        row = _CERT_ROW.match(line.text.strip())
        if row is None:
            continue
        left = row.group("left")
        days = 0 if left == "<invalid>" else int(left[:-1]) * {"d": 1, "h": 0, "m": 0, "y": 365}[left[-1]]
        if days < 7:
            soon.append(
                (
                    line,
                    row.group("name"),
                    "has expired" if left == "<invalid>" else f"expires in {left} ({row.group('expires')})",
                )
            )
    if not soon:
        return []
    names = ", ".join(f"{name} {state}" for _, name, state in soon[:4])
    return [
        Finding(
            kind="kubeadm_certificate_expiring",
            subject="cluster:certificates",
            role="cause",
            title=f"Control-plane certificates are expiring: {names}; clients using them (kubelet, controller-manager, scheduler, admin kubeconfig) will be refused by the API server",
            weight=86,
            evidence=[f"{line.label} {excerpt(line.text.strip())}" for line, _, _ in soon[:3]],
            workload="kube-apiserver",
            recommendations=[
                rec(
                    "high",
                    "Renew them (kubeadm certs renew all on each control-plane node), restart the control-plane static pods, and redistribute the admin kubeconfig",
                )
            ],
            affected=["kube-apiserver"],
        )
    ]


def _lines(obs: Observations) -> Iterator[_Line]:
    sources = [(t.label, t.lines, t.command) for t in obs.texts] + [(d.label, d.lines, d.command) for d in obs.logs]
    for label, text_lines, printed_by in sources:
        host: str | None = None
        command = printed_by
        for text in text_lines[:20_000]:
            prompt = _PROMPT_HOST.match(text)
            if prompt:
                host, command = prompt.group("host"), text[prompt.end() :].strip()
                continue
            if text.lstrip().startswith("$ "):
                command = text.lstrip()[2:].strip()
                continue
            yield _Line(label, text, host, command)


# --- CPUThrottlingHigh -------------------------------------------------------------------------------------


def _cpu_throttling(obs: Observations, labels: dict[str, str], lines: list[_Line]) -> list[Finding]:
    container, pod = labels.get("container"), labels.get("pod")
    if not container:
        return []
    limit: str | None = None
    evidence: list[str] = []
    for fact in obs.pods:
        if pod and fact.name != pod:
            continue
        for spec in fact.containers:
            if spec.name == container and spec.cpu_limit:
                limit = spec.cpu_limit
                evidence.append(spec.cites.get("cpu_limit", ""))
    usage: str | None = None
    share: str | None = None
    before: str | None = None  # the limit a diff shows it had before
    for line in lines:
        text = line.text.strip()
        words = text.split()
        flow = _FLOW_CPU_LIMIT.match(text)  # a values file or its diff: "limits: {cpu: 500m, memory: 768Mi}"
        if flow and flow.group("sign") == "-":
            before = flow.group("cpu")
        elif flow and limit is None:
            limit = flow.group("cpu")
            evidence.append(f"{line.label} {excerpt(text)}")
        quota = _CPU_MAX.match(text) if "cpu.max" in line.command else None  # cgroup v2: "50000 100000"
        if quota and limit is None and int(quota.group(2)):
            limit = f"{round(1000 * int(quota.group(1)) / int(quota.group(2)))}m"
            evidence.append(f"{line.label} {excerpt(text)}")
        if limit is None and container in text and '"limits"' in text:
            found = _json_cpu_limit(text, container)
            if found:
                limit = found
                evidence.append(f"{line.label} {excerpt(text, around=container)}")
        sibling = bool(pod and words and words[0] != pod and words[0].startswith(workload_of(pod) + "-"))
        if container in words and not sibling and re.search(r"\b\d+m\s+\d+(?:\.\d+)?[KMG]i\b", text):
            usage = next(w for w in words if re.fullmatch(r"\d+m", w))
            evidence.append(f"{line.label} {excerpt(text)}")
        found_share = _THROTTLE_SHARE.search(text)
        if found_share and container in text and (not pod or pod in text):
            share = f"{found_share.group(1)}%"
            evidence.insert(0, f"{line.label} {excerpt(text)}")
    if limit is None:
        return []
    at_limit = ""
    used, allowed = millicores(usage), millicores(limit)
    if used is not None and allowed and used >= 0.9 * allowed:
        at_limit = f", and it uses {usage}, right at that limit"
    elif usage:
        at_limit = f" (it uses {usage} on average; the bursts above the limit are throttled)"
    how = f"throttled in {share} of its CPU periods" if share else "throttled"
    if before and millicores(before) != millicores(limit):
        at_limit += f"; the limit was lowered from {before} to {limit}"
    owner = pod or container
    return [
        Finding(
            kind="cpu_throttling",
            subject=f"pod/{pod}" if pod else f"container/{container}",
            role="cause",
            title=f"{owner}: container {container} is CPU-{how} by its CPU limit of {limit}{at_limit}; the limit, not the node, slows it down",
            weight=86 if at_limit.startswith(",") else 78,
            evidence=[e for e in dict.fromkeys(evidence) if e],
            workload=workload_of(pod) if pod else container,
            recommendations=[
                rec(
                    "high",
                    f"Raise (or remove) the CPU limit of container {container} above its usage ({limit} now), or give it fewer worker threads",
                ),
            ],
            affected=[workload_of(pod)] if pod else [container],
        )
    ]


def _json_cpu_limit(text: str, container: str) -> str | None:
    """The CPU limit of ``container`` on a JSON line: in its own ``{"name": ...}`` object when the line holds
    several containers, else the line's only limits object (a ``jsonpath`` dump: ``name\t{"limits":...}``)."""
    named = re.search(rf'"name"\s*:\s*"{re.escape(container)}"', text)
    if named:
        following = text[named.end() :]
        following = following.split('"name"', 1)[0]
    elif re.search(rf"(?:^|\s){re.escape(container)}\s", text):
        following = text
    else:
        return None
    found = re.search(r'"limits"\s*:\s*\{[^}]*"cpu"\s*:\s*"([\d.]+m?)"', following)
    return found.group(1) if found else None


# --- etcd waiting on its disk ---------------------------------------------------------------------------------


def _etcd_disk(labels: dict[str, str], lines: list[_Line], alert: str | None) -> list[Finding]:
    instance = labels.get("instance", "").split(":")[0]
    saturated: _Line | None = None
    util = ""
    in_iostat: list[str] = []
    for line in lines:
        if _IOSTAT_HEADER.match(line.text):
            in_iostat = line.text.split()
            continue
        if in_iostat:
            values = line.text.split()
            if len(values) != len(in_iostat) or not values or not re.fullmatch(r"[\d.]+", values[-1]):
                in_iostat = [] if not values else in_iostat
                continue
            row = dict(zip(in_iostat, values, strict=True))
            busy = float(row.get("%util", "0"))
            wait = float(row.get("w_await", "0"))
            if busy >= 90 or wait >= 100:
                saturated = line
                util = f"{values[0]} at {row.get('%util')} %util, writes waiting {row.get('w_await')} ms"
    hog: _Line | None = None
    hog_share = 0.0
    for line in lines:
        top = _IOTOP_ROW.match(line.text)
        if top and "etcd" not in top.group("command").split()[0] and float(top.group("io")) > max(hog_share, 30.0):
            hog, hog_share = line, float(top.group("io"))
    slow = next((line for line in lines if _ETCD_SLOW.search(line.text)), None)
    if saturated is None and hog is None and slow is None:
        return []
    if alert not in _FSYNC_ALERTS and saturated is None and hog is None:
        return []  # etcd's own warning alone: the kubelet/apiserver analyzers already quote it
    host = (saturated.host if saturated else None) or (hog.host if hog else None) or instance or "the etcd member"
    where = f"{host} ({instance})" if instance and host != instance else host
    cause = "its disk is slow"
    evidence: list[str] = []
    if slow:
        evidence.append(f"{slow.label} {excerpt(slow.text.strip())}")
    if saturated:
        cause = f"its disk is saturated ({util})"
        evidence.append(f"{saturated.label} {excerpt(saturated.text.strip())}")
    if hog:
        command = " ".join(_IOTOP_ROW.match(hog.text).group("command").split()[:3])  # type: ignore[union-attr]
        cause += f" by another process, '{command}' ({hog_share:.0f}% of I/O time)"
        evidence.append(f"{hog.label} {excerpt(hog.text.strip())}")
    what = f"{alert}: " if alert in _FSYNC_ALERTS else ""
    return [
        Finding(
            kind="etcd_slow_disk",
            subject=f"node/{host}",
            role="cause",
            title=f"{what}etcd on {where} waits on slow disk fsync: {cause}; every API server write waits for etcd's WAL fsync, so the API is slow",
            weight=88 if (saturated or hog) else 60,
            evidence=evidence,
            workload=host,
            related=["etcd", "kube-apiserver", *([instance] if instance else [])],
            recommendations=[
                rec(
                    "high",
                    f"Stop or reschedule the I/O-heavy job on {host} (or move it off the etcd disk: ionice, another volume)"
                    if hog
                    else f"Give etcd on {host} a dedicated low-latency disk (SSD/NVMe)",
                ),
                rec(
                    "medium",
                    "Keep etcd's data directory on its own disk; the etcd hardware guide wants p99 WAL fsync below 10 ms",
                ),
            ],
            affected=["etcd", "kube-apiserver"],
        )
    ]


# --- node filesystems filling up -----------------------------------------------------------------------------


def _filesystem_filling(labels: dict[str, str], lines: list[_Line], alert: str | None) -> list[Finding]:
    mount = labels.get("mountpoint")
    node = labels.get("instance", "").split(":")[0] or labels.get("node", "")
    row_line: _Line | None = None
    row: re.Match[str] | None = None
    for line in lines:
        found = _DF_ROW.match(line.text.strip())
        if found and (mount is None or found.group("mount") == mount):
            row_line, row = line, found
            break
    biggest = _biggest_du(lines, row.group("mount") if row else mount or "/")
    if (row is None or row_line is None) and biggest is None:
        return []
    evidence = [f"{row_line.label} {excerpt(row_line.text.strip())}"] if row_line else []
    if row is not None and row_line is not None:
        mount = row.group("mount")
        node = node or row_line.host or ""
        state = f"is {row.group('pct')}% full ({row.group('avail')} of {row.group('size')} left) and filling up"
    else:
        state = "is filling up"
    mount = mount or "/"
    detail = ""
    if mount.startswith(_RUNTIME_DIRS):
        detail = _images_detail(lines, evidence)
    owner = None
    if biggest and not detail:
        size, path, du_line = biggest
        owner = _pod_of_log_path(path)
        node = node or du_line.host or ""
        detail = f"; most of it is {path} ({size})" + (f", the logs of pod {owner[0]}/{owner[1]}" if owner else "")
        evidence.append(f"{du_line.label} {excerpt(du_line.text.strip())}")
    who = f"{node}: " if node else ""
    return [
        Finding(
            kind="node_filesystem_filling",
            subject=f"node/{node}" if node else f"filesystem:{mount}",
            role="cause",
            title=f"{who}the filesystem mounted at {mount} {state}{detail}",
            weight=92 if owner else 82,  # naming the pod whose logs fill it is more than the df row says
            evidence=evidence,
            workload=node or None,
            related=[workload_of(owner[1])] if owner else [],
            recommendations=[
                rec(
                    "high",
                    f"Free space under {mount}: remove unused images (crictl rmi --prune) and lower imageGCHighThresholdPercent so the kubelet collects them earlier"
                    if detail
                    else f"Free space under {mount} or grow the volume",
                ),
            ],
            affected=[node] if node else [],
        )
    ]


_DU_LINE = re.compile(r"^(?P<size>\d+(?:\.\d+)?)(?P<unit>[KMGT]?)\s+(?P<path>/\S+)\s*$")
_POD_LOG_DIR = re.compile(r"/var/log/pods/(?P<ns>[a-z0-9-]+)_(?P<pod>[a-z0-9.-]+)_")
_CONTAINER_LOG = re.compile(r"/var/log/containers/(?P<pod>[a-z0-9.-]+)_(?P<ns>[a-z0-9-]+)_")


def _biggest_du(lines: list[_Line], mount: str) -> tuple[str, str, _Line] | None:
    """The deepest ``du`` entry under the mount that holds most of the largest one's size: what fills the disk
    (``/var/log/pods/<ns>_<pod>_<uid>`` rather than its parent ``/var/log``)."""
    entries: list[tuple[float, str, str, _Line]] = []
    for line in lines:
        found = _DU_LINE.match(line.text.strip())
        if found and found.group("path").startswith(mount):
            amount = float(found.group("size")) * 1024 ** " KMGT".index(found.group("unit") or " ")
            entries.append((amount, found.group("path"), found.group("size") + found.group("unit"), line))
    if not entries:
        return None
    largest = max(amount for amount, _, _, _ in entries)
    if largest < 1024**3:  # under a GB: not what fills a node's disk
        return None
    _, path, size, line = max((e for e in entries if e[0] >= 0.8 * largest), key=lambda e: e[1].count("/"))
    return size, path, line


def _pod_of_log_path(path: str) -> tuple[str, str] | None:
    """The namespace and pod whose logs a kubelet log directory holds."""
    found = _POD_LOG_DIR.search(path) or _CONTAINER_LOG.search(path)
    return (found.group("ns"), found.group("pod")) if found else None


def _images_detail(lines: list[_Line], evidence: list[str]) -> str:
    """What a container runtime's directory is full of: images, from ``crictl images`` and the kubelet's GC."""
    repos: Counter[str] = Counter()
    counted: dict[str, int] = {}  # repository -> images counted by `crictl images | grep -c <repo>`
    count: int | None = None
    gc: tuple[str, _Line] | None = None
    for line in lines:
        image = _IMAGE_ROW.match(line.text.strip())
        if image:
            repos[image.group("repo")] += 1
        number = _COUNT.match(line.text)
        if number and "images" in line.command and ("wc -l" in line.command or "grep -c" in line.command):
            if "grep -c" in line.command:
                quoted = re.search(r"grep -c\s+['\"]?([^'\"\s]+)", line.command)
                if quoted:
                    counted[quoted.group(1)] = int(number.group(1))
            elif count is None:
                count = int(number.group(1))
                evidence.append(f"{line.label} {line.text.strip()}")
        threshold = _IMAGE_GC.search(line.text)
        if threshold:
            gc = (threshold.group(1) or threshold.group(2), line)
    repos.update({repo: number - repos[repo] for repo, number in counted.items() if number > repos[repo]})
    detail = ": it holds the container images"
    if count:
        detail += f" ({count} images"
        if repos:
            repo, many = repos.most_common(1)[0]
            detail += f", {many} of them {repo}"
        detail += ")"
    elif repos:
        repo, many = repos.most_common(1)[0]
        detail += f" (mostly {repo}, {many} tags)"
    if gc:
        detail += f", and the kubelet's image garbage collection only starts at imageGCHighThresholdPercent {gc[0]}%"
        evidence.append(f"{gc[1].label} {gc[1].text.strip()}")
    return detail
