"""Limits against usage: CPU throttling by the CFS quota of a CPU limit, runtimes sized past their limit
(a JVM ``-Xmx`` above the container's memory limit, ``GOMAXPROCS`` above its CPU limit).

Reads what ``kubectl top``, cAdvisor's ``/metrics/cadvisor`` and PromQL results print, and the limits from
describe/YAML/JSON output. The CPUThrottlingHigh runbook: throttling means the limit, not the node, caps the
container; raise or drop the limit (or make the work cheaper).
"""
# ruff: noqa: E501  (patterns and messages read better unwrapped)

from __future__ import annotations

import re
from collections.abc import Iterator

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import rec, workload_name
from engine.facts import Observations
from engine.findings import Finding, workload_of
from engine.parsers.common import excerpt, millicores, quantity_bytes

THROTTLED_SHARE = 0.25  # the CPUThrottlingHigh alert fires at 25 % of periods throttled
_EXPOSITION = re.compile(r"^(container_cpu_cfs_(?:throttled_)?periods_total)\{([^}]*)\}\s+([\d.e+]+)")
_POD_VALUE = re.compile(r"\{[^}]*pod=\"(?P<pod>[\w.-]+)\"[^}]*\}\s+(?P<value>\d+(?:\.\d+)?(?:e[+-]?\d+)?)\s*$")
_CONTAINER_VALUE = re.compile(
    r"^\{[^}]*container=\"(?P<container>[\w.-]+)\"[^}]*\}\s+(?P<value>\d+(?:\.\d+)?(?:e[+-]?\d+)?)\s*$"
)
_CPU_LIMIT_JSON = re.compile(r"\"limits\"\s*:\s*\{[^}]*\"cpu\"\s*:\s*\"(?P<cpu>[\d.]+m?)\"")
_CPU_LIMIT_FLAT = re.compile(r"(?:limits\.cpu:\s*|\"limits\"\s*:\s*\{[^}]*\"cpu\"\s*:\s*\")([\d.]+m?)\b")
_XMX = re.compile(r"-Xmx(\d+[kKmMgG])\b")
_GOMAXPROCS = re.compile(r"GOMAXPROCS[=:\s]+(\d+)")


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    return _throttling(obs) + _runtime_sizing(obs)


def _lines(obs: Observations) -> Iterator[tuple[str, str]]:
    for text in obs.texts:
        for line in text.lines:
            yield text.label, line
    for doc in obs.logs:
        for line in doc.lines:
            yield doc.label, line


def _throttling(obs: Observations) -> list[Finding]:
    shares: dict[str, tuple[float, str]] = {}  # pod -> (throttled share, evidence)
    periods: dict[str, dict[str, tuple[float, str]]] = {}
    in_ratio_query = False
    for label, line in _lines(obs):
        stripped = line.strip()
        if "cfs_throttled_periods" in stripped and "cfs_periods" in stripped and "/" in stripped:
            in_ratio_query = True
            continue
        if stripped.startswith((">", "$", "#")) or ("sum by" in stripped and "cfs_" not in stripped):
            in_ratio_query = False
        exposition = _EXPOSITION.match(stripped)
        if exposition:
            pod_label = re.search(r'pod="([\w.-]+)"', exposition.group(2))
            if pod_label:
                periods.setdefault(pod_label.group(1), {})[exposition.group(1)] = (
                    float(exposition.group(3)),
                    f"{label} {excerpt(stripped)}",
                )
            continue
        value = _POD_VALUE.search(stripped) if in_ratio_query else None
        if value and float(value.group("value")) <= 1.0:
            shares[value.group("pod")] = (float(value.group("value")), f"{label} {excerpt(stripped)}")
        by_container = _CONTAINER_VALUE.search(stripped) if in_ratio_query and not value else None
        if by_container and float(by_container.group("value")) <= 1.0:  # `sum by (container)`: the container's name
            shares[by_container.group("container")] = (
                float(by_container.group("value")),
                f"{label} {excerpt(stripped)}",
            )
    for pod, counters in periods.items():
        throttled = counters.get("container_cpu_cfs_throttled_periods_total")
        total = counters.get("container_cpu_cfs_periods_total")
        if throttled and total and total[0] > 0:
            shares[pod] = (throttled[0] / total[0], throttled[1])
    by_workload: dict[str, list[tuple[float, str, str]]] = {}
    for pod, (share, cite) in shares.items():
        if share >= THROTTLED_SHARE:
            by_workload.setdefault(workload_of(pod), []).append((share, cite, pod))
    by_workload |= {w: v for w, v in _saturated_limits(obs).items() if w not in by_workload}
    findings: list[Finding] = []
    for workload, entries in sorted(by_workload.items()):
        worst = max(entries)
        limit = _cpu_limit(obs, workload)
        limit_text = f" of {limit}" if limit else ""
        how = f"{worst[0]:.0%} of CFS periods throttled" if worst[0] <= 1.0 else "usage pinned at the limit"
        findings.append(
            Finding(
                kind="cpu_throttling",
                subject=f"deployment/{workload}",
                role="cause",
                title=f"{workload}: the containers are CPU-throttled by their CPU limit{limit_text} ({how}), so requests queue and latency rises",
                weight=84,
                evidence=[cite for _, cite, _ in sorted(entries, reverse=True)[:2]],
                workload=workload,
                recommendations=[
                    rec(
                        "high",
                        f"Raise or remove the CPU limit of {workload}{f' (now {limit})' if limit else ''}, or add replicas; keep the request at real usage",
                    ),
                ],
                affected=[workload],
            )
        )
    return findings


