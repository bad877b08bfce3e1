"""Dashboard, history (filters, search, htmx paging that keeps real links) and the team config page."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from investigations.models import Status
from teamconfig.services import config_update
from tests.conftest import SYSTEM
from tests.web.conftest import make_investigation


def test_history_searches_filters_and_pages_with_htmx_and_real_links(web_member, team, other_team):
    now = timezone.now()
    for index in range(30):
        make_investigation(team, message=f"run {index} checkout", created_at=now - timedelta(minutes=index))
    make_investigation(team, message="payments db pool exhausted", status=Status.COMPLETED, agent="k8s_agent")
    make_investigation(other_team, message="payments elsewhere")

    html = web_member.get(f"/teams/{team.node_id}/history?q=PAYMENTS").content.decode()
    assert "1 investigation<" in html
    assert "payments db pool exhausted" in html
    assert "payments elsewhere" not in html

    html = web_member.get(f"/teams/{team.node_id}/history?status=completed&agent=k8s_agent").content.decode()
    assert "1 investigation<" in html

    page2 = web_member.get(f"/teams/{team.node_id}/history?q=checkout&page=2", headers={"HX-Request": "true"})
    body = page2.content.decode()
    assert "<html" not in body
    assert body.lstrip().startswith('<section id="history"')
    assert "30 investigations" in body
    assert "Page 2 of 2" in body
    assert 'href="?q=checkout&amp;page=1"' in body
    assert 'hx-push-url="true"' in body
    assert "HX-Request" in page2["Vary"]


def test_history_date_range_is_inclusive_of_both_days(web_member, team):
    today = timezone.now()
    make_investigation(team, message="old one", created_at=today - timedelta(days=10))
    make_investigation(team, message="recent one", created_at=today)
    day = today.date().isoformat()
    html = web_member.get(f"/teams/{team.node_id}/history?since={day}&until={day}").content.decode()
    assert "recent one" in html
    assert "old one" not in html


def test_an_invalid_filter_is_reported_not_ignored(web_member, team):
    make_investigation(team)
    html = web_member.get(f"/teams/{team.node_id}/history?since=2024-02-10&until=2024-02-01").content.decode()
    assert "must not be before" in html
    assert "0 investigations" in html


@pytest.mark.parametrize("rows", [1, 20])
def test_history_and_dashboard_query_counts_stay_flat(web_member, team, django_assert_max_num_queries, rows):
    for index in range(rows):
        make_investigation(team, message=f"m{index}")
    web_member.get(f"/teams/{team.node_id}/")  # warm the session
    with django_assert_max_num_queries(14):
        assert web_member.get(f"/teams/{team.node_id}/history", headers={"HX-Request": "true"}).status_code == 200
    with django_assert_max_num_queries(14):
        assert web_member.get(f"/teams/{team.node_id}/").status_code == 200


def test_the_dashboard_lists_active_and_recent_runs_of_the_team_only(web_member, team, other_team):
    make_investigation(team, status=Status.RUNNING, message="running here")
    make_investigation(other_team, status=Status.RUNNING, message="running there")
    html = web_member.get(f"/teams/{team.node_id}/").content.decode()
    assert "running here" in html
    assert "running there" not in html


def test_switching_team_keeps_the_kind_of_page(web_org_admin, team, other_team):
    response = web_org_admin.get(f"/teams/switch?team={other_team.node_id}&page=history")
    assert response["Location"] == f"/teams/{other_team.node_id}/history"
    assert web_org_admin.get("/teams/switch?team=nope").status_code == 404


def test_home_opens_the_last_used_team(web_org_admin, team, other_team):
    web_org_admin.get(f"/teams/{other_team.node_id}/")
    assert web_org_admin.get("/")["Location"] == f"/teams/{other_team.node_id}/"


@pytest.fixture
def configured(team):
    org_patch = {
        "webhooks": {"investigation_complete": "https://hooks.example.com/org-wide"},
        "integrations": {"slack": {"enabled": True, "bot_token": {"secret": "xoxb-topsecretbot"}}},
    }
    config_update(node=team.parent, patch=org_patch, meta=SYSTEM, admin=True)
    config_update(
        node=team,
        patch={"tools": {"github": {"enabled": True, "token": {"secret": "ghp_topsecretvalue"}}}},
        meta=SYSTEM,
        admin=True,
    )
    return team


def test_config_shows_each_effective_value_with_its_level_and_masks_secrets(web_viewer, configured):
    html = web_viewer.get(f"/teams/{configured.node_id}/config").content.decode()
    assert "ghp_topsecretvalue" not in html
    assert "xoxb-topsecretbot" not in html
    html = html.split('id="effective-heading"')[1].split('id="history-heading"')[0]  # the effective table
    assert "&quot;********&quot;" in html
    row = html.split("<code>webhooks.investigation_complete</code>")[1].split("</tr>")[0]
    assert "org-acme" in row
    row = html.split("<code>tools.github.token</code>")[1].split("</tr>")[0]
    assert "team-platform" in row
    row = html.split("<code>feature_flags.require_approval</code>")[1].split("</tr>")[0]
    assert "default" in row
    assert "<textarea" not in html  # viewers cannot edit


def test_a_viewer_cannot_post_config_changes(web_viewer, configured):
    assert web_viewer.post(f"/teams/{configured.node_id}/config", {"overrides": "{}"}).status_code == 403


def test_a_team_admin_edits_overrides_and_secrets_stay_unchanged_when_masked(web_team_admin, configured):
    page = web_team_admin.get(f"/teams/{configured.node_id}/config").content.decode()
    assert "ghp_topsecretvalue" not in page
    new = {"tools": {"github": {"enabled": True, "token": "********"}}, "alerts": {"disabled": ["Watchdog"]}}
    response = web_team_admin.post(f"/teams/{configured.node_id}/config", {"overrides": json.dumps(new)})
    assert response.status_code == 302
    html = web_team_admin.get(response["Location"]).content.decode()
    assert "Saved as version 2. Changed: alerts.disabled." in html
    from teamconfig.selectors import engine_settings_for_team

    assert engine_settings_for_team(configured).data_sources["github"]["token"] == "ghp_topsecretvalue"


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ("{not json", "Not valid JSON"),
        ("[1]", "must be a JSON object"),
        (json.dumps({"team_name": "x"}), "team_name"),
        (json.dumps({"tools": {"github": {"enabled": "yes"}}}), "tools.github.enabled"),
    ],
)
def test_invalid_config_edits_are_shown_inline(web_team_admin, configured, overrides, error):
    response = web_team_admin.post(f"/teams/{configured.node_id}/config", {"overrides": overrides})
    assert response.status_code == 400
    html = response.content.decode()
    field_error = html.split('class="error" id="id_overrides_error">')[1].split("</span>")[0]
    assert error in field_error


def test_the_config_page_lists_versions_with_their_diffs_and_saves_a_section_form(web_team_admin, configured):
    response = web_team_admin.post(
        f"/teams/{configured.node_id}/config",
        {"section": "slack", "slack-slack_channel": "#payments-oncall", "slack-slack_group_to_ping": ""},
    )
    assert response.status_code == 302
    html = web_team_admin.get(f"/teams/{configured.node_id}/config").content.decode()
    assert "<title>Config · Platform · IncidentFox</title>" in html
    assert html.count('id="history-heading"') == 1
    history = html.split('id="history-heading"')[1]
    assert "Version" in history
    assert "<code>slack_channel</code>" in history
    assert "&quot;#payments-oncall&quot;" in history
    assert "ghp_topsecretvalue" not in html


@pytest.mark.parametrize(
    "query",
    ["connection pool", "PAYMENTS-DB", "metrics_agent", "alertmanager"],
)
def test_history_search_matches_root_cause_affected_systems_agent_and_trigger(web_member, team, query):
    result = {
        "summary": "s",
        "root_cause": {"description": "Connection pool exhausted on the primary", "confidence": 90, "evidence": []},
        "affected_systems": ["payments-api", "payments-db"],
    }
    found = make_investigation(
        team,
        status=Status.COMPLETED,
        message="latency alert",
        agent="metrics_agent",
        trigger_source="alertmanager",
        result=result,
    )
    make_investigation(team, status=Status.COMPLETED, message="unrelated", result={"root_cause": {"description": "x"}})
    html = web_member.get(f"/teams/{team.node_id}/history", {"q": query}).content.decode()
    assert "1 investigation<" in html
    assert f'href="/investigations/{found.pk}"' in html


def test_history_search_by_id_finds_exactly_that_run(web_member, team):
    runs = [make_investigation(team, status=Status.COMPLETED, message=f"run {i}") for i in range(3)]
    html = web_member.get(f"/teams/{team.node_id}/history", {"q": runs[1].pk}).content.decode()
    assert "1 investigation<" in html
    assert f'href="/investigations/{runs[1].pk}"' in html


def test_the_dashboard_lists_a_running_item_once_with_root_cause_duration_and_trigger_for_recent(web_member, team):
    make_investigation(team, status=Status.RUNNING, message="still going zebra")
    make_investigation(
        team,
        status=Status.COMPLETED,
        message="done one",
        duration_ms=75_000,
        result={"root_cause": {"description": "Disk full on node-7"}},
    )
    response = web_member.get(f"/teams/{team.node_id}/")
    html = response.content.decode()
    assert html.count("still going zebra") == 1
    recent = html.split('id="recent-heading"')[1]
    assert "Disk full on node-7" in recent
    assert "1 min 15 s" in recent
    assert 'hx-trigger="every 5s"' in html
    lists = web_member.get(f"/teams/{team.node_id}/", headers={"HX-Request": "true"}).content.decode()
    assert lists.lstrip().startswith('<div id="dashboard-lists"')
