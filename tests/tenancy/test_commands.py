"""Operator commands: each prints a secret exactly once, on standard output."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tenancy.models import ApiToken, Node, Organization


def _run(*args):
    out, err = StringIO(), StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_an_operator_builds_an_org_with_a_team_and_a_working_token(db, client, settings):
    settings.ALLOWED_HOSTS = ["testserver"]
    _run("orgs", "create", "acme", "--name", "Acme")
    _run("teams", "create", "acme/engineering", "--group", "--name", "Engineering")
    _run("teams", "create", "acme/payments", "--parent", "acme/engineering")
    token, notice = _run("tokens", "issue", "acme/payments", "--label", "ci", "--expires-days", "90")
    token = token.strip()
    assert token.startswith("ift_")
    assert "only time the secret is shown" in notice
    assert Node.objects.get(node_id="payments").path == ["acme", "engineering", "payments"]
    response = client.get("/api/v1/auth/me", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.json()["team_node_id"] == "payments"


def test_admin_tokens_and_revocation(db):
    Organization.objects.create(org_id="acme", name="Acme")
    _run("orgs", "list")
    token, _ = _run("tokens", "issue-admin", "acme", "--label", "bootstrap")
    token_id = token.strip().split(".")[0]
    assert token_id.startswith("ifa_")
    out, _ = _run("tokens", "revoke", token.strip())
    assert f"Revoked {token_id}" in out
    assert ApiToken.objects.get(token_id=token_id).revoked_at is not None


@pytest.mark.parametrize(
    "args",
    [
        ("teams", "create", "nowhere/team"),
        ("teams", "create", "no-slash"),
        ("tokens", "issue", "nowhere/team"),
        ("tokens", "revoke", "ift_AAAAAAAAAAAA"),
    ],
)
def test_bad_references_fail_with_a_clear_message(db, args):
    with pytest.raises(CommandError):
        _run(*args)


def test_tokens_cannot_be_issued_for_a_group(db):
    _run("orgs", "create", "acme", "--name", "Acme")
    _run("teams", "create", "acme/eng", "--group")
    with pytest.raises(CommandError, match="tokens belong to teams"):
        _run("tokens", "issue", "acme/eng")


def test_the_demo_bootstrap_prints_its_secrets_once_and_keeps_data_on_rerun(db):
    first, _ = _run("bootstrap_demo")
    assert "ift_" in first
    assert "ifa_" in first
    assert "user 'demo'" in first
    second, _ = _run("bootstrap_demo")
    assert "already exists" in second
    assert "ift_" not in second
    assert Node.objects.filter(org__org_id="demo", node_id="platform").exists()
