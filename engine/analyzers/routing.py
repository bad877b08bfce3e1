"""Traffic routing to pods: Ingress and Gateway API routes whose backend Service is missing or lacks the port,
and Services whose targetPort is a port the selected pods do not listen on.

General knowledge applied to what ``kubectl get -o yaml/json`` and ``describe`` print: an Ingress backend names
a Service (and a port number or name) in the Ingress's own namespace; a Service forwards to ``targetPort``
(a number, or a name resolved against the containers' named ports) on the pods its selector matches.
"""
# ruff: noqa: E501  (user-facing messages read better unwrapped)

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from engine.analysis_context import AnalysisContext
from engine.analyzers import (
    ingress_hosts,
    ingress_tls,
    jsonpath_ports,
    lb_health_checks,
    listen_ports,
    loopback_upstream,
    manual_endpoints,
)
from engine.analyzers.common import rec
from engine.analyzers.service_ports import INGRESS_BACKEND_LINE as _DESCRIBED_BACKEND
from engine.facts import Observations, ResourceFact, ServiceFact
from engine.findings import Finding


@dataclass(frozen=True)
class _Backend:
    service: str
    port: str  # a number or a port name; "" when the route names none
    where: str  # host/path, for the message


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    return (
        _route_backends(obs)
        + _target_ports(obs)
        + ingress_hosts.analyze(obs, ctx)
        + manual_endpoints.analyze(obs, ctx)
        + jsonpath_ports.analyze(obs, ctx)
        + ingress_tls.analyze(obs, ctx)
        + listen_ports.analyze(obs, ctx)
        + loopback_upstream.analyze(obs, ctx)
        + lb_health_checks.analyze(obs, ctx)
    )


