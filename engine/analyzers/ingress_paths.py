"""ingress-nginx annotations that change what reaches the backend, read against the controller's access log.

- ``nginx.ingress.kubernetes.io/rewrite-target`` without a capture group (``/`` rather than ``/$2``) rewrites
  every request under the path to that literal target (kubernetes.github.io/ingress-nginx/examples/rewrite/), so
  the backend receives ``/`` for ``/api/v1/cart`` and answers its index page.
- ``client intended to send too large body``: the Ingress serving that host and path has no
  ``nginx.ingress.kubernetes.io/proxy-body-size`` (the controller's default, 1m, applies) or a smaller one.
"""
# ruff: noqa: E501  (user-facing messages read better unwrapped)

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import rec
from engine.facts import Observations
from engine.findings import Finding
from engine.parsers.common import excerpt

# ingress-nginx's default log format: ... "GET /path HTTP/2.0" 404 ... [namespace-service-port] ...
_ACCESS = re.compile(
    r"\"(?P<method>[A-Z]+) (?P<path>/\S*) HTTP/[\d.]+\" (?P<status>\d{3}) .*?\[(?P<upstream>[\w.-]+)\]"
)
_TOO_LARGE = re.compile(
    r"client intended to send too large body:\s*(?P<bytes>\d+) bytes.*?server: (?P<host>[\w.-]+), request: \"[A-Z]+ (?P<path>/\S*)"
)
_BODY_SIZE = "nginx.ingress.kubernetes.io/proxy-body-size"
_REWRITE = "nginx.ingress.kubernetes.io/rewrite-target"


@dataclass(frozen=True)
class _Path:
    ingress: str
    namespace: str
    klass: str
    annotations: dict[str, str]
    host: str
    path: str
    path_type: str
    service: str
    port: str
    cite: str


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    del ctx
    paths = list(_paths(obs))
    if not paths:
        return []
    access = [(doc.label, line, m) for doc in obs.logs for line in doc.lines[:20000] if (m := _ACCESS.search(line))]
    findings = _rewrite_without_capture(paths, access)
    findings += _body_too_large(paths, [(d.label, ln) for d in obs.logs for ln in d.lines[:20000]])
    return findings


def _paths(obs: Observations) -> Iterator[_Path]:
    objects: list[tuple[str, str, dict[str, Any], dict[str, Any], str, list[str]]] = []
    for r in obs.resources:
        if r.kind == "Ingress" and isinstance(r.raw.get("spec"), dict):
            meta = r.raw.get("metadata") or {}
            objects.append((r.name, r.namespace or "", meta.get("annotations") or {}, r.raw["spec"], r.label, r.lines))
    for name, namespace, notes, spec, label, lines in objects:
        for rule in spec.get("rules") or []:
            if not isinstance(rule, dict):
                continue
            for item in (rule.get("http") or {}).get("paths") or []:
                service = ((item.get("backend") or {}).get("service") or {}) if isinstance(item, dict) else {}
                if not service.get("name"):
                    continue
                port = service.get("port") or {}
                path = str(item.get("path", "/"))
                cite = next((f"{label} {excerpt(ln.strip())}" for ln in lines if path in ln and "path" in ln), label)
                yield _Path(
                    name,
                    namespace,
                    str(spec.get("ingressClassName", "")),
                    {str(k): str(v) for k, v in notes.items()},
                    str(rule.get("host", "")),
                    path,
                    str(item.get("pathType", "")),
                    str(service["name"]),
                    str(port.get("number") or port.get("name") or ""),
                    cite,
                )


def _named(p: _Path) -> str:
    return f"Ingress {p.ingress}" if p.ingress else "the Ingress"


def _upstream_is(upstream: str, p: _Path) -> bool:
    return upstream.endswith(f"-{p.service}-{p.port}") or f"-{p.service}-" in upstream


def _rewrite_without_capture(paths: list[_Path], access: list[tuple[str, str, re.Match[str]]]) -> list[Finding]:
    for p in paths:
        target = p.annotations.get(_REWRITE)
        if target is None or "$" in target or p.path in ("/", target):
            continue
        seen = sorted({m.group("path").split("?")[0] for _, _, m in access if _upstream_is(m.group("upstream"), p)})
        example = f" (e.g. {seen[0]})" if seen else ""
        return [
            Finding(
                kind="ingress_rewrite_without_capture",
                subject=f"ingress/{p.ingress or p.service}",
                role="cause",
                title=(
                    f"{_named(p)} sets {_REWRITE}: {target} without a capture group, so ingress-nginx rewrites every request "
                    f"under {p.path}{example} to the literal path {target} and {p.service} answers that page for all of them"
                ),
                weight=88,
                evidence=[p.cite],
                workload=p.service,
                recommendations=[
                    rec(
                        "high",
                        f"Capture the rest of the path and rewrite to it: path {p.path.rstrip('/')}(/|$)(.*) with pathType ImplementationSpecific and rewrite-target /$2",
                    )
                ],
                affected=[p.service],
            )
        ]
    return []


def _body_too_large(paths: list[_Path], lines: list[tuple[str, str]]) -> list[Finding]:
    for label, line in lines:
        m = _TOO_LARGE.search(line)
        if m is None:
            continue
        serving = [
            p for p in paths if p.host == m.group("host") and m.group("path").startswith(p.path.rstrip("/") or "/")
        ]
        if not serving:
            return []
        p = max(serving, key=lambda s: len(s.path))
        limit = p.annotations.get(_BODY_SIZE)
        size = f"{int(m.group('bytes')) / 1048576:.1f} MiB"
        why = (
            f"sets {_BODY_SIZE}: {limit}, smaller than the {size} body"
            if limit
            else f"sets no {_BODY_SIZE}, so its controller{' (class ' + p.klass + ')' if p.klass else ''} applies its own limit (1m by default)"
        )
        return [
            Finding(
                kind="ingress_body_too_large",  # the controller's own 413 line, resolved to its Ingress: one finding
                subject=f"{m.group('host')}:ingress_body_too_large",
                role="cause",
                title=f"{_named(p)} ({p.host}{p.path}) {why}: ingress-nginx rejects the {size} upload with 413",
                weight=90,
                evidence=[f"{label} {excerpt(line.strip())}", p.cite],
                workload=m.group("host"),  # as the 413 message rule groups it, so the two merge
                recommendations=[
                    rec(
                        "high",
                        f'Set {_BODY_SIZE} on {_named(p)} (e.g. "50m") or proxy-body-size in that controller\'s ConfigMap',
                    )
                ],
                affected=[p.service],
                related=[p.service],
            )
        ]
    return []
