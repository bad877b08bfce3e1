"""An Argo CD application whose repository URL no credential template (repo-creds) matches.

Argo CD picks credentials for a repository URL from a repository Secret with that exact URL, else from the
credential template (``argocd repocreds``, Secrets labelled ``argocd.argoproj.io/secret-type: repo-creds``)
whose URL is the longest prefix of it. A repository moved to another organisation or host matches no template,
so it is fetched anonymously and a private GitHub repository answers "authentication required: Repository not
found", while every other application (and the token itself) is fine.
"""
# ruff: noqa: E501  (user-facing messages read better unwrapped)

from __future__ import annotations

import re

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import workload_cause
from engine.facts import Observations
from engine.findings import Finding

_URL = r"(?:https?://|ssh://|git@)[\w.@:/~-]+"
_APP_NAME = re.compile(r"^Name:\s+(?:[\w-]+/)?(?P<name>[a-z0-9][\w.-]*)\s*$")
_APP_REPO = re.compile(rf"^\s*-?\s*Repo(?:URL)?:\s+(?P<url>{_URL})\s*$")
_ACCESS = re.compile(
    r"authentication required|repository not found|could not read Username|invalid username or password|terminal prompts disabled|permission denied \(publickey\)",
    re.IGNORECASE,
)
_TEMPLATE_HEADER = re.compile(r"^\s*URL PATTERN\s+USERNAME", re.IGNORECASE)
_REPO_HEADER = re.compile(r"^\s*TYPE\s+NAME\s+REPO\s+", re.IGNORECASE)
_LEADING_URL = re.compile(rf"^\s*(?P<url>{_URL})(?:\s|$)")
_ANY_URL = re.compile(rf"(?P<url>{_URL})")
_SECRET_TYPE = re.compile(r"argocd\.argoproj\.io/secret-type\"?\s*[:=]\s*\"?(?P<type>repo-creds|repository)")
_SECRET_URL = re.compile(rf"^\s*\"?url\"?\s*:\s*\"?(?P<url>{_URL})")


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    docs = [(t.label, t.lines) for t in obs.texts] + [(d.label, d.lines) for d in obs.logs]
    templates, credentialed, template_cite = _credentials(docs)
    if not templates:
        return []
    findings: list[Finding] = []
    for app, url, refused in _failing_apps(docs):
        normal = _norm(url)
        if normal in credentialed or any(normal.startswith(_norm(t)) for t in templates):
            continue
        patterns = ", ".join(templates)
        said = _ACCESS.search(refused)
        finding = workload_cause(
            "argocd_repo_creds_no_match",
            owner=app,
            fallback="application",
            title=f"{app}: its repository {url} matches no Argo CD credential template (repo-creds URL patterns: {patterns}) and no repository with credentials, so Argo CD fetches it without credentials and the Git host refuses it ({said.group(0) if said else 'access denied'})",
            weight=93,
            evidence=[e for e in (refused, template_cite) if e],
            fix=f"Add a repo-creds template whose URL is a prefix of {url} (e.g. its organisation), or a repository Secret for {url} with the token",
        )
        finding.related.append("argocd-repo-server")  # the component whose fetch fails (its log says so too)
        findings.append(finding)
    return findings


def _norm(url: str) -> str:
    return url.lower().removesuffix(".git").rstrip("/")


def _credentials(docs: list[tuple[str, list[str]]]) -> tuple[list[str], set[str], str]:
    """Credential template URLs, repository URLs that carry credentials, and a line citing the templates."""
    templates: list[str] = []
    credentialed: set[str] = set()
    cite = ""
    for label, lines in docs:
        table = ""
        secret_type = ""
        for line in lines[:5000]:
            if _TEMPLATE_HEADER.match(line):
                table = "templates"
                continue
            if _REPO_HEADER.match(line):
                table = "repos"
                continue
            if not line.strip() or line.lstrip().startswith("$"):
                table = ""
                continue
            kind = _SECRET_TYPE.search(line)
            if kind:
                secret_type = kind.group("type")
            secret_url = _SECRET_URL.match(line)
            if table == "templates" or (secret_url and secret_type == "repo-creds"):
                found = _LEADING_URL.match(line) or secret_url
                if found and found.group("url") not in templates:
                    templates.append(found.group("url"))
                    cite = cite or f"{label} {line.strip()}"
            elif table == "repos" and (found := _ANY_URL.search(line)):
                after = line[found.end() :].split()  # INSECURE OCI LFS CREDS ...
                if len(after) > 3 and after[3] == "true":
                    credentialed.add(_norm(found.group("url")))
            elif secret_url and secret_type == "repository":
                credentialed.add(_norm(secret_url.group("url")))
    return templates, credentialed, cite


def _failing_apps(docs: list[tuple[str, list[str]]]) -> list[tuple[str, str, str]]:
    """(application, repository URL, the line saying access is refused) from ``argocd app get`` output."""
    found: list[tuple[str, str, str]] = []
    for label, lines in docs:
        app = url = ""
        for line in lines[:5000]:
            named = _APP_NAME.match(line)
            if named:
                app, url = named.group("name"), ""
                continue
            repo = _APP_REPO.match(line)
            if repo and app:
                url = repo.group("url")
                continue
            if app and url and _ACCESS.search(line):
                found.append((app, url, f"{label} {line.strip()[:300]}"))
                app = url = ""
    return found
