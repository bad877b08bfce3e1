"""API.md §2.1–§2.2: opaque token verification, expiry, revocation, last use, peppers."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from tenancy.models import ApiToken, AuditEvent, TokenKind
from tenancy.services import api_token_issue, api_token_revoke
from tests.conftest import SYSTEM


def _error(response):
    return response.json()["error"]


def test_the_plaintext_secret_is_never_stored(member):
    token_id, secret = member.token.split(".")
    row = ApiToken.objects.get(token_id=token_id)
    assert secret not in row.digest
    assert len(row.digest) == 64


def test_an_expired_token_with_the_right_secret_gets_token_expired(team, anonymous):
    issued = api_token_issue(org=team.org, kind=TokenKind.TEAM, team=team, expires_in_days=1, meta=SYSTEM)
    anonymous.token = issued.plaintext
    with time_machine.travel(timezone.now() + timedelta(days=1, seconds=1)):
        response = anonymous.get("/auth/me")
    assert response.status_code == 401
    assert _error(response) == {**_error(response), "code": "token_expired", "message": "Token has expired"}
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="incidentfox", error="invalid_token"'
    assert AuditEvent.objects.filter(event_type="auth.denied", target=issued.token.token_id).exists()


def test_an_expired_token_with_a_wrong_secret_is_only_unauthorized(team, anonymous):
    issued = api_token_issue(org=team.org, kind=TokenKind.TEAM, team=team, expires_in_days=1, meta=SYSTEM)
    anonymous.token = issued.plaintext[:-3] + "AAA"
    with time_machine.travel(timezone.now() + timedelta(days=2)):
        response = anonymous.get("/auth/me")
    assert _error(response)["code"] == "unauthorized"


def test_revoked_token_is_rejected_with_401_on_the_next_request(member, django_capture_on_commit_callbacks):
    assert member.get("/auth/me").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        api_token_revoke(token=ApiToken.objects.get(token_id=member.token.split(".")[0]), meta=SYSTEM)
    response = member.get("/auth/me")
    assert response.status_code == 401
    assert _error(response)["code"] == "unauthorized"
    assert _error(response)["message"] == "Invalid or expired token"


def test_a_tampered_secret_is_rejected(member):
    member.token = member.token[:-1] + ("B" if member.token[-1] != "B" else "C")
    assert _error(member.get("/auth/me"))["code"] == "unauthorized"


def test_an_unknown_token_id_fails_exactly_like_a_wrong_secret(member, anonymous):
    anonymous.token = "ift_ZZZZZZZZZZZZ." + member.token.split(".")[1]
    unknown = anonymous.get("/auth/me")
    member.token = member.token[:-1] + ("B" if member.token[-1] != "B" else "C")
    wrong = member.get("/auth/me")
    assert unknown.status_code == wrong.status_code == 401
    assert {k: v for k, v in _error(unknown).items() if k != "request_id"} == {
        k: v for k, v in _error(wrong).items() if k != "request_id"
    }


def test_a_team_token_presented_with_the_admin_prefix_is_rejected(member):
    member.token = "ifa_" + member.token[4:]
    assert member.get("/auth/me").status_code == 401


@pytest.mark.parametrize(
    "header",
    [
        "Basic dXNlcjpwYXNz",
        "Bearer",
        "Bearer ",
        "Token ift_AAAAAAAAAAAA.BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB",
        "Bearer ift_short.secret",
        "Bearer xyz_AAAAAAAAAAAA.BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB",
        "Bearer not-a-jwt.at.all!",
    ],
)
def test_malformed_credentials_get_401_without_a_database_lookup(anonymous, header, django_assert_max_num_queries):
    with django_assert_max_num_queries(1):  # only the rate-limit counter for the client IP
        response = anonymous.client.get("/api/v1/auth/me", HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert _error(response)["message"] == "Invalid or expired token"
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_no_credential_gets_authentication_required(anonymous):
    response = anonymous.get("/auth/me")
    assert response.status_code == 401
    assert _error(response)["message"] == "Authentication required"
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="incidentfox"'


def test_the_bearer_scheme_is_case_insensitive(member):
    response = member.client.get("/api/v1/auth/me", HTTP_AUTHORIZATION=f"bEaReR {member.token}")
    assert response.status_code == 200


def test_last_used_is_written_at_most_once_a_minute(member):
    token_id = member.token.split(".")[0]
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        member.get("/auth/me")
        first = ApiToken.objects.get(token_id=token_id).last_used_at
    with time_machine.travel(start + timedelta(seconds=30), tick=False):
        member.get("/auth/me")
        assert ApiToken.objects.get(token_id=token_id).last_used_at == first
    with time_machine.travel(start + timedelta(seconds=61), tick=False):
        member.get("/auth/me")
        later = ApiToken.objects.get(token_id=token_id).last_used_at
        assert first is not None
        assert later is not None
        assert later > first


def test_tokens_keep_working_after_a_new_pepper_version_is_added(member, settings):
    old = dict(settings.TOKEN_PEPPERS)
    settings.TOKEN_PEPPERS = {**old, "99": "a-brand-new-pepper-0123456789"}
    assert member.get("/auth/me").status_code == 200
    fresh = api_token_issue(org=member.team.org, kind=TokenKind.TEAM, team=member.team, meta=SYSTEM)
    assert fresh.token.pepper_version == "99"


def test_a_token_whose_pepper_was_retired_no_longer_verifies(member, settings):
    settings.TOKEN_PEPPERS = {"99": "a-brand-new-pepper-0123456789"}
    assert member.get("/auth/me").status_code == 401


def test_expiry_defaults_to_the_org_token_policy(team):
    team.org.token_default_expiry_days = 30
    team.org.save()
    issued = api_token_issue(org=team.org, kind=TokenKind.TEAM, team=team, meta=SYSTEM)
    assert issued.token.expires_at is not None
    assert timedelta(days=29, hours=23) < issued.token.expires_at - timezone.now() <= timedelta(days=30)


def test_read_only_tokens_have_only_team_read(read_only_member):
    body = read_only_member.get("/auth/me").json()
    assert body["permissions"] == ["team:read"]
    assert body["can_write"] is False
