"""Why an autoscaler reads the wrong number or none, down to the name or the request behind it.

- ``the server could not find the metric X`` (HPA on a Pods/Object metric): the custom metrics adapter does not
  serve X; when the paste lists what it serves (``kubectl get --raw /apis/custom.metrics.k8s.io/v1beta1``) and a
  close name is there, the metric was renamed (adapter rules, exporter or client-library upgrade).
- An HPA on ``Resource`` cpu utilization averages over the whole pod: usage of all containers divided by the sum
  of their requests (HPA algorithm details). A sidecar with a large request and little use (istio-proxy with
  ``sidecar.istio.io/proxyCPU``) dilutes the figure, so the HPA reads far below target while the app container
  runs at its limit; a ``ContainerResource`` metric on the app container fixes it.
- A KEDA scaler whose server address does not resolve (``lookup X on ...: no such host``): the trigger names a
  Service that does not exist in that namespace; the namespace's Services show the one meant.
"""
# ruff: noqa: E501  (messages read better unwrapped)

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Any

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import rec
from engine.analyzers.scheduling_detail import lines_of
from engine.facts import Observations
from engine.findings import Finding, workload_of
from engine.parsers.common import excerpt

_MISSING_METRIC = re.compile(
    r"(?:could not find the metric|no matching metrics found for|unable to get (?:external )?metric) (?P<metric>[A-Za-z_:][\w:.-]*?)(?=[\s:,]|$)"
)
_SERVED = re.compile(
    r"^\s*(?:\"name\":\s*)?\"?(?:pods|namespaces|services|nodes|jobs\.batch|deployments\.apps|[\w.]+)/(?P<metric>[A-Za-z_:][\w:]*)\"?,?\s*$"
)


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    return [
        *_renamed_metric(obs),
        *_diluted_utilization(obs),
        *_scaler_host_missing(obs, ctx),
        *_fixed_size(obs),
        *_scale_down_held(obs),
        *_scale_target_missing(obs, ctx),
    ]


def _hpas(obs: Observations) -> list[Any]:
    return [r for r in obs.resources if r.kind == "HorizontalPodAutoscaler" and _d(r.raw.get("spec"))]


def _fixed_size(obs: Observations) -> list[Finding]:
    """``minReplicas`` equal to ``maxReplicas``: the HPA can never change the replica count."""
    findings: list[Finding] = []
    for hpa in _hpas(obs):
        spec = _d(hpa.raw.get("spec"))
        low, high = spec.get("minReplicas"), spec.get("maxReplicas")
        if not isinstance(low, int) or low != high:
            continue
        target = str(_d(spec.get("scaleTargetRef")).get("name") or hpa.name)
        findings.append(
            Finding(
                kind="hpa_fixed_size",
                subject=f"horizontalpodautoscaler/{hpa.name}",
                role="cause",
                title=f"{target}: the HPA {hpa.name} can never scale: minReplicas and maxReplicas are both {low}, so it holds {target} at {low} replicas whatever the load",
                weight=92,
                evidence=[hpa.quote("maxReplicas")],
                workload=target,
                recommendations=[
                    rec(
                        "high",
                        f"Raise maxReplicas of HPA {hpa.name} above minReplicas ({low}) to the size the load needs",
                    )
                ],
                affected=[target],
            )
        )
    return findings


def _scale_down_held(obs: Observations) -> list[Finding]:
    """A long ``behavior.scaleDown.stabilizationWindowSeconds`` (or a slow scale-down policy) holding the replicas
    up after the load fell (condition ``ScaleDownStabilized``)."""
    findings: list[Finding] = []
    for hpa in _hpas(obs):
        spec, status = _d(hpa.raw.get("spec")), _d(hpa.raw.get("status"))
        down = _d(_d(spec.get("behavior")).get("scaleDown"))
        window = down.get("stabilizationWindowSeconds")
        stabilized = any(_d(c).get("reason") == "ScaleDownStabilized" for c in status.get("conditions") or [])
        if not isinstance(window, int) or window <= 600 or not stabilized:
            continue
        policies = [
            f"{_d(p).get('value')} {str(_d(p).get('type', '')).lower()} per {_d(p).get('periodSeconds')}s"
            for p in down.get("policies") or []
        ]
        target = str(_d(spec.get("scaleTargetRef")).get("name") or hpa.name)
        policy = f" and a scale-down policy of {', '.join(policies)}" if policies else ""
        findings.append(
            Finding(
                kind="hpa_scale_down_stabilized",
                subject=f"horizontalpodautoscaler/{hpa.name}",
                role="cause",
                title=f"{target}: the HPA {hpa.name} holds {status.get('currentReplicas', 'its')} replicas after the load fell because behavior.scaleDown.stabilizationWindowSeconds is {window} ({window // 60} min){policy}: it applies the highest recommendation of that window (ScaleDownStabilized)",
                weight=90,
                evidence=[hpa.quote("stabilizationWindowSeconds")],
                workload=target,
                recommendations=[
                    rec(
                        "high",
                        f"Shorten behavior.scaleDown.stabilizationWindowSeconds of HPA {hpa.name} (default 300) or loosen its scale-down policy",
                    )
                ],
                affected=[target],
            )
        )
    return findings


