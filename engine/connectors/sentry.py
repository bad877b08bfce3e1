"""Sentry connector over its REST API (``/api/0/``) through httpx: issues and their events.

Sentry's Python SDK only sends events, so reading goes through the documented REST endpoints with an auth token
(``Authorization: Bearer <token>``): ``GET /api/0/projects/{org}/{project}/issues/`` (paged by the ``Link``
header's ``cursor``) and ``GET /api/0/organizations/{org}/issues/{issue_id}/events/``.

Settings (``tools.sentry``): ``token`` (secret), ``organization`` (slug), ``projects`` (project slugs; a service
with a project of its name reads that one), ``base_url`` (``https://sentry.io``, or a self-hosted install).

Each issue seen in the window becomes an :class:`~engine.facts.ErrorIssueFact` with its exception type, message
and culprit verbatim; ``engine.analyzers.error_tracking`` ties a new one to the deploy just before it. A 429 is
retried after ``Retry-After`` when that is short; 401/403 name Sentry and never the token. The connection check
lists the organization's projects (``GET /api/0/organizations/{org}/projects/``, one page) and looks up each
configured project that page does not name.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import httpx

from engine.connectors import ToolFailure
from engine.connectors.http import Answer, auth_header, build_client, fetch, reason, required_setting
from engine.connectors.params import iso, limit, to_epoch, window
from engine.facts import ErrorIssueFact, LogDoc, Observations
from engine.registry import ToolResult, connector, probe, tool

SOURCE = "Sentry"
MAX_PAGES = 5
MAX_RETRIES = 2
MAX_WAIT = 10.0
MAX_CHECKED_PROJECTS = 20  # a connection check looks up at most this many configured projects
NEXT_CURSOR = re.compile(r'<[^>]*>;\s*rel="next";\s*results="true";\s*cursor="(?P<cursor>[^"]+)"')


class SentryClient:
    def __init__(
        self,
        http: httpx.Client,
        *,
        organization: str,
        projects: list[str] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.http = http
        self.organization = organization
        self.projects = list(projects or [])
        self.sleep = sleep

    def get(self, path: str, params: Mapping[str, Any], *, what: str) -> Answer:
        """One GET, retried on 429 (after Retry-After) and 5xx; other failures name Sentry and ``what``."""
        answer = self.lookup(path, params, what=what, missing_ok=False)
        if answer is None:
            raise AssertionError("unreachable")  # only a lookup that allows it answers None
        return answer

    def lookup(self, path: str, params: Mapping[str, Any], *, what: str, missing_ok: bool = True) -> Answer | None:
        """``get``, except that a 404 is None when ``missing_ok``."""
        for attempt in range(MAX_RETRIES + 1):
            answer = fetch(self.http, "GET", path, source=SOURCE, params=dict(params))
            if answer.status < 300:
                return answer
            if answer.status == 404 and missing_ok:
                return None
            wait = _retry_wait(answer, attempt)
            if wait is None:
                raise ToolFailure(_failure(answer, what), unreachable=answer.status == 401)
            self.sleep(wait)
        raise AssertionError("unreachable")  # the loop returns or raises

    def issues(self, project: str, *, query: str, pages: int = MAX_PAGES) -> list[dict[str, Any]]:
        path = f"/api/0/projects/{_slug(self.organization)}/{_slug(project)}/issues/"
        found: list[dict[str, Any]] = []
        params: dict[str, Any] = {"query": query, "statsPeriod": "14d"}
        for _ in range(pages):
            answer = self.get(path, params, what=f"the issues of project {project}")
            body = answer.json(source=SOURCE)
            if not isinstance(body, list):
                raise ToolFailure(f"{SOURCE} returned issues in an unexpected shape")
            found.extend(item for item in body if isinstance(item, dict))
            cursor = _next_cursor(answer.headers.get("link", ""))
            if cursor is None:
                break
            params = {**params, "cursor": cursor}
        return found

    def issue_events(self, issue_id: str, *, start: float, end: float) -> list[dict[str, Any]]:
        path = f"/api/0/organizations/{_slug(self.organization)}/issues/{_slug(issue_id)}/events/"
        answer = self.get(path, {"start": iso(start), "end": iso(end)}, what=f"the events of issue {issue_id}")
        body = answer.json(source=SOURCE)
        if not isinstance(body, list):
            raise ToolFailure(f"{SOURCE} returned events in an unexpected shape")
        return [item for item in body if isinstance(item, dict)]

    def projects_for(self, params: Mapping[str, Any]) -> list[str]:
        """The ``project`` asked for; else the service's own project; else the configured ones; else the service."""
        project = str(params.get("project") or "").strip()
        service = str(params.get("service") or "").strip()
        if project:
            return [project]
        if service and (not self.projects or service in self.projects):
            return [service]
        if self.projects:
            return list(self.projects)
        raise ToolFailure("Sentry needs a project: give project or service, or configure sentry.projects")


