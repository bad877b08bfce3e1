"""No secret value appears in any response, history row, change request, audit event, log record, SQL or error."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from teamconfig.models import ChangeRequest, ConfigVersion, NodeConfig
from teamconfig.secrets import SecretUnavailable
from teamconfig.selectors import engine_settings_for_team
from tenancy.models import AuditEvent, Node
from tests.conftest import ApiCaller

pytestmark = pytest.mark.django_db

SECRETS = {
    "grafana_api": "LEAK-grafana-api-7f3a91",
    "loki": "LEAK-loki-auth-22c0e4",
    "llm": "LEAK-llm-key-5e6f70",
    "alertmanager": "LEAK-am-bearer-91ab3c",
    "github": "LEAK-gh-token-44d2aa",
    "held": "LEAK-held-in-cr-77aa01",
    "rejected": "LEAK-rejected-cr-18bc62",
    "plain": "LEAK-plain-string-0f0f0f",
}


def _grep(label: str, text: str) -> None:
    for name, value in SECRETS.items():
        assert value not in text, f"secret {name} leaked into {label}"


def test_secrets_written_through_every_path_never_leak(
    member: ApiCaller, org_admin: ApiCaller, team: Node, settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    settings.CONFIG_ENCRYPTION_KEYS = {"1": "leak-test-key-material-0123456789"}
    caplog.set_level(logging.DEBUG)
    responses: list[Any] = []
    as_team = {"X-Team-Id": "team-platform"}

    with CaptureQueriesContext(connection) as queries:
        # 1. a team write, applied directly
        responses.append(
            member.put(
                "/config/me",
                {
                    "tools": {
                        "grafana": {
                            "enabled": True,
                            "url": "https://grafana.acme.com",
                            "api_key": {"secret": SECRETS["grafana_api"]},
                        },
                        "loki": {"enabled": True, "url": "https://loki.acme.com", "auth": {"secret": SECRETS["loki"]}},
                    },
                    "llm": {"provider": "openai", "api_key": {"secret": SECRETS["llm"]}},
                    "integrations": {
                        "alertmanager": {"enabled": True, "bearer_token": {"secret": SECRETS["alertmanager"]}}
                    },
                },
            )
        )
        # 2. an admin write to the org node, then a change of the same secret
        responses.append(
            org_admin.put(
                "/admin/teams/org-acme/config",
                {
                    "tools": {"github": {"enabled": True, "token": {"secret": SECRETS["github"]}}},
                    "approval_workflows": {"config_changes": {"enabled": True, "approvers": ["admin@acme.com"]}},
                },
            )
        )
        # 3. held for approval, then approved; another held, then rejected
        held = member.put("/config/me", {"llm": {"api_key": {"secret": SECRETS["held"]}}})
        rejected = member.put("/config/me", {"tools": {"grafana": {"api_key": {"secret": SECRETS["rejected"]}}}})
        responses += [held, rejected]
        assert (held.status_code, rejected.status_code) == (202, 202)
        responses.append(org_admin.post(f"/admin/changes/{held.json()['change_request_id']}/approve"))
        responses.append(
            org_admin.post(f"/admin/changes/{rejected.json()['change_request_id']}/reject", {"comment": "no"})
        )
        # 4. refused inputs that carry secret values
        responses.append(member.put("/config/me", {"tools": {"github": {"token": SECRETS["plain"]}}}))
        responses.append(member.put("/config/me", {"llm": {"api_key": {"secret": SECRETS["plain"] + "x" * 9000}}}))
        responses.append(org_admin.put("/admin/teams/org-acme/config", {"llm": {"api_key": SECRETS["plain"]}}))
        # 5. every read
        for path in ("/config/me/effective", "/config/me/raw", "/config/me/audit", "/config/me/pending?status=all"):
            responses.append(member.get(path))
        responses += [
            org_admin.get("/admin/changes", status="all"),
            org_admin.get("/admin/audit"),
            org_admin.get("/admin/teams/org-acme/config"),
            org_admin.get("/admin/teams/team-platform/config"),
            org_admin.get("/config/me/effective", headers=as_team),
        ]

    assert [r.status_code for r in responses[:6]] == [200, 200, 202, 202, 200, 200]
    for response in responses:
        _grep(f"response {response.request['PATH_INFO']}", response.content.decode())
    for row in NodeConfig.objects.all():
        _grep("stored overrides", json.dumps(row.overrides))
    for version in ConfigVersion.objects.all():
        _grep("history", json.dumps([version.diff, version.full_config, version.reason]))
    for change in ChangeRequest.objects.all():
        _grep("change request", json.dumps([change.patch, change.changes, change.comment]))
    for event in AuditEvent.objects.all():
        _grep("audit event", json.dumps([event.details, event.target]))
    for query in queries.captured_queries:
        _grep("SQL", query["sql"])
    for record in caplog.records:
        _grep("log record", record.getMessage() + str(record.args) + str(record.exc_text))
    assert engine_settings_for_team(team).llm == {"provider": "openai", "api_key": SECRETS["held"]}


def test_a_secret_that_cannot_be_decrypted_fails_without_leaking(member: ApiCaller, team: Node, settings: Any) -> None:
    settings.CONFIG_ENCRYPTION_KEYS = {"1": "leak-test-key-material-0123456789"}
    member.put("/config/me", {"tools": {"github": {"enabled": True, "token": {"secret": SECRETS["github"]}}}})
    settings.CONFIG_ENCRYPTION_KEYS = {"2": "another-key-material-0123456789"}
    with pytest.raises(SecretUnavailable) as raised:
        engine_settings_for_team(team)
    text = f"{raised.value} {raised.value!r}"
    _grep("exception", text)
    assert "enc:" not in text
    assert "github" in text