_TARGET_MISSING = re.compile(
    r"Target resource doesn't exist|doesn't have correct scaleTargetRef|(?:deployments|statefulsets)(?:\.apps)?(?:/scale)?(?:\.apps)? \\?\"(?P<name>[\w.-]+)\\?\" not found",
    re.I,
)


def _scale_target_missing(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    """A ScaledObject (or HPA) whose scaleTargetRef names a workload that does not exist, with the close name that
    does (a Helm release prefix, a rename)."""
    hit = next(
        (
            (label, line, m)
            for label, line in lines_of(obs)
            if (m := _TARGET_MISSING.search(line)) and "already managed" not in line
        ),
        None,
    )
    if hit is None:
        return []
    existing = [w.name for w in obs.workloads if w.kind in ("Deployment", "StatefulSet")]
    if "scaleTargetRef" in hit[2].group(0) and not existing:
        return []  # KEDA's generic check message: only a listing of the workloads shows the name is missing
    label, line, found = hit
    wanted = found.group("name")
    if not wanted:
        wanted = next(
            (m.group(1) for _, text in lines_of(obs) if (m := re.match(r"^\s+Name:\s+([a-z0-9][\w.-]*)\s*$", text))),
            None,
        )
    for resource in obs.resources:
        ref = _d(_d(resource.raw.get("spec")).get("scaleTargetRef")).get("name")
        if resource.kind in ("ScaledObject", "HorizontalPodAutoscaler") and ref and not wanted:
            wanted = str(ref)
    wanted = wanted or (ctx.question.named if ctx.question else None)
    if not wanted:
        return []
    if wanted in existing:
        return []
    close = difflib.get_close_matches(wanted, existing, n=1, cutoff=0.5) or [e for e in existing if wanted in e][:1]
    instead = f"; {close[0]} exists instead" if close else ""
    return [
        Finding(
            kind="scale_target_missing",
            subject=f"scaledobject/{wanted}",
            role="cause",
            title=f"{wanted}: the autoscaler's scaleTargetRef names {wanted}, which does not exist (target resource not found){instead}, so nothing is scaled",
            weight=91,
            evidence=[f"{label} {excerpt(line.strip())}"],
            workload=wanted,
            recommendations=[
                rec("high", f"Point scaleTargetRef.name at {close[0] if close else 'the workload that exists'}")
            ],
            affected=[wanted],
        )
    ]


def _hpa_name(obs: Observations) -> tuple[str, str] | None:
    """The (HPA, target workload) the paste shows."""
    for hpa in (r for r in obs.resources if r.kind == "HorizontalPodAutoscaler"):
        row = _d(hpa.raw.get("row"))
        target = str(row.get("REFERENCE") or "").split("/")[-1] or str(
            _d(_d(hpa.raw.get("spec")).get("scaleTargetRef")).get("name") or hpa.name
        )
        return hpa.name, target
    return None


# --- a custom metric the adapter serves under another name -----------------------------------------------


def _renamed_metric(obs: Observations) -> list[Finding]:
    missing: tuple[str, str] | None = None
    served: dict[str, str] = {}
    messages = [
        (r.label, str(_d(c).get("message") or ""))
        for r in obs.resources
        if r.kind == "HorizontalPodAutoscaler"
        for c in _d(r.raw.get("status")).get("conditions") or []
    ]
    messages += [(e.cite.split("] ")[0] + "]", e.message) for e in obs.events]
    for label, line in [*lines_of(obs), *messages]:
        found = _MISSING_METRIC.search(line)
        if found and missing is None:
            missing = (found.group("metric"), f"{label} {excerpt(line.strip(), around=found.group('metric'))}")
        listed = _SERVED.match(line)
        if listed and "could not find" not in line:
            served.setdefault(listed.group("metric"), f"{label} {excerpt(line.strip())}")
    if missing is None or not served or missing[0] in served:
        return []
    metric, cite = missing
    close = difflib.get_close_matches(metric, list(served), n=1, cutoff=0.6)
    names = _hpa_name(obs)
    hpa, target = names if names else (None, None)
    if close:
        detail = f"the adapter serves it as {close[0]} now (renamed), so the HPA's metric name no longer matches"
        evidence = [cite, served[close[0]]]
    else:
        detail = f"the adapter serves no such metric (it lists {', '.join(sorted(served)[:4])})"
        evidence = [cite, next(iter(served.values()))]
    subject = target or hpa or metric
    return [
        Finding(
            kind="hpa_metric_renamed",
            subject=f"horizontalpodautoscaler/{hpa or subject}",
            role="cause",
            title=f"{subject}: the HPA{' ' + hpa if hpa else ''} cannot read its metric {metric} from the custom metrics API: {detail}; it keeps the current replica count whatever the load",
            weight=93,
            evidence=evidence,
            workload=subject,
            recommendations=[
                rec(
                    "high",
                    f"Point the HPA at {close[0]} (spec.metrics[].pods.metric.name) or restore the adapter rule that exposed {metric}"
                    if close
                    else f"Add an adapter rule (prometheus-adapter seriesQuery/name) that exposes {metric}, or use a metric the adapter serves",
                )
            ],
            affected=[subject],
        )
    ]


# --- a sidecar's request diluting the pod's CPU utilization -----------------------------------------------

_TOP_CONTAINERS = re.compile(r"^\s*POD\s+NAME\s+CPU\(cores\)\s+MEMORY\(bytes\)", re.I)
_CPU = re.compile(r"^(?P<n>\d+(?:\.\d+)?)(?P<m>m?)$")
_ISTIO_CPU = re.compile(r"sidecar\.istio\.io/proxyCPU\"?:\s*\"?(?P<cpu>\d+(?:\.\d+)?m?)\"?")
_UTILIZATION = re.compile(
    r"\bcpu:\s*(?P<now>\d+)%/(?P<target>\d+)%|(?<![\w/])(?P<now2>\d+)%/(?P<target2>\d+)%"
    r"|resource cpu on pods\s+\(as a percentage of request\):\s*(?P<now3>\d+)% \([^)]*\) / (?P<target3>\d+)%"
)


def _docs(obs: Observations) -> list[tuple[str, list[str], str]]:
    """(label, lines, command) of every text and log read."""
    return [(t.label, t.lines, t.command) for t in obs.texts] + [(d.label, d.lines, d.command) for d in obs.logs]


def _millicores(text: str) -> float | None:
    found = _CPU.match(text.strip().strip('"'))
    if not found:
        return None
    value = float(found.group("n"))
    return value if found.group("m") else value * 1000


def _usage(obs: Observations) -> tuple[dict[str, float], dict[str, str]]:
    """Per container name, the highest CPU use ``kubectl top pods --containers`` prints, and a row as evidence."""
    used: dict[str, float] = {}
    cites: dict[str, str] = {}
    for label, lines, _ in _docs(obs):
        inside = False
        for line in lines:
            if _TOP_CONTAINERS.match(line):
                inside = True
                continue
            cells = line.split()
            if inside and len(cells) == 4 and (cpu := _millicores(cells[2])) is not None:
                if cpu >= used.get(cells[1], -1):
                    used[cells[1]] = cpu
                    cites[cells[1]] = f"{label} {excerpt(line.strip())}"
            elif inside:
                inside = False
    return used, cites


def _requests(obs: Observations) -> tuple[dict[str, float], dict[str, str]]:
    """Per container name, its CPU request: from Pod/Deployment objects, `name<TAB>request<TAB>limit` rows printed
    for `.resources.requests.cpu`, describe blocks, and Istio's proxyCPU annotation for istio-proxy."""
    requests: dict[str, float] = {}
    cites: dict[str, str] = {}
    for resource in obs.resources:
        spec = _d(resource.raw.get("spec"))
        pod_spec = _d(_d(spec.get("template")).get("spec")) or spec
        for container in pod_spec.get("containers") or []:
            cpu = _d(_d(_d(container).get("resources")).get("requests")).get("cpu")
            if cpu is not None and (value := _millicores(str(cpu))) is not None:
                requests.setdefault(str(_d(container).get("name")), value)
                cites.setdefault(str(_d(container).get("name")), resource.quote(str(cpu)))
    for label, lines, command in _docs(obs):
        tabular = "requests" in command
        current: str | None = None
        in_requests = False
        for line in lines:
            cells = line.split()
            if tabular and 2 <= len(cells) <= 3 and (value := _millicores(cells[1])) is not None:
                requests.setdefault(cells[0], value)
                cites.setdefault(cells[0], f"{label} {excerpt(line.strip())}")
            header = re.match(r"^\s{2,4}([a-z0-9][\w-]*):\s*$", line)
            if header:
                current, in_requests = header.group(1), False
            if re.match(r"^\s+Requests:\s*$", line):
                in_requests = True
            elif in_requests and current and (m := re.match(r"^\s+cpu:\s+(\S+)\s*$", line)):
                if (value := _millicores(m.group(1))) is not None:
                    requests.setdefault(current, value)
                    cites.setdefault(current, f"{label} {excerpt(line.strip())}")
                in_requests = False
            istio = _ISTIO_CPU.search(line)
            if istio and (value := _millicores(istio.group("cpu"))) is not None:
                requests.setdefault("istio-proxy", value)
                cites.setdefault("istio-proxy", f"{label} {excerpt(line.strip())}")
    return requests, cites


def _diluted_utilization(obs: Observations) -> list[Finding]:
    names = _hpa_name(obs)
    if names is None:
        return []
    if any("ContainerResource" in line for _, line in lines_of(obs)):
        return []
    reading = next(
        ((m, f"{label} {excerpt(line.strip())}") for label, line in lines_of(obs) if (m := _UTILIZATION.search(line))),
        None,
    )
    if reading is None:
        return []
    match, reading_cite = reading
    now = int(match.group("now") or match.group("now2") or match.group("now3"))
    target = int(match.group("target") or match.group("target2") or match.group("target3"))
    if now >= target:
        return []
    used, used_cites = _usage(obs)
    requests, request_cites = _requests(obs)
    busy = [c for c in used if c in requests and requests[c] > 0 and used[c] / requests[c] >= 0.8]
    idle = [c for c in used if c in requests and requests[c] > 0 and used[c] / requests[c] <= 0.2 and c not in busy]
    if not busy or not idle:
        return []
    app, sidecar = busy[0], max(idle, key=lambda c: requests[c])
    if requests[sidecar] < 0.5 * requests[app]:
        return []
    hpa, target_name = names
    app_pct = round(100 * used[app] / requests[app])
    return [
        Finding(
            kind="hpa_utilization_diluted",
            subject=f"horizontalpodautoscaler/{hpa}",
            role="cause",
            title=(
                f"{target_name}: the HPA {hpa} averages CPU over the whole pod, and the {sidecar} sidecar requests {_fmt(requests[sidecar])} "
                f"but uses {_fmt(used[sidecar])}, so the pod reads {now}% (target {target}%) while container {app} runs at {app_pct}% of its "
                f"{_fmt(requests[app])} request: the sidecar's request dilutes the utilization and the HPA never scales out"
            ),
            weight=92,
            evidence=[reading_cite, request_cites[sidecar], used_cites[app]],
            workload=target_name,
            recommendations=[
                rec(
                    "high",
                    f"Scale on a ContainerResource metric for container {app} (autoscaling/v2), or lower {sidecar}'s CPU request to what it uses",
                )
            ],
            affected=[target_name],
        )
    ]


def _fmt(millicores: float) -> str:
    return f"{int(millicores)}m"


# --- a KEDA scaler pointed at a Service that does not exist ---------------------------------------------

_NO_HOST = re.compile(r"lookup (?P<host>[a-z0-9][\w.-]*) on [\d.:\[\]a-f]+: no such host")
_SVC_HEADER = re.compile(r"^\s*(?:NAMESPACE\s+)?NAME\s+TYPE\s+CLUSTER-IP\b")


@dataclass(frozen=True)
class MissingService:
    """A client's ``lookup <service>.<namespace>[.svc...]: no such host`` for a Service the pasted listing lacks."""

    host: str
    cite: str
    service: str
    namespace: str
    port: str | None
    listed: dict[str, tuple[str, str]]


def unresolved_service(obs: Observations, context: re.Pattern[str]) -> MissingService | None:
    """The first failed lookup, on a line (or in an attachment) that ``context`` matches, of an in-cluster Service
    name whose namespace's ``kubectl get svc`` listing has no such Service."""
    failure: tuple[str, str] | None = None
    for label, line in lines_of(obs):
        found = _NO_HOST.search(line)
        if found and context.search(line + label):
            failure = (found.group("host"), f"{label} {excerpt(line.strip(), around='no such host')}")
            break
    if failure is None:
        return None
    host, cite = failure
    parts = host.split(".")
    if len(parts) < 2 or (len(parts) > 2 and parts[2] != "svc"):
        return None
    listed = listed_services(obs)
    if not listed or parts[0] in listed:
        return None
    port = next((m.group(1) for _, line in lines_of(obs) if (m := re.search(rf"{re.escape(host)}:(\d+)", line))), None)
    return MissingService(host, cite, parts[0], parts[1], port, listed)


def _scaler_host_missing(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    missing = unresolved_service(obs, re.compile(r"keda|scaler|scaledobject|trigger", re.I))
    if missing is None:
        return []
    host, cite, service, namespace, port, listed = (
        missing.host,
        missing.cite,
        missing.service,
        missing.namespace,
        missing.port,
        missing.listed,
    )
    word = re.split(r"[-_]", service)[0]
    meant = [s for s in listed if word in s and (port is None or port in listed[s][0])] or [
        s for s in listed if word in s
    ]
    scaled = _scaled_object(obs, ctx)
    what = scaled or "the ScaledObject"
    instead = f"; the namespace {namespace} has {', '.join(meant[:3])} instead" if meant else ""
    evidence = [cite, *(listed[meant[0]][1:] if meant else [])]
    return [
        Finding(
            kind="keda_scaler_host_missing",
            subject=f"scaledobject/{scaled or service}",
            role="cause",
            title=f"{what}: the KEDA trigger queries {host}{':' + port if port else ''}, which does not resolve (no such host): there is no Service {service} in {namespace}{instead}, so the scaler fails and the workload stays at its minimum",
            weight=93,
            evidence=evidence,
            workload=scaled or service,
            recommendations=[
                rec(
                    "high",
                    f"Set the trigger's serverAddress to an existing Service ({meant[0]}.{namespace}.svc{':' + port if port else ''})"
                    if meant
                    else f"Set the trigger's serverAddress to the Service that serves it in {namespace}",
                )
            ],
            affected=[scaled] if scaled else [],
        )
    ]


def listed_services(obs: Observations) -> dict[str, tuple[str, str]]:
    """Service names a ``kubectl get svc`` table lists, with their ports cell and the row as evidence."""
    found: dict[str, tuple[str, str]] = {}
    for text in obs.texts:
        inside, offset = False, 0
        for line in text.lines:
            if _SVC_HEADER.match(line):
                inside, offset = True, 1 if line.split()[0] == "NAMESPACE" else 0
                continue
            cells = line.split()
            if inside and len(cells) >= 3 + offset:
                ports = next((c for c in cells if re.match(r"^\d+/(?:TCP|UDP)|^\d+:\d+/", c)), "")
                found[cells[offset].removeprefix("service/")] = (ports, f"{text.label} {excerpt(line.strip())}")
            elif inside:
                inside = False
    for resource in obs.resources:
        if resource.kind == "Service":
            ports = ",".join(str(_d(p).get("port")) for p in _d(resource.raw.get("spec")).get("ports") or [])
            found.setdefault(resource.name, (ports, resource.quote(resource.name)))
    return found


def _scaled_object(obs: Observations, ctx: AnalysisContext) -> str | None:
    for text in obs.texts:
        named = re.search(r"describe\s+(?:scaledobjects?|so)(?:\.keda\.sh)?\s+([a-z0-9][\w.-]*)", text.command)
        if named:
            return named.group(1)
    for resource in obs.resources:
        if resource.kind == "ScaledObject" and str(_d(resource.raw.get("row")).get("READY", "")) == "False":
            return resource.name
    asked = ctx.question.named if ctx.question else None
    return workload_of(asked) if asked else None


def _d(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
