"""GitOps tools' own text output: ``argocd app get`` and ``flux get`` tables.

- ``argocd app get`` (argo-cd.readthedocs.io) prints the application's Sync and Health status and a CONDITION
  table (ComparisonError, SyncError, InvalidSpecError, ...) whose message says why it cannot sync: a manifest
  that does not render, a path or values file that does not exist, a repository it cannot reach.
- ``flux get kustomizations|helmreleases|sources ...`` (fluxcd.io) prints NAME, REVISION, SUSPENDED, READY,
  MESSAGE columns separated by tabs; READY False with its message is the reconciliation failure.
"""
# ruff: noqa: E501  (patterns and messages read better unwrapped)

from __future__ import annotations

import re

from engine.analysis_context import AnalysisContext
from engine.analyzers import gitops_apply
from engine.analyzers.common import rec
from engine.facts import Observations
from engine.findings import Finding
from engine.parsers.common import excerpt

_ARGO_NAME = re.compile(r"^Name:\s+(?:[\w-]+/)?(?P<name>[a-z0-9][\w.-]*)\s*$")
_ARGO_STATUS = re.compile(r"^(?P<key>Sync Status|Health Status):\s+(?P<value>.+)$")
_ARGO_REPO = re.compile(r"^Repo:\s+(?P<repo>\S+)\s*$")
_REPO_ACCESS = re.compile(
    r"authentication required|authentication failed|access denied|permission denied|could not read Username|repository not found|invalid username or password|ssh: handshake failed|knownhosts|x509",
    re.IGNORECASE,
)
_ARGO_CONDITION = re.compile(
    r"^(?P<type>ComparisonError|SyncError|InvalidSpecError|OrphanedResourceWarning|ExcludedResourceWarning|SharedResourceWarning|RepeatedResourceWarning|UnknownError)\s{2,}(?P<message>.+?)(?:\s{2,}\S+)?$"
)
_FLUX_COMMAND = re.compile(
    r"\bflux\s+get\s+(?P<kind>[\w-]+)(?:\s+(?P<source>git|helm|oci|bucket|chart|all)\b)?", re.IGNORECASE
)
_FLUX_KINDS = {
    "kustomizations": "Kustomization",
    "kustomization": "Kustomization",
    "ks": "Kustomization",
    "helmreleases": "HelmRelease",
    "helmrelease": "HelmRelease",
    "hr": "HelmRelease",
    "git": "GitRepository",
    "helm": "HelmRepository",
    "oci": "OCIRepository",
    "bucket": "Bucket",
    "chart": "HelmChart",
}
_FLUX_SOURCES = ("GitRepository", "HelmRepository", "OCIRepository", "Bucket", "HelmChart")
_FLUX_PREFIXED = re.compile(
    r"^(?P<kind>[a-z]+)/(?P<name>[a-z0-9][\w.-]*)$"
)  # `flux get all`: gitrepository/flux-system


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    findings: list[Finding] = []
    sources = [(t.label, [t.command, *t.lines]) for t in obs.texts] + [
        (d.label, [d.command, *d.lines]) for d in obs.logs
    ]
    for label, lines in sources:
        findings += _argocd(label, lines) + _flux(label, lines)
    return findings + gitops_apply.analyze(obs, ctx)


def _argocd(label: str, lines: list[str]) -> list[Finding]:
    name: str | None = None
    repo: str | None = None
    status: dict[str, str] = {}
    for line in lines:
        repo_line = _ARGO_REPO.match(line)
        if repo_line and repo is None:
            repo = repo_line.group("repo")
        named = _ARGO_NAME.match(line)
        if named and name is None:
            name = named.group("name")
        found = _ARGO_STATUS.match(line)
        if found:
            status[found.group("key")] = found.group("value").strip()
        condition = _ARGO_CONDITION.match(line.strip())
        if condition and name and condition.group("type").endswith("Error"):
            state = ", ".join(f"{k.split()[0]} {v}" for k, v in status.items())
            message = condition.group("message").strip()
            access = (
                f"; the repo server cannot read its repository {repo} with the configured credentials, so every application from that repository fails the same way"
                if repo and _REPO_ACCESS.search(message)
                else ""
            )
            return [
                Finding(
                    kind="gitops_sync_failed",
                    subject=f"application/{name}",
                    role="cause",
                    title=f"Argo CD application {name} cannot sync ({condition.group('type')}{'; ' + state if state else ''}): {message[:300]}{access}",
                    weight=88,
                    evidence=[f"{label} {excerpt(line.strip(), around=message[:40])}"],
                    workload=name,
                    recommendations=[
                        rec(
                            "high",
                            f"Fix what Argo CD reports for {name} ({message[:120]}) in the Git source, then sync again",
                        )
                    ],
                    affected=[name],
                )
            ]
    return []


