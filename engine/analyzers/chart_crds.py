"""A kind the API server does not know, because the chart that provides it is installed without its CRDs.

Operators' charts (cert-manager, external-secrets, prometheus-operator, Argo...) can skip their
CustomResourceDefinitions: ``crds.enabled: false`` / ``installCRDs: false`` in the values, ``skipCRDs: true``
or Flux's ``install.crds: Skip``. That is right where the CRDs come from elsewhere, but copied to a cluster where
nothing else installs them, every object of the chart's kinds fails with "no matches for kind X in version
group/v1" (and the operator itself may crash checking for its CRDs). The values line that skips them is the fix.
"""
# ruff: noqa: E501  (user-facing messages read better unwrapped)

from __future__ import annotations

import re

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import workload_cause
from engine.facts import Observations
from engine.findings import Finding

_NO_KIND = re.compile(r"no matches for kind \\?\"(?P<kind>\w+)\\?\" in version \\?\"(?P<group>[\w.-]+)/")
_SKIP = re.compile(
    r"^\s*(?:[\w.]*\.)?(?:installCRDs|crds\.enabled|crds\.install|installCrds)\s*[:=]\s*\"?false\b"
    r"|^\s*(?:[\w.]*\.)?skipCRDs\s*[:=]\s*\"?true\b"
    r"|^\s*(?:[\w.]*\.)?crds\s*:\s*\"?Skip\b",
    re.IGNORECASE,
)
_NESTED_CRDS = re.compile(r"^(?P<indent>\s*)crds:\s*(?:#.*)?$")
_NESTED_OFF = re.compile(r"^\s*(?:enabled|install)\s*:\s*\"?false\b", re.IGNORECASE)
_CHART = re.compile(r"^\s*(?:[\w.]*\.)?chart:\s*(?:[\w.-]+/)?(?P<chart>[a-z0-9][\w.-]*)\s*$")
_NAMED = re.compile(
    r"\b(?:helmrelease|hr|helm (?:upgrade|install|get values|template))\s+(?:--?[\w-]+\s+\S+\s+)*(?P<chart>[a-z0-9][\w.-]*)"
)
_FLUX_ROW = re.compile(r"^\s*(?P<name>[a-z0-9][\w.-]*)\s+(?:\S+\s+)?(?:True|False)\s+False\s+")


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    docs = [(t.label, t.command, t.lines) for t in obs.texts] + [(d.label, d.command, d.lines) for d in obs.logs]
    unknown = [
        (found.group("kind"), found.group("group"), f"{label} {line.strip()[:300]}", _FLUX_ROW.match(line))
        for label, _, lines in docs
        for line in lines[:20000]
        for found in [_NO_KIND.search(line)]
        if found
    ]
    if not unknown:
        return []
    findings: list[Finding] = []
    for chart, cite, setting in _charts_without_crds(docs):
        hits = [u for u in unknown if _provides(chart, u[1])]
        if not hits:
            continue
        _, group, refused, row = next((u for u in hits if u[3]), hits[0])
        owner = row.group("name") if row else (ctx.focus.owner() if ctx.focus else None) or chart
        kinds = sorted({u[0] for u in hits})
        finding = workload_cause(
            "chart_crds_skipped",
            owner=owner,
            fallback=chart,
            title=f"{owner}: the {chart} chart is installed with its CRDs turned off ({setting}) and nothing else installs them on this cluster, so {'the kinds' if len(kinds) > 1 else 'the kind'} {', '.join(kinds)} ({group}) {'do' if len(kinds) > 1 else 'does'} not exist and every {group} object fails with 'no matches for kind'",
            weight=92,
            evidence=[refused, cite],
            fix=f"Install the {chart} CRDs: enable them in its values (crds.enabled: true / installCRDs: true, or install.crds: CreateReplace in the HelmRelease), or add the CRD manifests to a Kustomization the others depend on",
        )
        if chart != owner:
            finding.related.append(chart)  # the chart's own operator fails on the missing CRDs too
        findings.append(finding)
    return findings


def _provides(chart: str, group: str) -> bool:
    """cert-manager provides cert-manager.io; external-secrets provides external-secrets.io."""
    head = group.split(".")[0]
    return len(head) >= 4 and (head in chart or chart in group)


def _charts_without_crds(docs: list[tuple[str, str, list[str]]]) -> list[tuple[str, str, str]]:
    """(chart, the cited values line, the setting as ``key: value``) for every chart shown skipping its CRDs."""
    found: list[tuple[str, str, str]] = []
    for label, command, lines in docs:
        chart = None
        named = _NAMED.search(command or "")
        skipped = setting = None
        for index, line in enumerate(lines[:5000]):
            if chart is None:
                match = _CHART.match(line) or _NAMED.search(line)
                chart = match.group("chart") if match else None
            if skipped is None and _SKIP.match(line):
                skipped = line.strip()
                setting = skipped.split("#", 1)[0].strip()
            nested = _NESTED_CRDS.match(line)
            if skipped is None and nested:
                for below in lines[index + 1 : index + 4]:
                    if _NESTED_OFF.match(below):
                        skipped = below.strip()
                        setting = "crds." + skipped.split("#", 1)[0].strip()
                        break
        chart = chart or (named.group("chart") if named else None)
        if chart and skipped and setting:
            found.append((chart, f"{label} {skipped}", setting))
    return found
