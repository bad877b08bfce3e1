"""Which pods a Service and the names around it really reach.

General knowledge from the Service, StatefulSet and Ingress documentation:

- A StatefulSet's pods get DNS names ``<pod>.<serviceName>.<namespace>.svc`` only from the headless Service its
  ``spec.serviceName`` names; when no Service has that name (the chart created ``<name>-headless``), the per-pod
  names return NXDOMAIN.
- A Service's selector takes every pod carrying its labels, whatever created it: a stray pod (a debug copy, an old
  ReplicaSet's leftover, another Deployment reusing ``app=x``) serves its share of the traffic, and if it fails,
  that share fails ("a third of the requests").
- An Ingress path with ``pathType: Exact`` matches that path only; ``/api/users`` falls through to another rule or
  the default backend (404).
- ingress-nginx's ``force-ssl-redirect``/``ssl-redirect`` behind a load balancer that terminates TLS and forwards
  plain HTTP redirects every request to https again: a redirect loop (ERR_TOO_MANY_REDIRECTS) unless the
  controller trusts ``X-Forwarded-Proto`` (``use-forwarded-headers``) or the balancer forwards HTTPS.
"""
# ruff: noqa: E501  (user-facing messages read better unwrapped)

from __future__ import annotations

import re
from typing import Any

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import rec
from engine.facts import LogDoc, Observations, PodFact, ServiceFact, TextDoc
from engine.findings import Finding, workload_of
from engine.parsers.common import excerpt, string_map_line


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    return (
        _statefulset_service_name(obs)
        + _stray_pods(obs)
        + _exact_paths(obs, ctx)
        + _redirect_loop(obs, ctx)
        + _empty_endpoints(obs)
        + _unexposed_port(obs)
    )


