"""Autoscalers beyond the HPA's own conditions: KEDA ScaledObjects, the cluster autoscaler's node groups, and
whoever else sets a workload's replicas behind the HPA's back.

- KEDA pauses a ScaledObject with the ``autoscaling.keda.sh/paused-replicas`` / ``autoscaling.keda.sh/paused``
  annotations (status condition ``Paused``): it then holds the workload at that count whatever the load.
- A KEDA ``cron`` trigger evaluates ``start``/``end`` in its ``timezone`` (an IANA name): a schedule meant for
  another zone fires at the wrong hour.
- The cluster autoscaler's status (``cluster-autoscaler-status`` ConfigMap) prints each node group's
  ``cloudProviderTarget`` and ``maxSize``: a group at its maximum cannot take more pods.
- An HPA owns ``spec.replicas``; a GitOps tool or a pipeline that applies a manifest with ``replicas:`` puts it
  back, so the workload bounces between the HPA's size and the manifest's.
"""
# ruff: noqa: E501  (user-facing messages read better unwrapped)

from __future__ import annotations

import re
from typing import Any

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import rec
from engine.facts import Observations, ResourceFact
from engine.findings import Finding, workload_of
from engine.parsers.common import excerpt

_PAUSE_ANNOTATIONS = ("autoscaling.keda.sh/paused-replicas", "autoscaling.keda.sh/paused")
_TIMING_WORDS = frozenset(
    {"late", "early", "hour", "hours", "timezone", "schedule", "clock", "dst", "morning", "evening"}
)


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    findings: list[Finding] = []
    for scaled in (r for r in obs.resources if r.kind == "ScaledObject"):
        findings += _paused(scaled)
        findings += _cron_timezone(scaled, ctx)
    findings += _node_groups_at_max(obs, ctx)
    findings += _replicas_fight(obs)
    findings += _no_autoscaler(obs, ctx)
    findings += _unknown_targets(obs)
    findings += _adapter_refused(obs)
    findings += _trigger_credentials_refused(obs)
    return findings


_AUTOSCALER_LISTING = re.compile(
    r"\bget\s+(?P<what>scaledobjects?|so|hpa|horizontalpodautoscalers?|scaledjobs?)(?:[\s.,]|$)"
)


