"""API.md §1: request ids, envelope, JSON-only bodies, size limits, routing and error precedence."""

import json
import re
import subprocess
import sys

import pytest

from incidentfox_web.ids import request_id


def test_a_well_formed_client_request_id_is_echoed_in_header_and_error(anonymous):
    response = anonymous.get("/auth/me", headers={"X-Request-ID": "abc.DEF_123-x"})
    assert response.headers["X-Request-ID"] == "abc.DEF_123-x"
    assert response.json()["error"]["request_id"] == "abc.DEF_123-x"


@pytest.mark.parametrize("supplied", ["", "has space", "x" * 129, "bad/char"])
def test_a_malformed_client_request_id_is_replaced_by_a_new_one(anonymous, supplied):
    response = anonymous.get("/auth/me", headers={"X-Request-ID": supplied})
    minted = response.headers["X-Request-ID"]
    assert minted.startswith("req_")
    assert len(minted) == 24


def test_minted_request_ids_do_not_repeat_within_a_process_or_across_processes():
    mint = [sys.executable, "-c", "from incidentfox_web.ids import request_id; print(request_id())"]
    elsewhere = {subprocess.run(mint, capture_output=True, text=True, check=True).stdout.strip() for _ in range(2)}
    here = {request_id() for _ in range(10_000)}
    assert len(here) == 10_000
    assert len(elsewhere) == 2
    assert not elsewhere & here
    assert all(re.fullmatch(r"req_[A-Za-z0-9]{20}", minted) for minted in [*list(here)[:100], *elsewhere])


def test_bodies_are_bare_by_default_and_wrapped_with_envelope_true(member):
    bare = member.get("/auth/me").json()
    assert bare["role"] == "team"
    wrapped = member.get("/auth/me", envelope="true").json()
    assert wrapped["data"] == bare
    assert set(wrapped["meta"]) == {"request_id", "timestamp"}
    assert wrapped["meta"]["timestamp"].endswith("Z")


def test_errors_are_never_wrapped_in_the_envelope(anonymous):
    body = anonymous.get("/auth/me", envelope="1").json()
    assert set(body) == {"error"}


def test_an_unknown_envelope_value_is_a_validation_error(member):
    response = member.get("/auth/me", envelope="yes")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"


def test_a_non_json_body_is_refused_with_415(org_admin):
    response = org_admin.client.post(
        "/api/v1/admin/teams", "team_id=x", content_type="text/plain", headers=org_admin._headers(None)
    )
    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_media_type"


def test_json_with_a_charset_parameter_is_accepted(org_admin):
    response = org_admin.client.post(
        "/api/v1/admin/teams",
        json.dumps({"team_id": "team-x", "name": "X"}),
        content_type="application/json; charset=utf-8",
        headers=org_admin._headers(None),
    )
    assert response.status_code == 201


@pytest.mark.parametrize("raw", [b"{not json", b"[1, 2]", b'"text"', b"\xff\xfe{}", b'{"a": NaN}'])
def test_invalid_json_or_a_non_object_body_is_an_invalid_request(org_admin, raw):
    response = org_admin.client.post(
        "/api/v1/admin/teams", raw, content_type="application/json", headers=org_admin._headers(None)
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_request"


def test_a_body_over_one_mebibyte_is_refused_with_413(org_admin):
    body = json.dumps({"team_id": "team-x", "name": "x" * (1024 * 1024)})
    response = org_admin.client.post(
        "/api/v1/admin/teams", body, content_type="application/json", headers=org_admin._headers(None)
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"


def test_an_empty_body_reads_as_an_empty_object(org_admin, team):
    response = org_admin.client.post(
        f"/api/v1/admin/teams/{team.node_id}/tokens", b"", content_type="", headers=org_admin._headers(None)
    )
    assert response.status_code == 201


def test_an_unknown_route_is_a_json_404_even_without_credentials(anonymous):
    response = anonymous.get("/no/such/route")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_a_wrong_method_is_405_with_allow_before_authentication(anonymous):
    response = anonymous.client.delete("/api/v1/auth/me")
    assert response.status_code == 405
    assert "GET" in response.headers["Allow"]
    assert response.json()["error"]["code"] == "method_not_allowed"


def test_one_trailing_slash_is_tolerated_without_a_redirect(member):
    assert member.get("/auth/me/").status_code == 200


def test_head_works_wherever_get_does(member):
    response = member.client.head("/api/v1/auth/me", headers=member._headers(None))
    assert response.status_code == 200


def test_health_needs_no_credential_and_has_no_rate_limit_headers(anonymous):
    response = anonymous.client.get("/api/v1/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "X-RateLimit-Limit" not in response.headers


def test_responses_are_json_with_a_utf8_charset(member):
    assert member.get("/auth/me").headers["Content-Type"] == "application/json; charset=utf-8"


def test_the_openapi_schema_describes_both_token_kinds_and_the_error_body(anonymous):
    response = anonymous.client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = json.loads(response.content)
    schemes = schema["components"]["securitySchemes"]
    assert {"teamToken", "adminToken", "oidcJwt"} <= set(schemes)
    assert "Error" in schema["components"]["schemas"]
    assert "/api/v1/auth/me" in schema["paths"] or "/api/v1/auth/me/" in schema["paths"]


def test_the_swagger_ui_page_is_served_with_local_assets(anonymous):
    response = anonymous.client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui" in html
    assert "cdn" not in html.lower()
