"""Input alone never makes a 500 (API.md §1.3): every write endpoint and the alert webhooks answer 400 in the
documented error shape, naming the field, for text no database can store (NUL, lone surrogates), numbers beyond
double range, nesting too deep to walk, and times beyond the calendar's edge."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from tests.alerts.conftest import AM_TOKEN, am_alert, am_payload, configure, integrations
from tests.conftest import SYSTEM, ApiCaller

pytestmark = pytest.mark.django_db

NUL = "a\u0000b"
SURROGATE = "\ud800"
DEEP = 50_000  # beyond the JSON parser's recursion limit
NESTED = 1_200  # parses, but is deeper than any stored document may be


def _error(response: Any) -> dict[str, Any]:
    assert response["Content-Type"].startswith("application/json"), response.content
    body = json.loads(response.content)
    assert set(body) == {"error"}, body
    assert {"code", "message", "request_id"} <= set(body["error"]), body
    return body["error"]


def _send(caller: ApiCaller, method: str, path: str, raw: str) -> Any:
    headers = {"Authorization": f"Bearer {caller.token}"}
    if caller.team is None:
        headers["X-Team-Id"] = "team-platform"
    send = getattr(caller.client, method.lower())
    return send(f"/api/v1{path}", raw, content_type="application/json", headers=headers)


def _raw(body: dict[str, Any]) -> str:
    """JSON text for ``body``; lone surrogates stay escapes (``\\ud800``), as a client would send them."""
    return json.dumps(body)


def _deep(depth: int) -> str:
    return "[" * depth + "]" * depth


# (caller, method, path, a valid body, the stored string fields of that body as dotted paths)
WRITES: list[tuple[str, str, str, dict[str, Any], list[str]]] = [
    (
        "member",
        "POST",
        "/agents/run",
        {
            "agent_name": "planner",
            "message": "checkout is slow",
            "async": True,
            "context": {"service": "checkout", "attachments": [{"name": "log.txt", "content": "error"}]},
        },
        ["message", "context.service", "context.attachments.0.name", "context.attachments.0.content"],
    ),
    ("member", "PUT", "/config/me", {"agents": {"planner": {"prompt": "be brief"}}}, ["agents.planner.prompt"]),
    ("member", "PATCH", "/config/me", {"agents": {"planner": {"prompt": "be brief"}}}, ["agents.planner.prompt"]),
    ("member", "POST", "/webhooks/test", {"url": "https://hooks.example.com/x"}, ["url"]),
    ("org_admin", "POST", "/admin/teams", {"team_id": "team-new", "name": "New team"}, ["name", "team_id"]),
    ("org_admin", "POST", "/admin/teams/team-platform/tokens", {"label": "ci"}, ["label"]),
    ("org_admin", "POST", "/admin/tokens/revoke", {"token_id": "ift_AAAAAAAAAAAA"}, ["token_id"]),
    ("org_admin", "PATCH", "/admin/settings", {"token_policy": {"default_expiry_days": 30}}, []),
    (
        "org_admin",
        "PUT",
        "/admin/teams/team-platform/config",
        {"team_name": "Platform", "agents": {"planner": {"prompt": "x"}}},
        ["team_name", "agents.planner.prompt"],
    ),
    (
        "org_admin",
        "PATCH",
        "/admin/teams/team-platform/config",
        {"team_name": "Platform", "agents": {"planner": {"prompt": "x"}}},
        ["team_name", "agents.planner.prompt"],
    ),
    ("org_admin", "POST", "/admin/changes/cr_AAAAAAAAAAAAAAAAAAAA/approve", {"comment": "ok"}, ["comment"]),
    ("org_admin", "POST", "/admin/changes/cr_AAAAAAAAAAAAAAAAAAAA/reject", {"comment": "no"}, ["comment"]),
]
IDS = [f"{method} {path}" for _, method, path, _, _ in WRITES]


def _set(body: dict[str, Any], dotted: str, value: Any) -> dict[str, Any]:
    copy = json.loads(json.dumps(body))
    *parents, last = dotted.split(".")
    node: Any = copy
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    node[last] = value
    return copy


def _bad_bodies(body: dict[str, Any], fields: list[str]) -> list[tuple[str, str, str | None]]:
    """(what, raw JSON, the field the error must name or None for body-level errors)."""
    bodies: list[tuple[str, str, str | None]] = []
    for field in fields:
        named = field.replace(".0.", "[0].")
        bodies.append((f"NUL in {field}", _raw(_set(body, field, NUL)), named))
        bodies.append((f"lone surrogate in {field}", _raw(_set(body, field, SURROGATE)), named))
    bodies.append(("NUL in a key", _raw({**body, "x\u0000": 1}), None))
    bodies.append(("1e400", _raw(body)[:-1] + ', "big": 1e400}', "big"))
    bodies.append(("-1e400 deep inside", _raw(body)[:-1] + ', "n": {"m": [-1e400]}}', "n.m[0]"))
    bodies.append((f"{DEEP} levels deep", _raw(body)[:-1] + f', "deep": {_deep(DEEP)}}}', None))
    bodies.append((f"{NESTED} levels deep", _raw(body)[:-1] + f', "deep": {_deep(NESTED)}}}', None))
    return bodies


@pytest.fixture
def callers(member: ApiCaller, org_admin: ApiCaller, team: Any) -> dict[str, ApiCaller]:
    team.org.rate_limits = {"trigger": 1000, "write": 1000}  # every variant is counted; none may be refused for that
    team.org.save()
    return {"member": member, "org_admin": org_admin}


@pytest.mark.parametrize(("who", "method", "path", "body", "fields"), WRITES, ids=IDS)
def test_bad_input_to_a_write_endpoint_is_a_400_naming_the_field_never_a_500(
    callers: dict[str, ApiCaller], who: str, method: str, path: str, body: dict[str, Any], fields: list[str]
) -> None:
    caller = callers[who]
    for what, raw, field in _bad_bodies(body, fields):
        response = _send(caller, method, path, raw)
        assert response.status_code == 400, (what, response.status_code, response.content[:300])
        error = _error(response)
        assert error["code"] in ("invalid_request", "validation_error"), (what, error)
        if field is not None:
            assert error.get("field") == field, (what, error)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"q": NUL}, "q"),
        ({"agent": NUL}, "agent"),
        ({"status": NUL}, "status"),
        ({"since": "0001-01-01T00:00:00+14:00"}, "since"),
        ({"until": "9999-12-31T23:59:59-14:00"}, "until"),
        ({"since": "2024-13-45"}, "since"),
    ],
)
def test_bad_query_parameters_are_a_400_naming_the_parameter(member: ApiCaller, params: dict[str, str], field: str):
    response = member.get("/agents/investigations", **params)
    assert response.status_code == 400, response.content
    assert _error(response)["field"] == field


@pytest.mark.parametrize("path", ["/integrations/deliveries", "/webhooks/deliveries", "/admin/audit"])
def test_a_nul_in_any_list_filter_is_a_400(member: ApiCaller, org_admin: ApiCaller, path: str) -> None:
    caller = org_admin if path.startswith("/admin") else member
    response = caller.get(path, headers={"X-Team-Id": "team-platform"} if caller is org_admin else None, x=NUL)
    assert response.status_code == 400, response.content
    assert _error(response)["field"] == "x"


@pytest.mark.parametrize(
    ("what", "alert", "field"),
    [
        ("NUL in the alert name", {"labels": {"alertname": NUL}}, "alerts[0].labels.alertname"),
        ("lone surrogate in a summary", {"annotations": {"summary": SURROGATE}}, "alerts[0].annotations.summary"),
        ("1e400 in a label", {"labels": {"n": 1e400}}, "alerts[0].labels.n"),
    ],
)
def test_bad_input_in_an_alertmanager_payload_is_a_400_and_is_logged(
    client: Client, team: Any, what: str, alert: dict[str, Any], field: str
) -> None:
    configure(team, integrations())
    base = am_alert("3f2a9c1d7b6e8f00")
    for key, value in alert.items():
        base[key] = {**base[key], **value}
    raw = json.dumps(am_payload(base)).replace("Infinity", "1e400")
    response = client.post(
        "/api/v1/integrations/alertmanager/org-acme/team-platform",
        raw,
        content_type="application/json",
        headers={"Authorization": f"Bearer {AM_TOKEN}"},
    )
    assert response.status_code == 400, (what, response.content)
    assert _error(response)["field"] == field


@pytest.mark.parametrize("moment", ["9999-12-31T23:59:59-14:00", "0002-01-01T00:00:00+14:00"])
def test_an_alert_time_at_the_calendars_edge_is_read_or_ignored_never_a_500(
    client: Client, team: Any, moment: str
) -> None:
    configure(team, integrations())
    alert = {**am_alert("3f2a9c1d7b6e8f00"), "startsAt": moment}
    response = client.post(
        "/api/v1/integrations/alertmanager/org-acme/team-platform",
        json.dumps(am_payload(alert)),
        content_type="application/json",
        headers={"Authorization": f"Bearer {AM_TOKEN}"},
    )
    assert response.status_code == 202, response.content


def test_a_payload_nested_beyond_the_parsers_reach_is_a_400_at_the_alert_webhook(client: Client, team: Any) -> None:
    configure(team, integrations())
    raw = json.dumps(am_payload(am_alert("3f2a9c1d7b6e8f00")))[:-1] + f', "deep": {_deep(DEEP)}}}'
    response = client.post(
        "/api/v1/integrations/alertmanager/org-acme/team-platform",
        raw,
        content_type="application/json",
        headers={"Authorization": f"Bearer {AM_TOKEN}"},
    )
    assert response.status_code == 400, response.content
    assert _error(response)["code"] == "invalid_request"
    assert "nested" in _error(response)["message"]


def test_nothing_half_written_survives_a_refused_body(member: ApiCaller) -> None:
    from investigations.models import Investigation

    raw = _raw({"agent_name": "planner", "message": NUL, "async": True})
    assert _send(member, "POST", "/agents/run", raw).status_code == 400
    assert not Investigation.objects.exists()
    assert SYSTEM.actor  # the system actor is importable for the fixtures above