def _d(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _l(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _same_namespace(a: str | None, b: str | None) -> bool:
    return a is None or b is None or a == b


# --- Ingress / HTTPRoute backends ---------------------------------------------------------------------------


def _ingress_backends(spec: dict[str, Any]) -> Iterator[_Backend]:
    default = _d(spec.get("defaultBackend") or spec.get("backend"))
    if default:
        yield _backend(default, "default backend")
    for rule in _l(spec.get("rules")):
        host = str(_d(rule).get("host") or "*")
        for path in _l(_d(_d(rule).get("http")).get("paths")):
            backend = _d(_d(path).get("backend"))
            if backend:
                yield _backend(backend, f"{host}{_d(path).get('path') or '/'}")


def _backend(backend: dict[str, Any], where: str) -> _Backend:
    service = _d(backend.get("service"))
    if service:  # networking.k8s.io/v1
        port = _d(service.get("port"))
        return _Backend(str(service.get("name", "")), str(port.get("number") or port.get("name") or ""), where)
    return _Backend(str(backend.get("serviceName", "")), str(backend.get("servicePort", "") or ""), where)  # v1beta1


def _route_backends_of(route: ResourceFact) -> Iterator[_Backend]:
    spec = _d(route.raw.get("spec"))
    if route.kind == "Ingress":
        yield from _ingress_backends(spec)
        if route.raw.get("described"):  # `kubectl describe ingress`: "host /path service:port (endpoints)" rows
            for line in route.lines:
                match = _DESCRIBED_BACKEND.match(line)
                if match:
                    yield _Backend(match.group("service"), match.group("port"), match.group("path"))
        return
    hosts = ",".join(str(h) for h in _l(spec.get("hostnames"))) or "*"
    for rule in _l(spec.get("rules")):
        for ref in _l(_d(rule).get("backendRefs")):
            ref = _d(ref)
            if ref.get("kind", "Service") == "Service" and not ref.get("namespace"):
                yield _Backend(str(ref.get("name", "")), str(ref.get("port", "") or ""), hosts)


def _known_services(obs: Observations) -> dict[tuple[str | None, str], tuple[list[str], str]]:
    """Every Service observed: (namespace, name) -> (its ports, the evidence line)."""
    known: dict[tuple[str | None, str], tuple[list[str], str]] = {}
    for service in obs.services:
        known[(service.namespace, service.name)] = (service.ports, service.cites.get("selector", ""))
    for fact in obs.resources:
        if fact.kind != "Service":
            continue
        ports = [
            str(v)
            for p in _l(_d(fact.raw.get("spec")).get("ports"))
            for v in (_d(p).get("port"), _d(p).get("name"))
            if v
        ]
        row = str(_d(fact.raw.get("row")).get("PORT(S)", ""))
        ports += [item.split(":")[0].split("/")[0] for item in row.split(",") if item and item != "<none>"]
        previous = known.get((fact.namespace, fact.name), ([], ""))
        known[(fact.namespace, fact.name)] = (previous[0] or ports, previous[1] or fact.quote(fact.name))
    for namespace, name, ports, cite in _service_rows(obs):
        known.setdefault((namespace, name), (ports, cite))
    return known


_SERVICE_ROW = re.compile(
    r"^\s*(?P<ns>[a-z0-9][a-z0-9-]*)\s+(?P<name>[a-z0-9][a-z0-9.-]*)\s+(?:ClusterIP|NodePort|LoadBalancer|ExternalName)"
    r"\s+\S+\s+\S+\s+(?P<ports>\S+)\s+\S+\s*$"
)


def _service_rows(obs: Observations) -> Iterator[tuple[str, str, list[str], str]]:
    """``kubectl get svc -A`` rows that a ``grep`` left without their header: NAMESPACE NAME TYPE ... PORT(S) AGE."""
    for label, lines in [(t.label, t.lines) for t in obs.texts] + [(d.label, d.lines) for d in obs.logs]:
        for line in lines[:5000]:
            match = _SERVICE_ROW.match(line)
            if match:
                ports = [p.split(":")[0].split("/")[0] for p in match.group("ports").split(",") if p != "<none>"]
                yield match.group("ns"), match.group("name"), ports, f"{label} {line.strip()}"


def _route_backends(obs: Observations) -> list[Finding]:
    findings: list[Finding] = []
    known = _known_services(obs)
    for route in obs.resources:
        if route.kind not in ("Ingress", "HTTPRoute", "GRPCRoute"):
            continue
        in_namespace = {name: value for (ns, name), value in known.items() if _same_namespace(ns, route.namespace)}
        for backend in dict.fromkeys(_route_backends_of(route)):
            if not backend.service:
                continue
            if not in_namespace and not any(name == backend.service and ns for ns, name in known):
                continue  # no Service listing to compare against, nor the Service seen elsewhere: absence proves nothing
            found = in_namespace.get(backend.service)
            if found is None:
                elsewhere = sorted(
                    str(ns) for (ns, name) in known if name == backend.service and ns and ns != route.namespace
                )
                finding = _missing_service(route, backend, sorted(in_namespace), elsewhere)
                finding.evidence += [
                    known[(ns, backend.service)][1] for ns in elsewhere[:1] if known[(ns, backend.service)][1]
                ]
                findings.append(finding)
            elif backend.port and found[0] and backend.port not in found[0]:
                findings.append(_missing_port(route, backend, found))
    return findings


def _missing_service(route: ResourceFact, backend: _Backend, existing: list[str], elsewhere: list[str]) -> Finding:
    where = f" in namespace {route.namespace}" if route.namespace else ""
    if elsewhere:  # an Ingress/Route backend is always looked up in the route's own namespace
        how = (
            "an ExternalName Service in the same namespace pointing at it"
            if route.kind == "Ingress"
            else "a ReferenceGrant in that namespace and the backendRef's namespace"
        )
        where += (
            f" (it exists only in namespace {', '.join(elsewhere[:3])}: the {route.kind}'s backend must be a Service in "
            f"the {route.kind}'s same namespace; reaching another namespace needs {how})"
        )
    return Finding(
        kind="route_backend_missing",
        subject=f"service/{backend.service}",
        role="cause",
        title=(
            f"{route.kind} {route.name} routes {backend.where} to Service {backend.service}, which does not exist{where} "
            + (f"(existing Services: {', '.join(existing[:6])}), " if existing else "")
            + "so the proxy has no backend for those requests and answers 5xx (503 from Ingress controllers, 500 from Gateway API implementations)"
        ),
        weight=88,
        evidence=[
            route.quote(backend.service, fallback=f"{route.kind} {route.name}: backend service {backend.service}")
        ],
        workload=backend.service,
        recommendations=[
            rec(
                "high",
                f"Point {route.kind} {route.name}'s backend at an existing Service (or create Service {backend.service})",
            )
        ],
        affected=[route.name, backend.service],
    )


def _missing_port(route: ResourceFact, backend: _Backend, found: tuple[list[str], str]) -> Finding:
    ports = ", ".join(dict.fromkeys(found[0]))
    return Finding(
        kind="route_backend_port_missing",
        subject=f"service/{backend.service}",
        role="cause",
        title=(
            f"{route.kind} {route.name} routes {backend.where} to port {backend.port} of Service {backend.service}, "
            f"which only exposes {ports}, so the controller finds no endpoint for port {backend.port}"
        ),
        weight=86,
        evidence=[
            e
            for e in (route.quote(backend.port, fallback=f"{route.kind} {route.name}: port {backend.port}"), found[1])
            if e
        ],
        workload=backend.service,
        recommendations=[
            rec("high", f"Use a port Service {backend.service} exposes ({ports}) in {route.kind} {route.name}")
        ],
        affected=[route.name, backend.service],
    )


# --- Service targetPort vs the pods' container ports ---------------------------------------------------------


def _target_ports(obs: Observations) -> list[Finding]:
    findings: list[Finding] = []
    for service in obs.services:
        numeric = [p for p in service.target_ports if p.isdigit()]
        if not service.selector or not numeric or len(numeric) != len(service.target_ports):
            continue
        pods = [
            p
            for p in obs.pods
            if _same_namespace(p.namespace, service.namespace)
            and p.labels
            and all(p.labels.get(k) == v for k, v in service.selector.items())
        ]
        listening = sorted({port for pod in pods for c in pod.containers for port in c.ports})
        if pods and listening:
            if not any(int(p) in listening for p in numeric):
                findings.append(_target_port_finding(service, numeric, listening, pods[0].name, obs))
            continue
        logged = _logged_listen_ports(service, obs)  # no containerPort shown: where the app says it listens
        if logged and not any(int(p) in logged[0] for p in numeric):
            pod = logged[2] or service.name
            finding = _target_port_finding(
                service, numeric, logged[0], pod, obs, f"the application in its pods ({pod})"
            )
            finding.title = finding.title.replace(" listen on ", " logs that it listens on ", 1)
            finding.evidence.append(logged[1])
            findings.append(finding)
            continue
        if pods:
            continue
        template = _template_ports(service, obs)  # no pod shown: the workload whose pod template it selects
        if template and not any(int(p) in template[1] for p in numeric):
            workload = f"the pods of {template[0].kind} {template[0].name}"
            finding = _target_port_finding(service, numeric, template[1], template[0].name, obs, workload)
            finding.evidence.append(
                template[0].quote(
                    "containerPort", str(template[1][0]), fallback=f"{template[0].kind} {template[0].name}"
                )
            )
            findings.append(finding)
    return findings


_LISTENING = re.compile(
    r"\b(?:listening|listens|serving|started server|server started|started on|bound|running)\b[^\n]{0,40}?(?:port\s+|:)(?P<port>\d{2,5})\b(?![:.]\d)"
    r"|\bPORT=(?P<env>\d{2,5})\b",
    re.IGNORECASE,
)


def _logged_listen_ports(service: ServiceFact, obs: Observations) -> tuple[list[int], str, str | None] | None:
    """The ports the Service's own pods log that they listen on ('Server listening at http://0.0.0.0:3000',
    'PORT=3000'): the pods are those named after the Service or its selector's values."""
    names = {name for name in {service.name, *service.selector.values()} if name}
    prefixes = tuple(f"{name}-" for name in names)
    for doc in obs.logs:
        pod = doc.pod or ""
        # a pod of the Service ("catalog-7d9f-x2"), or the workload a "kubectl logs deploy/catalog" read
        named = not pod and any(re.search(rf"(?<![a-z0-9]){re.escape(name)}(?![a-z0-9])", doc.label) for name in names)
        if not (pod.startswith(prefixes) or pod.rsplit("/", 1)[-1] in names or named):  # or "<service>-logs.txt"
            continue
        ports: list[int] = []
        first = ""
        for line in doc.lines[:2000]:
            for match in _LISTENING.finditer(line):
                ports.append(int(match.group("port") or match.group("env")))
                first = first or f"{doc.label} {line.strip()[:300]}"
        if ports:
            return sorted(set(ports)), first, pod
    return None


def _template_ports(service: ServiceFact, obs: Observations) -> tuple[ResourceFact, list[int]] | None:
    """The workload (Deployment, StatefulSet...) whose pod template the Service's selector matches, and the
    containerPorts that template declares."""
    for workload in obs.resources:
        if workload.kind not in ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"):
            continue
        if not _same_namespace(workload.namespace, service.namespace):
            continue
        template = _d(_d(workload.raw.get("spec")).get("template"))
        labels = _d(_d(template.get("metadata")).get("labels"))
        if not labels or not all(str(labels.get(k)) == v for k, v in service.selector.items()):
            continue
        ports = sorted(
            {
                int(port["containerPort"])
                for container in _l(_d(template.get("spec")).get("containers"))
                for port in _l(_d(container).get("ports"))
                if isinstance(port, dict) and str(port.get("containerPort", "")).isdigit()
            }
        )
        if ports:
            return workload, ports
    return None


def _target_port_finding(
    service: ServiceFact,
    target: list[str],
    listening: list[int],
    pod: str,
    obs: Observations,
    pods: str = "",
) -> Finding:
    ports = ", ".join(str(p) for p in listening)
    cites = [service.cites.get("target_port", ""), service.cites.get("endpoints", "")]
    for fact in obs.pods:
        if fact.name == pod:
            cites += [c.cites.get("ports", "") for c in fact.containers]
    return Finding(
        kind="service_target_port_mismatch",
        subject=f"service/{service.name}",
        role="cause",
        title=(
            f"{service.name}: Service {service.name} forwards to targetPort {', '.join(target)}, but "
            f"{pods or f'its pods (e.g. {pod})'} listen on {ports}, so connections to the endpoints are refused"
        ),
        weight=90,
        evidence=[c for c in dict.fromkeys(cites) if c],
        workload=service.name,
        recommendations=[
            rec("high", f"Set Service {service.name}'s targetPort to {listening[0]} (or the container port's name)")
        ],
        affected=[service.name],
    )
