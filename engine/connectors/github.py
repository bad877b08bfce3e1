"""GitHub REST connector: recent commits, merged pull requests, deployments, code search and file reads.

Changes come back as ``ChangeFact`` so the change-correlation analyzer can line them up against an
anomaly's onset. Pagination follows ``Link: rel="next"`` up to a fixed number of pages.
"""

from __future__ import annotations

import base64
import json as jsonlib
import re
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

import httpx

from engine.analyzers.changes import ChangeKind
from engine.connectors import ToolFailure
from engine.connectors.http import Answer, build_client, fetch, request_json
from engine.connectors.params import iso, limit, window
from engine.facts import ChangeFact, Observations
from engine.registry import ToolResult, connector, probe, tool

SOURCE = "GitHub"
MAX_PAGES = 5
PER_PAGE = 100
MAX_FILE_CHARS = 20_000


class GitHubClient:
    def __init__(self, http: httpx.Client, *, default_org: str | None = None, default_repo: str | None = None) -> None:
        self.http = http
        self.default_org = default_org
        self.default_repo = default_repo

    def repo(self, params: Mapping[str, Any]) -> str:
        """``owner/name`` from params or the configured defaults."""
        name = str(params.get("repo") or self.default_repo or "").strip()
        if not name:
            raise ToolFailure("No GitHub repository given and no default_repo configured")
        if "/" not in name:
            if not self.default_org:
                raise ToolFailure(f"GitHub repository {name!r} needs an owner (or default_org)")
            name = f"{self.default_org}/{name}"
        return name

    def pages(self, path: str, params: Mapping[str, Any], *, max_pages: int = MAX_PAGES) -> Iterator[Any]:
        """Each page's decoded body, following ``Link: rel="next"`` for at most ``max_pages`` pages; every page
        is read under the HTTP helper's size cap on its own."""
        url: str | None = path
        query: Mapping[str, Any] | None = params
        for _ in range(max_pages):
            if url is None:
                return
            answer = fetch(self.http, "GET", url, source=SOURCE, params=query)
            if answer.status >= 300:  # redirects are not followed: a moved repository is not data
                raise ToolFailure(_error(answer))
            yield answer.json(source=SOURCE)
            url = answer.links.get("next", {}).get("url")
            query = None

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        return request_json(self.http, "GET", path, source=SOURCE, params=params)

    def commits(self, repo: str, since: float, until: float, path: str | None = None) -> list[dict[str, Any]]:
        query: dict[str, Any] = {"since": iso(since), "until": iso(until), "per_page": PER_PAGE}
        if path:
            query["path"] = path
        return [c for page in self.pages(f"/repos/{repo}/commits", query) for c in page]

    def merged_pulls(self, repo: str, since: float, until: float) -> list[dict[str, Any]]:
        """Closed PRs merged inside the window; stops paging once updates are older than the window."""
        query = {"state": "closed", "sort": "updated", "direction": "desc", "per_page": PER_PAGE}
        out: list[dict[str, Any]] = []
        for page in self.pages(f"/repos/{repo}/pulls", query):
            for pr in page:
                merged = _ts(pr.get("merged_at"))
                if merged is not None and since <= merged <= until:
                    out.append(pr)
            updated = [_ts(pr.get("updated_at")) for pr in page]
            if not page or all(u is not None and u < since for u in updated):
                break
        return out

    def deployments(
        self, repo: str, since: float, until: float, environment: str | None = None, *, limit: int = 300
    ) -> list[dict[str, Any]]:
        """Deployments in the window, newest first, each with its latest statuses; statuses are fetched (one
        request each) only for the first ``limit``."""
        query: dict[str, Any] = {"per_page": PER_PAGE}
        if environment:
            query["environment"] = environment
        out: list[dict[str, Any]] = []
        for page in self.pages(f"/repos/{repo}/deployments", query):
            for dep in page:
                created = _ts(dep.get("created_at"))
                if created is not None and since <= created <= until:
                    statuses = self.get(f"/repos/{repo}/deployments/{dep['id']}/statuses", {"per_page": 10})
                    out.append({**dep, "statuses": statuses})
                    if len(out) >= limit:
                        return out
            created_all = [_ts(d.get("created_at")) for d in page]
            if not page or all(c is not None and c < since for c in created_all):
                break
        return out


def _error(answer: Answer) -> str:
    if answer.status == 403 and answer.headers.get("x-ratelimit-remaining") == "0":
        return f"{SOURCE} rate limit exhausted"
    message = ""
    try:
        body = jsonlib.loads(answer.content)
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        message = f": {body['message'][:200]}"
    return f"{SOURCE} returned {answer.status} {answer.reason_phrase}{message}"


