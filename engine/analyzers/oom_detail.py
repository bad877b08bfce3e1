"""Out-of-memory failures and the limit that was really hit, as the runtimes and Kubernetes document them.

- A runtime's own heap cap, lower than the container's memory limit, makes the runtime throw its out-of-memory
  error while the container is far from its limit: .NET ``DOTNET_GCHeapHardLimit`` (hex bytes) /
  ``GCHeapHardLimitPercent`` -> ``System.OutOfMemoryException``; the JVM's ``-Xmx`` -> ``java.lang.OutOfMemoryError:
  Java heap space``; Node.js ``--max-old-space-size`` (MiB) -> ``JavaScript heap out of memory``.
- An ``emptyDir`` with ``medium: Memory`` is a tmpfs: the files written to it are charged to the container's
  memory cgroup, so a container with a small RSS is OOMKilled (exit 137) when its scratch files reach the limit.
- An OOMKilled container read from a bare ``describe`` fragment (no ``Name:`` line) is still an OOM kill.
"""
# ruff: noqa: E501  (messages read better unwrapped)

from __future__ import annotations

import re
from dataclasses import dataclass

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import rec, workload_cause, workload_name
from engine.analyzers.kubelet_health import NODE_AGENTS
from engine.analyzers.scheduling_detail import lines_of
from engine.facts import Observations
from engine.findings import Finding, workload_of
from engine.parsers.common import excerpt, quantity_bytes


@dataclass(frozen=True)
class HeapCap:
    runtime: str
    setting: re.Pattern[str]
    error: re.Pattern[str]
    unit: str  # hex-bytes | mib | jvm | percent


_CAPS: tuple[HeapCap, ...] = (
    HeapCap(
        ".NET",
        re.compile(
            r"\b((?:DOTNET|COMPlus)_GCHeapHardLimit(?:Percent)?|System\.GC\.HeapHardLimit(?:Percent)?)\"?\s*[=:]\s*\"?(0x[0-9a-fA-F]+|\d+)"
        ),
        re.compile(r"System\.OutOfMemoryException"),
        "hex-bytes",
    ),
    HeapCap(
        "JVM",
        re.compile(r"(-Xmx)(\d+[kKmMgG]?)\b"),
        re.compile(r"java\.lang\.OutOfMemoryError: (?:Java heap space|GC overhead limit exceeded)"),
        "jvm",
    ),
    HeapCap(
        "Node.js",
        re.compile(r"(--max-old-space-size)=(\d+)"),
        re.compile(r"JavaScript heap out of memory|Reached heap limit Allocation failed"),
        "mib",
    ),
)
_OOM_LINE = re.compile(r"(?:Reason|reason|\"reason\")\"?:\s*\"?OOMKilled\b|\bOOMKilled\b.*\b137\b")
_MEMORY_MEDIUM = re.compile(r"\bmedium\"?\s*:\s*\"?Memory\b|^\s*Medium:\s+Memory\s*$", re.I)


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    subject = _subject(obs, ctx)
    return [
        *_heap_caps(obs, subject),
        *_heap_above_limit(obs),
        *_memory_emptydir(obs, subject),
        *_kernel_oom_kill(obs, subject),
    ]


def _cap_bytes(value: str, unit: str) -> int | None:
    if unit == "mib":
        return int(value) * 2**20
    if unit == "jvm":
        number, suffix = re.fullmatch(r"(\d+)([kKmMgG]?)", value).groups()  # type: ignore[union-attr]
        return int(number) * {"": 1, "k": 2**10, "m": 2**20, "g": 2**30}[suffix.lower()]
    if unit == "hex-bytes" and value.lower().startswith("0x"):
        return int(value, 16)
    return None


