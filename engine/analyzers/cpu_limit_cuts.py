"""A CPU limit cut in a change (``helm diff``, ``git diff`` of values/manifests) that throttles the workload.

A container's CPU limit is enforced by the CFS quota: each 100 ms period it may use ``limit`` cores worth of
time, then it is throttled until the next period. Cutting the limit (``cpu: "4"`` -> ``500m``) leaves requests
waiting in every period they exceed it, which shows as latency (p99) rather than errors; a Go runtime that still
sizes GOMAXPROCS from the node's CPUs makes it worse. The diff's removed and added ``cpu:`` lines under
``limits:`` say what changed; a throttled-periods ratio or a GOMAXPROCS start-up line confirms it.
"""
# ruff: noqa: E501  (user-facing messages read better unwrapped)

from __future__ import annotations

import re

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import workload_cause
from engine.facts import Observations
from engine.findings import Finding

_CPU = re.compile(r"^\s*(?P<sign>[-+])\s*cpu:\s*[\"']?(?P<value>\d+(?:\.\d+)?m?)[\"']?\s*$")
_SECTION = re.compile(r"^\s*[-+]?\s*(?P<section>limits|requests):\s*$")
_HELM_HEADER = re.compile(r"^[\w.-]+, (?P<name>[a-z0-9][\w.-]*), (?:Deployment|StatefulSet|DaemonSet|Rollout)\b")
_DIFF_COMMAND = re.compile(
    r"\b(?:helm diff (?:revision|upgrade|release)\s+|argocd app diff\s+)(?P<name>[a-z0-9][\w.-]*)"
)
_THROTTLED = re.compile(r"\{[^}]*container=\"(?P<container>[\w.-]+)\"[^}]*\}\s+(?P<ratio>0?\.\d+|1(?:\.0+)?)\s*$")
_GOMAXPROCS = re.compile(r"GOMAXPROCS\"?\s*[:=]\s*(?P<procs>\d+)")
_RATIO_QUERY = re.compile(r"throttled", re.IGNORECASE)


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    docs = [(t.label, t.command, t.lines) for t in obs.texts] + [(d.label, d.command, d.lines) for d in obs.logs]
    findings: list[Finding] = []
    for label, command, lines in docs:
        cut = _limit_cut(lines)
        if cut is None:
            continue
        old, new, cite = cut
        name = _diffed(command, lines) or ctx.service
        if not name:
            continue
        evidence = [f"{label} {cite}"]
        details = [f"its CPU limit was cut from {old} to {new}"]
        throttled = _throttled(docs, name)
        if throttled:
            details.append(f"{round(float(throttled[0]) * 100)}% of its CFS periods are throttled")
            evidence.append(throttled[1])
        procs = _gomaxprocs(docs, name)
        cores = _cores(new)
        if procs and cores is not None and int(procs[0]) > 2 * max(cores, 1):
            details.append(f"its Go runtime still runs GOMAXPROCS={procs[0]} threads against that quota")
            evidence.append(procs[1])
        findings.append(
            workload_cause(
                "cpu_limit_cut",
                owner=name,
                fallback="workload",
                title=f"{name}{' is CPU-throttled' if throttled or procs else ''}: {', '.join(details)}; the CFS quota stalls requests every period they need more than {new} CPU, so latency rises although the pods look healthy",
                weight=90 if throttled or procs else 84,
                evidence=evidence,
                fix=f"Restore {name}'s CPU limit (limits.cpu {old}) or remove it and keep the request; set GOMAXPROCS to the limit (automaxprocs) for Go services",
            )
        )
    return findings


def _cores(value: str) -> float | None:
    try:
        return float(value[:-1]) / 1000 if value.endswith("m") else float(value)
    except ValueError:
        return None


def _limit_cut(lines: list[str]) -> tuple[str, str, str] | None:
    """(old, new, the added line) when a diff replaces a ``limits:`` cpu with a value under half of it."""
    section, removed = "", None
    for line in lines[:5000]:
        head = _SECTION.match(line)
        if head:
            section = head.group("section")
            continue
        cpu = _CPU.match(line)
        if cpu is None or section != "limits":
            continue
        if cpu.group("sign") == "-":
            removed = cpu.group("value")
            continue
        old, new = _cores(removed or ""), _cores(cpu.group("value"))
        if removed and old is not None and new is not None and new * 2 <= old:
            return removed, cpu.group("value"), line.strip()
    return None


def _diffed(command: str, lines: list[str]) -> str | None:
    for line in lines[:200]:
        header = _HELM_HEADER.match(line.strip())
        if header:
            return header.group("name")
        named = _DIFF_COMMAND.search(line)
        if named:
            return named.group("name")
    named = _DIFF_COMMAND.search(command or "")
    return named.group("name") if named else None


def _throttled(docs: list[tuple[str, str, list[str]]], name: str) -> tuple[str, str] | None:
    for label, _, lines in docs:
        query = False
        for line in lines[:5000]:
            if line.lstrip().startswith("#") or "rate(" in line:
                query = bool(_RATIO_QUERY.search(line)) or (query and line.lstrip().startswith("#"))
                continue
            found = _THROTTLED.search(line)
            if query and found and found.group("container") == name and float(found.group("ratio")) >= 0.25:
                return found.group("ratio"), f"{label} {line.strip()}"
    return None


def _gomaxprocs(docs: list[tuple[str, str, list[str]]], name: str) -> tuple[str, str] | None:
    for label, command, lines in docs:
        if name not in (command or "") and name not in label:
            continue
        for line in lines[:2000]:
            found = _GOMAXPROCS.search(line)
            if found:
                return found.group("procs"), f"{label} {line.strip()[:300]}"
    return None
