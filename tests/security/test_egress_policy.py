"""The one egress policy, over real sockets: what a tenant's URL may reach, and the refusal each vector gets.

Each refused case points at a live loopback server that counts requests: zero means nothing left the process.
"""

from __future__ import annotations

import ipaddress
import threading
from typing import Any

import httpx
import pytest

from engine.connectors import ToolFailure
from engine.connectors.http import request_json, using_egress
from engine.registry import connector_factory
from incidentfox_web import egress
from incidentfox_web.egress import EgressPolicy, TenantEgress, parse_ip_literal, policy_for
from tests.security.conftest import Answer, CountingServer

pytestmark = pytest.mark.django_db

# Every way of writing 127.0.0.1 that a resolver reads as it.
LOOPBACK_FORMS = ["127.0.0.1", "2130706433", "0x7f000001", "017700000001", "127.1", "0x7f.1", "[::ffff:127.0.0.1]"]


@pytest.mark.parametrize(
    ("host", "address"),
    [
        ("2130706433", "127.0.0.1"),
        ("0x7f000001", "127.0.0.1"),
        ("017700000001", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("0", "0.0.0.0"),
        ("2852039166", "169.254.169.254"),
        ("[::ffff:127.0.0.1]", "::ffff:127.0.0.1"),
        ("224.0.0.1", "224.0.0.1"),
    ],
)
def test_every_ip_form_a_resolver_reads_is_parsed_as_that_address(host: str, address: str) -> None:
    assert parse_ip_literal(host) == ipaddress.ip_address(address)


@pytest.mark.parametrize("host", ["prometheus.acme.internal", "1.2.3.4.5", "0x", "127.0.0.1.nip.io", ""])
def test_names_are_not_mistaken_for_addresses(host: str) -> None:
    assert parse_ip_literal(host) is None


@pytest.mark.parametrize(
    "address", ["64:ff9b::7f00:1", "2002:7f00:1::1", "::ffff:169.254.169.254", "64:ff9b::a9fe:a9fe"]
)
def test_nat64_6to4_and_mapped_forms_are_judged_by_the_ipv4_address_inside(address: str) -> None:
    policy = EgressPolicy(allow_private=True, allow_loopback=False)
    assert not policy.allows("x", ipaddress.ip_address(address))


def test_data_sources_may_reach_private_ranges_but_never_link_local_or_metadata(no_loopback: Any) -> None:
    policy = policy_for("data_source")
    assert policy.allows("prom", ipaddress.ip_address("10.1.2.3"))
    assert policy.allows("prom", ipaddress.ip_address("fd00::5"))
    for refused in ("169.254.169.254", "fe80::1", "127.0.0.1", "::1", "0.0.0.0", "224.0.0.1", "240.0.0.1"):
        assert not policy.allows("prom", ipaddress.ip_address(refused)), refused


def test_webhooks_reach_public_addresses_only_by_default(no_loopback: Any) -> None:
    policy = policy_for("webhook")
    assert policy.allows("hooks", ipaddress.ip_address("93.184.216.34"))
    assert not policy.allows("hooks", ipaddress.ip_address("10.1.2.3"))


def test_an_allowlist_narrows_private_ranges_and_a_denylist_always_wins(no_loopback: Any) -> None:
    no_loopback.EGRESS_ALLOWED_NETWORKS = ["10.20.0.0/16", "vault.acme.internal"]
    no_loopback.EGRESS_DENIED_NETWORKS = ["10.20.9.0/24", "8.8.8.8"]
    policy = policy_for("data_source")
    assert policy.allows("prom", ipaddress.ip_address("10.20.1.1"))
    assert not policy.allows("prom", ipaddress.ip_address("10.30.1.1"))  # private, outside the allowlist
    assert not policy.allows("prom", ipaddress.ip_address("10.20.9.9"))  # denied inside the allowlist
    assert not policy.allows("dns", ipaddress.ip_address("8.8.8.8"))  # denied public address
    assert policy.allows("vault.acme.internal", ipaddress.ip_address("192.168.7.7"))  # an allowed host name
    assert policy.allows("example", ipaddress.ip_address("93.184.216.34"))  # public stays allowed


def test_the_deployments_own_addresses_are_refused_unless_allowlisted(no_loopback: Any) -> None:
    no_loopback.EGRESS_DEPLOYMENT_ADDRESSES = ["10.0.0.5"]
    assert not policy_for("data_source").allows("self", ipaddress.ip_address("10.0.0.5"))
    no_loopback.EGRESS_ALLOWED_NETWORKS = ["10.0.0.5/32"]
    assert policy_for("data_source").allows("self", ipaddress.ip_address("10.0.0.5"))


# -- real sockets ------------------------------------------------------------------------------------------
def _prometheus(url: str) -> Any:
    factory = connector_factory("prometheus")
    assert factory is not None
    with using_egress(TenantEgress()):
        return factory({"url": url, "auth": "Bearer S8PROM-secret-token", "timeout": 5})


@pytest.mark.parametrize("host", LOOPBACK_FORMS)
def test_a_data_source_url_on_loopback_in_any_form_is_refused_before_a_socket_opens(
    no_loopback: Any, receiver: CountingServer, host: str
) -> None:
    client = _prometheus(receiver.url(host))
    with pytest.raises(ToolFailure) as raised:
        client.alerts()
    assert raised.value.message == "Prometheus URL resolves to a refused address"
    assert raised.value.unreachable
    assert receiver.requests == []


def test_a_name_resolving_to_loopback_is_refused(no_loopback: Any, receiver: CountingServer) -> None:
    client = _prometheus(receiver.url("localhost"))
    with pytest.raises(ToolFailure, match="Prometheus URL resolves to a refused address"):
        client.alerts()
    assert receiver.requests == []


def test_the_cloud_metadata_address_is_refused(no_loopback: Any) -> None:
    for url in ("http://169.254.169.254/latest/meta-data/", "http://2852039166/", "http://[fe80::1]:9090/"):
        with pytest.raises(ToolFailure, match="refused address"):
            _prometheus(url).alerts()


def test_with_loopback_allowed_the_same_request_arrives_pinned_with_its_host_header(
    no_loopback: Any, receiver: CountingServer
) -> None:
    no_loopback.EGRESS_ALLOW_LOOPBACK = True
    receiver.reply_json(200, {"status": "success", "data": {"alerts": []}})
    assert _prometheus(receiver.url("localhost")).alerts() == []
    method, path, headers = receiver.requests[0]
    assert (method, path) == ("GET", "/api/v1/alerts")
    assert headers["host"] == f"localhost:{receiver.port}"


def test_a_redirect_is_never_followed_to_a_refused_address(no_loopback: Any) -> None:
    """The allowed server (127.0.0.2, allowlisted) redirects to a refused one (127.0.0.1): a client that follows
    redirects is refused at the second hop, and the connectors do not follow them at all."""
    no_loopback.EGRESS_ALLOWED_NETWORKS = ["127.0.0.2/32"]
    target = CountingServer("127.0.0.1")
    allowed = CountingServer("127.0.0.2")
    try:
        allowed.answer = Answer(302, b"", {"Location": target.url(path="/latest/meta-data/")})
        transport = egress.PinnedTransport(policy_for("data_source"))
        with (
            httpx.Client(transport=transport, follow_redirects=True) as client,
            pytest.raises(egress.EgressRefusedError) as raised,
        ):
            client.get(allowed.url(path="/api/v1/alerts"))
        assert raised.value.egress_refusal == "resolves to a refused address"
        with pytest.raises(ToolFailure, match="Prometheus returned 302"):
            _prometheus(allowed.url()).alerts()
        assert len(allowed.requests) == 2
        assert target.requests == []
    finally:
        allowed.stop()
        target.stop()


def test_an_answer_that_changes_between_check_and_connect_cannot_move_the_request(
    no_loopback: Any, receiver: CountingServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DNS rebinding: the name is resolved once for the run's connector and every request goes to that address."""
    no_loopback.EGRESS_ALLOW_LOOPBACK = True
    asked: list[str] = []

    answers = iter([["127.0.0.1"], ["169.254.169.254"]])

    def lookup(host: str, port: int) -> list[str]:
        asked.append(host)
        return next(answers)

    monkeypatch.setattr(egress, "_lookup", lookup)
    receiver.reply_json(200, {"status": "success", "data": {"alerts": []}})
    client = _prometheus(f"http://prometheus.rebind.test:{receiver.port}")
    client.alerts()
    client.alerts()  # a second query of the same run: the vetted address, not a new answer
    assert asked == ["prometheus.rebind.test"]
    assert len(receiver.requests) == 2
    assert {request[2]["host"] for request in receiver.requests} == {f"prometheus.rebind.test:{receiver.port}"}


def _kubeconfig(server: str) -> str:
    return f"""
apiVersion: v1
kind: Config
clusters: [{{name: c, cluster: {{server: "{server}"}}}}]
users: [{{name: u, user: {{token: abc}}}}]
contexts: [{{name: x, context: {{cluster: c, user: u}}}}]
current-context: x
"""


def test_kubernetes_api_server_urls_go_through_the_same_policy(no_loopback: Any, receiver: CountingServer) -> None:
    factory = connector_factory("kubernetes")
    assert factory is not None
    with using_egress(TenantEgress()), pytest.raises(ToolFailure) as raised:
        factory({"kubeconfig": _kubeconfig(receiver.url("localhost"))})
    assert raised.value.message == "Kubernetes API server URL resolves to a refused address"
    assert receiver.connections == 0


def test_the_kubernetes_client_is_pinned_to_the_vetted_address_with_the_name_kept_for_tls(
    no_loopback: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    no_loopback.EGRESS_ALLOW_LOOPBACK = True
    monkeypatch.setattr(egress, "_lookup", lambda host, port: ["127.0.0.1"])
    factory = connector_factory("kubernetes")
    assert factory is not None
    with using_egress(TenantEgress()):
        client = factory({"kubeconfig": _kubeconfig("https://k8s.acme.test:6443")})
    assert client.api.configuration.host == "https://127.0.0.1:6443"
    assert client.api.configuration.tls_server_name == "k8s.acme.test"


# -- the HTTP helper -----------------------------------------------------------------------------------------
class _Streamer:
    """Streams an endless JSON-ish body in 64 KiB chunks and counts the bytes it managed to send."""

    def __init__(self) -> None:
        import socket

        self.sent = 0
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        connection, _ = self.listener.accept()
        with connection:
            connection.recv(65536)
            connection.sendall(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1073741824\r\n\r\n"
            )
            chunk = b" " * 65536
            try:
                while self.sent < 1024 * 1024 * 1024:
                    connection.sendall(chunk)
                    self.sent += len(chunk)
            except OSError:
                return


def test_the_http_helper_stops_reading_at_its_size_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    from engine.connectors import http as helper

    monkeypatch.setattr(helper, "MAX_RESPONSE_BYTES", 1024 * 1024)
    streamer = _Streamer()
    with (
        httpx.Client(base_url=f"http://127.0.0.1:{streamer.port}") as client,
        pytest.raises(ToolFailure, match="larger than 1 MiB"),
    ):
        request_json(client, "GET", "/big", source="Prometheus")
    streamer.thread.join(10)
    streamer.listener.close()
    assert not streamer.thread.is_alive()
    # The server could only push what fits in the socket buffers past the 1 MiB read: far from the 1 GiB body.
    assert streamer.sent < 64 * 1024 * 1024


# -- the Datadog, Sentry and Coralogix data sources ---------------------------------------------------------------
def _source(name: str, settings: dict[str, Any]) -> Any:
    factory = connector_factory(name)
    assert factory is not None
    with using_egress(TenantEgress()):
        return factory({**settings, "timeout": 5})


def test_a_datadog_url_on_loopback_is_refused_before_its_client_is_built(
    no_loopback: Any, receiver: CountingServer
) -> None:
    with pytest.raises(ToolFailure) as raised:
        _source("datadog", {"api_key": "dd-key-000", "app_key": "dd-app-000", "base_url": receiver.url("localhost")})
    assert raised.value.message == "Datadog URL resolves to a refused address"
    assert receiver.connections == 0


def test_the_datadog_client_is_pinned_to_the_vetted_address_with_the_name_kept_for_tls(
    no_loopback: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    no_loopback.EGRESS_ALLOW_LOOPBACK = True
    monkeypatch.setattr(egress, "_lookup", lambda host, port: ["127.0.0.1"])
    client = _source("datadog", {"api_key": "dd-key-000", "app_key": "dd-app-000", "site": "datadoghq.eu"})
    assert client.api.configuration.host == "https://127.0.0.1"
    assert client.api.configuration.assert_hostname == "api.datadoghq.eu"
    assert client.api.rest_client.pool_manager.connection_pool_kw["server_hostname"] == "api.datadoghq.eu"


def test_a_pinned_datadog_client_reaches_the_vetted_address_with_its_keys(
    no_loopback: Any, receiver: CountingServer
) -> None:
    no_loopback.EGRESS_ALLOW_LOOPBACK = True
    receiver.reply_json(200, [])
    client = _source("datadog", {"api_key": "dd-key-000", "app_key": "dd-app-000", "base_url": receiver.url()})
    assert client.call("monitors", client.monitors.list_monitors) == []
    _, path, headers = receiver.requests[0]
    assert path == "/api/v1/monitor"
    assert (headers["dd-api-key"], headers["dd-application-key"]) == ("dd-key-000", "dd-app-000")


def _first_read(name: str, client: Any) -> Any:
    if name == "sentry":
        return client.issues("payments", query="is:unresolved")
    return client.search(text=None, service=None, start=0.0, end=60.0, limit=10)


@pytest.mark.parametrize(
    ("name", "source_settings"),
    [
        ("sentry", {"token": "sntrys_x", "organization": "acme"}),
        ("coralogix", {"api_key": "cx_x", "domain": "eu2.coralogix.com"}),
    ],
)
def test_sentry_and_coralogix_urls_go_through_the_same_policy(
    no_loopback: Any, receiver: CountingServer, name: str, source_settings: dict[str, Any]
) -> None:
    client = _source(name, {**source_settings, "base_url": receiver.url("localhost")})
    with pytest.raises(ToolFailure) as raised:
        _first_read(name, client)
    assert raised.value.message == f"{name.capitalize()} URL resolves to a refused address"
    assert receiver.requests == []


class _TlsServer:
    """HTTPS on loopback with a certificate for ``name`` only; records the SNI name each handshake presented."""

    def __init__(self, name: str, directory: Any) -> None:
        import datetime as dt
        import ssl
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID

        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        now = dt.datetime.now(dt.UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256())
        )
        self.ca_file = directory / "ca.pem"
        self.ca_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key_file = directory / "key.pem"
        key_file.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        self.sni: list[str | None] = []
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.ca_file, key_file)
        context.sni_callback = lambda sock, server_name, ctx: self.sni.append(server_name)

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"[]")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.port = int(self.server.server_address[1])
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_a_pinned_datadog_client_presents_and_verifies_the_real_name_over_tls(
    no_loopback: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    no_loopback.EGRESS_ALLOW_LOOPBACK = True
    server = _TlsServer("api.datadoghq.eu", tmp_path)
    try:
        monkeypatch.setattr(egress, "_lookup", lambda host, port: ["127.0.0.1"])
        monkeypatch.setenv("SSL_CERT_FILE", str(server.ca_file))  # trust the test certificate, as a system CA
        client = _source(
            "datadog",
            {"api_key": "dd-key-000", "app_key": "dd-app-000", "base_url": f"https://api.datadoghq.eu:{server.port}"},
        )
        assert client.api.configuration.host == f"https://127.0.0.1:{server.port}"
        assert client.call("monitors", client.monitors.list_monitors) == []
        assert server.sni == ["api.datadoghq.eu"]
    finally:
        server.stop()
