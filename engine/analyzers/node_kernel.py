"""Node kernel states that stop pods from starting or stopping, read from the kernel's own lines.

- ``unregister_netdevice: waiting for eth0 to become free. Usage count = 1`` (node-problem-detector's
  UnregisterNetDevice): the kernel cannot release a network namespace's device because something still holds a
  reference. While it waits it holds the net namespace lock, so creating (``copy_net_ns``) and deleting pod
  sandboxes on the node hangs: pods stay Terminating, new ones stay ContainerCreating with sandbox deadlines
  exceeded. A reboot (or a drain and reboot) clears it; a fixed kernel prevents it.
- kube-proxy in IPVS mode creates a dummy virtual server with the configured scheduler at start
  (``ipvs.scheduler``: rr, wrr, lc, sh, mh...). Each scheduler is a kernel module ``ip_vs_<name>``; on a kernel
  without it the call fails with ``no such file or directory`` and kube-proxy exits "can't use the IPVS proxier",
  so the node's Service rules are never synced.
"""
# ruff: noqa: E501  (patterns and messages read better unwrapped)

from __future__ import annotations

import re

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import rec
from engine.analyzers.scheduling_detail import lines_of
from engine.facts import Observations
from engine.findings import Finding
from engine.parsers.command_line import prompt_host
from engine.parsers.common import excerpt

_UNREGISTER = re.compile(
    r"unregister_netdevice: waiting for (?P<dev>\S+) to become free\. Usage count = (?P<count>-?\d+)"
)
_SYSLOG_HOST = re.compile(r"^(?:\w{3} +\d+ [\d:]+|\d{4}-\d\d-\d\dT\S+) (?P<host>[\w.-]+) kernel:")
_SSH_HOST = re.compile(r"\bssh\s+(?:-\S+\s+)*(?:\w+@)?(?P<host>[\w.-]+)")
_IPVS_FAILED = re.compile(r"can't use the IPVS proxier|Could not create dummy VS", re.IGNORECASE)
_SCHEDULER_IN_LOG = re.compile(r"Could not create dummy VS[^\n]*?scheduler=\\?\"?(?P<sched>[a-z]+)")
_SCHEDULER_IN_CONFIG = re.compile(r"""^\s*"?scheduler"?\s*[:=]\s*["']?(?P<sched>[a-z]{1,6})["']?\s*,?\s*$""")
_MODULE_MISSING = re.compile(
    r"Module (?P<module>ip_vs_\w+) not found|modprobe: FATAL: Module (?P<module2>ip_vs_\w+) not found"
)


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    del ctx
    return [f for f in (_netdevice(obs), _ipvs_scheduler(obs)) if f is not None]


def _node_of(obs: Observations, label: str, line: str) -> str | None:
    match = _SYSLOG_HOST.match(line.strip())
    if match:
        return match.group("host")
    for event in obs.events:
        if _UNREGISTER.search(event.message) and event.object_name:
            return event.object_name.removeprefix("node/")
    for text_label, command in [(t.label, t.command) for t in obs.texts] + [(d.label, d.command) for d in obs.logs]:
        if text_label == label and (found := _SSH_HOST.search(command) or None):
            return found.group("host")
    # the shell prompt that printed the lines ([root@node ~]# dmesg)
    return next((host for lbl, text in lines_of(obs) if lbl == label and (host := prompt_host(text))), None)


def _netdevice(obs: Observations) -> Finding | None:
    hits = [
        (label, line, m, f"{label} {excerpt(line.strip(), around='unregister_netdevice')}")
        for label, line in lines_of(obs)
        if (m := _UNREGISTER.search(line))
    ]
    hits += [("", event.message, m, event.cite) for event in obs.events if (m := _UNREGISTER.search(event.message))]
    if not hits:
        return None
    _, _, match, cite = hits[0]
    node = next((n for lbl, ln, _, _ in hits if (n := _node_of(obs, lbl, ln))), None)
    blocked = any(
        "copy_net_ns" in text or "KillPodSandbox" in text or "FailedCreatePodSandBox" in text
        for _, text in lines_of(obs)
    ) or any(e.reason in ("FailedCreatePodSandBox", "FailedKillPod") for e in obs.events)
    effect = (
        ", so pod sandboxes on the node can neither be created nor torn down (pods stay Terminating and ContainerCreating)"
        if blocked
        else ", which blocks creating and deleting pod network namespaces on it"
    )
    title = (
        f"{node + ': ' if node else ''}the kernel is stuck releasing a pod network device (unregister_netdevice: waiting for {match.group('dev')} to become free, "
        f"Usage count = {match.group('count')}, logged {len(hits)} times): a leaked reference keeps the network namespace alive while the kernel holds its net namespace lock{effect}"
    )
    return Finding(
        kind="unregister_netdevice",
        subject=f"node/{node}" if node else "node:unregister_netdevice",
        role="cause",
        title=title,
        weight=93,
        evidence=[cite],
        workload=node,
        recommendations=[
            rec(
                "high",
                f"Cordon and drain {node or 'the node'} and reboot it (force-deleting the pods does not release the kernel's reference); move to a kernel with the netns refcount fix",
            ),
        ],
        affected=[node] if node else [],
    )


def _ipvs_scheduler(obs: Observations) -> Finding | None:
    lines = list(lines_of(obs))
    failed = next(((label, line) for label, line in lines if _IPVS_FAILED.search(line)), None)
    if failed is None:
        return None
    scheduler = next((m.group("sched") for _, line in lines if (m := _SCHEDULER_IN_LOG.search(line))), None) or next(
        (m.group("sched") for _, line in lines if (m := _SCHEDULER_IN_CONFIG.match(line))), None
    )
    if scheduler is None:
        return None
    module = f"ip_vs_{scheduler}"
    missing = next(
        (
            (label, line)
            for label, line in lines
            if (m := _MODULE_MISSING.search(line)) and (m.group("module") or m.group("module2")) == module
        ),
        None,
    )
    dummy = next(((label, line) for label, line in lines if "dummy VS" in line), failed)
    evidence = [f"{dummy[0]} {excerpt(dummy[1].strip(), around='dummy VS' if 'dummy VS' in dummy[1] else 'IPVS')}"]
    if missing:
        evidence.append(f"{missing[0]} {excerpt(missing[1].strip())}")
    where = " (the node's kernel does not ship it: modinfo/modprobe find no such module)" if missing else ""
    title = (
        f"kube-proxy: its IPVS scheduler is {scheduler} (ipvs.scheduler in its configuration), which needs the kernel module {module}{where}; "
        "without it kube-proxy cannot create its IPVS virtual servers and exits ('can't use the IPVS proxier'), so Services are not programmed on those nodes"
    )
    return Finding(
        kind="ipvs_scheduler_module",
        subject="daemonset/kube-proxy",
        role="cause",
        title=title,
        weight=93,
        evidence=evidence,
        workload="kube-proxy",
        recommendations=[
            rec(
                "high",
                f"Set ipvs.scheduler back to a scheduler every node's kernel provides (rr) or load {module} on those nodes (a kernel that ships it), then restart kube-proxy",
            ),
        ],
        affected=["kube-proxy"],
    )