def _saturated_limits(obs: Observations) -> dict[str, list[tuple[float, str, str]]]:
    """Pods whose ``kubectl top`` CPU sits at their CPU limit (>= 95 %)."""
    found: dict[str, list[tuple[float, str, str]]] = {}
    for usage in obs.usage:
        if usage.kind != "pod" or usage.cpu_millicores is None:
            continue
        workload = workload_of(usage.name)
        limit = millicores(_cpu_limit(obs, workload))
        if limit and usage.cpu_millicores >= 0.95 * limit:
            found.setdefault(workload, []).append((1.01, usage.cite, usage.name))
    return {w: v for w, v in found.items() if len(v) >= 1}


def _yaml_limit(obs: Observations, container: str) -> str | None:
    """``name: <container>`` followed by a ``limits:`` block with ``cpu:`` (a yq/YAML print of the containers)."""
    current, in_limits = None, False
    for _, line in _lines(obs):
        named = re.match(r"^\s*-?\s*name:\s*\"?([\w.-]+)\"?\s*$", line)
        if named:
            current, in_limits = named.group(1), False
            continue
        if re.match(r"^\s*limits:\s*$", line):
            in_limits = True
            continue
        if re.match(r"^\s*requests:\s*$", line):
            in_limits = False
            continue
        cpu = re.match(r"^\s*cpu:\s*\"?([\d.]+m?)\"?\s*$", line)
        if cpu and in_limits and current == container:
            return cpu.group(1)
    return None


def _cpu_limit(obs: Observations, workload: str) -> str | None:
    from_yaml = _yaml_limit(obs, workload)
    if from_yaml:
        return from_yaml
    for pod in obs.pods:
        if workload_name(pod) == workload:
            for container in pod.containers:
                if container.cpu_limit:
                    return container.cpu_limit
    flat = [m.group(1) for _, line in _lines(obs) if (m := _CPU_LIMIT_FLAT.search(line))]
    if len(set(flat)) == 1:  # one CPU limit printed (a jsonpath of the pod's resources): it is this workload's
        return flat[0]
    after_command = False
    for _, line in _lines(obs):
        if line.lstrip().startswith("$") or line.lstrip().startswith(">"):
            after_command = workload in line
        match = _CPU_LIMIT_JSON.search(line)
        if match and (after_command or workload in line):
            return match.group("cpu")
    return None


def _runtime_sizing(obs: Observations) -> list[Finding]:
    findings: list[Finding] = []
    for label, line in _lines(obs):
        xmx = _XMX.search(line)
        if not xmx:
            continue
        heap = quantity_bytes(xmx.group(1).upper().replace("K", "Ki").replace("M", "Mi").replace("G", "Gi"))
        for pod in obs.pods:
            for container in pod.containers:
                limit = quantity_bytes(container.memory_limit)
                oom = container.last_reason == "OOMKilled" or container.reason == "OOMKilled"
                if heap and limit and heap >= 0.9 * limit and oom:
                    workload = workload_name(pod)
                    findings.append(
                        Finding(
                            kind="jvm_heap_over_limit",
                            subject=f"pod/{pod.name}",
                            role="cause",
                            title=f"{workload}: the JVM heap (-Xmx{xmx.group(1)}) is as large as or larger than the container memory limit {container.memory_limit}, "
                            "so heap plus off-heap memory exceeds the limit and the container is OOMKilled",
                            weight=92,
                            evidence=[
                                f"{label} {excerpt(line.strip(), around=xmx.group(0))}",
                                *[container.cites[k] for k in ("memory_limit", "last_state") if k in container.cites],
                            ],
                            workload=workload,
                            recommendations=[
                                rec(
                                    "high",
                                    f"Size the heap below the limit (-XX:MaxRAMPercentage=75 instead of -Xmx{xmx.group(1)}) or raise the memory limit of {workload} above heap + ~25 %",
                                ),
                            ],
                            affected=[workload],
                        )
                    )
                    return findings
    return findings