def _slug(value: str) -> str:
    return quote(value, safe="")


def _next_cursor(link: str) -> str | None:
    found = NEXT_CURSOR.search(link)
    return found.group("cursor") if found else None


def _retry_wait(answer: Answer, attempt: int) -> float | None:
    if attempt >= MAX_RETRIES:
        return None
    if answer.status == 429:
        try:
            wait = float(str(answer.headers.get("retry-after", "1")))
        except ValueError:
            wait = 1.0
        return wait if wait <= MAX_WAIT else None
    if answer.status >= 500:
        return 0.5 * float(2**attempt)
    return None


def _failure(answer: Answer, what: str) -> str:
    if answer.status == 401:
        return f"{SOURCE} refused the auth token (401 Unauthorized) for {what}"
    if answer.status == 403:
        return f"{SOURCE} token lacks access (403 Forbidden) to {what}"
    if answer.status == 429:
        later = answer.headers.get("retry-after")
        return f"{SOURCE} rate limit reached (429) for {what}" + (f"; retry after {later} s" if later else "")
    return f"{SOURCE} returned {answer.status} {reason(answer)} for {what}".rstrip()


@connector("sentry")
def connect(settings: Mapping[str, Any]) -> SentryClient:
    token = required_setting(settings, "token", source=SOURCE)
    organization = required_setting(settings, "organization", source=SOURCE)
    base_url = str(settings.get("base_url") or "https://sentry.io")
    http = build_client(settings, base_url=base_url, headers=auth_header(token))
    projects = settings.get("projects")
    return SentryClient(
        http,
        organization=organization,
        projects=[str(p) for p in projects] if isinstance(projects, list) else None,
    )


@probe("sentry")
def check_sentry(client: SentryClient) -> str:
    """The token reads the organization's projects (one page), and each configured project exists in it."""
    org = client.organization
    path = f"/api/0/organizations/{_slug(org)}/projects/"
    answer = client.lookup(path, {}, what=f"the projects of organization {org}")
    if answer is None:
        raise ToolFailure(f"{SOURCE} has no organization {org} that the token can read (404 Not Found)")
    body = answer.json(source=SOURCE)
    if not isinstance(body, list):
        raise ToolFailure(f"{SOURCE} returned projects in an unexpected shape")
    listed = {str(item.get("slug")) for item in body if isinstance(item, dict) and item.get("slug")}
    more = "+" if _next_cursor(answer.headers.get("link", "")) else ""
    message = f"{SOURCE} answered: organization {org} has {len(listed):,}{more} projects"
    wanted = client.projects[:MAX_CHECKED_PROJECTS]
    for project in wanted:
        if project not in listed and not _project_exists(client, project):
            raise ToolFailure(f"{SOURCE} organization {org} has no project {project} that the token can read")
    if wanted:
        message += f"; configured project{'s' if len(wanted) > 1 else ''} {', '.join(wanted)} found"
    return message


def _project_exists(client: SentryClient, project: str) -> bool:
    """A project beyond the first page of the listing: ``GET /api/0/projects/{org}/{project}/`` (404: none)."""
    path = f"/api/0/projects/{_slug(client.organization)}/{_slug(project)}/"
    return client.lookup(path, {}, what=f"project {project}") is not None


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromtimestamp(to_epoch(value), UTC)
    except ToolFailure:
        return None


