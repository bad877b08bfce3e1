"""The hardened egress client: public addresses only, pinned connections, read cap (API.md §6.3)."""

from __future__ import annotations

import ipaddress

import pytest

from incidentfox_web import egress
from tests.webhooks.conftest import Reply

pytestmark = pytest.mark.django_db

BLOCKED = [
    "127.0.0.1",
    "10.1.2.3",
    "172.16.0.1",
    "192.168.1.10",
    "100.64.0.1",
    "169.254.169.254",
    "0.0.0.0",
    "224.0.1.1",
    "240.0.0.1",
    "255.255.255.255",
    "::1",
    "fc00::1",
    "fd12:3456::1",
    "fe80::1",
    "ff02::1",
    "::ffff:127.0.0.1",
    "::ffff:10.0.0.1",
    "2002:7f00:1::1",  # 6to4 wrapping 127.0.0.1
]


@pytest.mark.parametrize("address", BLOCKED)
def test_non_public_addresses_are_not_public(address):
    assert not egress.is_public(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111"])
def test_public_addresses_are_public(address):
    assert egress.is_public(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["127.0.0.1", "10.0.0.5", "169.254.169.254", "[::1]", "[fc00::1]"])
def test_literal_private_targets_are_refused_as_blocked_address(settings, address):
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False
    settings.EGRESS_ALLOW_LOOPBACK = False
    result = egress.post_json(f"http://{address}:9/hook", b"{}", {})
    assert result.error == "blocked_address"
    assert not result.retryable
    assert result.status is None


def test_a_loopback_receiver_is_refused_when_private_targets_are_not_allowed(settings, receiver):
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False
    settings.EGRESS_ALLOW_LOOPBACK = False
    result = egress.post_json(receiver.url, b"{}", {})
    assert result.error == "blocked_address"
    assert receiver.requests == []


def test_a_hostname_resolving_to_loopback_is_refused(settings, receiver):
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False
    settings.EGRESS_ALLOW_LOOPBACK = False
    result = egress.post_json(f"http://localhost:{receiver.port}/hook", b"{}", {})
    assert result.error == "blocked_address"
    assert receiver.requests == []


def test_one_private_address_among_public_ones_refuses_the_host(settings, monkeypatch):
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False
    settings.EGRESS_ALLOW_LOOPBACK = False
    monkeypatch.setattr(egress, "_lookup", lambda host, port: ["93.184.216.34", "10.0.0.7"])
    assert egress.post_json("https://hooks.example.com/x", b"{}", {}).error == "blocked_address"


def test_the_connection_is_pinned_to_the_vetted_address_and_keeps_the_host(settings, receiver, monkeypatch):
    """Resolved once: a second answer (DNS rebinding) is never asked for; the Host header keeps the name."""
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = True
    answers = iter([["127.0.0.1"], ["203.0.113.9"]])
    calls: list[str] = []

    def resolve(host, *args, **kwargs):
        calls.append(host)
        return next(answers)

    monkeypatch.setattr(egress, "_lookup", resolve)
    result = egress.post_json(f"http://hooks.customer.test:{receiver.port}/in", b'{"a":1}', {"webhook-id": "msg_1"})
    assert result.success
    assert calls == ["hooks.customer.test"]
    request = receiver.requests[0]
    assert request.headers["host"] == f"hooks.customer.test:{receiver.port}"
    assert request.path == "/in"
    assert request.headers["user-agent"] == "IncidentFox-Webhooks/1"


def test_https_sends_sni_for_the_original_name(settings, monkeypatch):
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False
    monkeypatch.setattr(egress, "_lookup", lambda host, port: ["93.184.216.34"])
    seen: dict = {}

    def record(transport, request):
        seen["url"], seen["extensions"], seen["host"] = str(request.url), request.extensions, request.headers["host"]
        raise egress.httpx.ConnectError("stop here")

    monkeypatch.setattr(egress.httpx.HTTPTransport, "handle_request", record)
    monkeypatch.setenv("HTTPS_PROXY", "http://198.51.100.1:3128")  # ignored: proxies from the environment are
    result = egress.post_json("https://hooks.example.com/in?x=1", b"{}", {})
    assert result.retryable
    assert seen["url"] == "https://93.184.216.34/in?x=1"
    assert seen["extensions"]["sni_hostname"] == "hooks.example.com"
    assert seen["host"] == "hooks.example.com"


@pytest.mark.parametrize("url", ["ftp://example.com/x", "http://user:pw@example.com/", "/relative", "http://"])
def test_only_absolute_http_urls_without_user_info_are_called(url):
    assert egress.post_json(url, b"{}", {}).error == "invalid_url"


def test_the_response_is_read_up_to_64_kib(settings, receiver, monkeypatch):
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = True
    receiver.reply(Reply(200, body=b"x" * (1024 * 1024)))
    read: list[int] = []
    original = egress.httpx.Response.iter_raw

    def counting(self, *args, **kwargs):
        for chunk in original(self, *args, **kwargs):
            read.append(len(chunk))
            yield chunk

    monkeypatch.setattr(egress.httpx.Response, "iter_raw", counting)
    result = egress.post_json(receiver.url, b"{}", {})
    assert result.success
    assert egress.READ_CAP_BYTES <= sum(read) < egress.READ_CAP_BYTES + 70 * 1024


def test_retry_after_accepts_seconds_and_http_dates():
    from datetime import UTC, datetime

    now = datetime(2024, 1, 15, 14, 45, tzinfo=UTC)
    assert egress.parse_retry_after("120") == 120
    assert egress.parse_retry_after("Mon, 15 Jan 2024 14:50:00 GMT", now=now) == 300
    assert egress.parse_retry_after("soon") is None
    assert egress.parse_retry_after(None) is None
