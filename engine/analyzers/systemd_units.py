"""A systemd service that cannot start, named with the step systemd failed at and what that step needed.

When systemd cannot even run a unit's program it exits with its own status code, not the program's
(systemd.exec(5), "Process Exit Codes"): ``203/EXEC`` (the ExecStart binary is missing, not executable or for
another architecture), ``200/CHDIR`` (WorkingDirectory is missing), ``217/USER`` (User= does not exist),
``226/NAMESPACE`` (a ReadWritePaths/PrivateTmp path is missing)... The journal's ``Failed at step EXEC spawning
/usr/local/bin/x: No such file or directory`` (or systemd 253+'s ``Unable to locate executable '...'``) names the
path; ``Start request repeated too quickly`` is only systemd giving up after the restarts.
"""
# ruff: noqa: E501  (patterns and messages read better unwrapped)

from __future__ import annotations

import re

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import workload_cause
from engine.analyzers.scheduling_detail import lines_of
from engine.facts import Observations
from engine.findings import Finding
from engine.parsers.common import excerpt

_STATUS = re.compile(r"status=(?P<code>2\d\d)/(?P<name>[A-Z_]+)")
_STEP = re.compile(
    r"(?P<unit>[\w@.:-]+)\.service: (?:Failed at step (?P<step>[A-Z_]+) spawning (?P<path>\S+?): (?P<why>[^\n]+)"
    r"|Unable to locate executable '(?P<path2>[^']+)': (?P<why2>[^\n]+)"
    r"|Failed to determine user credentials: (?P<why3>[^\n]+)"
    r"|Changing to the requested working directory failed: (?P<why4>[^\n]+))"
)
_MEANING = {
    "EXEC": "systemd could not execute the ExecStart program: the path is wrong, the file moved or is not executable, or it is built for another architecture",
    "CHDIR": "the unit's WorkingDirectory does not exist",
    "USER": "the unit's User= or Group= does not exist on the host",
    "GROUP": "the unit's Group= does not exist on the host",
    "NAMESPACE": "a path the unit's sandboxing options (ReadWritePaths=, PrivateTmp=...) name does not exist",
    "STDOUT": "the unit's StandardOutput= target cannot be opened",
    "STDIN": "the unit's StandardInput= source cannot be opened",
    "CAPABILITIES": "the unit's capability settings cannot be applied",
}


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    status = next(((label, line, m) for label, line in lines_of(obs) if (m := _STATUS.search(line))), None)
    if status is None:
        return []
    step = next(((label, line, m) for label, line in lines_of(obs) if (m := _STEP.search(line))), None)
    code, name = status[2].group("code"), status[2].group("name")
    meaning = _MEANING.get(name, "systemd could not set up the process before running it")
    if step is None:
        return []
    found = step[2]
    unit = found.group("unit")
    path = found.group("path") or found.group("path2")
    why = (found.group("why") or found.group("why2") or found.group("why3") or found.group("why4") or "").strip()
    failed = f"cannot run {path}: {why}" if path else f"fails before its program runs: {why}"
    moved = _listed_near(obs, path) if path and "No such file" in why else None
    if moved:
        failed += f" (a listing shows {moved}, so the binary is probably inside that directory now)"
    return [
        workload_cause(
            "systemd_unit_spawn_failed",
            owner=unit,
            fallback="host",
            title=f"systemd unit {unit}.service {failed} (exit status {code}/{name}: {meaning}); systemd restarts it until it gives up",
            weight=90,
            evidence=[f"{step[0]} {excerpt(step[1].strip())}", f"{status[0]} {excerpt(status[1].strip())}"],
            fix=f"Fix the unit's ExecStart/User/WorkingDirectory to what exists on the host (systemctl cat {unit}; e.g. the binary's real path after an upgrade), then systemctl daemon-reload and systemctl reset-failed {unit} && systemctl start {unit}",
        )
    ]


_LS_ROW = re.compile(r"^d[rwxsStT-]{9}\S*\s+\d+\s+\S+\s+\S+\s+\d+\s+\w{3}\s+\d+\s+[\d:]+\s+(?P<name>\S+)$")


def _listed_near(obs: Observations, path: str) -> str | None:
    """A directory an ``ls -l`` lists whose name starts with the missing binary's name (``node_exporter-1.8.2.linux-
    amd64``): a release archive unpacked into its own directory instead of the binary being copied to the path."""
    base = path.rsplit("/", 1)[-1]
    for _, line in lines_of(obs):
        row = _LS_ROW.match(line.strip())
        if row and row.group("name").startswith((base + "-", base + "_", base + ".")):
            return row.group("name")
    return None