def _no_autoscaler(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    """``kubectl get scaledobject|hpa`` printing "No resources found": nothing autoscales the workload asked about."""
    asked = ctx.focus.owner() if ctx.focus else None
    asked = asked or (ctx.question.named if ctx.question else None)
    if not asked:
        return []
    for label, lines, command in [(t.label, t.lines, t.command) for t in obs.texts] + [
        (d.label, d.lines, d.command) for d in obs.logs
    ]:
        match = _AUTOSCALER_LISTING.search(command) if command else None
        empty = next((line.strip() for line in lines if line.strip().startswith("No resources found")), None)
        if match is None or empty is None:
            continue
        kind = "HPA" if match.group("what").startswith(("hpa", "horizontal")) else "KEDA ScaledObject"
        return [
            Finding(
                kind="autoscaler_missing",
                subject=f"{kind.lower().replace(' ', '-')}/{asked}",
                role="cause",
                title=f"{asked}: no {kind} exists for it ({empty.rstrip('.')}), so nothing scales {asked} with the load; it stays at its fixed replicas",
                weight=82,
                evidence=[f"{label} {empty}"],
                workload=asked,
                recommendations=[
                    rec("high", f"Create the {kind} for {asked} (or check it was applied to this namespace)")
                ],
                affected=[asked],
            )
        ]
    return []


def _d(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _l(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _target(scaled: ResourceFact) -> str:
    row = _d(scaled.raw.get("row"))
    return str(
        _d(_d(scaled.raw.get("spec")).get("scaleTargetRef")).get("name") or row.get("SCALETARGETNAME") or scaled.name
    )


# --- KEDA ---------------------------------------------------------------------------------------------------


def _paused(scaled: ResourceFact) -> list[Finding]:
    annotations = _d(_d(scaled.raw.get("metadata")).get("annotations"))
    status = _d(scaled.raw.get("status"))
    row = _d(scaled.raw.get("row"))
    how = next((f"annotation {key}={annotations[key]}" for key in _PAUSE_ANNOTATIONS if key in annotations), None)
    condition = next(
        (
            _d(c)
            for c in _l(status.get("conditions"))
            if _d(c).get("type") == "Paused" and str(_d(c).get("status")) == "True"
        ),
        None,
    )
    if how is None and condition is None and str(row.get("PAUSED")) != "True":
        return []
    count = annotations.get("autoscaling.keda.sh/paused-replicas", status.get("pausedReplicaCount"))
    held = (
        f", so it holds the workload at {count} replicas whatever the trigger's load"
        if count is not None
        else ", so it does not scale the workload whatever the trigger's load"
    )
    target = _target(scaled)
    if how and "paused-replicas" in how:
        evidence = scaled.quote(_PAUSE_ANNOTATIONS[0])
    elif row:
        evidence = scaled.quote(scaled.name)  # the table row, PAUSED True
    else:
        evidence = scaled.quote("paused")
    return [
        Finding(
            kind="keda_paused",
            subject=f"scaledobject/{scaled.name}",
            role="cause",
            title=f"{target}: KEDA autoscaling is paused on ScaledObject {scaled.name} ({how or 'status Paused=True'}){held}",
            weight=88,
            evidence=[evidence],
            workload=target,
            recommendations=[
                rec(
                    "high",
                    f"Remove the pause annotation from ScaledObject {scaled.name} (kubectl annotate scaledobject {scaled.name} autoscaling.keda.sh/paused-replicas-) once the reason for the pause is gone",
                )
            ],
            affected=[target],
        )
    ]


def _cron_timezone(scaled: ResourceFact, ctx: AnalysisContext) -> list[Finding]:
    words = ctx.question.words if ctx.question else frozenset()
    if not words & _TIMING_WORDS:
        return []
    findings: list[Finding] = []
    for trigger in _l(_d(scaled.raw.get("spec")).get("triggers")):
        trigger = _d(trigger)
        meta = _d(trigger.get("metadata"))
        if trigger.get("type") != "cron" or not meta.get("timezone"):
            continue
        zone, start, end = str(meta["timezone"]), meta.get("start"), meta.get("end")
        target = _target(scaled)
        findings.append(
            Finding(
                kind="keda_cron_timezone",
                subject=f"scaledobject/{scaled.name}",
                role="cause",
                title=f"{target}: the KEDA cron trigger of ScaledObject {scaled.name} evaluates its schedule (start '{start}', end '{end}') in timezone {zone}; "
                f"if the times are meant in another zone, or that zone's daylight-saving shift differs, it scales at the wrong hour",
                weight=74,
                evidence=[scaled.quote("timezone", zone)],
                workload=target,
                recommendations=[
                    rec(
                        "high",
                        f"Set the cron trigger's timezone to the IANA zone the schedule is meant in (it is {zone} now)",
                    )
                ],
                affected=[target],
            )
        )
    return findings


# --- Cluster autoscaler node groups -------------------------------------------------------------------------

_GROUP_NAME = re.compile(r"^\s*Name:\s+(?P<name>\S+)\s*$")
_GROUP_HEALTH = re.compile(r"cloudProviderTarget=(?P<target>\d+)\s*\(minSize=\d+,\s*maxSize=(?P<max>\d+)\)")
_MAX_REACHED = re.compile(r"max node group size reached", re.IGNORECASE)


_WAITING_WORDS = frozenset({"pending", "node", "nodes", "autoscaler", "scale", "scaling", "capacity"})


def _node_groups_at_max(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    sources = [(t.label, t.lines) for t in obs.texts] + [(d.label, d.lines) for d in obs.logs]
    refused = any(_MAX_REACHED.search(line) for _, lines in sources for line in lines)
    words = ctx.question.words if ctx.question else frozenset()
    if not refused and not words & _WAITING_WORDS and not any(p.phase == "Pending" for p in obs.pods):
        return []  # a group at its maximum is only a problem when something waits for a node
    waiting = sorted(
        {workload_of(e.object_name) for e in obs.events if e.object_name and _MAX_REACHED.search(e.message)}
    )
    findings: list[Finding] = []
    for label, lines in sources:
        group: str | None = None
        for line in lines:
            named = _GROUP_NAME.match(line)
            if named:
                group = named.group("name").rstrip("/").rsplit("/", 1)[-1]  # a GCE instance group is printed as its URL
                continue
            health = _GROUP_HEALTH.search(line)
            if not health or group is None or int(health.group("target")) < int(health.group("max")):
                continue
            size = health.group("max")
            findings.append(
                Finding(
                    kind="node_group_at_max",
                    subject=f"nodegroup/{group}",
                    role="cause",
                    title=f"{waiting[0] + ': ' if len(waiting) == 1 else ''}node group {group} is at its maximum size (cloudProviderTarget={health.group('target')}, maxSize={size}), so the cluster autoscaler cannot add a node to it for pods that need that group",
                    weight=90 if refused else 50,
                    evidence=[f"{label} {line.strip()}"],
                    workload=waiting[0] if len(waiting) == 1 else group,
                    recommendations=[
                        rec(
                            "high",
                            f"Raise the maximum size of node group {group} above {size}, or let the pending pods use another node group",
                        )
                    ],
                    affected=[group],
                )
            )
            group = None
    return findings


# --- Something other than the HPA sets replicas -------------------------------------------------------------

_HPA_SIZE = re.compile(r"horizontalpodautoscaler/(?P<hpa>[\w.-]+)\s+New size: (?P<size>\d+)", re.IGNORECASE)
_SCALED = re.compile(
    r"(?:deployment|statefulset)/(?P<workload>[\w.-]+)\s+Scaled (?:down|up) replica set [\w.-]+ to (?P<size>\d+)",
    re.IGNORECASE,
)
_GITOPS = re.compile(r"selfheal|self-heal|argocd|argo cd|flux|kustomize-controller|helm-controller", re.IGNORECASE)
_HPA_REFERENCE = re.compile(r"^\s*Reference:\s+(?:Deployment|StatefulSet)/(?P<workload>[\w.-]+)\s*$")
_HPA_EVENT_SIZE = re.compile(r"horizontal-pod-autoscaler\s+New size: (?P<size>\d+)", re.IGNORECASE)
_REPLICAS_LINE = re.compile(r"^\s*[>+]?\s*replicas:\s*(?P<size>\d+)\s*$")


def _replicas_fight(obs: Observations) -> list[Finding]:
    targets = _hpa_targets(obs)
    lines = [(t.label, line) for t in obs.texts for line in t.lines] + [
        (d.label, line) for d in obs.logs for line in d.lines
    ]
    asked: dict[str, set[int]] = {}
    others: dict[str, tuple[int, str]] = {}
    reference: tuple[str, str] | None = None  # (label, workload) of the HPA `kubectl describe hpa` is printing
    for label, line in lines:
        described = _HPA_REFERENCE.match(line)
        if described:
            reference = (label, described.group("workload"))
            continue
        size = _HPA_SIZE.search(line)
        if size:
            asked.setdefault(targets.get(size.group("hpa"), size.group("hpa")), set()).add(int(size.group("size")))
            continue
        # its Events rows name the controller, not the HPA ("horizontal-pod-autoscaler  New size: 12; reason: ...")
        own = _HPA_EVENT_SIZE.search(line)
        if own and reference and reference[0] == label:
            asked.setdefault(reference[1], set()).add(int(own.group("size")))
            continue
        scaled = _SCALED.search(line)
        if scaled:
            workload, count = scaled.group("workload"), int(scaled.group("size"))
            if workload in asked and count not in asked[workload]:
                others.setdefault(workload, (count, f"{label} {line.strip()}"))
    findings: list[Finding] = []
    for workload, (count, cite) in sorted(others.items()):
        gitops = next(((lb, ln) for lb, ln in lines if _GITOPS.search(ln)), None)
        manifest = next(
            ((lb, ln) for lb, ln in lines if (m := _REPLICAS_LINE.match(ln)) and int(m.group("size")) == count), None
        )
        who = (
            "a GitOps sync (self-heal) or a pipeline applying the manifest's spec.replicas"
            if gitops
            else "something other than the HPA (a manifest's spec.replicas applied by a pipeline or GitOps, or a manual scale)"
        )
        detail = f" (the manifest it applies says replicas: {count})" if manifest else ""
        evidence = [cite] + [f"{pair[0]} {pair[1].strip()}" for pair in (gitops, manifest) if pair]
        findings.append(
            Finding(
                kind="replicas_fight_hpa",
                subject=f"deployment/{workload}",
                role="cause",
                title=f"{workload}: its HPA scales it up, then {who} sets it back to {count} replicas{detail}, so the two fight and capacity drops every time",
                weight=86 if gitops or manifest else 72,
                evidence=evidence[:3],
                workload=workload,
                recommendations=[
                    rec(
                        "high",
                        f"Remove spec.replicas of {workload} from the manifest the GitOps tool or pipeline applies (or have Argo CD ignore /spec/replicas), so only the HPA sets it",
                    )
                ],
                affected=[workload],
            )
        )
    return findings


def _hpa_targets(obs: Observations) -> dict[str, str]:
    found: dict[str, str] = {}
    for hpa in (r for r in obs.resources if r.kind == "HorizontalPodAutoscaler"):
        reference = str(_d(hpa.raw.get("row")).get("REFERENCE") or "")
        name = reference.split("/")[-1] or str(_d(_d(hpa.raw.get("spec")).get("scaleTargetRef")).get("name") or "")
        if name:
            found[hpa.name] = name
    return found


# --- an HPA whose targets read <unknown> -------------------------------------------------------------------

_APISERVICE_DOWN = re.compile(
    r"^\s*(?P<name>v1beta1\.(?:metrics|custom\.metrics|external\.metrics)\.k8s\.io)\s+(?P<service>\S+)\s+False\s*\((?P<reason>[^)]*)\)"
)


# metrics-server's own error when it cannot read the kubelets: `"Failed to scrape node" err="Get \"https://10.0.12.41:10250/
# metrics/resource\": x509: cannot validate certificate for 10.0.12.41 because it doesn't contain any IP SANs" node="n"`
_SCRAPE_FAILED = re.compile(
    r"(?:Failed to scrape node|unable to fully scrape metrics|failed to scrape)[^\n]*?(?P<error>x509: [^\"\n]+|dial tcp [^\"\n]+|tls: [^\"\n]+|(?:401|403) [^\"\n]+|Unauthorized|Forbidden|context deadline exceeded|connection refused|no route to host)",
    re.I,
)


def _scrape_error(obs: Observations) -> tuple[str, str, int] | None:
    """The error metrics-server prints scraping the kubelets, its evidence and how many lines print it."""
    hits = [
        (m.group("error").rstrip("\\ "), f"{label} {line.strip()}")
        for label, lines in [(t.label, t.lines) for t in obs.texts] + [(d.label, d.lines) for d in obs.logs]
        for line in lines
        if (m := _SCRAPE_FAILED.search(line))
    ]
    if not hits:
        return None
    return hits[0][0], hits[0][1], len(hits)


def _scrape_fix(error: str) -> str:
    if "IP SAN" in error or "x509" in error:
        return "The kubelets' serving certificates are self-signed or lack the node IP: enable serverTLSBootstrap and approve the kubelet-serving CSRs (or point metrics-server at a verifiable address type); --kubelet-insecure-tls only as a stopgap"
    return f"Make the kubelets reachable from metrics-server on port 10250 ({error})"


def _unknown_targets(obs: Observations) -> list[Finding]:
    """``kubectl get hpa`` TARGETS ``<unknown>/70%``: the HPA reads no current value, so it never scales. When the
    metrics APIService is printed unavailable, that is why (kubernetes.io/docs/tasks/debug/debug-cluster/resource-metrics-pipeline/)."""
    down = next(
        ((m, f"{t.label} {ln.strip()}") for t in obs.texts for ln in t.lines if (m := _APISERVICE_DOWN.match(ln))),
        None,
    )
    if down is None:
        down = next(
            ((m, f"{d.label} {ln.strip()}") for d in obs.logs for ln in d.lines if (m := _APISERVICE_DOWN.match(ln))),
            None,
        )
    scrape = _scrape_error(obs)
    findings: list[Finding] = []
    for hpa in (r for r in obs.resources if r.kind == "HorizontalPodAutoscaler"):
        targets = str(_d(hpa.raw.get("row")).get("TARGETS", ""))
        if "<unknown>" not in targets:
            continue
        workload = str(_d(hpa.raw.get("row")).get("REFERENCE", "")).split("/")[-1] or hpa.name
        if down:
            match, cite = down
            why = f": the metrics API {match.group('name')} (served by {match.group('service')}) is unavailable ({match.group('reason')})"
            evidence = [hpa.quote(hpa.name), cite]
            if scrape:
                why += f" because metrics-server cannot scrape the kubelets ({scrape[2]} failures): {scrape[0]}"
                evidence.append(scrape[1])
        elif scrape:
            why = f": metrics-server cannot scrape the kubelets ({scrape[2]} failures): {scrape[0]}"
            evidence = [hpa.quote(hpa.name), scrape[1]]
        else:
            why = " (no current metric value: metrics-server not serving, pods without requests for that resource, or pods not Ready yet)"
            evidence = [hpa.quote(hpa.name)]
        findings.append(
            Finding(
                kind="hpa_metric_unknown",
                subject=f"horizontalpodautoscaler/{hpa.name}",
                role="cause",
                title=f"{workload}: the HPA {hpa.name} reads its target as <unknown> ({targets.strip()}){why}, so it cannot scale {workload}",
                weight=88 if scrape else 86 if down else 70,
                evidence=evidence,
                workload=workload,
                recommendations=[
                    *([rec("high", _scrape_fix(scrape[0]))] if scrape else []),
                    rec(
                        "high",
                        "Bring the metrics API back (kubectl -n kube-system get pods,endpoints metrics-server; kubectl describe apiservice) and check the pods set requests for the HPA's resource",
                    ),
                ],
                affected=[workload],
            )
        )
    return findings


# --- a metrics adapter refused by the cloud API it reads -----------------------------------------------------

_METRIC_API_FAILED = re.compile(
    r"unable to (?:get|fetch) (?:external|custom) metric|unable to fetch metrics from (?:external|custom) metrics API|FailedGet(?:External|Object|Pods)Metric",
    re.IGNORECASE,
)
_CLOUD_REFUSAL = re.compile(
    r"(?:googleapi: )?Error 403[^\n]{0,120}?(?:denied|forbidden)[^\n]{0,80}|PermissionDenied[^\n]{0,120}|AccessDenied(?:Exception)?[^\n]{0,120}|AuthorizationFailed[^\n]{0,120}",
    re.IGNORECASE,
)
_ADAPTER_APISERVICE = re.compile(
    r"^\s*v1beta\d\.(?:external|custom)\.metrics\.k8s\.io\s+(?P<ns>[\w.-]+)/(?P<service>[\w.-]+)\s+True\b"
)
# the cloud identity a ServiceAccount's pods assume: GKE Workload Identity, EKS IRSA, Azure Workload Identity
_IDENTITY = re.compile(
    r"(?P<key>iam\.gke\.io/gcp-service-account|eks\.amazonaws\.com/role-arn|azure\.workload\.identity/client-id)\\?\"?\s*[:=]\s*\\?\"?(?P<who>[\w@.:/-]+)"
)
_GSA = re.compile(r"(?P<name>[\w-]+)@(?P<project>[\w-]+)\.iam\.gserviceaccount\.com")


def _adapter_refused(obs: Observations) -> list[Finding]:
    """An HPA whose external/custom metric fails because the metrics adapter serving that API is refused (403) by
    the cloud monitoring API: the adapter's cloud identity (its ServiceAccount's Workload Identity / IRSA
    annotation) lacks the permission, often because the annotation still names an account of another project."""
    lines = [(t.label, ln) for t in obs.texts for ln in t.lines] + [(d.label, ln) for d in obs.logs for ln in d.lines]
    failing = next(((lb, ln) for lb, ln in lines if _METRIC_API_FAILED.search(ln) and _CLOUD_REFUSAL.search(ln)), None)
    adapter = next(((m, lb, ln) for lb, ln in lines if (m := _ADAPTER_APISERVICE.match(ln))), None)
    identity = next(((m, lb, ln) for lb, ln in lines if (m := _IDENTITY.search(ln))), None)
    if failing is None or adapter is None or identity is None:
        return []
    hpa = next((r.name for r in obs.resources if r.kind == "HorizontalPodAutoscaler"), None)
    named = re.search(r"\b(?:external|custom) metric (?P<ns>[\w.-]+)/", failing[1])
    described = next(
        (
            c
            for t in obs.texts
            if (c := re.search(r"describe\s+(?:hpa|horizontalpodautoscalers?)\s+([\w.-]+)", t.command or ""))
        ),
        None,
    )
    evented = next((e.object_name for e in obs.events if e.object_name and _METRIC_API_FAILED.search(e.message)), None)
    workload = (
        hpa or evented or (described.group(1) if described else None) or (named.group("ns") if named else "the HPA")
    )
    refusal = _CLOUD_REFUSAL.search(failing[1])
    service = adapter[0].group("service")
    who = identity[0].group("who")
    mismatch = ""
    gsa = _GSA.search(who)
    if gsa:
        granted = next(
            (
                (g.group(0), lb, ln)
                for lb, ln in lines
                for g in _GSA.finditer(ln)
                if g.group("name") == gsa.group("name") and g.group("project") != gsa.group("project")
            ),
            None,
        )
        if granted:
            mismatch = f", while the IAM output names {granted[0]}, the same account in another project: the annotation still names project {gsa.group('project')}'s account"
    title = (
        f"{workload}: the HPA cannot read its metric because the metrics adapter {service} is refused by the cloud monitoring API "
        f"({refusal.group(0).strip().rstrip('.,') if refusal else '403'}); the adapter authenticates as {who} "
        f"(its ServiceAccount annotation {identity[0].group('key')}){mismatch}, so every metric query fails and the HPA cannot scale"
    )
    return [
        Finding(
            kind="metrics_adapter_refused",
            subject=f"apiservice/{service}",
            role="cause",
            title=title,
            weight=92,
            evidence=[
                f"{failing[0]} {excerpt(failing[1].strip(), around='403')}",
                f"{identity[1]} {excerpt(identity[2].strip())}",
            ],
            workload=workload,
            recommendations=[
                rec(
                    "high",
                    f"Point the adapter's ServiceAccount annotation {identity[0].group('key')} at the cloud account that holds the monitoring read role in this project (or grant {who} that role), then restart {service}",
                )
            ],
            affected=[workload, service],
            related=[service],
        )
    ]


# --- a KEDA trigger whose credentials the event source refuses ------------------------------------------------

_SCALER_FAILED = re.compile(
    r"error getting scale decision|KEDAScalerFailed|error establishing [\w-]+ connection|error inspecting|error getting metric",
    re.IGNORECASE,
)
# authentication (not authorization) refusals: the credentials themselves are wrong or stale
_LOGIN_REFUSED = re.compile(
    r"username or password not allowed|ACCESS_REFUSED[^\n\"]{0,60}|invalid credentials|password authentication failed[^\n\\]{0,40}|"
    r"WRONGPASS[^\n\"]{0,60}|SASL authentication failed|authentication failed|Login was refused[^\n\"]{0,60}|invalid username-password pair",
    re.IGNORECASE,
)
_SCALED_NAME = re.compile(
    r"\"scaledobject\.Name\":\s*\"(?P<a>[\w.-]+)\"|\"ScaledObject\":\s*\{\"name\":\"(?P<b>[\w.-]+)\"|scaledobject/(?P<c>[\w.-]+)",
    re.IGNORECASE,
)
_AUTH_COMMAND = re.compile(
    r"\bget\s+(?:cluster)?triggerauthentications?(?:\.keda\.sh)?\s+([a-z0-9][\w.-]*)", re.IGNORECASE
)


def _trigger_credentials_refused(obs: Observations) -> list[Finding]:
    """KEDA's scaler cannot log in to its event source (a refused login, not a missing permission) while the
    TriggerAuthentication that supplies the credentials is printed: the credentials it reads (a Secret, often not
    updated after a rotation) are what to fix (keda.sh/docs/latest/concepts/authentication/)."""
    lines = [(t.label, ln) for t in obs.texts for ln in t.lines] + [(d.label, ln) for d in obs.logs for ln in d.lines]
    failure = next(
        ((lb, ln, m) for lb, ln in lines if _SCALER_FAILED.search(ln) and (m := _LOGIN_REFUSED.search(ln))), None
    )
    if failure is None:
        return []
    label, line, refused = failure
    named = _SCALED_NAME.search(line)
    scaled = next((g for g in named.groups() if g), None) if named else None
    scaled = scaled or next(
        (
            r.name
            for r in obs.resources
            if r.kind == "ScaledObject" and str(_d(r.raw.get("row")).get("READY")) == "False"
        ),
        None,
    )
    auth = next((m.group(1) for t in obs.texts if (m := _AUTH_COMMAND.search(t.command or ""))), None)
    auth = auth or next(
        (
            str(_d(r.raw.get("row")).get("AUTHENTICATION") or _d(r.raw.get("row")).get("AUTHENTICATIONS"))
            for r in obs.resources
            if r.kind == "ScaledObject"
            and r.name == scaled
            and (_d(r.raw.get("row")).get("AUTHENTICATION") or _d(r.raw.get("row")).get("AUTHENTICATIONS"))
        ),
        None,
    )
    if not scaled or not auth:
        return []
    secret = _referenced_secret(lines)
    source = f", which reads them from Secret {secret}" if secret else ""
    return [
        Finding(
            kind="keda_trigger_credentials_refused",
            subject=f"scaledobject/{scaled}",
            role="cause",
            title=(
                f"{scaled}: the event source refuses KEDA's login ({refused.group(0).strip().rstrip('.,;')}): the trigger's credentials come "
                f"from TriggerAuthentication {auth}{source}, and they are wrong or stale (not updated after a credential rotation), "
                f"so the scaler reads no metric and the workload stays at its minimum replicas"
            ),
            weight=93,
            evidence=[f"{label} {excerpt(line.strip(), around=refused.group(0)[:20])}"],
            workload=scaled,
            recommendations=[
                rec(
                    "high",
                    f"Put the current credentials in {'Secret ' + secret if secret else 'the Secret'} that TriggerAuthentication {auth} references (or point it at the Secret the rotation updates), then check the ScaledObject turns Ready",
                )
            ],
            affected=[scaled],
            related=[auth, *([secret] if secret else [])],
        )
    ]


def _referenced_secret(lines: list[tuple[str, str]]) -> str | None:
    """The Secret a printed TriggerAuthentication's ``secretTargetRef`` names."""
    inside = False
    for _, line in lines:
        if "secretTargetRef" in line:
            inside = True
            continue
        if inside:
            found = re.match(r"^\s*-?\s*name:\s*([a-z0-9][\w.-]*)\s*$", line)
            if found:
                return found.group(1)
            if line.strip() and not line.startswith((" ", "-", "\t")):
                inside = False
    return None