def _count(value: Any) -> int:
    try:
        return int(value)  # Sentry sends count as a string
    except (TypeError, ValueError):
        return 0


def issue_fact(issue: Mapping[str, Any], service: str, line: str) -> ErrorIssueFact:
    raw = issue.get("metadata")
    metadata: Mapping[str, Any] = raw if isinstance(raw, dict) else {}
    return ErrorIssueFact(
        tracker=SOURCE,
        issue_id=str(issue.get("id") or ""),
        service=service,
        title=str(issue.get("title") or ""),
        error_type=str(metadata.get("type") or ""),
        error_value=str(metadata.get("value") or ""),
        culprit=str(issue.get("culprit") or ""),
        level=str(issue.get("level") or "error"),
        first_seen=_time(issue.get("firstSeen")),
        last_seen=_time(issue.get("lastSeen")),
        count=_count(issue.get("count")),
        cite=f"[tool:list_sentry_issues] {line}",
    )


def issue_line(issue: Mapping[str, Any]) -> str:
    """One issue as Sentry shows it: short id, title, culprit, first and last seen, event count."""
    short = issue.get("shortId") or issue.get("id")
    culprit = f" in {issue['culprit']}" if issue.get("culprit") else ""
    return (
        f"{short} {issue.get('title', '')}{culprit}; first seen {issue.get('firstSeen', '?')}, "
        f"last seen {issue.get('lastSeen', '?')}, {issue.get('count', '?')} events"
    )


@tool("list_sentry_issues")
def list_sentry_issues(client: SentryClient, params: dict[str, Any]) -> ToolResult:
    """Unresolved issues of the service's project last seen in the window, newest first seen first."""
    start, end = window(params, default_minutes=6 * 60)
    query = str(params.get("query") or "is:unresolved")
    wanted = limit(params, default=25, maximum=100)
    obs = Observations()
    kept: list[tuple[float, str, ErrorIssueFact]] = []
    for project in client.projects_for(params):
        service = str(params.get("service") or project)
        for issue in client.issues(project, query=query):
            last = _time(issue.get("lastSeen"))
            first = _time(issue.get("firstSeen"))
            if last is None or last.timestamp() < start or (first is not None and first.timestamp() > end):
                continue
            line = issue_line(issue)
            kept.append((first.timestamp() if first else 0.0, line, issue_fact(issue, service, line)))
    kept.sort(key=lambda item: -item[0])
    for _, _, fact in kept[:wanted]:
        obs.issues.append(fact)
    text = "\n".join(line for _, line, _ in kept[:wanted])
    return ToolResult(text=text or "no Sentry issue seen in the window", observations=obs)


@tool("get_sentry_issue_events")
def get_sentry_issue_events(client: SentryClient, params: dict[str, Any]) -> ToolResult:
    """An issue's events in the window, as log lines (time, title, message) for the log analyzers."""
    issue_id = str(params.get("issue_id") or "").strip()
    if not issue_id:
        raise ToolFailure("get_sentry_issue_events needs an issue_id")
    start, end = window(params, default_minutes=6 * 60)
    events = client.issue_events(issue_id, start=start, end=end)
    lines: list[tuple[float, str]] = []
    for event in events[: limit(params, default=100, maximum=1000)]:
        when = _time(event.get("dateCreated"))
        if when is None:
            continue
        message = str(event.get("message") or "").strip()
        title = str(event.get("title") or "").strip()
        text = title if not message or message == title else f"{title} | {message}"
        lines.append((when.timestamp(), f"{iso(when.timestamp())} ERROR {text}"))
    lines.sort()
    service = str(params.get("service") or f"sentry-issue-{issue_id}")
    obs = Observations()
    if lines:
        obs.logs.append(LogDoc(label="[tool:get_sentry_issue_events]", lines=[line for _, line in lines], pod=service))
    text = "\n".join(line for _, line in lines)
    return ToolResult(text=text or f"no events of issue {issue_id} in the window", observations=obs)
