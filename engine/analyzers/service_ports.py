"""How traffic reaches pods through Services and Ingresses, beyond a missing backend.

- A Service's ``targetPort`` may be a *name*; it resolves against the ``ports[].name`` of the selected pods'
  containers. Pods without a port of that name are no endpoint, even when Ready
  (kubernetes.io/docs/concepts/services-networking/service/#field-spec-ports).
- ``kubectl describe ingress`` prints each backend with its endpoints in parentheses; ``()`` means the Service
  has no ready endpoint, so the controller answers 503 for that path.
- ingress-nginx speaks plain HTTP to backends unless ``nginx.ingress.kubernetes.io/backend-protocol`` says
  ``HTTPS``/``GRPCS``; a backend that serves TLS answers "400 The plain HTTP request was sent to HTTPS port"
  (kubernetes.github.io/ingress-nginx/user-guide/nginx-configuration/annotations/#backend-protocol).
"""
# ruff: noqa: E501  (user-facing messages read better unwrapped)

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import rec
from engine.facts import Observations
from engine.findings import Finding, workload_of

_JSON_PORT = (
    re.compile(r'"containerPort"\s*:\s*(?P<number>\d+)\s*,\s*"name"\s*:\s*"(?P<name>[\w-]+)"'),
    re.compile(r'"name"\s*:\s*"(?P<name>[\w-]+)"\s*,\s*"containerPort"\s*:\s*(?P<number>\d+)'),
)
_YAML_NAME = re.compile(r"^[+ ]?\s*-?\s*name:\s*[\"']?(?P<name>[\w-]+)[\"']?\s*$")
_YAML_NUMBER = re.compile(r"^[+ ]?\s*-?\s*containerPort:\s*(?P<number>\d+)\s*$")
_REMOVED = re.compile(r"^-(?:\s{2,}|\s*-\s)")  # a line a unified diff removes (not a YAML list item at column 0)
INGRESS_BACKEND_LINE = _BACKEND = re.compile(
    r"^\s*(?:(?P<host>[\w*.-]+)\s+)?(?P<path>/\S*)\s+(?P<service>[a-z0-9][\w.-]*):(?P<port>[\w-]+)\s+\((?P<endpoints>[^)]*)\)\s*$"
)


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    findings = _named_target_ports(obs)
    findings += _backends_without_endpoints(obs)
    findings += _plain_http_to_tls_backend(obs, ctx)
    findings += _loopback_listeners(obs, ctx)
    findings += ingress_class_missing(obs)
    findings += route_conditions(obs)
    return findings


