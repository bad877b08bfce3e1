"""Kubernetes connector (official ``kubernetes`` client), read-only.

Objects are read as raw API JSON, so the same parser that reads
``kubectl get -o json`` attachments turns them into facts. Failures become :class:`ToolFailure` messages that
name Kubernetes, never the API server address.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import yaml

from engine.connectors import ToolFailure
from engine.connectors.http import current_egress, egress_refusal
from engine.connectors.params import flag
from engine.facts import LogDoc, Observations
from engine.parsers.common import Citer
from engine.parsers.objects import observations_from_objects
from engine.registry import ToolResult, connector, probe, tool

SOURCE = "Kubernetes"
LOG_TAIL_LINES = 500
MAX_PODS = 500


# kubeconfig keys that read a file on the server or run a command there: a tenant's kubeconfig may not use them.
_SERVER_SIDE_KEYS = frozenset(
    {
        "exec",
        "auth-provider",
        "tokenFile",
        "token-file",
        "client-certificate",
        "client-key",
        "certificate-authority",
    }
)


def _server_side_key(value: Any) -> str | None:
    if isinstance(value, dict):
        for key, item in value.items():
            if key in _SERVER_SIDE_KEYS:
                return str(key)
            found = _server_side_key(item)
            if found:
                return found
    elif isinstance(value, list):
        for item in value:
            found = _server_side_key(item)
            if found:
                return found
    return None


def _kubeconfig_document(kubeconfig: str, *, server_side: bool) -> dict[str, Any]:
    """The kubeconfig given as content (never a path on the server), without file or command references unless
    ``server_side`` (the operator's own run: the CLI, or a single-tenant install allowing ambient credentials)."""
    if "\n" not in kubeconfig and "clusters:" not in kubeconfig:
        raise ToolFailure("Kubernetes kubeconfig must be the file's content, not a path", unreachable=True)
    document = yaml.safe_load(kubeconfig)
    if not isinstance(document, dict):
        raise ToolFailure("Kubernetes configuration is invalid (not a kubeconfig)", unreachable=True)
    key = None if server_side else _server_side_key(document)
    if key is not None:
        raise ToolFailure(f"Kubernetes kubeconfig may not use '{key}' (it reads the server's files)", unreachable=True)
    return document


def _pin_api_server(configuration: Any) -> None:
    """Send the client to the API server's vetted address (the caller's egress policy), TLS checking the name."""
    egress = current_egress()
    if egress is None:
        return
    try:
        host, tls_name = egress.pin(str(configuration.host))
    except Exception as exc:
        refusal = egress_refusal(exc)
        if refusal is None:
            raise
        raise ToolFailure(f"Kubernetes API server URL {refusal}", unreachable=True) from None
    configuration.host = host
    if tls_name:
        configuration.tls_server_name = tls_name


class KubernetesClient:
    """Credentials come only from the kubeconfig content in the settings; the server's own service account (in-
    cluster mode) only when the caller marks the settings ``ambient_credentials`` (an operator's choice)."""

    def __init__(self, settings: Mapping[str, Any]) -> None:
        from kubernetes import client, config

        self.timeout = float(settings.get("timeout") or 30)
        self.default_namespace = str(settings.get("default_namespace") or "default")
        configuration = client.Configuration()
        kubeconfig = settings.get("kubeconfig")
        context = settings.get("default_context") or None
        ambient = settings.get("ambient_credentials") is True
        try:
            if isinstance(kubeconfig, str) and kubeconfig:
                document = _kubeconfig_document(kubeconfig, server_side=ambient)
                config.load_kube_config_from_dict(document, context=context, client_configuration=configuration)
            elif ambient:
                config.load_incluster_config(client_configuration=configuration)
            else:
                raise ToolFailure("Kubernetes is enabled but has no kubeconfig", unreachable=True)
        except (config.ConfigException, OSError, yaml.YAMLError, TypeError, ValueError, KeyError) as exc:
            raise ToolFailure(f"Kubernetes configuration is invalid ({type(exc).__name__})", unreachable=True) from None
        _pin_api_server(configuration)
        configuration.retries = 0
        self.api = client.ApiClient(configuration)
        self.core = client.CoreV1Api(self.api)
        self.apps = client.AppsV1Api(self.api)
        self.custom = client.CustomObjectsApi(self.api)

    def call(self, what: str, method: Any, *args: Any, text: bool = False, **kwargs: Any) -> Any:
        """Run one API call (raw JSON, no model classes, so version skew cannot break parsing) and translate
        every failure into a ToolFailure naming Kubernetes."""
        from kubernetes.client.exceptions import ApiException
        from urllib3.exceptions import HTTPError as Urllib3Error

        try:
            response = method(*args, _request_timeout=self.timeout, _preload_content=False, **kwargs)
            body = response.data.decode("utf-8", errors="replace")
        except ApiException as exc:
            status = exc.status or 0
            label = {401: "401 Unauthorized", 403: "403 Forbidden", 404: "404 Not Found"}.get(status, str(status))
            raise ToolFailure(f"Kubernetes API returned {label} for {what}", unreachable=status == 401) from None
        except Urllib3Error as exc:
            timed_out = "timeout" in type(exc).__name__.lower() or "timed out" in str(exc).lower()
            message = "Kubernetes API timed out" if timed_out else "Unable to connect to Kubernetes"
            raise ToolFailure(message, unreachable=True) from None
        if text:
            return body
        try:
            return json.loads(body)
        except ValueError:
            raise ToolFailure(f"Kubernetes API returned an unreadable response for {what}") from None

    @staticmethod
    def plain(obj: Any) -> Any:
        return obj


@connector("kubernetes")
def connect(settings: Mapping[str, Any]) -> KubernetesClient:
    return KubernetesClient(settings)


@probe("kubernetes")
def check_kubernetes(client: KubernetesClient) -> str:
    """The API server's version, and the pods the credentials may list in the default namespace."""
    from kubernetes.client import VersionApi

    version = client.call("the server version", VersionApi(client.api).get_code)
    pods = client.call("pods", client.core.list_namespaced_pod, client.default_namespace)
    shown = f" {str(version.get('gitVersion'))[:40]}" if isinstance(version, dict) and version.get("gitVersion") else ""
    count = len(pods.get("items", [])) if isinstance(pods, dict) else 0
    return f"{SOURCE}{shown} answered: {count} pods in namespace {client.default_namespace}"


def _namespace(client: KubernetesClient, params: Mapping[str, Any]) -> str:
    return str(params.get("namespace") or client.default_namespace)


def _name(params: Mapping[str, Any]) -> str:
    name = params.get("name")
    if not isinstance(name, str) or not name:
        raise ToolFailure("A resource name is required")
    return name


def _result(tool_name: str, document: Any, kind: str) -> ToolResult:
    obs = observations_from_objects(_with_kind(document, kind), Citer(f"[tool:{tool_name}]"))
    return ToolResult(text=render(obs), observations=obs, data=document)


def _with_kind(document: Any, kind: str) -> Any:
    if isinstance(document, dict) and "items" in document:
        document = {**document, "kind": f"{kind}List"}
    elif isinstance(document, dict) and not document.get("kind"):
        document = {**document, "kind": kind}
    return document


def render(obs: Observations) -> str:
    """A short, readable account of what a tool returned (the tool-call log's output excerpt)."""
    lines: list[str] = []
    for pod in obs.pods:
        states = ", ".join(
            f"{c.name}: {c.reason or c.state or '?'} restarts={c.restart_count}"
            + (f" last={c.last_reason}({c.last_exit_code})" if c.last_reason else "")
            for c in pod.containers
        )
        lines.append(f"pod/{pod.name} {pod.phase or ''} {states}".strip())
    for event in obs.events:
        lines.append(f"{event.type} {event.reason} {event.object_kind}/{event.object_name}: {event.message}"[:300])
    for workload in obs.workloads:
        lines.append(
            f"{workload.kind.lower()}/{workload.name} desired={workload.desired} ready={workload.ready} "
            f"available={workload.available} images={','.join(workload.images)}"
        )
    for node in obs.nodes:
        lines.append(f"node/{node.name} " + " ".join(f"{c.type}={c.status}" for c in node.conditions))
    for service in obs.services:
        lines.append(f"service/{service.name} endpoints={service.endpoints}")
    for usage in obs.usage:
        lines.append(f"{usage.kind}/{usage.name} cpu={usage.cpu_millicores}m memory={usage.memory_bytes}")
    return "\n".join(lines)


@tool("list_pods")
def list_pods(client: KubernetesClient, params: dict[str, Any]) -> ToolResult:
    namespace = _namespace(client, params)
    selector = params.get("label_selector") or None
    pods = client.call(
        f"pods in {namespace}",
        client.core.list_namespaced_pod,
        namespace,
        label_selector=selector,
        limit=MAX_PODS,
    )
    return _result("list_pods", client.plain(pods), "Pod")


def _events_for(client: KubernetesClient, namespace: str, name: str, tool_name: str) -> Observations:
    events = client.call(
        f"events in {namespace}",
        client.core.list_namespaced_event,
        namespace,
        field_selector=f"involvedObject.name={name}",
    )
    return observations_from_objects(_with_kind(client.plain(events), "Event"), Citer(f"[tool:{tool_name}]"))


@tool("describe_pod")
def describe_pod(client: KubernetesClient, params: dict[str, Any]) -> ToolResult:
    namespace, name = _namespace(client, params), _name(params)
    pod = client.call(f"pod {name}", client.core.read_namespaced_pod, name, namespace)
    result = _result("describe_pod", client.plain(pod), "Pod")
    result.observations.extend(_events_for(client, namespace, name, "describe_pod"))
    result.text = render(result.observations)
    return result


@tool("get_pod_events")
def get_pod_events(client: KubernetesClient, params: dict[str, Any]) -> ToolResult:
    namespace, name = _namespace(client, params), _name(params)
    obs = _events_for(client, namespace, name, "get_pod_events")
    return ToolResult(text=render(obs), observations=obs)


@tool("list_events")
def list_events(client: KubernetesClient, params: dict[str, Any]) -> ToolResult:
    namespace = _namespace(client, params)
    events = client.call(
        f"events in {namespace}", client.core.list_namespaced_event, namespace, field_selector="type=Warning"
    )
    return _result("list_events", client.plain(events), "Event")


@tool("get_pod_logs")
def get_pod_logs(client: KubernetesClient, params: dict[str, Any]) -> ToolResult:
    namespace, name = _namespace(client, params), _name(params)
    container = params.get("container") or None
    previous = flag(params, "previous")
    text = client.call(
        f"logs of pod {name}",
        client.core.read_namespaced_pod_log,
        name,
        namespace,
        container=container,
        previous=previous,
        tail_lines=int(params.get("tail_lines") or LOG_TAIL_LINES),
        text=True,
    )
    lines = str(text or "").splitlines()
    doc = LogDoc(label="[tool:get_pod_logs]", lines=lines, pod=name, container=container, previous=previous)
    return ToolResult(text="\n".join(lines[-40:]), observations=Observations(logs=[doc]))


@tool("describe_deployment")
def describe_deployment(client: KubernetesClient, params: dict[str, Any]) -> ToolResult:
    namespace, name = _namespace(client, params), _name(params)
    deployment = client.call(f"deployment {name}", client.apps.read_namespaced_deployment, name, namespace)
    result = _result("describe_deployment", client.plain(deployment), "Deployment")
    result.observations.extend(_events_for(client, namespace, name, "describe_deployment"))
    result.text = render(result.observations)
    return result


@tool("get_deployment_history")
def get_deployment_history(client: KubernetesClient, params: dict[str, Any]) -> ToolResult:
    namespace, name = _namespace(client, params), _name(params)
    sets = client.plain(client.call(f"replicasets in {namespace}", client.apps.list_namespaced_replica_set, namespace))
    owned = [
        item
        for item in sets.get("items", [])
        if any(ref.get("name") == name for ref in item.get("metadata", {}).get("ownerReferences", []))
    ]
    owned.sort(
        key=lambda item: int(
            item.get("metadata", {}).get("annotations", {}).get("deployment.kubernetes.io/revision", 0) or 0
        )
    )
    return _result("get_deployment_history", {"kind": "ReplicaSetList", "items": owned}, "ReplicaSet")


@tool("describe_service")
def describe_service(client: KubernetesClient, params: dict[str, Any]) -> ToolResult:
    namespace, name = _namespace(client, params), _name(params)
    service = client.plain(client.call(f"service {name}", client.core.read_namespaced_service, name, namespace))
    endpoints = client.plain(client.call(f"endpoints {name}", client.core.read_namespaced_endpoints, name, namespace))
    result = _result("describe_service", service, "Service")
    ready = sum(len(subset.get("addresses") or []) for subset in endpoints.get("subsets") or [])
    for fact in result.observations.services:
        fact.endpoints = str(ready) if ready else "<none>"
        fact.cites["endpoints"] = f"[tool:describe_service] service {name} has {ready or 'no'} ready endpoint addresses"
    result.text = render(result.observations)
    return result


@tool("get_pod_resource_usage")
def get_pod_resource_usage(client: KubernetesClient, params: dict[str, Any]) -> ToolResult:
    namespace = _namespace(client, params)
    name = params.get("name")
    if name:
        metrics = client.call(
            f"metrics of pod {name}",
            client.custom.get_namespaced_custom_object,
            "metrics.k8s.io",
            "v1beta1",
            namespace,
            "pods",
            name,
        )
        document: Any = {**metrics, "kind": "PodMetrics"}
    else:
        metrics = client.call(
            f"pod metrics in {namespace}",
            client.custom.list_namespaced_custom_object,
            "metrics.k8s.io",
            "v1beta1",
            namespace,
            "pods",
        )
        document = {"kind": "PodMetricsList", "items": metrics.get("items", [])}
    obs = observations_from_objects(document, Citer("[tool:get_pod_resource_usage]"))
    return ToolResult(text=render(obs), observations=obs)


@tool("describe_node")
def describe_node(client: KubernetesClient, params: dict[str, Any]) -> ToolResult:
    name = _name(params)
    node = client.call(f"node {name}", client.core.read_node, name)
    return _result("describe_node", client.plain(node), "Node")