def _flux(label: str, lines: list[str]) -> list[Finding]:
    kind = "Flux object"
    header: list[str] | None = None
    findings: list[Finding] = []
    for line in lines:
        command = _FLUX_COMMAND.search(line)
        if command:
            asked = (command.group("source") or command.group("kind")).lower()
            kind = _FLUX_KINDS.get(asked, "Flux object" if asked in ("all", "sources") else command.group("kind"))
            header = None
            continue
        cells = [c.strip() for c in re.split(r"\t+|\s{2,}", line.strip()) if c.strip()]
        if "READY" in cells and "MESSAGE" in cells and cells[0] == "NAME":
            header = cells
            continue
        if header is None:
            continue
        if len(cells) == len(header) - 1 and header[1] == "REVISION" and cells[1] in ("True", "False"):
            cells.insert(1, "")  # not applied yet: no revision printed
        if len(cells) < len(header):
            continue
        row = dict(zip(header, [*cells[: len(header) - 1], " ".join(cells[len(header) - 1 :])], strict=True))
        if row.get("READY") != "False" or row.get("SUSPENDED") == "True":
            continue
        name, message = row["NAME"], row["MESSAGE"]
        this = kind
        prefixed = _FLUX_PREFIXED.match(name)
        if prefixed:
            this = next((k for k in _FLUX_KINDS.values() if k.lower() == prefixed.group("kind")), kind)
            name = prefixed.group("name")
        source = this in _FLUX_SOURCES
        upstream = (
            f", so no new revision reaches the Kustomizations/HelmReleases built from it (they keep applying the last fetched one, {row['REVISION']})"
            if source and row.get("REVISION")
            else ", so nothing built from it gets new revisions"
            if source
            else ""
        )
        findings.append(
            Finding(
                kind="gitops_sync_failed",
                subject=f"{this.lower()}/{name}",
                role="cause",
                title=f"Flux {this} {name} is not Ready: {message[:300]}{upstream}",
                weight=90 if source else 86,  # a failing source is upstream of everything that uses it
                evidence=[f"{label} {excerpt(line.strip())}"],
                workload=name,
                recommendations=[
                    rec(
                        "high",
                        f"Fix what Flux reports for {this} {name} ({message[:120]}), then flux reconcile {'source ' + this.removesuffix('Repository').lower() if source else this.lower()} {name}",
                    )
                ],
                affected=[name],
            )
        )
    return _dependency_chains(findings)


_WAITS_ON = re.compile(r"dependency '(?:[\w.-]+/)?(?P<name>[a-z0-9][\w.-]*)' is not ready", re.IGNORECASE)


def _dependency_chains(findings: list[Finding]) -> list[Finding]:
    """``dependency 'flux-system/infra-configs' is not ready``: the object only waits (dependsOn); when the
    dependency's own failure is listed, that failure is the cause and the waiting object its symptom."""
    by_name = {f.workload: f for f in findings if not _WAITS_ON.search(f.title)}
    for finding in findings:
        waits = _WAITS_ON.search(finding.title)
        blocker = by_name.get(waits.group("name")) if waits else None
        if blocker is None or finding.workload is None:
            continue
        finding.role = "symptom"
        finding.weight = min(finding.weight, 60)
        blocker.title += f"; {finding.workload} depends on it (dependsOn) and waits until it is Ready"
        blocker.affected.append(finding.workload)
    return findings