def _ts(value: Any) -> float | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def _dt(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def _service_of(repo: str, params: Mapping[str, Any]) -> str:
    return str(params.get("service") or repo.split("/", 1)[1])


@connector("github")
def connect(settings: Mapping[str, Any]) -> GitHubClient:
    token = settings.get("token")
    headers = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    base_url = str(settings.get("base_url") or "https://api.github.com")
    return GitHubClient(
        build_client(settings, base_url=base_url, headers=headers),
        default_org=settings.get("default_org"),
        default_repo=settings.get("default_repo"),
    )


@probe("github")
def check_github(client: GitHubClient) -> str:
    """The token is accepted (the rate limit it has left) and the default repository, when set, is readable."""
    limits = client.get("/rate_limit")
    core = limits.get("resources", {}).get("core", {}) if isinstance(limits, dict) else {}
    message = f"{SOURCE} answered: {core.get('remaining', '?')} of {core.get('limit', '?')} API requests left"
    if client.default_repo:
        repo = client.repo({})
        found = client.get(f"/repos/{repo}")
        name = found.get("full_name", repo) if isinstance(found, dict) else repo
        message += f"; repository {name} is readable"
    return message


@tool("list_recent_commits")
def list_recent_commits(client: GitHubClient, params: dict[str, Any]) -> ToolResult:
    repo = client.repo(params)
    start, end = window(params, default_minutes=24 * 60)
    commits = client.commits(repo, start, end, params.get("path"))[: limit(params, default=50, maximum=500)]
    service = _service_of(repo, params)
    obs = Observations()
    lines = []
    for c in commits:
        info = c.get("commit", {})
        when = _ts(info.get("committer", {}).get("date") or info.get("author", {}).get("date"))
        title = str(info.get("message", "")).splitlines()[0][:120] if info.get("message") else ""
        sha = str(c.get("sha", ""))[:7]
        line = f"{iso(when) if when else '?'} {sha} {title}"
        lines.append(line)
        if when is not None:
            obs.changes.append(
                ChangeFact(
                    timestamp=_dt(when),
                    kind=ChangeKind.PR_MERGED.value,
                    service=service,
                    description=f"Commit {sha} to {repo}: {title}",
                    ref=sha,
                    cite=f"[tool:list_recent_commits] {line}",
                )
            )
    return ToolResult(text="\n".join(lines) or f"no commits in {repo} in the window", observations=obs)


@tool("list_pull_requests")
def list_pull_requests(client: GitHubClient, params: dict[str, Any]) -> ToolResult:
    repo = client.repo(params)
    start, end = window(params, default_minutes=24 * 60)
    pulls = client.merged_pulls(repo, start, end)[: limit(params, default=30, maximum=300)]
    service = _service_of(repo, params)
    obs = Observations()
    lines = []
    for pr in pulls:
        merged = _ts(pr.get("merged_at"))
        assert merged is not None
        number = pr.get("number")
        title = str(pr.get("title", ""))[:120]
        author = pr.get("user", {}).get("login", "")
        line = f"{iso(merged)} merged #{number} {title} (by {author})"
        lines.append(line)
        labels = [str(lbl.get("name")) for lbl in pr.get("labels", []) if isinstance(lbl, dict)]
        obs.changes.append(
            ChangeFact(
                timestamp=_dt(merged),
                kind=ChangeKind.CONFIG.value if "config" in labels else ChangeKind.PR_MERGED.value,
                service=service,
                description=f"PR #{number} merged in {repo}: {title}",
                ref=f"#{number}",
                touches=labels,
                cite=f"[tool:list_pull_requests] {line}",
            )
        )
    return ToolResult(text="\n".join(lines) or f"no merged pull requests in {repo} in the window", observations=obs)


@tool("list_deployments")
def list_deployments(client: GitHubClient, params: dict[str, Any]) -> ToolResult:
    repo = client.repo(params)
    start, end = window(params, default_minutes=24 * 60)
    deployments = client.deployments(
        repo, start, end, params.get("environment"), limit=limit(params, default=30, maximum=300)
    )
    service = _service_of(repo, params)
    obs = Observations()
    lines = []
    for dep in deployments:
        created = _ts(dep.get("created_at"))
        assert created is not None
        statuses = dep.get("statuses") or []
        state = statuses[0].get("state", "unknown") if statuses else "pending"
        ref = str(dep.get("ref", ""))
        sha = str(dep.get("sha", ""))[:7]
        env = dep.get("environment", "")
        line = f"{iso(created)} deployment {dep.get('id')} of {ref} ({sha}) to {env}: {state}"
        lines.append(line)
        obs.changes.append(
            ChangeFact(
                timestamp=_dt(created),
                kind=ChangeKind.DEPLOY.value,
                service=service,
                description=f"{service} {ref} deployed to {env}".strip(),
                ref=ref or sha,
                cite=f"[tool:list_deployments] {line}",
            )
        )
    return ToolResult(text="\n".join(lines) or f"no deployments of {repo} in the window", observations=obs)


@tool("search_github_code")
def search_github_code(client: GitHubClient, params: dict[str, Any]) -> ToolResult:
    text = str(params.get("query", "")).strip()
    if not text:
        raise ToolFailure("search_github_code needs a query")
    scope = ""
    if params.get("repo") or client.default_repo:
        scope = f" repo:{client.repo(params)}"
    elif client.default_org:
        scope = f" org:{client.default_org}"
    phrase = '"' + re.sub(r'["\\]', " ", text)[:200] + '"'
    body = client.get("/search/code", {"q": phrase + scope, "per_page": limit(params, default=10, maximum=50)})
    items = body.get("items", []) if isinstance(body, dict) else []
    lines = [f"{i.get('repository', {}).get('full_name', '')}/{i.get('path', '')}" for i in items]
    return ToolResult(text="\n".join(lines) or f"no code matches {phrase}", data=items)


@tool("read_github_file")
def read_github_file(client: GitHubClient, params: dict[str, Any]) -> ToolResult:
    repo = client.repo(params)
    path = str(params.get("path", "")).strip("/")
    if not path:
        raise ToolFailure("read_github_file needs a path")
    query = {"ref": params["ref"]} if params.get("ref") else None
    body = client.get(f"/repos/{repo}/contents/{path}", query)
    if not isinstance(body, dict) or body.get("type") != "file":
        raise ToolFailure(f"{path} in {repo} is not a file")
    content = body.get("content", "")
    text = base64.b64decode(content).decode("utf-8", errors="replace") if body.get("encoding") == "base64" else ""
    return ToolResult(text=text[:MAX_FILE_CHARS])