def _heap_above_limit(obs: Observations) -> list[Finding]:
    """OOMKilled at the container's limit while the runtime's heap cap is at or above that limit: the runtime
    never collects garbage hard enough, because it believes it may use more memory than the cgroup allows."""
    found: list[Finding] = []
    for pod in obs.pods:
        for c in pod.containers:
            limit = quantity_bytes(c.memory_limit) if c.memory_limit else None
            if not limit or "OOMKilled" not in (c.last_reason, c.reason):
                continue
            for cap in _CAPS:
                setting = next(
                    ((label, line, m) for label, line in lines_of(obs) if (m := cap.setting.search(line))), None
                )
                if setting is None:
                    continue
                label, line, match = setting
                size = _cap_bytes(match.group(2), cap.unit)
                if size is None or size < 0.8 * limit:
                    continue
                who = workload_name(pod)
                shown = f"{match.group(1)}={match.group(2)}" + (
                    f" ({_size(match.group(2), cap.unit)})" if cap.unit == "mib" else ""
                )
                evidence = [c.cites[k] for k in ("last_state", "state", "memory_limit") if k in c.cites]
                found.append(
                    Finding(
                        kind="heap_cap_above_limit",
                        subject=f"{who}:heap_cap_above_limit",
                        role="cause",
                        title=f"{who}: container {c.name} is OOMKilled at its {c.memory_limit} memory limit because {shown} lets the {cap.runtime} heap grow to the limit or beyond, so the kernel kills the process before the runtime's garbage collector ever has to keep the heap smaller",
                        weight=92,
                        evidence=[*evidence[:2], f"{label} {excerpt(line.strip())}"],
                        workload=who,
                        recommendations=[
                            rec(
                                "high",
                                f"Set {match.group(1)} well below the container limit (about 75% of {c.memory_limit}), or raise the memory limit above the heap plus the runtime's off-heap memory",
                            )
                        ],
                        affected=[who],
                    )
                )
                break
    return found


def _subject(obs: Observations, ctx: AnalysisContext) -> str | None:
    owner = ctx.focus.owner() if ctx.focus else None
    named = ctx.question.named if ctx.question else None
    pods = {workload_of(p.name) for p in obs.pods}
    return owner or ctx.service or named or (pods.pop() if len(pods) == 1 else None)


def _size(value: str, unit: str) -> str:
    if unit == "hex-bytes":
        number = int(value, 16) if value.lower().startswith("0x") else int(value)
        if number <= 100:
            return f"{number}% of the memory limit"
        return f"{number / 2**20:.0f} MiB" if number < 2**30 else f"{number / 2**30:.1f} GiB"
    if unit == "mib":
        return f"{value} MiB"
    return value


def _heap_caps(obs: Observations, subject: str | None) -> list[Finding]:
    found: list[Finding] = []
    for cap in _CAPS:
        error = next(((label, line) for label, line in lines_of(obs) if cap.error.search(line)), None)
        if error is None:
            continue
        setting = next(((label, line, m) for label, line in lines_of(obs) if (m := cap.setting.search(line))), None)
        if setting is None:
            continue
        label, line, match = setting
        name, value = match.group(1), match.group(2)
        doc = next((d for d in obs.logs if d.label == error[0] and d.pod), None)
        who = workload_of(doc.pod) if doc and doc.pod else subject  # the log's own pod first
        size = _size(value, cap.unit)
        shown = f"{name}={value}" + (f" ({size})" if size != value else "")
        found.append(
            Finding(
                kind="runtime_heap_cap",
                subject=f"{workload_of(who) if who else 'application'}:runtime_heap_cap",
                role="cause",
                title=f"{who + ': ' if who else ''}the {cap.runtime} runtime's heap is capped by {shown}, so it throws OutOfMemory at that cap ({error[1].strip()[:120]}) while the container is still below its memory limit",
                weight=93,
                evidence=[f"{error[0]} {excerpt(error[1].strip())}", f"{label} {excerpt(line.strip())}"],
                workload=workload_of(who) if who else None,
                recommendations=[
                    rec(
                        "high",
                        f"Raise or remove {name} (size the heap from the container limit instead: a percentage setting), or process large inputs in streams",
                    ),
                ],
                affected=[workload_of(who)] if who else [],
            )
        )
    return found