def _d(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _l(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


# --- named targetPort --------------------------------------------------------------------------------------


def declared_port_names(obs: Observations) -> dict[str, tuple[int, str]]:
    """Container port names declared anywhere in the input (pod specs as JSON or YAML, chart diffs' new side)."""
    found: dict[str, tuple[int, str]] = {}
    sources = [(t.label, t.lines) for t in obs.texts] + [(d.label, d.lines) for d in obs.logs]
    for label, lines in sources:
        for index, line in enumerate(lines[:5000]):
            if _REMOVED.match(line) or ("containerPort" not in line and "name:" not in line):
                continue
            for pattern in _JSON_PORT:
                for match in pattern.finditer(line):
                    found.setdefault(match.group("name"), (int(match.group("number")), f"{label} {line.strip()}"))
            number = _YAML_NUMBER.match(line)
            if number:  # `- containerPort: 8080` then `  name: http` (keys in either order)
                for near in lines[index + 1 : index + 3]:
                    if near.lstrip().startswith("-"):
                        break
                    after = _YAML_NAME.match(near)
                    if after and not _REMOVED.match(near):
                        found.setdefault(after.group("name"), (int(number.group("number")), f"{label} {near.strip()}"))
            name = _YAML_NAME.match(line)
            if name:
                for near in lines[index + 1 : index + 3]:
                    number = _YAML_NUMBER.match(near)
                    if number and not _REMOVED.match(near):
                        found.setdefault(name.group("name"), (int(number.group("number")), f"{label} {line.strip()}"))
    for document in obs.documents:  # `-o jsonpath='{...ports}' | jq .`: the ports as a JSON document
        for port in _port_objects(document.data):
            if port.get("name") and isinstance(port.get("containerPort"), int):
                found.setdefault(str(port["name"]), (port["containerPort"], document.quote(f'"{port["name"]}"')))
    for resource in obs.resources:
        for container in _containers(resource.raw):
            for port in _l(_d(container).get("ports")):
                port = _d(port)
                if port.get("name") and isinstance(port.get("containerPort"), int):
                    found.setdefault(str(port["name"]), (port["containerPort"], resource.quote(str(port["name"]))))
    return found


def _port_objects(data: Any, depth: int = 0) -> list[dict[str, Any]]:
    """Every ``{"containerPort": n, "name": x}`` object in a JSON document, however deep."""
    if depth > 8:
        return []
    if isinstance(data, dict):
        if "containerPort" in data:
            return [data]
        return [p for value in data.values() for p in _port_objects(value, depth + 1)]
    if isinstance(data, list):
        return [p for value in data for p in _port_objects(value, depth + 1)]
    return []


def _containers(raw: dict[str, Any]) -> list[Any]:
    spec = _d(raw.get("spec"))
    template = _d(_d(spec.get("template")).get("spec"))
    return _l(spec.get("containers")) + _l(template.get("containers"))


def _named_target_ports(obs: Observations) -> list[Finding]:
    findings: list[Finding] = []
    declared: dict[str, tuple[int, str]] | None = None
    for service in obs.services:
        named = [p for p in service.target_ports if p and not p.isdigit()]
        if not named or len(named) != len(service.target_ports) or service.endpoints not in ("<none>", "", None):
            continue
        if declared is None:
            declared = declared_port_names(obs)
        if not declared or any(p in declared for p in named):
            continue
        others = ", ".join(f"'{n}' (containerPort {num})" for n, (num, _) in sorted(declared.items())[:3])
        cites = [service.cites.get("target_port", ""), service.cites.get("endpoints", "")]
        cites += [cite for _, cite in list(declared.values())[:1]]
        findings.append(
            Finding(
                kind="service_named_target_port_missing",
                subject=f"service/{service.name}",
                role="cause",
                title=f"{service.name}: Service {service.name} forwards to the named targetPort '{named[0]}', but its pods declare no port of that name (they name {others}), so no pod becomes an endpoint and requests to the Service fail",
                weight=91,
                evidence=[c for c in dict.fromkeys(cites) if c],
                workload=service.name,
                recommendations=[
                    rec(
                        "high",
                        f"Set Service {service.name}'s targetPort to a port name the pods declare ({next(iter(sorted(declared)))}) or a number, or rename the container port back to '{named[0]}'",
                    )
                ],
                affected=[service.name],
            )
        )
    return findings


# --- Ingress backends without endpoints --------------------------------------------------------------------


def _backends_without_endpoints(obs: Observations) -> list[Finding]:
    findings: list[Finding] = []
    for ingress in (r for r in obs.resources if r.kind == "Ingress" and r.raw.get("described")):
        for line in ingress.lines:
            match = _BACKEND.match(line)
            if match is None or match.group("endpoints").strip():
                continue
            service, port, path = match.group("service"), match.group("port"), match.group("path")
            why, why_cites = _why_not_ready(service, obs)
            findings.append(
                Finding(
                    kind="ingress_backend_no_endpoints",
                    subject=f"service/{service}",
                    role="cause",
                    title=f"{service}: Ingress {ingress.name} routes {path} to Service {service}:{port}, which has no ready endpoints (no pod behind it is Ready{why}), so requests to {path} get 503",
                    weight=88 if why else 80,
                    evidence=[f"{ingress.label} {line.strip()}", *why_cites],
                    workload=service,
                    recommendations=[
                        rec(
                            "high",
                            f"Find why the pods of {service} are not Ready (kubectl describe pods; readiness probe, port) or why its selector matches none",
                        )
                    ],
                    affected=[service],
                    related=[ingress.name],
                )
            )
    return findings


_PROBE_REFUSED = re.compile(
    r"Readiness probe failed: [^\n]*?:(?P<port>\d{2,5})(?:/\S*)?\b[^\n]*?(?P<how>connection refused|i/o timeout|context deadline exceeded|no route to host)"
)
_LISTENING = re.compile(
    r"\b(?:listening|listens|serving|started server|bound)\b[^\n]{0,40}?(?:port\s+|:)(?P<port>\d{2,5})\b", re.IGNORECASE
)


def _why_not_ready(service: str, obs: Observations) -> tuple[str, list[str]]:
    """Why the Service's pods are not Ready, when the input shows it: a readiness probe refused on a port the app
    does not listen on (the app's log says where it listens)."""
    ours = [(t.label, t.lines, t.command) for t in obs.texts] + [(d.label, d.lines, d.command) for d in obs.logs]
    probe: tuple[str, str] | None = None
    for label, lines, command in ours:
        if command and service not in command:
            continue
        for line in lines[:2000]:
            match = _PROBE_REFUSED.search(line)
            if match:
                probe = (match.group("port"), f"{label} {line.strip()}")
                break
        if probe:
            break
    if probe is None:
        return "", []
    for doc in obs.logs:
        if not (doc.pod or "").startswith(f"{service}-"):
            continue
        for line in doc.lines[:2000]:
            match = _LISTENING.search(line)
            if match and match.group("port") != probe[0]:
                listening = match.group("port")
                return (
                    f": their readiness probe is refused on port {probe[0]} while the application listens on {listening}",
                    [probe[1], f"{doc.label} {line.strip()}"],
                )
    return f": their readiness probe fails on port {probe[0]}", [probe[1]]


# --- ingress-nginx speaking HTTP to a TLS backend ----------------------------------------------------------

_TLS_SIGNS = frozenset({"https", "tls", "400", "plain", "ssl"})


def _plain_http_to_tls_backend(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    words = ctx.question.words if ctx.question else frozenset()
    said = any("plain HTTP request was sent to HTTPS port" in line for d in obs.logs for line in d.lines[:2000])
    findings: list[Finding] = []
    for ingress in (r for r in obs.resources if r.kind == "Ingress" and not r.raw.get("described")):
        meta, spec = _d(ingress.raw.get("metadata")), _d(ingress.raw.get("spec"))
        annotations = _d(meta.get("annotations"))
        cls = str(spec.get("ingressClassName") or annotations.get("kubernetes.io/ingress.class") or "")
        passthrough = str(annotations.get("nginx.ingress.kubernetes.io/ssl-passthrough", "")).lower() == "true"
        if "nginx" not in cls or passthrough or any(k.endswith("/backend-protocol") for k in annotations):
            continue
        for service, port in _tls_backends(spec):
            strong = said or len(words & _TLS_SIGNS) >= 2
            findings.append(
                Finding(
                    kind="ingress_plain_http_to_tls_backend",
                    subject=f"ingress/{ingress.name}",
                    role="cause",
                    title=f"{service}: Ingress {ingress.name} (ingress-nginx) sends plain HTTP to backend port {port} of Service {service}, which serves HTTPS/TLS, because the Ingress lacks the annotation nginx.ingress.kubernetes.io/backend-protocol: HTTPS; the backend answers 400 (plain HTTP request sent to HTTPS port)",
                    weight=86 if strong else 64,
                    evidence=[ingress.quote(str(port))],
                    workload=service,
                    recommendations=[
                        rec(
                            "high",
                            f"Annotate Ingress {ingress.name} with nginx.ingress.kubernetes.io/backend-protocol: HTTPS (or serve plain HTTP on the backend, e.g. Argo CD's server.insecure: true, and point the Ingress at the http port)",
                        )
                    ],
                    affected=[service],
                    related=[ingress.name],
                )
            )
    return findings


def _tls_backends(spec: dict[str, Any]) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    backends = [_d(spec.get("defaultBackend"))]
    for rule in _l(spec.get("rules")):
        backends += [_d(_d(p).get("backend")) for p in _l(_d(_d(rule).get("http")).get("paths"))]
    for backend in backends:
        service = _d(backend.get("service"))
        port = _d(service.get("port"))
        value = str(port.get("name") or port.get("number") or backend.get("servicePort") or "")
        name = str(service.get("name") or backend.get("serviceName") or "")
        if name and value in ("https", "443", "8443") and (name, value) not in found:
            found.append((name, value))
    return found


# --- an application listening on loopback only -------------------------------------------------------------

_LOOPBACK = re.compile(
    r"\b(?:listen\w*|bind\w*|bound|serving|started|server|running on|accepting)\b[^\n]{0,60}?(?P<addr>127\.0\.0\.1|localhost|\[::1\]):(?P<port>\d{2,5})\b",
    re.IGNORECASE,
)


# `ss -ltn` / `netstat -tln` rows: a listening socket on the loopback address, or on every address
_SOCKET_LOOPBACK = re.compile(
    r"^\s*(?:tcp6?\s+\d+\s+\d+\s+|LISTEN\s+\d+\s+\d+\s+)(?P<addr>127\.0\.0\.1|\[::1\]|::1):(?P<port>\d{2,5})\s+\S+(?:\s+LISTEN)?"
)
_SOCKET_ANY = re.compile(
    r"^\s*(?:tcp6?\s+\d+\s+\d+\s+|LISTEN\s+\d+\s+\d+\s+)(?:0\.0\.0\.0|\*|\[::\]|::|:::?)(?::)?(?P<port>\d{2,5})\s"
)
_BIND_SETTING = re.compile(
    r"^\s*(?:bind|bindIp|bind-address|listen_addresses)\s*[:=]?\s*['\"]?(?:127\.0\.0\.1|localhost)\b", re.IGNORECASE
)
_EXEC = re.compile(r"\bexec\s+(?:-\S+\s+)*(?:(?:pod|po)/)?(?P<pod>[a-z0-9][\w.-]*)(?:\s|$)")


@dataclass
class _Source:
    label: str
    lines: list[str]
    pod: str


def _exec_target(command: str) -> str | None:
    """The pod a ``kubectl exec <pod> -- ...`` ran in (``deploy/x`` runs in one of x's pods)."""
    found = _EXEC.search(command.split(" -- ", 1)[0]) if command and "kubectl" in command else None
    if found is None:
        return None
    target = re.search(r"\bexec\s+(?:-\S+\s+)*(?:deploy|deployment|sts|statefulset)/(?P<name>[a-z0-9][\w.-]*)", command)
    return target.group("name") if target else found.group("pod")


def _loopback_listeners(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    """A server bound to 127.0.0.1 accepts connections from its own pod only: through a Service, other pods get
    'connection refused' on that port."""
    words = ctx.question.words if ctx.question else frozenset()
    service_ports = {p for s in obs.services for p in (*s.ports, *s.target_ports)}
    for resource in (r for r in obs.resources if r.kind in ("Service", "Endpoints")):
        row = _d(resource.raw.get("row"))
        service_ports |= set(
            re.findall(r"(?<![\d.])(\d{2,5})(?=/|,|$|\s)", f"{row.get('PORT(S)', '')} {row.get('ENDPOINTS', '')}")
        )
        service_ports |= set(re.findall(r":(\d{2,5})\b", str(row.get("ENDPOINTS", ""))))
    findings: list[Finding] = []
    seen: set[str] = set()
    sources = [(d.label, d.lines, d.pod or _exec_target(d.command)) for d in obs.logs]
    sources += [(t.label, t.lines, _exec_target(t.command)) for t in obs.texts]
    for label, lines, pod in sources:
        if not pod:
            continue
        doc = _Source(label, lines, pod)
        workload = workload_of(doc.pod)
        everywhere = {m.group("port") for ln in doc.lines[:3000] for m in [_SOCKET_ANY.search(ln)] if m}
        for line in doc.lines[:3000]:
            match = _LOOPBACK.search(line) or _SOCKET_LOOPBACK.search(line)
            if match is None or workload in seen or match.group("port") in everywhere:
                continue
            addr, port = match.group("addr"), match.group("port")
            served = port in service_ports or port in words
            if not served and "refused" not in words:
                continue
            seen.add(workload)
            setting = next(
                (ln for ln in doc.lines[:3000] if ln is not line and f"{addr}:{port}" in ln and "=" in ln), None
            ) or next((ln for ln in doc.lines[:3000] if _BIND_SETTING.match(ln)), None)
            configured = f" (configured by {_setting_name(setting)})" if setting else ""
            findings.append(
                Finding(
                    kind="listening_on_loopback",
                    subject=f"pod/{doc.pod}",
                    role="cause",
                    title=f"{workload}: the application listens on {addr}:{port}{configured}, the loopback interface only, so connections from other pods through the Service on port {port} are refused; it must bind 0.0.0.0:{port}",
                    weight=90 if served else 72,
                    evidence=[f"{doc.label} {line.strip()}", *([f"{doc.label} {setting.strip()}"] if setting else [])],
                    workload=workload,
                    recommendations=[
                        rec(
                            "high", f"Make {workload} listen on 0.0.0.0:{port} (or the pod IP) instead of {addr}:{port}"
                        )
                    ],
                    affected=[workload],
                )
            )
    return findings


def _setting_name(line: str) -> str:
    match = re.search(r"([A-Za-z_][\w.-]*)\s*=\s*\S*(?:127\.0\.0\.1|localhost|\[::1\])", line)
    return match.group(1) if match else "its configuration"


# --- an IngressClass that does not exist ------------------------------------------------------------------


def ingress_class_missing(obs: Observations) -> list[Finding]:
    """An Ingress whose class names no IngressClass is served by no controller: no address, every request 404s
    at the load balancer (kubernetes.io/docs/concepts/services-networking/ingress/#ingress-class)."""
    classes: set[str] = {r.name for r in obs.resources if r.kind == "IngressClass"}
    listing: list[str] = []
    for text in obs.texts:
        if "ingressclass" not in text.command:
            continue
        for line in text.lines:
            first = line.split()[0] if line.split() else ""
            if first and first != "NAME" and re.match(r"^[a-z0-9][\w.-]*$", first):
                classes.add(first.split("/")[-1])
                listing.append(f"{text.label} {line.strip()}")
    findings: list[Finding] = []
    for ingress in (r for r in obs.resources if r.kind == "Ingress"):
        row = _d(ingress.raw.get("row"))
        spec = _d(ingress.raw.get("spec"))
        annotations = _d(_d(ingress.raw.get("metadata")).get("annotations"))
        wanted = str(
            row.get("CLASS") or spec.get("ingressClassName") or annotations.get("kubernetes.io/ingress.class") or ""
        )
        if not wanted or wanted == "<none>":
            unclassed = _unclassed_ingress(ingress, row, obs, listing)
            if unclassed is not None:
                findings.append(unclassed)
            continue
        if not classes or wanted in classes:
            continue
        near = sorted(classes)
        hosts = str(row.get("HOSTS") or ",".join(str(_d(r).get("host", "")) for r in _l(spec.get("rules")))).strip(", ")
        if ingress.name.startswith("cm-acme-http-solver") and hosts:  # cert-manager's HTTP-01 solver Ingress
            findings.append(
                Finding(
                    kind="acme_solver_ingress_class_missing",
                    subject=f"ingress/{ingress.name}",
                    role="cause",
                    title=f"{hosts}: cert-manager's HTTP-01 solver Ingress {ingress.name} uses IngressClass {wanted}, which does not exist (the cluster has {', '.join(near)}), so no controller serves the challenge URL and the ACME validation of {hosts} fails (404)",
                    weight=88,
                    evidence=[ingress.quote(wanted), *listing[:1]],
                    workload=hosts.split(",")[0],
                    recommendations=[
                        rec(
                            "high",
                            f"Set the issuer's solvers[].http01.ingress.ingressClassName (or class) to an existing class ({near[0]}); cert-manager then recreates the solver Ingress",
                        )
                    ],
                    affected=[hosts.split(",")[0]],
                )
            )
            continue
        findings.append(
            Finding(
                kind="ingress_class_missing",
                subject=f"ingress/{ingress.name}",
                role="cause",
                title=f"{ingress.name}: Ingress {ingress.name} asks for IngressClass {wanted}, which does not exist (the cluster has {', '.join(near)}), so no ingress controller serves it: it gets no address and its hosts are not routed",
                weight=88,
                evidence=[ingress.quote(wanted), *listing[:1]],
                workload=ingress.name,
                recommendations=[
                    rec(
                        "high",
                        f"Set ingressClassName of Ingress {ingress.name} to an existing class ({near[0]}) or install the controller for {wanted}",
                    )
                ],
                affected=[ingress.name],
            )
        )
    return findings


_IGNORED_CLASS = re.compile(
    r"Ignoring ingress because of error while validating ingress class|ingress does not contain a valid IngressClass"
    r"|no (?:matching )?(?:ingress ?class|IngressClass)[^\n]{0,40}(?:found|specified)",
    re.IGNORECASE,
)
_DEFAULT_CLASS = re.compile(r"is-default-class\W{1,6}true", re.IGNORECASE)


def _unclassed_ingress(ingress: Any, row: dict[str, Any], obs: Observations, listing: list[str]) -> Finding | None:
    """An Ingress with no class (no ``ingressClassName``, no ``kubernetes.io/ingress.class``) is served only when an
    IngressClass is marked ``ingressclass.kubernetes.io/is-default-class: "true"``; ingress-nginx (since v1.0) and
    most controllers otherwise ignore it ("ingress does not contain a valid IngressClass"): no address, 404 from the
    controller's default backend (kubernetes.io/docs/concepts/services-networking/ingress/#default-ingress-class)."""
    spec = _d(ingress.raw.get("spec"))
    annotations = _d(_d(ingress.raw.get("metadata")).get("annotations"))
    if spec.get("ingressClassName") or annotations.get("kubernetes.io/ingress.class"):
        return None
    texts = [(t.label, line) for t in obs.texts for line in t.lines] + [
        (d.label, line) for d in obs.logs for line in d.lines[:5000]
    ]
    texts += [(t.label, t.command) for t in obs.texts] + [(d.label, d.command) for d in obs.logs]
    if any(_DEFAULT_CLASS.search(line) for _, line in texts):
        return None
    name = ingress.name
    ignored = next(
        (
            f"{label} {line.strip()[:300]}"
            for label, line in texts
            if _IGNORED_CLASS.search(line) and re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", line)
        ),
        None,
    )
    no_address = "ADDRESS" in row and not str(row.get("ADDRESS") or "").strip()
    if ignored is None and not (listing and no_address):
        return None
    classes = sorted({line.split("]", 1)[-1].split()[0] for line in listing if line.split("]", 1)[-1].split()})
    having = f" (the cluster has {', '.join(classes)}, none marked default)" if classes else ""
    return Finding(
        kind="ingress_class_unset",
        subject=f"ingress/{name}",
        role="cause",
        title=f"{name}: Ingress {name} sets no ingressClassName (nor the kubernetes.io/ingress.class annotation) and no IngressClass is the default class{having}, so no ingress controller serves it: it gets no address and requests to its hosts hit the controller's default backend (404)",
        weight=88,
        evidence=[e for e in (ingress.quote(name), ignored, *listing[:1]) if e],
        workload=name,
        recommendations=[
            rec(
                "high",
                f"Set spec.ingressClassName of Ingress {name} to the controller's class"
                + (f" ({classes[0]})" if classes else "")
                + ', or mark that IngressClass default (ingressclass.kubernetes.io/is-default-class: "true")',
            )
        ],
        affected=[name],
    )


# --- Gateway API routes whose parents report a condition False ---------------------------------------------

_ROUTE_KINDS = ("HTTPRoute", "GRPCRoute", "TLSRoute", "TCPRoute", "UDPRoute")


def route_conditions(obs: Observations) -> list[Finding]:
    """A route's ``status.parents[].conditions`` (gateway-api.sigs.k8s.io/reference/spec/#routeconditiontype):
    ``Accepted`` False means the Gateway ignores the route; ``ResolvedRefs`` False means a backend cannot be used
    (``RefNotPermitted``: a backend in another namespace without a ReferenceGrant; ``BackendNotFound``)."""
    findings: list[Finding] = []
    for route in (r for r in obs.resources if r.kind in _ROUTE_KINDS):
        for parent in _l(_d(route.raw.get("status")).get("parents")):
            for condition in (_d(c) for c in _l(_d(parent).get("conditions"))):
                if str(condition.get("status")) != "False" or condition.get("type") not in ("Accepted", "ResolvedRefs"):
                    continue
                reason = str(condition.get("reason") or "")
                message = str(condition.get("message") or reason)
                grant = (
                    "; a backend in another namespace needs a ReferenceGrant in that namespace allowing routes from this one"
                    if reason == "RefNotPermitted"
                    else ""
                )
                findings.append(
                    Finding(
                        kind="route_condition_false",
                        subject=f"{route.kind.lower()}/{route.name}",
                        role="cause",
                        title=f"{route.name}: {route.kind} {route.name} is {condition.get('type')}=False ({reason}): {message[:200]}{grant}",
                        weight=86,
                        evidence=[route.quote(reason or message[:40])],
                        workload=route.name,
                        recommendations=[
                            rec(
                                "high",
                                "Create a ReferenceGrant in the backend's namespace for this route's namespace, or move the backend"
                                if reason == "RefNotPermitted"
                                else f"Fix what {route.kind} {route.name} reports: {message[:120]}",
                            )
                        ],
                        affected=[route.name],
                    )
                )
                break
    return findings
