"""A required environment variable that is "missing" because ``envFrom`` renamed it.

``envFrom`` with ``prefix: P`` prepends P to every key of the ConfigMap/Secret it imports (EnvFromSource API
reference): a ConfigMap holding ``PGHOST`` gives the container ``P_PGHOST``, never ``PGHOST``. When the app
says a variable is not set while the paste shows an ``envFrom`` prefix and the variable under the prefixed name
(the container's ``env`` output) or as a key of the imported data, the prefix is the cause, not a missing key.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import rec
from engine.analyzers.scheduling_detail import lines_of
from engine.facts import Observations
from engine.findings import Finding, workload_of
from engine.logs.signatures import match_signatures
from engine.parsers.common import excerpt

# "prefix: QE_" (YAML), "prefix": "QE_" (JSON), describe's "quote-engine-db  ConfigMap with prefix 'QE_'"
_PREFIX = re.compile(
    r"""(?:^|[\s{,-])["']?prefix["']?\s*:\s*["']?(?P<p>[A-Za-z_][\w.-]*)["']?"""
    r"""|(?:ConfigMap|Secret) with prefix\s+['"](?P<p2>[A-Za-z_][\w.-]*)['"]""",
)


@dataclass(frozen=True)
class _Missing:
    var: str
    label: str
    line: str
    pod: str | None


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    missing = _missing_vars(obs)
    if not missing:
        return []
    prefixes = [
        (m.group("p") or m.group("p2"), f"{label} {excerpt(line.strip())}")
        for label, line in lines_of(obs)
        for m in [_PREFIX.search(line)]
        if m
    ]
    if not prefixes:
        return []
    findings: list[Finding] = []
    for gone in missing:
        for prefix, prefix_cite in prefixes:
            shown = _shown(obs, gone.var, prefix)
            if shown is None:
                continue
            renamed, seen_cite = shown
            owner = workload_of(gone.pod) if gone.pod else _subject(ctx)
            findings.append(_finding(gone, prefix, renamed, [prefix_cite, seen_cite], owner))
            break
    return findings[:1]


def _missing_vars(obs: Observations) -> list[_Missing]:
    found: list[_Missing] = []
    for doc in obs.logs:
        for line in doc.lines:
            if "env" not in line.lower() and "KeyError" not in line:
                continue
            for match in match_signatures(line):
                var = match.groups.get("var") if match.kind == "missing_env" else None
                if var and all(var != m.var for m in found):
                    found.append(_Missing(var, doc.label, line, doc.pod))
    return found


def _shown(obs: Observations, var: str, prefix: str) -> tuple[bool, str] | None:
    """Where the input shows ``var`` under the prefixed name (True), else as a key of imported data (False)."""
    prefixed = re.compile(rf"(?<![\w]){re.escape(prefix + var)}\b")
    # "VAR: x" / "VAR=x" / {"VAR":"x"}, or a bare "VAR" item of a jq keys list
    as_key = re.compile(rf"""(?:^|[\s{{,])["']?{re.escape(var)}["']?\s*[:=]|^\s*["']{re.escape(var)}["'],?\s*$""")
    keyed: str | None = None
    for label, line in lines_of(obs):
        if prefixed.search(line):
            return True, f"{label} {excerpt(line.strip(), around=prefix + var)}"
        if keyed is None and as_key.search(line) and not any(m.kind == "missing_env" for m in match_signatures(line)):
            keyed = f"{label} {excerpt(line.strip(), around=var)}"
    return (False, keyed) if keyed else None


def _subject(ctx: AnalysisContext) -> str:
    question = ctx.question
    return question.named if question and question.named else "the workload"


def _finding(gone: _Missing, prefix: str, renamed: bool, evidence: list[str], owner: str) -> Finding:
    how = (
        f"the container has {prefix}{gone.var} instead"
        if renamed
        else f"the imported key {gone.var} arrives as {prefix}{gone.var}"
    )
    return Finding(
        kind="envfrom_prefix",
        subject=f"{owner}:envfrom_prefix",
        role="cause",
        title=(
            f"{owner}: the app requires {gone.var}, but envFrom adds the prefix '{prefix}' to every key it imports, "
            f"so {how} and {gone.var} is not set"
        ),
        weight=95,
        evidence=[f"{gone.label} {excerpt(gone.line.strip(), around=gone.var)}", *evidence],
        workload=owner,
        recommendations=[
            rec(
                "high",
                f"Remove prefix '{prefix}' from the envFrom entry (or make the app read {prefix}{gone.var}), then "
                "roll the pods",
            )
        ],
        affected=[owner],
    )
