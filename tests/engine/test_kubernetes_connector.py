"""The Kubernetes connector against a loopback API server serving recorded JSON, through the real client."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest

from engine import EngineError, InvestigationContext, InvestigationRequest, investigate
from engine.connectors import ToolFailure
from engine.connectors.kubernetes import connect

NS = "payments"
CRASHING = "payments-api-7d9f8b6c5d-x2x7q"
HEALTHY = "payments-api-7d9f8b6c5d-b4n5m"


def _pod(name: str, crashing: bool) -> dict:
    status = (
        {
            "name": "api",
            "ready": False,
            "restartCount": 7,
            "image": "acme/payments-api:2.14.0",
            "state": {
                "waiting": {
                    "reason": "CrashLoopBackOff",
                    "message": "back-off 5m0s restarting failed container",
                }
            },
            "lastState": {"terminated": {"reason": "Error", "exitCode": 1, "finishedAt": "2024-01-15T14:31:40Z"}},
        }
        if crashing
        else {
            "name": "api",
            "ready": True,
            "restartCount": 0,
            "image": "acme/payments-api:2.14.0",
            "state": {"running": {"startedAt": "2024-01-13T10:00:00Z"}},
        }
    )
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": NS,
            "labels": {"app": "payments-api"},
            "ownerReferences": [
                {
                    "apiVersion": "apps/v1",
                    "kind": "ReplicaSet",
                    "name": "payments-api-7d9f8b6c5d",
                    "uid": "1",
                    "controller": True,
                }
            ],
        },
        "spec": {"nodeName": "node-1", "containers": [{"name": "api", "image": "acme/payments-api:2.14.0"}]},
        "status": {"phase": "Running", "containerStatuses": [status]},
    }


EVENTS = {
    "apiVersion": "v1",
    "kind": "EventList",
    "metadata": {},
    "items": [
        {
            "metadata": {"name": "e1", "namespace": NS},
            "type": "Warning",
            "reason": "BackOff",
            "count": 30,
            "message": f"Back-off restarting failed container api in pod {CRASHING}",
            "involvedObject": {"kind": "Pod", "name": CRASHING, "namespace": NS},
            "firstTimestamp": "2024-01-15T14:20:00Z",
            "lastTimestamp": "2024-01-15T14:40:00Z",
        }
    ],
}
REPLICASETS = {
    "apiVersion": "apps/v1",
    "kind": "ReplicaSetList",
    "metadata": {},
    "items": [
        {
            "metadata": {
                "name": "payments-api-7d9f8b6c5d",
                "namespace": NS,
                "creationTimestamp": "2024-01-15T14:19:00Z",
                "annotations": {"deployment.kubernetes.io/revision": "12"},
                "ownerReferences": [
                    {"apiVersion": "apps/v1", "kind": "Deployment", "name": "payments-api", "uid": "2"}
                ],
            },
            "spec": {
                "replicas": 2,
                "selector": {"matchLabels": {"app": "payments-api"}},
                "template": {"spec": {"containers": [{"name": "api", "image": "acme/payments-api:2.14.0"}]}},
            },
            "status": {"replicas": 2, "readyReplicas": 1},
        }
    ],
}
PREVIOUS_LOG = (
    "2024-01-15T14:31:39Z INFO starting payments-api 2.14.0\n"
    "2024-01-15T14:31:40Z FATAL environment variable STRIPE_WEBHOOK_SECRET is not set\n"
)


class RecordedApi(BaseHTTPRequestHandler):
    requests: list[str] = []

    def log_message(self, *args) -> None:
        return

    def _send(self, code: int, body: object, content_type: str = "application/json") -> None:
        data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _status(self, code: int, reason: str) -> None:
        self._send(code, {"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": reason, "code": code})

    def do_GET(self) -> None:
        url = urlparse(self.path)
        query = parse_qs(url.query)
        self.requests.append(self.path)
        parts = url.path.strip("/").split("/")
        if "slow" in parts:
            time.sleep(2)
            self._status(200, "late")
            return
        if "forbidden" in parts:
            self._status(403, "Forbidden")
            return
        if url.path == f"/api/v1/namespaces/{NS}/pods":
            self._send(
                200,
                {
                    "apiVersion": "v1",
                    "kind": "PodList",
                    "metadata": {},
                    "items": [_pod(HEALTHY, False), _pod(CRASHING, True)],
                },
            )
        elif url.path == f"/api/v1/namespaces/{NS}/pods/{CRASHING}":
            self._send(200, _pod(CRASHING, True))
        elif url.path == f"/api/v1/namespaces/{NS}/pods/{CRASHING}/log":
            assert query.get("previous", [""])[0].lower() == "true"
            self._send(200, PREVIOUS_LOG, "text/plain")
        elif url.path == f"/api/v1/namespaces/{NS}/events":
            self._send(200, EVENTS)
        elif url.path == f"/apis/apps/v1/namespaces/{NS}/replicasets":
            self._send(200, REPLICASETS)
        else:
            self._status(404, "NotFound")


class QuietServer(ThreadingHTTPServer):
    def handle_error(self, request, client_address) -> None:
        """The timeout test hangs up on purpose; the broken pipe is expected."""


@pytest.fixture
def api_server() -> Iterator[str]:
    RecordedApi.requests = []
    server = QuietServer(("127.0.0.1", 0), RecordedApi)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _kubeconfig(server: str) -> str:
    return (
        "apiVersion: v1\nkind: Config\ncurrent-context: test\n"
        f"clusters:\n- name: test\n  cluster:\n    server: {server}\n"
        "users:\n- name: test\n  user:\n    token: not-a-real-token\n"
        "contexts:\n- name: test\n  context:\n    cluster: test\n    user: test\n"
    )


def _request(server: str, namespace: str = NS, **settings) -> InvestigationRequest:
    return InvestigationRequest(
        message="payments is failing",
        context=InvestigationContext(namespace=namespace),
        data_sources={"kubernetes": {"kubeconfig": _kubeconfig(server), "timeout": 0.5, **settings}},
    )


def test_the_k8s_sweep_finds_the_missing_variable_behind_the_crash_loop(api_server):
    report = investigate(_request(api_server))
    assert "STRIPE_WEBHOOK_SECRET" in report.root_cause.description
    assert report.root_cause.confidence >= 80
    assert "[tool:get_pod_logs] 2024-01-15T14:31:40Z FATAL environment variable STRIPE_WEBHOOK_SECRET is not set" in (
        report.root_cause.evidence
    )
    assert report.tools_used[:4] == ["list_pods", "list_events", "describe_pod", "get_pod_logs"]
    assert all(
        e.split(" ", 1)[0].removeprefix("[tool:").removesuffix("]") in report.tools_used
        for h in report.hypotheses
        for e in h.evidence
    )
    assert any(path.startswith(f"/api/v1/namespaces/{NS}/pods/{CRASHING}/log") for path in RecordedApi.requests)


def test_a_404_is_recorded_as_a_failed_tool_call_and_the_investigation_continues(api_server):
    request = _request(api_server)
    request.context.service = "payments-api"
    report = investigate(request)
    failed = [c for c in report.tool_calls if not c.ok]
    assert [c.tool for c in failed] == ["describe_deployment"]
    assert failed[0].error == "Kubernetes API returned 404 Not Found for deployment payments-api"
    assert "STRIPE_WEBHOOK_SECRET" in report.root_cause.description


def test_a_403_with_nothing_else_observed_is_recorded_without_leaking_the_address(api_server):
    report = investigate(_request(api_server, namespace="forbidden"))
    assert not report.tool_calls[0].ok
    assert report.tool_calls[0].error == "Kubernetes API returned 403 Forbidden for pods in forbidden"
    assert "127.0.0.1" not in report.model_dump_json()
    assert report.root_cause.confidence < 50


def test_a_timeout_makes_kubernetes_unavailable_when_no_evidence_remains(api_server):
    with pytest.raises(EngineError) as error:
        investigate(_request(api_server, namespace="slow"))
    assert error.value.code == "data_source_unavailable"
    assert error.value.message == "Unable to connect to Kubernetes"
    assert error.value.tools_used == ["list_pods"]


def test_an_unreachable_cluster_is_data_source_unavailable():
    with pytest.raises(EngineError) as error:
        investigate(_request("http://127.0.0.1:9"))
    assert error.value.code == "data_source_unavailable"
    assert "127.0.0.1" not in error.value.message


def test_the_cli_reads_the_operators_kubeconfig_file_itself(api_server, tmp_path, capsys):
    """Tenants give kubeconfig content; the CLI is the operator's own tool and reads a file path for them."""
    from engine.cli import main

    path = tmp_path / "config"
    path.write_text(_kubeconfig(api_server))
    assert main(["investigate", "payments is failing", "--kubeconfig", str(path), "--namespace", NS, "--json"]) == 0
    assert "STRIPE_WEBHOOK_SECRET" in capsys.readouterr().out


def test_a_kubeconfig_path_is_refused_without_reading_the_file(tmp_path):
    path = tmp_path / "config"
    path.write_text("not read")
    with pytest.raises(ToolFailure, match="must be the file's content, not a path"):
        connect({"kubeconfig": str(path)})
