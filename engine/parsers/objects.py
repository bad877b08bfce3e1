"""Kubernetes API objects (dicts, as from ``-o json``/``-o yaml`` or the API) -> facts.

Shared by the attachment parser and the Kubernetes connector so both feed the analyzers identically.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from engine.facts import (
    ClaimFact,
    ConditionFact,
    ContainerFact,
    EventFact,
    NodeFact,
    Observations,
    PodFact,
    ResourceFact,
    ServiceFact,
    UsageFact,
    WorkloadFact,
)
from engine.parsers.common import Citer, millicores, parse_timestamp, quantity_bytes, to_int

WORKLOAD_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob"}


def _d(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _l(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _s(value: Any) -> str | None:
    return value if isinstance(value, str) else (str(value) if isinstance(value, int | float) else None)


def iter_objects(document: Any) -> Iterable[dict[str, Any]]:
    """Flatten ``List`` kinds and ``items`` arrays."""
    if isinstance(document, list):
        for item in document:
            yield from iter_objects(item)
    elif isinstance(document, dict):
        if isinstance(document.get("items"), list):
            default_kind = str(document.get("kind", "")).removesuffix("List")
            for item in document["items"]:
                if isinstance(item, dict) and "kind" not in item and default_kind:
                    item = {**item, "kind": default_kind}
                yield from iter_objects(item)
        elif ("kind" in document or "metadata" in document) and not _is_trace_span(document):
            yield document


def _is_trace_span(document: dict[str, Any]) -> bool:
    """A Zipkin/OpenTelemetry span (its ``kind`` is SERVER, CLIENT...), not a Kubernetes object."""
    return (
        "metadata" not in document and "apiVersion" not in document and ("traceId" in document or "traceID" in document)
    )


def observations_from_objects(document: Any, citer: Citer) -> Observations:
    obs = Observations()
    for obj in iter_objects(document):
        kind = str(obj.get("kind", ""))
        meta = _d(obj.get("metadata"))
        obs.resources.append(
            ResourceFact(
                kind=kind,
                name=str(meta.get("name", "?")),
                namespace=_s(meta.get("namespace")),
                raw=obj,
                label=citer.label,
                lines=citer.lines,
            )
        )
        if kind == "Pod":
            obs.pods.append(pod_fact(obj, citer))
        elif kind == "Event":
            obs.events.append(event_fact(obj, citer))
        elif kind == "Node":
            obs.nodes.append(node_fact(obj, citer))
        elif kind in WORKLOAD_KINDS:
            obs.workloads.append(workload_fact(obj, citer))
        elif kind == "Service":
            obs.services.append(service_fact(obj, citer))
        elif kind == "PersistentVolumeClaim":
            obs.claims.append(claim_fact(obj, citer))
        elif kind in ("PodMetrics", "NodeMetrics"):
            obs.usage.extend(usage_facts(obj, citer))
    return obs


def _conditions(raw: Any, subject: str, citer: Citer) -> list[ConditionFact]:
    facts = []
    for cond in _l(raw):
        cond = _d(cond)
        ctype, status = str(cond.get("type", "")), str(cond.get("status", ""))
        reason, message = _s(cond.get("reason")), _s(cond.get("message"))
        paraphrase = f"{subject} condition {ctype}={status}" + (f" reason {reason}" if reason else "")
        if message:
            paraphrase += f": {message}"
        needles = (message,) if message else ((reason,) if reason else (ctype,))
        facts.append(ConditionFact(ctype, status, reason, message, citer.cite(paraphrase, *needles)))
    return facts


def _container_spec_index(spec: Mapping[str, Any], key: str) -> dict[str, dict[str, Any]]:
    return {str(_d(c).get("name")): _d(c) for c in _l(spec.get(key))}


def pod_fact(obj: Mapping[str, Any], citer: Citer) -> PodFact:
    meta, spec, status = _d(obj.get("metadata")), _d(obj.get("spec")), _d(obj.get("status"))
    name = str(meta.get("name", "?"))
    owner: Any = next(iter(_l(meta.get("ownerReferences"))), {})
    pod = PodFact(
        name=name,
        namespace=_s(meta.get("namespace")),
        phase=_s(status.get("phase")),
        status_reason=_s(status.get("reason")),
        status_message=_s(status.get("message")),
        node=_s(spec.get("nodeName")),
        owner_kind=_s(_d(owner).get("kind")),
        owner_name=_s(_d(owner).get("name")),
        labels={str(k): str(v) for k, v in _d(meta.get("labels")).items()},
        node_selector={str(k): str(v) for k, v in _d(spec.get("nodeSelector")).items()},
        created_at=parse_timestamp(_s(meta.get("creationTimestamp"))),
        source=citer.label,
    )
    pod.conditions = _conditions(status.get("conditions"), f"pod {name}", citer)
    for volume in _l(spec.get("volumes")):
        claim = _d(_d(volume).get("persistentVolumeClaim")).get("claimName")
        if isinstance(claim, str):
            pod.volumes_claims.append(claim)
    if pod.status_reason or pod.status_message:
        pod.cites["status"] = citer.cite(
            f"pod {name} status {pod.status_reason}: {pod.status_message}",
            *[x for x in (pod.status_message, pod.status_reason) if x][:1],
        )
    for is_init, spec_key, status_key in (
        (True, "initContainers", "initContainerStatuses"),
        (False, "containers", "containerStatuses"),
    ):
        specs = _container_spec_index(spec, spec_key)
        statuses = {str(_d(s).get("name")): _d(s) for s in _l(status.get(status_key))}
        for cname in [*specs, *(n for n in statuses if n not in specs)]:
            pod.containers.append(
                _container(pod.name, cname, is_init, specs.get(cname, {}), statuses.get(cname, {}), citer)
            )
    return pod


def _container(
    pod: str, name: str, init: bool, spec: Mapping[str, Any], status: Mapping[str, Any], citer: Citer
) -> ContainerFact:
    resources = _d(spec.get("resources"))
    fact = ContainerFact(
        name=name,
        init=init,
        image=_s(spec.get("image")) or _s(status.get("image")),
        restart_count=to_int(status.get("restartCount")) or 0,
        ready=status.get("ready") if isinstance(status.get("ready"), bool) else None,
        memory_limit=_s(_d(resources.get("limits")).get("memory")),
        memory_request=_s(_d(resources.get("requests")).get("memory")),
        cpu_limit=_s(_d(resources.get("limits")).get("cpu")),
        command=[str(x) for x in [*_l(spec.get("command")), *_l(spec.get("args"))]],
    )
    where = f"pod {pod} {'init container' if init else 'container'} {name}"
    for state_name, state in _d(status.get("state")).items():
        state = _d(state)
        fact.state = str(state_name)
        fact.reason = _s(state.get("reason"))
        fact.message = _s(state.get("message"))
        fact.exit_code = to_int(state.get("exitCode"))
        fact.started_at = parse_timestamp(_s(state.get("startedAt")))
        fact.finished_at = parse_timestamp(_s(state.get("finishedAt")))
        text = f"{where}: state {state_name}" + (f", reason {fact.reason}" if fact.reason else "")
        if fact.exit_code is not None:
            text += f", exit code {fact.exit_code}"
        if fact.message:
            text += f": {fact.message}"
            fact.cites["message"] = citer.cite(text, fact.message)
        fact.cites["state"] = citer.cite(text, *((fact.reason,) if fact.reason else ()))
    for state_name, state in _d(status.get("lastState")).items():
        state = _d(state)
        fact.last_reason = _s(state.get("reason"))
        fact.last_exit_code = to_int(state.get("exitCode"))
        fact.last_finished_at = parse_timestamp(_s(state.get("finishedAt")))
        fact.last_message = _s(state.get("message"))
        text = f"{where}: last state {state_name}" + (f", reason {fact.last_reason}" if fact.last_reason else "")
        if fact.last_exit_code is not None:
            text += f", exit code {fact.last_exit_code}"
            fact.cites["last_exit_code"] = citer.cite(text, "exitCode", str(fact.last_exit_code))
        fact.cites["last_state"] = citer.cite(text, *((fact.last_reason,) if fact.last_reason else ()))
    if fact.restart_count:
        fact.cites["restarts"] = citer.cite(f"{where}: restartCount {fact.restart_count}", "restartCount")
    if fact.memory_limit:
        fact.cites["memory_limit"] = citer.cite(
            f"{where}: memory limit {fact.memory_limit}", "memory", fact.memory_limit
        )
    for env_from in _l(spec.get("envFrom")):
        for kind, key in (("ConfigMap", "configMapRef"), ("Secret", "secretRef")):
            ref = _d(_d(env_from).get(key)).get("name")
            if isinstance(ref, str):
                fact.env_from_refs.append((kind, ref))
    for env in _l(spec.get("env")):
        source = _d(_d(env).get("valueFrom"))
        for kind, key in (("ConfigMap", "configMapKeyRef"), ("Secret", "secretKeyRef")):
            ref = _d(source.get(key))
            if ref:
                fact.env_key_refs.append((str(_d(env).get("name")), kind, str(ref.get("name")), str(ref.get("key"))))
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        if probe in spec:
            fact.cites[probe] = citer.cite(f"{where}: {probe} {spec[probe]}", probe)
    fact.ports = [p for p in (to_int(_d(port).get("containerPort")) for port in _l(spec.get("ports"))) if p]
    return fact


def event_fact(obj: Mapping[str, Any], citer: Citer) -> EventFact:
    involved = _d(obj.get("involvedObject")) or _d(obj.get("regarding"))
    meta = _d(obj.get("metadata"))
    message = _s(obj.get("message")) or _s(obj.get("note")) or ""
    reason = _s(obj.get("reason")) or ""
    count = to_int(obj.get("count")) or to_int(_d(obj.get("series")).get("count")) or 1
    last = parse_timestamp(
        _s(obj.get("lastTimestamp")) or _s(obj.get("eventTime")) or _s(meta.get("creationTimestamp"))
    )
    first = parse_timestamp(_s(obj.get("firstTimestamp"))) or last
    kind, name = _s(involved.get("kind")), _s(involved.get("name"))
    paraphrase = f"{obj.get('type', 'Normal')} {reason} {kind}/{name}: {message}"
    if count > 1:
        paraphrase += f" (x{count})"
    return EventFact(
        type=_s(obj.get("type")),
        reason=reason,
        message=message,
        object_kind=kind,
        object_name=name,
        namespace=_s(involved.get("namespace")) or _s(meta.get("namespace")),
        count=count,
        first_seen=first,
        last_seen=last,
        cite=citer.cite(paraphrase, *((message,) if message else (reason,))),
    )


def node_fact(obj: Mapping[str, Any], citer: Citer) -> NodeFact:
    meta, spec, status = _d(obj.get("metadata")), _d(obj.get("spec")), _d(obj.get("status"))
    name = str(meta.get("name", "?"))
    taints = [_taint(_d(t)) for t in _l(spec.get("taints"))]
    fact = NodeFact(
        name=name,
        conditions=_conditions(status.get("conditions"), f"node {name}", citer),
        unschedulable=bool(spec.get("unschedulable")),
        taints=taints,
    )
    if taints:
        key = str(_d(_l(spec.get("taints"))[0]).get("key", ""))
        needles = (name, key) if citer.find(name, key) is not None else (key,)  # one-line JSON holds both
        fact.cites["taints"] = citer.cite(f"node {name}: taint {taints[0]}", *needles)
    return fact


def _taint(taint: Mapping[str, Any]) -> str:
    value = f"={taint['value']}" if taint.get("value") else ""
    return f"{taint.get('key')}{value}:{taint.get('effect')}"


def workload_fact(obj: Mapping[str, Any], citer: Citer) -> WorkloadFact:
    meta, spec, status = _d(obj.get("metadata")), _d(obj.get("spec")), _d(obj.get("status"))
    kind, name = str(obj.get("kind")), str(meta.get("name", "?"))
    template = _d(_d(spec.get("template")).get("spec"))
    if kind == "CronJob":
        template = _d(_d(_d(_d(spec.get("jobTemplate")).get("spec")).get("template")).get("spec"))
    owner: Any = next(iter(_l(meta.get("ownerReferences"))), {})
    fact = WorkloadFact(
        kind=kind,
        name=name,
        namespace=_s(meta.get("namespace")),
        desired=to_int(spec.get("replicas")) if kind != "DaemonSet" else to_int(status.get("desiredNumberScheduled")),
        updated=to_int(status.get("updatedReplicas")),
        ready=to_int(status.get("readyReplicas")) if kind != "DaemonSet" else to_int(status.get("numberReady")),
        available=to_int(status.get("availableReplicas")),
        unavailable=to_int(status.get("unavailableReplicas")),
        failed=to_int(status.get("failed")),
        succeeded=to_int(status.get("succeeded")),
        backoff_limit=to_int(spec.get("backoffLimit")),
        active_deadline_seconds=to_int(spec.get("activeDeadlineSeconds")),
        images=[str(_d(c).get("image")) for c in _l(template.get("containers")) if _d(c).get("image")],
        revision=_s(_d(meta.get("annotations")).get("deployment.kubernetes.io/revision")),
        created_at=parse_timestamp(_s(meta.get("creationTimestamp"))),
        owner_name=_s(_d(owner).get("name")),
    )
    fact.conditions = _conditions(status.get("conditions"), f"{kind.lower()} {name}", citer)
    if kind == "CronJob" and spec.get("suspend") is True:  # no Job is created while it stays suspended
        fact.cites["suspend"] = citer.cite(f"cronjob {name}: spec.suspend: true", "suspend")
        last = _s(status.get("lastScheduleTime"))
        if last:
            fact.cites["last_schedule"] = last
    if spec.get("paused") is True and not any(c.reason == "DeploymentPaused" for c in fact.conditions):
        cite = citer.cite(f"{kind.lower()} {name}: spec.paused: true", "paused")
        fact.conditions.append(ConditionFact("Progressing", "Unknown", "DeploymentPaused", "paused: true", cite))
    fact.cites["replicas"] = citer.cite(
        f"{kind.lower()} {name}: {fact.desired} desired, {fact.updated} updated, {fact.ready} ready, "
        f"{fact.available} available",
        "unavailableReplicas" if fact.unavailable else "replicas",
    )
    if fact.images:
        fact.cites["image"] = citer.cite(f"{kind.lower()} {name}: image {fact.images[0]}", fact.images[0])
    return fact


def service_fact(obj: Mapping[str, Any], citer: Citer) -> ServiceFact:
    meta, spec = _d(obj.get("metadata")), _d(obj.get("spec"))
    ports = [_d(port) for port in _l(spec.get("ports"))]
    name = str(meta.get("name", "?"))
    fact = ServiceFact(
        name=name,
        namespace=_s(meta.get("namespace")),
        selector={str(k): str(v) for k, v in _d(spec.get("selector")).items()},
        ports=[str(v) for port in ports for v in (port.get("port"), port.get("name")) if v not in (None, "")],
        target_ports=[str(port.get("targetPort", port.get("port"))) for port in ports if port.get("port") is not None],
    )
    if fact.target_ports:
        fact.cites["target_port"] = citer.cite(
            f"service {name}: targetPort {', '.join(fact.target_ports)}", "targetPort", fact.target_ports[0]
        )
    return fact


def claim_fact(obj: Mapping[str, Any], citer: Citer) -> ClaimFact:
    meta, spec, status = _d(obj.get("metadata")), _d(obj.get("spec")), _d(obj.get("status"))
    name, phase = str(meta.get("name", "?")), _s(status.get("phase"))
    return ClaimFact(
        name=name,
        namespace=_s(meta.get("namespace")),
        phase=phase,
        storage_class=_s(spec.get("storageClassName")),
        cite=citer.cite(f"persistentvolumeclaim {name}: phase {phase}", "phase", phase or ""),
    )


def usage_facts(obj: Mapping[str, Any], citer: Citer) -> list[UsageFact]:
    meta = _d(obj.get("metadata"))
    name = str(meta.get("name", "?"))
    if obj.get("kind") == "NodeMetrics":
        usage = _d(obj.get("usage"))
        return [
            UsageFact(
                "node",
                name,
                millicores(_s(usage.get("cpu"))),
                quantity_bytes(_s(usage.get("memory"))),
                cite=citer.cite(f"node {name}: cpu {usage.get('cpu')}, memory {usage.get('memory')}"),
            )
        ]
    facts = []
    for container in _l(obj.get("containers")):
        usage = _d(_d(container).get("usage"))
        cname = _d(container).get("name")
        facts.append(
            UsageFact(
                "container",
                f"{name}/{cname}",
                millicores(_s(usage.get("cpu"))),
                quantity_bytes(_s(usage.get("memory"))),
                cite=citer.cite(f"pod {name} container {cname}: cpu {usage.get('cpu')}, memory {usage.get('memory')}"),
                namespace=_s(meta.get("namespace")) or None,
            )
        )
    return facts
