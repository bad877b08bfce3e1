"""Demo stand-ins for the real clients: same methods the tools call, answered from the recorded incident.

Nothing here knows about analyzers; the tools turn these answers into facts exactly as they do for a real
Prometheus, Loki, GitHub or Kubernetes API.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Collection, Mapping
from datetime import UTC, datetime
from typing import Any

from engine.analyzers.metrics import MetricKind
from engine.connectors import ToolFailure
from engine.connectors.loki import ERROR_WORDS, LogRecord
from engine.connectors.prom_discovery import Sweep, SweepOptions
from engine.demo.shop import NAMESPACE, ORG, Incident, PodSpec, Signal
from engine.facts import SeriesFact


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _noise(*key: object) -> float:
    """Deterministic noise in [-1, 1] from a key."""
    digest = hashlib.blake2b(repr(key).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**63 - 1.0


class DemoPrometheus:
    def __init__(self, incident: Incident, now: float) -> None:
        self.incident = incident
        self.now = now
        self.settings: dict[str, Any] = {}

    def _value(self, signal: Signal, t: float) -> float:
        level = signal.baseline
        if signal.after is not None and signal.onset is not None:
            start = self.now - signal.onset
            if t >= start:
                progress = min(1.0, (t - start) / signal.ramp) if signal.ramp > 0 else 1.0
                level = signal.baseline + (signal.after - signal.baseline) * max(progress, 0.6)
        spread = signal.noise * (1 + abs(level - signal.baseline) / max(abs(signal.baseline), 1e-9) * 0.05)
        value = level + spread * _noise(signal.service, signal.kind, round(t))
        return max(value, 0.0)

    def golden_signals(
        self,
        start: float,
        end: float,
        step: float,
        *,
        services: list[str] | None = None,
        rate_window: float | None = None,
        kinds: Collection[str] | None = None,
    ) -> list[SeriesFact]:
        first = math.ceil(start / step) * step
        times = [first + i * step for i in range(int((end - first) // step) + 1)]
        facts = []
        for signal in self.incident.signals:
            if (services and signal.service not in services) or (kinds is not None and signal.kind not in kinds):
                continue
            points = [(t, round(self._value(signal, t), 6)) for t in times]
            facts.append(
                SeriesFact(
                    service=signal.service,
                    kind=signal.kind,
                    points=points,
                    metric=_expr(signal),
                    cite="[tool:query_prometheus_range]",
                    smoothing_seconds=rate_window or max(4 * step, 60.0),
                )
            )
        return facts

    def sweep(self, start: float, end: float, step: float, options: SweepOptions) -> Sweep:
        """The discovery sweep of a real server, over the recorded golden signals (the demo has no others)."""
        facts = self.golden_signals(start, end, step)
        window = max(4 * step, 60.0)
        return Sweep(facts=facts, edges=[], families=[], queries=[], interval=step, rate_window=window)

    def query(self, expr: str, at: float | None = None) -> list[tuple[dict[str, str], float]]:
        t = at if at is not None else self.now
        rows = []
        for signal in self.incident.signals:
            if signal.service in expr or expr.strip() in {"up", "*"}:
                rows.append(({"service": signal.service, "signal": signal.kind}, round(self._value(signal, t), 6)))
        return rows

    def query_range(self, expr: str, start: float, end: float, step: float) -> list[tuple[dict[str, str], Any]]:
        wanted = [s for s in self.incident.signals if s.service in expr and _expr(s) == expr]
        facts = self.golden_signals(start, end, step, services=[s.service for s in wanted])
        return [({"service": f.service}, f.points) for f in facts if any(_expr(s) == f.metric for s in wanted)]

    def alerts(self) -> list[dict[str, Any]]:
        return [
            {
                "labels": {
                    "alertname": a.name,
                    "service": a.service,
                    "severity": a.severity,
                    "namespace": NAMESPACE,
                },
                "annotations": {"summary": a.summary},
                "state": "firing",
                "activeAt": _iso(self.now - a.ago),
                "value": "1e+00",
            }
            for a in self.incident.alerts
        ]


def _expr(signal: Signal) -> str:
    selector = f'{{service="{signal.service}"}}'
    if signal.kind == MetricKind.ERROR_RATIO:
        errors = f'http_requests_total{{service="{signal.service}",code=~"5.."}}'
        return f"sum(rate({errors}[1m])) / sum(rate(http_requests_total{selector}[1m]))"
    if signal.kind == MetricKind.REQUEST_RATE:
        return f"sum(rate(http_requests_total{selector}[1m]))"
    if signal.kind == MetricKind.SATURATION:
        return 'pg_stat_activity_count{datname="payments"} / pg_settings_max_connections * 100'
    return f"histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{selector}[1m])))"


class DemoLogs:
    def __init__(self, incident: Incident, now: float) -> None:
        self.records: list[LogRecord] = []
        for entry in incident.logs:
            for i in range(entry.repeat):
                ts = now - entry.ago + i * entry.every
                if ts <= now:
                    self.records.append(LogRecord(ts, entry.service, entry.message, {"app": entry.service}))
        self.records.sort(key=lambda r: -r.timestamp)

    def search(
        self, *, text: str | None, service: str | None, start: float, end: float, limit: int, errors: bool = False
    ) -> list[LogRecord]:
        needle = re.compile(re.escape(text), re.IGNORECASE) if text else None
        failing = re.compile("|".join(re.escape(w) for w in ERROR_WORDS), re.IGNORECASE)
        out = [
            r
            for r in self.records
            if start <= r.timestamp <= end
            and (not service or r.service == service)
            and (needle is None or needle.search(r.message))
            and (not errors or failing.search(r.message))
        ]
        return out[:limit]


class DemoGitHub:
    default_org: str | None = ORG
    default_repo: str | None = None

    def __init__(self, incident: Incident, now: float) -> None:
        self.incident = incident
        self.now = now

    def repo(self, params: Mapping[str, Any]) -> str:
        name = str(params.get("repo") or params.get("service") or "")
        if not name:
            raise ToolFailure("No GitHub repository given and no default_repo configured")
        return name if "/" in name else f"{ORG}/{name}"

    def _service(self, repo: str) -> str:
        return repo.split("/", 1)[1]

    def deployments(
        self, repo: str, since: float, until: float, environment: str | None = None, *, limit: int = 300
    ) -> list[dict[str, Any]]:
        service = self._service(repo)
        out = []
        for i, d in enumerate(self.incident.deployments):
            created = self.now - d.ago
            if d.service == service and since <= created <= until:
                out.append(
                    {
                        "id": 4100 + i,
                        "ref": d.ref,
                        "sha": d.sha + "0" * 33,
                        "environment": "production",
                        "created_at": _iso(created),
                        "creator": {"login": "deploy-bot"},
                        "statuses": [{"state": d.state, "created_at": _iso(created + 40)}],
                    }
                )
        return out[:limit]

    def merged_pulls(self, repo: str, since: float, until: float) -> list[dict[str, Any]]:
        service = self._service(repo)
        return [
            {
                "number": p.number,
                "title": p.title,
                "user": {"login": p.author},
                "merged_at": _iso(self.now - p.ago),
                "updated_at": _iso(self.now - p.ago),
                "labels": [],
            }
            for p in self.incident.pulls
            if p.service == service and since <= self.now - p.ago <= until
        ]

    def commits(self, repo: str, since: float, until: float, path: str | None = None) -> list[dict[str, Any]]:
        return [
            {
                "sha": d.sha + "0" * 33,
                "commit": {
                    "message": f"Release {d.ref}",
                    "committer": {"date": _iso(self.now - d.ago - 300)},
                },
            }
            for d in self.incident.deployments
            if d.service == self._service(repo) and since <= self.now - d.ago - 300 <= until
        ]

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        if path == "/search/code":
            return {"total_count": 0, "incomplete_results": False, "items": []}
        raise ToolFailure("GitHub returned 404 Not Found")


class _Api:
    def __init__(self, owner: DemoKubernetes) -> None:
        self.k = owner

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.k, f"_{name}", None)
        if method is None:
            raise ToolFailure(f"Kubernetes API returned 404 Not Found for {name}")
        return method


class DemoKubernetes:
    """Answers the CoreV1/AppsV1 calls the Kubernetes tools make with recorded API objects."""

    def __init__(self, incident: Incident, now: float) -> None:
        self.incident = incident
        self.now = now
        self.default_namespace = NAMESPACE
        self.core = _Api(self)
        self.apps = _Api(self)
        self.custom = _Api(self)

    def call(self, what: str, method: Any, *args: Any, **kwargs: Any) -> Any:
        return method(*args, **kwargs)

    def plain(self, obj: Any) -> Any:
        return obj

    def _ts(self, ago: float) -> str:
        return _iso(self.now - ago)

    # CoreV1Api
    def _list_namespaced_pod(self, namespace: str, label_selector: str | None = None, **_: Any) -> dict[str, Any]:
        pods = [self._pod(p) for p in self.incident.pods]
        if label_selector and "=" in label_selector:
            key, value = label_selector.split("=", 1)
            pods = [p for p in pods if p["metadata"]["labels"].get(key.strip()) == value.strip()]
        return {"kind": "PodList", "apiVersion": "v1", "items": pods}

    def _read_namespaced_pod(self, name: str, namespace: str, **_: Any) -> dict[str, Any]:
        for p in self.incident.pods:
            if p.name == name:
                return self._pod(p)
        raise ToolFailure(f"Kubernetes API returned 404 Not Found for pod {name}")

    def _list_namespaced_event(self, namespace: str, field_selector: str | None = None, **_: Any) -> dict[str, Any]:
        events = [self._event(e, i) for i, e in enumerate(self.incident.events)]
        if field_selector:
            for clause in field_selector.split(","):
                key, _sep, value = clause.partition("=")
                if key == "type":
                    events = [e for e in events if e["type"] == value]
                elif key == "involvedObject.name":
                    events = [e for e in events if e["involvedObject"]["name"] == value]
        return {"kind": "EventList", "apiVersion": "v1", "items": events}

    def _read_namespaced_pod_log(self, name: str, namespace: str, **_: Any) -> str:
        return "\n".join(self.incident.pod_logs.get(name, ()))

    def _read_node(self, name: str, **_: Any) -> dict[str, Any]:
        for n in self.incident.nodes:
            if n.name == name:
                return self._node(n.name, n.memory_pressure, n.since)
        return self._node(name, False, 0)

    def _read_namespaced_service(self, name: str, namespace: str, **_: Any) -> dict[str, Any]:
        return {
            "kind": "Service",
            "apiVersion": "v1",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {"selector": {"app": name}, "ports": [{"port": 8080}]},
        }

    def _read_namespaced_endpoints(self, name: str, namespace: str, **_: Any) -> dict[str, Any]:
        ready = [p for p in self.incident.pods if p.app == name and p.ready]
        subsets = [{"addresses": [{"ip": f"10.0.3.{i + 10}"} for i, _ in enumerate(ready)]}] if ready else []
        return {"kind": "Endpoints", "apiVersion": "v1", "metadata": {"name": name}, "subsets": subsets}

    # AppsV1Api
    def _read_namespaced_deployment(self, name: str, namespace: str, **_: Any) -> dict[str, Any]:
        sets = [r for r in self.incident.replicasets if r.deployment == name]
        if not sets:
            raise ToolFailure(f"Kubernetes API returned 404 Not Found for deployment {name}")
        current = max(sets, key=lambda r: r.revision)
        pods = [p for p in self.incident.pods if p.app == name]
        ready = sum(1 for p in pods if p.ready)
        return {
            "kind": "Deployment",
            "apiVersion": "apps/v1",
            "metadata": {
                "name": name,
                "namespace": namespace,
                "annotations": {"deployment.kubernetes.io/revision": str(current.revision)},
            },
            "spec": {
                "replicas": 1,
                "template": {"spec": {"containers": [{"name": "app", "image": current.image}]}},
            },
            "status": {
                "replicas": len(pods),
                "updatedReplicas": 1,
                "readyReplicas": ready,
                "availableReplicas": ready,
                "unavailableReplicas": max(0, 1 - ready),
            },
        }

    def _list_namespaced_replica_set(self, namespace: str, **_: Any) -> dict[str, Any]:
        items = []
        for r in self.incident.replicasets:
            items.append(
                {
                    "kind": "ReplicaSet",
                    "apiVersion": "apps/v1",
                    "metadata": {
                        "name": f"{r.deployment}-{r.hash}",
                        "namespace": namespace,
                        "creationTimestamp": self._ts(r.ago),
                        "labels": {"app": r.deployment, "pod-template-hash": r.hash},
                        "annotations": {"deployment.kubernetes.io/revision": str(r.revision)},
                        "ownerReferences": [{"kind": "Deployment", "name": r.deployment, "apiVersion": "apps/v1"}],
                    },
                    "spec": {
                        "replicas": r.replicas,
                        "template": {"spec": {"containers": [{"name": "app", "image": r.image}]}},
                    },
                    "status": {
                        "replicas": r.replicas,
                        "readyReplicas": r.replicas,
                        "availableReplicas": r.replicas,
                    },
                }
            )
        return {"kind": "ReplicaSetList", "apiVersion": "apps/v1", "items": items}

    # Object builders
    def _pod(self, p: PodSpec) -> dict[str, Any]:
        state: dict[str, Any]
        if p.waiting_reason:
            state = {"waiting": {"reason": p.waiting_reason, "message": p.waiting_message or ""}}
        elif p.terminated_reason:
            state = {
                "terminated": {
                    "reason": p.terminated_reason,
                    "exitCode": p.exit_code or 1,
                    "finishedAt": self._ts(60),
                }
            }
        elif p.phase == "Running":
            state = {"running": {"startedAt": self._ts(p.age)}}
        else:
            state = {}
        env: list[dict[str, Any]] = []
        if p.secret_ref:
            env.append(
                {
                    "name": "DATABASE_PASSWORD",
                    "valueFrom": {"secretKeyRef": {"name": p.secret_ref, "key": "password"}},
                }
            )
        rs_hash = p.name.rsplit("-", 2)[1] if p.name.count("-") >= 2 else ""
        owner = (
            {"kind": "StatefulSet", "name": p.app}
            if p.name.endswith("-0")
            else {"kind": "ReplicaSet", "name": f"{p.app}-{rs_hash}"}
        )
        status: dict[str, Any] = {
            "phase": p.phase,
            "conditions": [{"type": "Ready", "status": "True" if p.ready else "False"}],
            "startTime": self._ts(p.age),
        }
        if p.status_reason:
            status.update(reason=p.status_reason, message=p.status_message or "")
        if p.phase != "Pending" or p.node:
            status["containerStatuses"] = (
                [
                    {
                        "name": "app",
                        "image": p.image,
                        "ready": p.ready,
                        "restartCount": p.restarts,
                        "state": state,
                    }
                ]
                if state or p.phase == "Running"
                else []
            )
        return {
            "kind": "Pod",
            "apiVersion": "v1",
            "metadata": {
                "name": p.name,
                "namespace": NAMESPACE,
                "labels": {"app": p.app},
                "creationTimestamp": self._ts(p.age),
                "ownerReferences": [{**owner, "apiVersion": "apps/v1"}],
            },
            "spec": {
                "nodeName": p.node or None,
                "containers": [
                    {
                        "name": "app",
                        "image": p.image,
                        "env": env,
                        "resources": {"limits": {"memory": p.memory_limit}},
                    }
                ],
            },
            "status": status,
        }

    def _event(self, e: Any, index: int) -> dict[str, Any]:
        first = e.first_ago if e.first_ago is not None else e.ago
        return {
            "kind": "Event",
            "apiVersion": "v1",
            "metadata": {"name": f"{e.name}.{index:04x}", "namespace": NAMESPACE},
            "involvedObject": {"kind": e.kind, "name": e.name, "namespace": NAMESPACE},
            "reason": e.reason,
            "message": e.message,
            "type": e.type,
            "count": e.count,
            "firstTimestamp": self._ts(first),
            "lastTimestamp": self._ts(e.ago),
        }

    def _node(self, name: str, pressure: bool, since: float) -> dict[str, Any]:
        memory = {
            "type": "MemoryPressure",
            "status": "True" if pressure else "False",
            "reason": "KubeletHasInsufficientMemory" if pressure else "KubeletHasSufficientMemory",
            "message": "kubelet has insufficient memory available"
            if pressure
            else "kubelet has sufficient memory available",
            "lastTransitionTime": self._ts(since if pressure else 30 * 86400),
        }
        taints = [{"key": "node.kubernetes.io/memory-pressure", "effect": "NoSchedule"}] if pressure else []
        return {
            "kind": "Node",
            "apiVersion": "v1",
            "metadata": {"name": name},
            "spec": {"taints": taints},
            "status": {"conditions": [memory, {"type": "Ready", "status": "True", "reason": "KubeletReady"}]},
        }
