def test_team_token_sees_the_documented_team_shape(member):
    response = member.get("/auth/me")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {
        "role",
        "auth_kind",
        "org_id",
        "team_node_id",
        "subject",
        "email",
        "can_write",
        "permissions",
        "token_id",
        "expires_at",
    }
    assert body["role"] == "team"
    assert body["team_node_id"] == "team-platform"
    assert body["permissions"] == ["team:read", "team:write"]


def test_wrong_secret_gets_the_documented_401_with_a_request_id(member):
    member.token = member.token[:-1] + ("a" if member.token[-1] != "a" else "b")
    response = member.get("/auth/me")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="incidentfox", error="invalid_token"'
    error = response.json()["error"]
    assert error["code"] == "unauthorized"
    assert error["message"] == "Invalid or expired token"
    assert error["request_id"] == response.headers["X-Request-ID"]