def _memory_emptydir(obs: Observations, subject: str | None) -> list[Finding]:
    medium = next(((label, line) for label, line in lines_of(obs) if _MEMORY_MEDIUM.search(line)), None)
    if medium is None:
        return []
    oom = next(((label, line) for label, line in lines_of(obs) if _OOM_LINE.search(line)), None)
    killed = [(p, c) for p in obs.pods for c in p.containers if "OOMKilled" in (c.reason or "", c.last_reason or "")]
    if oom is None and not killed:
        return []
    limit = next(
        (
            m.group(1)
            for _, line in lines_of(obs)
            if (m := re.search(r"limits\W+\{?\s*\"?memory\"?\s*:\s*\"?([\d.]+[KMGT]i?)", line))
        ),
        None,
    )
    mount = next(
        (m.group(1) for _, line in lines_of(obs) if (m := re.search(r"mountPath\"?\s*:\s*\"?(/[\w./-]*)", line))),
        None,
    )
    owner = workload_of(killed[0][0].name) if killed else subject  # the pod that was killed, else the one asked about
    evidence = [
        c
        for c in (
            f"{oom[0]} {excerpt(oom[1].strip())}" if oom else killed[0][1].cites.get("last_reason", ""),
            f"{medium[0]} {excerpt(medium[1].strip())}",
        )
        if c
    ]
    at = f" at {mount}" if mount else ""
    against = f" of {limit}" if limit else ""
    return [
        workload_cause(
            "memory_emptydir_oom",
            owner=owner,
            fallback="pod",
            title=f"{owner + ': ' if owner else ''}the container is OOMKilled (exit 137) because its emptyDir{at} has medium: Memory — a tmpfs whose files count against the container's memory limit{against}, so scratch files fill the memory the process itself does not use",
            weight=93,
            evidence=evidence,
            fix="Use a disk-backed emptyDir (drop medium: Memory) for large scratch files, or set emptyDir.sizeLimit and raise the memory limit to cover process + tmpfs",
        )
    ]


_KERNEL_OOM = re.compile(
    r"(?P<scope>Memory cgroup out of memory|Out of memory): Killed process (?P<pid>\d+) \((?P<proc>[^)]+)\)(?:[^\n]*?anon-rss:(?P<rss>\d+)kB)?"
)


def _kernel_oom_kill(obs: Observations, subject: str | None) -> list[Finding]:
    """The kernel's OOM killer line: which process it killed and whether the container's memory cgroup (its
    limit) or the whole node ran out of memory."""
    for label, line in lines_of(obs):
        found = _KERNEL_OOM.search(line)
        if not found:
            continue
        cgroup = found.group("scope").startswith("Memory cgroup")
        rss = f", {int(found.group('rss')) / 2**20:.1f} GiB resident" if found.group("rss") else ""
        where = (
            "its container's memory cgroup reached the memory limit"
            if cgroup
            else "the whole node ran out of memory (no container limit was hit)"
        )
        process = found.group("proc").strip().lower()
        if not cgroup and process in NODE_AGENTS:
            continue  # the node's own agent: kubelet_health explains the node OOM
        owner = workload_of(subject) if subject else None
        # the killed process is another pod's program ("fluent-bit" in fluent-bit-billing-2xq7d): that pod's OOM
        running = [
            p.name
            for p in obs.pods
            if len(process) >= 4
            and (p.name.lower().startswith(process) or any(c.name.lower() == process for c in p.containers))
        ]
        if running and not any(subject and name.startswith(subject) for name in running):
            owner = workload_of(running[0])
        return [
            workload_cause(
                "kernel_oom_kill",
                owner=owner,
                fallback="node",
                title=f"{owner + ': ' if owner else ''}the kernel OOM killer killed process {found.group('proc')} (pid {found.group('pid')}{rss}): {where}, so the container restarts (exit 137, OOMKilled)",
                weight=88,
                evidence=[f"{label} {excerpt(line.strip())}"],
                fix=f"Raise the memory limit of the container running {found.group('proc')} to its real peak, or bound the process's memory (heap/cache settings)"
                if cgroup
                else "Set memory requests/limits on the node's pods so the scheduler does not overcommit it",
            )
        ]
    return []