def _d(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _l(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _service_names(obs: Observations) -> dict[tuple[str | None, str], str]:
    """(namespace, name) -> evidence line, for every Service seen (objects, describe, table rows)."""
    found = {(s.namespace, s.name): s.cites.get("selector", "") for s in obs.services}
    for resource in obs.resources:
        if resource.kind == "Service":
            found.setdefault((resource.namespace, resource.name), resource.quote(resource.name))
    return found


# --- StatefulSet serviceName ---------------------------------------------------------------------------------


def _statefulset_service_name(obs: Observations) -> list[Finding]:
    services = _service_names(obs)
    if not services:
        return []
    findings: list[Finding] = []
    for sts in (r for r in obs.resources if r.kind == "StatefulSet"):
        spec = _d(sts.raw.get("spec"))
        wanted = str(spec.get("serviceName") or "")
        if not wanted:
            continue
        local = {name: cite for (ns, name), cite in services.items() if ns in (None, sts.namespace)}
        if not local or wanted in local:
            continue
        labels = {str(k): str(v) for k, v in _d(_d(_d(spec.get("template")).get("metadata")).get("labels")).items()}
        headless = [
            name
            for name in local
            if name.startswith(wanted) or _selects(obs, sts.namespace, name, labels) or "headless" in name
        ]
        meant = f"; the headless Service that exists is {headless[0]}" if headless else ""
        findings.append(
            Finding(
                kind="statefulset_service_name_missing",
                subject=f"statefulset/{sts.name}",
                role="cause",
                title=f"{sts.name}: StatefulSet {sts.name}'s serviceName is {wanted}, but no Service {wanted} exists in namespace {sts.namespace or 'its namespace'}{meant}, so its pods get no per-pod DNS names (<pod>.{wanted} and <pod>.{headless[0] if headless else wanted} both return NXDOMAIN)",
                weight=90,
                evidence=[
                    sts.quote("serviceName", fallback=f"StatefulSet {sts.name}: serviceName {wanted}"),
                    *([local[headless[0]]] if headless and local[headless[0]] else []),
                ],
                workload=sts.name,
                recommendations=[
                    rec(
                        "high",
                        f"Set StatefulSet {sts.name}'s spec.serviceName to {headless[0]} (it is immutable: recreate the StatefulSet with --cascade=orphan) or create a headless Service {wanted}"
                        if headless
                        else f"Create the headless Service {wanted} (clusterIP: None) selecting {sts.name}'s pods",
                    )
                ],
                affected=[sts.name, *headless[:1]],
            )
        )
    return findings


def _selects(obs: Observations, namespace: str | None, service: str, labels: dict[str, str]) -> bool:
    for fact in obs.services:
        if fact.name == service and fact.namespace in (None, namespace) and fact.selector:
            return all(labels.get(k) == v for k, v in fact.selector.items())
    return False


# --- stray pods behind a selector ----------------------------------------------------------------------------

_ERROR = re.compile(r"\b(?:ERROR|FATAL|Exception|panic)\b|\s5\d\d[\s:]", re.IGNORECASE)


def _stray_pods(obs: Observations) -> list[Finding]:
    findings: list[Finding] = []
    for service in obs.services:
        if not service.selector:
            continue
        pods = [
            p
            for p in obs.pods
            if p.labels
            and p.namespace in (None, service.namespace)
            and all(p.labels.get(k) == v for k, v in service.selector.items())
        ]
        groups: dict[str, list[PodFact]] = {}
        for pod in pods:
            groups.setdefault(workload_of(pod.name), []).append(pod)
        if len(groups) < 2:
            continue
        failing = {name: _error_line(obs, members) for name, members in groups.items()}
        bad = [name for name, line in failing.items() if line]
        if len(bad) != 1 or len(groups[bad[0]]) > len(pods) / 2:
            continue  # which group is the odd one out is not clear
        findings.append(_stray_finding(service, pods, groups, bad[0], failing[bad[0]] or ("", "")))
    return findings


def _error_line(obs: Observations, pods: list[PodFact]) -> tuple[str, str] | None:
    names = {p.name for p in pods}
    for doc in obs.logs:
        if doc.pod in names:
            line = next((ln for ln in doc.lines[:3000] if _ERROR.search(ln)), None)
            if line:
                return doc.pod or "", f"{doc.label} {excerpt(line.strip())}"
    return None


def _stray_finding(
    service: ServiceFact, pods: list[PodFact], groups: dict[str, list[PodFact]], bad: str, error: tuple[str, str]
) -> Finding:
    odd = groups[bad]
    selector = ",".join(f"{k}={v}" for k, v in service.selector.items())
    shown = ",".join(f"{k}={v}" for k, v in odd[0].labels.items() if k != "pod-template-hash")
    share = f"{len(odd)} of its {len(pods)} endpoints"
    return Finding(
        kind="service_selects_stray_pod",
        subject=f"service/{service.name}",
        role="cause",
        title=f"{service.name}: Service {service.name}'s selector {selector} also matches {', '.join(p.name for p in odd[:3])} ({shown}), which is not part of the {service.name} rollout and fails, so {share} answer with errors",
        weight=88,
        evidence=[
            e
            for e in (
                service.cites.get("selector", ""),
                service.cites.get("endpoints", ""),
                odd[0].cites.get("row", ""),
                error[1],
            )
            if e
        ],
        workload=service.name,
        recommendations=[
            rec(
                "high",
                f"Remove {odd[0].name} from Service {service.name}'s endpoints: delete it or change its labels (kubectl label pod {odd[0].name} {next(iter(service.selector))}-)",
            )
        ],
        affected=[service.name, bad],
        related=[bad],
    )


# --- Ingress pathType Exact ----------------------------------------------------------------------------------

_ACCESS = re.compile(r'"(?:GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS) (?P<path>/\S*) HTTP/[\d.]+" (?P<status>\d{3})')


def _exact_paths(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    exact = [
        (ingress, str(_d(path).get("path")), _d(_d(_d(path).get("backend")).get("service")).get("name"))
        for ingress in obs.resources
        if ingress.kind == "Ingress"
        for rule in _l(_d(ingress.raw.get("spec")).get("rules"))
        for path in _l(_d(_d(rule).get("http")).get("paths"))
        if _d(path).get("pathType") == "Exact" and str(_d(path).get("path", "")).startswith("/")
    ]
    if not exact:
        return []
    question = ctx.question.message if ctx.question else ""
    for ingress, path, backend in exact:
        below = re.compile(rf"{re.escape(path.rstrip('/'))}/\S+")
        missed = next(
            (
                (doc.label, line)
                for doc in obs.logs
                for line in doc.lines[:5000]
                for m in [_ACCESS.search(line)]
                if m and m.group("status") == "404" and below.match(m.group("path"))
            ),
            None,
        )
        if missed is None:
            missed = _curl_404(obs, below)
        if missed is None and not (re.search(r"\b404\b|not found", question, re.IGNORECASE) and below.search(question)):
            continue
        return [
            Finding(
                kind="ingress_path_exact",
                subject=f"ingress/{ingress.name}",
                role="cause",
                title=f"{ingress.name}: Ingress {ingress.name} routes {path} to {backend or 'its backend'} with pathType Exact, which matches {path} only, so requests under {path}/ (e.g. {_missed_path(missed, below, question) or path + '/...'}) fall through to another rule or the default backend and get 404",
                weight=90,
                evidence=[
                    ingress.quote("Exact", fallback=f"Ingress {ingress.name}: {path} pathType Exact"),
                    *([f"{missed[0]} {excerpt(_evidence_line(missed[1]))}"] if missed else []),
                ],
                workload=ingress.name,
                recommendations=[rec("high", f"Use pathType: Prefix for {path} in Ingress {ingress.name}")],
                affected=[ingress.name, *([str(backend)] if backend else [])],
            )
        ]
    return []


_CURL_URL = re.compile(r"\bcurl\b.*?https?://[^/\s'\"]+(?P<path>/[^\s'\"?]*)")
_HTTP_404 = re.compile(r"^\s*(?:HTTP/[\d.]+\s+404\b|404\b)|<title>404 Not Found")


def _curl_404(obs: Observations, below: re.Pattern[str]) -> tuple[str, str] | None:
    """A curl run (pasted with its prompt) of a URL under the Exact path that printed a 404 status: the 404 line,
    prefixed by the path asked for."""
    docs: list[TextDoc | LogDoc] = [*obs.texts, *obs.logs]
    for doc in docs:
        lines = doc.lines[:2000]
        asked = _CURL_URL.search(doc.command)
        if asked and below.match(asked.group("path")):  # the output of one command, split off by the parser
            hit = next((line for line in lines[:6] if _HTTP_404.search(line)), None)
            if hit is not None:
                return doc.label, f"{asked.group('path')} {hit.strip()}"
        for index, line in enumerate(lines):
            match = _CURL_URL.search(line)
            if match is None or not below.match(match.group("path")):
                continue
            for after in lines[index + 1 : index + 6]:
                if _CURL_URL.search(after):
                    break
                if _HTTP_404.search(after):
                    return doc.label, f"{match.group('path')} {after.strip()}"
    return None


def _evidence_line(line: str) -> str:
    """The printed line, without the path a curl hit is prefixed with."""
    head, _, rest = line.strip().partition(" ")
    return rest if head.startswith("/") and rest else line.strip()


def _missed_path(missed: tuple[str, str] | None, below: re.Pattern[str], question: str) -> str:
    for text in ([missed[1]] if missed else []) + [question]:
        found = below.search(text.replace('"', " "))
        if found:
            return found.group(0).rstrip(".,;:)'")
    return ""


# --- ssl-redirect loop ---------------------------------------------------------------------------------------

_REDIRECT_ANNOTATION = re.compile(r"nginx\.ingress\.kubernetes\.io/(?P<key>force-ssl-redirect|ssl-redirect)")
_LOOP_WORDS = re.compile(
    r"too many redirects|TOO_MANY_REDIRECTS|redirect(?:s|ed)? (?:loop|forever|endlessly)|redirect loop", re.IGNORECASE
)


def _redirect_loop(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    question = ctx.question.message if ctx.question else ""
    labelled = [(d.label, line) for d in obs.logs for line in d.lines[:3000]]
    labelled += [(t.label, line) for t in obs.texts for line in t.lines[:3000]]
    texts = [line for _, line in labelled]
    redirects = [
        f"{label} {excerpt(line.strip())}"
        for label, line in labelled
        if (m := _ACCESS.search(line)) and m.group("status") in ("301", "302", "307", "308")
    ]
    if not (_LOOP_WORDS.search(question) or any(_LOOP_WORDS.search(line) for line in texts)) and len(redirects) < 3:
        return []
    for ingress in (r for r in obs.resources if r.kind == "Ingress"):
        annotations = _d(_d(ingress.raw.get("metadata")).get("annotations"))
        keys = [k for k, v in annotations.items() if _REDIRECT_ANNOTATION.search(str(k)) and str(v).lower() == "true"]
        if not keys:
            continue
        key = keys[0].split("/")[-1]
        return [
            Finding(
                kind="ingress_redirect_loop",
                subject=f"ingress/{ingress.name}",
                role="cause",
                title=f"{ingress.name}: Ingress {ingress.name} sets {key}: every request that reaches ingress-nginx over plain HTTP is redirected (308) to https, and the load balancer in front terminates TLS and forwards HTTP again, so clients loop on redirects (ERR_TOO_MANY_REDIRECTS)",
                weight=88,
                evidence=[
                    ingress.quote(key, fallback=f"Ingress {ingress.name}: {keys[0]}"),
                    *redirects[:1],
                ],
                workload=ingress.name,
                recommendations=[
                    rec(
                        "high",
                        f"Let ingress-nginx trust the balancer's X-Forwarded-Proto (use-forwarded-headers: 'true' in its ConfigMap) or forward HTTPS to it; else drop {key} from Ingress {ingress.name}",
                    )
                ],
                affected=[ingress.name],
            )
        ]
    return []


# --- Endpoints listed empty ----------------------------------------------------------------------------------


def _empty_endpoints(obs: Observations) -> list[Finding]:
    """``kubectl get endpoints`` printing ``<none>`` (EndpointSlices ``<unset>``): the Service has no Ready pod
    behind it, whatever its callers see (503 from proxies, connection refused or timeouts)."""
    findings: list[Finding] = []
    for resource in obs.resources:
        row = _d(resource.raw.get("row"))
        if resource.kind not in ("Endpoints", "EndpointSlice") or str(row.get("ENDPOINTS", "")) not in (
            "<none>",
            "<unset>",
        ):
            continue
        name = str(row.get("NAME", resource.name)).split("/")[-1]
        service = re.sub(r"-[a-z0-9]{5}$", "", name) if resource.kind == "EndpointSlice" else name
        pods = [p for p in obs.pods if p.namespace in (None, resource.namespace) and p.name.startswith(f"{service}-")]
        ready = [p for p in pods if _is_ready(p)]
        printed = printed_selector(obs, service) if pods and ready else None
        differing = (
            {k: v for k, v in printed[0].items() if ready[0].labels.get(k) != v} if printed and ready[0].labels else {}
        )
        if pods and ready and differing:
            wanted = ",".join(f"{k}={v}" for k, v in printed[0].items())  # type: ignore[index]
            actual = ", ".join(f"{k}={ready[0].labels.get(k, '<unset>')}" for k in differing)
            why = f"; its selector {wanted} matches none of its Ready pods, which are labelled {actual} (e.g. {ready[0].name}), so the selector does not match their labels"
        elif pods and ready:
            shown = ",".join(f"{k}={v}" for k, v in ready[0].labels.items() if k != "pod-template-hash")
            why = f"; its pods ({ready[0].name}{', labels ' + shown if shown else ''}) are Ready, so its selector does not match their labels (or its named targetPort names no port of theirs)"
        elif pods:
            why = f"; its pods ({pods[0].name}) are not Ready"
        else:
            why = ""
        findings.append(
            Finding(
                kind="service_no_endpoints",
                subject=f"service/{service}",
                role="cause",
                title=f"{service}: Service {service} has no endpoints (<none>), so nothing answers behind it{why}",
                weight=(90 if differing else 80) if why else 72,
                evidence=[
                    e
                    for e in (
                        resource.quote(name),
                        printed[1] if printed and differing else "",
                        ready[0].cites.get("row", "") if ready else "",
                    )
                    if e
                ],
                workload=service,
                recommendations=[
                    rec(
                        "high",
                        f"Compare Service {service}'s selector with its pods' labels (kubectl get svc {service} -o wide; kubectl get pods --show-labels) and check their readiness",
                    )
                ],
                affected=[service],
            )
        )
    return findings


_GET_SERVICE = r"\bget\s+(?:svc|services?)(?:/|\s+)"


def printed_selector(obs: Observations, service: str) -> tuple[dict[str, str], str] | None:
    """A Service's selector printed alone (``kubectl get svc x -o jsonpath='{.spec.selector}'`` as one JSON object,
    or ``yq .spec.selector`` as ``key: value`` lines), with the line that shows it."""
    command = re.compile(_GET_SERVICE + re.escape(service) + r"\b[^|]*(?:\|[^|]*)*selector", re.IGNORECASE)
    sources = [(t.label, t.command, t.lines) for t in obs.texts] + [(d.label, d.command, d.lines) for d in obs.logs]
    for label, printed_by, lines in sources:
        if not printed_by or not command.search(printed_by):
            continue
        for line in lines[:20]:
            selector = string_map_line(line)
            if selector:
                return selector, f"{label} {line.strip()}"
        pairs = [
            re.match(r"^([\w./-]+):\s*[\"']?([\w.-]+)[\"']?\s*$", line.strip()) for line in lines[:20] if line.strip()
        ]
        if pairs and all(pairs) and ".spec.selector" in printed_by and "jsonpath" not in printed_by:
            found = {m.group(1): m.group(2) for m in pairs if m}
            return found, f"{label} {lines[0].strip()}"
    return None


def _is_ready(pod: PodFact) -> bool:
    if any(c.type == "Ready" for c in pod.conditions):
        return any(c.type == "Ready" and c.status == "True" for c in pod.conditions)
    return bool(pod.containers) and all(c.ready for c in pod.containers)


# --- a client dialling a port the Service does not expose -----------------------------------------------------

_DIAL = re.compile(
    r"(?:dial tcp|connect to|Failed to connect to|Connection refused:?|ECONNREFUSED|ETIMEDOUT)\s*(?P<ip>\d+\.\d+\.\d+\.\d+)[:\s](?:port )?(?P<port>\d{2,5})"
    r"|(?<![\w.-])(?P<host>[a-z][\w-]*)(?:\.(?P<ns>[a-z][\w-]*))?(?:\.svc(?:\.cluster\.local)?)?:(?P<hport>\d{2,5})\b"
    r"(?=[^\n]*?(?:refused|timed? ?out|timeout|ECONNREFUSED))",
    re.IGNORECASE,
)


def _exposed(obs: Observations) -> dict[str, tuple[str, str | None, set[str], str]]:
    """ClusterIP or name -> (Service name, namespace, its ports, evidence), from Service objects and tables."""
    found: dict[str, tuple[str, str | None, set[str], str]] = {}
    for resource in obs.resources:
        if resource.kind != "Service":
            continue
        row = _d(resource.raw.get("row"))
        spec = _d(resource.raw.get("spec"))
        ports = {str(_d(p).get("port")) for p in _l(spec.get("ports")) if _d(p).get("port")}
        ports |= {
            item.split(":")[0].split("/")[0]
            for item in str(row.get("PORT(S)", "")).split(",")
            if item and item != "<none>"
        }
        ip = str(spec.get("clusterIP") or row.get("CLUSTER-IP") or "")
        if not ports or str(spec.get("type") or row.get("TYPE") or "") == "ExternalName":
            continue
        entry = (resource.name, resource.namespace, ports, resource.quote(resource.name))
        if re.fullmatch(r"\d+\.\d+\.\d+\.\d+", ip):
            found[ip] = entry
        found.setdefault(resource.name, entry)
    return found


def _unexposed_port(obs: Observations) -> list[Finding]:
    exposed = _exposed(obs)
    if not exposed:
        return []
    for label, lines in [(d.label, d.lines) for d in obs.logs] + [(t.label, t.lines) for t in obs.texts]:
        for line in lines[:5000]:
            for match in _DIAL.finditer(line[:4096]):
                key = match.group("ip") or match.group("host")
                port = match.group("port") or match.group("hport")
                service = exposed.get(key or "")
                if service is None or port in service[2]:
                    continue
                if match.group("ns") and service[1] and match.group("ns") != service[1]:
                    continue
                name, _namespace, ports, cite = service
                listed = ", ".join(sorted(ports, key=lambda p: int(p) if p.isdigit() else 0))
                return [
                    Finding(
                        kind="service_port_not_exposed",
                        subject=f"service/{name}",
                        role="cause",
                        title=f"{name}: clients connect to Service {name} on port {port}, but the Service exposes only port {listed}, so those connections are refused (a Service answers only on its spec.ports[].port; {port} may be the pods' targetPort)",
                        weight=88,
                        evidence=[f"{label} {excerpt(line.strip(), around=port)}", cite],
                        workload=name,
                        recommendations=[
                            rec(
                                "high",
                                f"Point the clients at {name}:{listed.split(', ')[0]} (or add port {port} to Service {name})",
                            )
                        ],
                        affected=[name],
                    )
                ]
    return []
