"""GitHub connector against a loopback server replaying recorded REST responses."""

import pytest

from engine.connectors import ToolFailure, http
from engine.connectors import github as gh

from .replay_server import body, recorded, replay_server

TOKEN = "ghp_example_token_value"
WINDOW = {"start": "2024-01-15T12:00:00Z", "end": "2024-01-15T14:40:00Z"}


def client_for(url, **extra):
    return gh.connect({"token": TOKEN, "base_url": url, "default_org": "acme", "timeout": 5, **extra})


def pulls(seen):
    if seen.query.get("page") == ["2"]:
        return 200, recorded("gh_pulls_page2.json"), {}
    link = '<{base}/repos/acme/payments/pulls?state=closed&page=2>; rel="next"'
    return 200, recorded("gh_pulls_page1.json"), {"Link": link}


ROUTES = {
    ("GET", "/repos/acme/payments/commits"): body(recorded("gh_commits.json")),
    ("GET", "/repos/acme/payments/pulls"): pulls,
    ("GET", "/repos/acme/payments/deployments"): body(recorded("gh_deployments.json")),
    ("GET", "/repos/acme/payments/deployments/1207/statuses"): body(recorded("gh_deployment_statuses.json")),
    ("GET", "/search/code"): body(recorded("gh_search_code.json")),
    ("GET", "/repos/acme/payments/contents/internal/db/pool.go"): body(recorded("gh_contents_pool_go.json")),
}


def test_deployments_in_the_window_become_changes_with_their_status():
    with replay_server(ROUTES) as srv:
        result = gh.list_deployments(client_for(srv.url), {**WINDOW, "repo": "payments"})
    assert srv.seen[0].headers["Authorization"] == f"Bearer {TOKEN}"
    assert srv.seen[0].headers["X-GitHub-Api-Version"] == "2022-11-28"
    [change] = result.observations.changes
    assert change.description == "payments v2.14.0 deployed to production"
    assert change.timestamp.isoformat() == "2024-01-15T14:29:00+00:00"
    assert (
        change.cite
        == "[tool:list_deployments] 2024-01-15T14:29:00Z deployment 1207 of v2.14.0 (9f2c4e1) to production: success"
    )
    assert TOKEN not in result.text


def test_statuses_are_fetched_only_for_the_deployments_that_will_be_listed():
    listed = [
        {"id": 3000 + i, "ref": f"v{i}", "sha": "9f2c4e1aa", "environment": "production", "created_at": created}
        for i, created in enumerate(["2024-01-15T14:30:00Z", "2024-01-15T14:20:00Z", "2024-01-15T14:10:00Z"])
    ]
    routes = {
        ("GET", "/repos/acme/payments/deployments"): body(listed),
        **{
            ("GET", f"/repos/acme/payments/deployments/{d['id']}/statuses"): body([{"state": "success"}])
            for d in listed
        },
    }
    with replay_server(routes) as srv:
        result = gh.list_deployments(client_for(srv.url), {**WINDOW, "repo": "payments", "limit": 2})
    assert [c.ref for c in result.observations.changes] == ["v0", "v1"]
    assert len([s for s in srv.seen if s.path.endswith("/statuses")]) == 2


def test_merged_pull_requests_follow_pagination_and_skip_unmerged_and_old_ones():
    with replay_server(ROUTES) as srv:
        result = gh.list_pull_requests(client_for(srv.url), {**WINDOW, "repo": "acme/payments"})
    assert len([s for s in srv.seen if s.path.endswith("/pulls")]) == 2
    assert [c.ref for c in result.observations.changes] == ["#1432"]
    assert "merged #1432 Retry card authorisation on gateway 502 (by druiz)" in result.text


def test_recent_commits_are_listed_with_their_first_line():
    with replay_server(ROUTES) as srv:
        result = gh.list_recent_commits(client_for(srv.url, default_repo="payments"), WINDOW)
    assert srv.seen[0].query["since"] == ["2024-01-15T12:00:00Z"]
    assert result.text.splitlines()[0] == "2024-01-15T14:21:02Z 9f2c4e1 Retry card authorisation on gateway 502 (#1432)"


def test_code_search_quotes_the_error_string_and_scopes_it_to_the_repo():
    with replay_server(ROUTES) as srv:
        result = gh.search_github_code(
            client_for(srv.url), {"query": "Connection is not available", "repo": "payments"}
        )
        file = gh.read_github_file(client_for(srv.url), {"repo": "payments", "path": "internal/db/pool.go"})
    assert srv.seen[0].query["q"] == ['"Connection is not available" repo:acme/payments']
    assert result.text == "acme/payments/internal/db/pool.go"
    assert "const MaxConns = 10" in file.text


def test_bad_credentials_fail_with_a_message_that_names_github_only():
    routes = {("GET", "/repos/acme/payments/commits"): body(recorded("gh_error_401.json"), 401)}
    with replay_server(routes) as srv, pytest.raises(ToolFailure) as err:
        gh.list_recent_commits(client_for(srv.url), {**WINDOW, "repo": "payments"})
    assert err.value.message == "GitHub returned 401 Unauthorized: Bad credentials"


def test_commit_paging_follows_link_next_for_at_most_the_page_bound():
    def endless(seen):
        page = int(seen.query.get("page", ["1"])[0])
        link = f'<{{base}}/repos/acme/payments/commits?page={page + 1}>; rel="next"'
        return 200, [], {"Link": link}

    with replay_server({("GET", "/repos/acme/payments/commits"): endless}) as srv:
        gh.list_recent_commits(client_for(srv.url), {**WINDOW, "repo": "payments"})
    assert [s.query.get("page", ["1"])[0] for s in srv.seen] == [str(n) for n in range(1, gh.MAX_PAGES + 1)]


def test_a_page_over_the_size_cap_fails_naming_github_and_no_later_page_is_asked_for(monkeypatch):
    monkeypatch.setattr(http, "MAX_RESPONSE_BYTES", 64 * 1024)
    commit = {"sha": "9f2c4e1aa", "commit": {"message": "x" * 1000, "author": {"date": "2024-01-15T13:00:00Z"}}}
    link = '<{base}/repos/acme/payments/commits?page=2>; rel="next"'
    routes = {("GET", "/repos/acme/payments/commits"): body([commit] * 100, headers={"Link": link})}
    with replay_server(routes) as srv, pytest.raises(ToolFailure, match="GitHub returned a response larger than"):
        gh.list_recent_commits(client_for(srv.url), {**WINDOW, "repo": "payments"})
    assert len(srv.seen) == 1
