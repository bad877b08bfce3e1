"""One authentication path: every DRF view (the API, the schema, the browsable API) reads the token's row on every
request, so a revoked token is refused everywhere on its very next request."""

from __future__ import annotations

import pytest

from tenancy.models import ApiToken
from tenancy.services import api_token_revoke
from tests.conftest import SYSTEM, ApiCaller

pytestmark = pytest.mark.django_db

PATHS = ["/api/v1/auth/me", "/api/v1/agents/investigations", "/api/v1/schema/", "/api/docs/", "/api/redoc/"]


@pytest.mark.parametrize("path", PATHS)
def test_a_revoked_token_is_refused_with_401_on_its_next_request_everywhere(member: ApiCaller, path: str) -> None:
    headers = {"Authorization": f"Bearer {member.token}"}
    assert member.client.get(path, headers=headers).status_code == 200
    api_token_revoke(token=ApiToken.objects.get(token_id=member.token.split(".")[0]), meta=SYSTEM)
    response = member.client.get(path, headers=headers)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_the_browsable_api_refuses_a_revoked_token_too(member: ApiCaller) -> None:
    headers = {"Authorization": f"Bearer {member.token}", "Accept": "text/html"}
    api_token_revoke(token=ApiToken.objects.get(token_id=member.token.split(".")[0]), meta=SYSTEM)
    assert member.client.get("/api/v1/auth/me", headers=headers).status_code == 401


def test_the_schema_is_rate_limited_like_the_api_in_the_documented_error_shape(
    member: ApiCaller, one_rate_window: None
) -> None:
    org = member.team.org
    org.rate_limits = {"read": 2}
    org.save()
    headers = {"Authorization": f"Bearer {member.token}"}
    statuses = [member.client.get("/api/v1/schema/", headers=headers).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    response = member.client.get("/api/v1/schema/", headers={**headers, "Accept": "application/json"})
    assert response.json()["error"]["code"] == "rate_limited"
    assert int(response["Retry-After"]) >= 1
