"""The Python SDK takes its token and base URL from the environment, so the documented example needs no arguments."""

from __future__ import annotations

import httpx
import pytest
from incidentfox import IncidentFoxClient, IncidentFoxError


def _seen(client: IncidentFoxClient) -> httpx.Request:
    client.config.get_effective()
    return SEEN[-1]


SEEN: list[httpx.Request] = []


def _transport() -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        SEEN.append(request)
        return httpx.Response(200, json={"team_name": "Platform", "mcp_servers": []})

    return httpx.MockTransport(handler)


def test_token_and_base_url_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("INCIDENTFOX_API_KEY", raising=False)
    monkeypatch.setenv("INCIDENTFOX_TOKEN", "ift_from_token_var")
    monkeypatch.setenv("INCIDENTFOX_BASE_URL", "http://self-hosted.example/api/v1/")
    request = _seen(IncidentFoxClient(transport=_transport()))
    assert request.headers["Authorization"] == "Bearer ift_from_token_var"
    assert str(request.url) == "http://self-hosted.example/api/v1/config/me/effective"
    monkeypatch.setenv("INCIDENTFOX_API_KEY", "ift_from_api_key_var")
    assert _seen(IncidentFoxClient(transport=_transport())).headers["Authorization"] == "Bearer ift_from_api_key_var"


def test_explicit_arguments_win_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INCIDENTFOX_API_KEY", "ift_env")
    monkeypatch.setenv("INCIDENTFOX_BASE_URL", "http://env.example/api/v1")
    client = IncidentFoxClient("ift_arg", "http://arg.example/api/v1", transport=_transport())
    request = _seen(client)
    assert (request.headers["Authorization"], request.url.host) == ("Bearer ift_arg", "arg.example")


def test_no_token_anywhere_is_a_clear_incidentfox_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("INCIDENTFOX_API_KEY", raising=False)
    monkeypatch.delenv("INCIDENTFOX_TOKEN", raising=False)
    with pytest.raises(IncidentFoxError, match="INCIDENTFOX_API_KEY"):
        IncidentFoxClient()
