"""A changed ConfigMap or Secret the running pods never see.

- A ConfigMap/Secret mounted with ``subPath`` is copied once when the container starts: it never receives
  updates (kubernetes.io/docs/concepts/configuration/configmap/#mounted-configmaps-are-updated-automatically).
- Environment variables (``env.valueFrom``, ``envFrom``) are resolved when the container starts: a changed
  ConfigMap reaches them only after the pods restart.

Both are answers only when the question says the configuration was changed and the pods still use the old
value; the workload, the mount (or variable) and the ConfigMap are named from the spec that was pasted
(``-o yaml/json``, or describe's ``Mounts: /etc/x from config (ro,path="x.yaml")``).
"""
# ruff: noqa: E501  (patterns and messages read better unwrapped)

from __future__ import annotations

import re
from typing import Any

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import rec
from engine.facts import Observations, ResourceFact
from engine.findings import Finding, workload_of
from engine.parsers.common import excerpt

_CHANGED = re.compile(
    r"\b(?:chang|updat|edit|modif|bump|rais|lower|set|appl|rotat|patch|flip|flipp|toggl|switch|turn|disabl|enabl)\w*\b[^.?!]{0,80}\b(?:config ?maps?|cm|secrets?|config|configuration|value|setting|flag)s?\b"
    r"|\b(?:config ?maps?|secrets?)\b[^.?!]{0,80}\b(?:chang|updat|edit|modif|rotat|patch)\w*",
    re.IGNORECASE,
)
_STALE = re.compile(  # the running pods still see the old value (not: "still crashing")
    r"\bstill\b(?! (?:crash|fail|restart|down|broken|pending|error|not |in crash|oom|die|dying|stuck|unhealthy|can'?t|cannot))"
    r"|\bold (?:value|config|setting|limit|file|one|backend)|not (?:picked|pick|reload|refresh)\w*|doesn'?t (?:pick|see|reload)"
    r"|\bstale\b|no effect|didn'?t take effect|hasn'?t (?:changed|picked)",
    re.IGNORECASE,
)
_DESCRIBE_SUBPATH = re.compile(
    r"^\s*(?P<path>/\S+) from (?P<volume>[\w.-]+) \((?:ro|rw),path=\\?\"(?P<sub>[^\"\\]+)\\?\"\)"
)
_POD_TEMPLATE_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "Pod")


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    message = ctx.question.message if ctx.question else ""
    if not message or not _CHANGED.search(message) or not _STALE.search(message):
        return []
    findings = [f for r in obs.resources if r.kind in _POD_TEMPLATE_KINDS for f in _from_spec(r, message)]
    if not findings:  # a spec excerpt without its kind and name ("spec: containers: ..."): the asked workload's
        owner = (ctx.focus.owner() if ctx.focus else None) or ctx.service
        excerpts = [
            ResourceFact("", "?", None, {"spec": spec}, d.label, d.lines)
            for d in obs.documents
            if (spec := _spec_excerpt(d.data)) is not None
        ]
        findings = [f for r in excerpts for f in _from_spec(r, message, owner)]
    if not findings:
        findings = _from_describe(obs, message)
    return findings[:1]


def _spec_excerpt(data: Any) -> dict[str, Any] | None:
    """The pod spec in a pasted excerpt: ``{containers}``, ``{spec: {containers}}`` or a template's."""
    for path in ((), ("spec",), ("spec", "template", "spec"), ("template", "spec")):
        node = data
        for key in path:
            node = node.get(key) if isinstance(node, dict) else None
        if isinstance(node, dict) and isinstance(node.get("containers"), list):
            return node
    return None


def _pod_spec(resource: ResourceFact) -> dict[str, Any]:
    spec = resource.raw.get("spec") or {}
    if resource.kind != "Pod" and not (isinstance(spec, dict) and "containers" in spec):
        spec = ((spec.get("template") or {}).get("spec")) or {}
    return spec if isinstance(spec, dict) else {}


def _named(name: str, message: str) -> bool:
    return bool(re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", message, re.IGNORECASE))


def _from_spec(resource: ResourceFact, message: str, asked: str | None = None) -> list[Finding]:
    spec = _pod_spec(resource)
    volumes = {
        v.get("name"): ("ConfigMap", (v.get("configMap") or {}).get("name"))
        if v.get("configMap")
        else ("Secret", (v.get("secret") or {}).get("secretName"))
        for v in spec.get("volumes") or []
        if isinstance(v, dict) and (v.get("configMap") or v.get("secret"))
    }
    owner = workload_of(resource.name) if resource.kind == "Pod" else resource.name
    if not resource.kind:  # a spec excerpt: the asked workload, else its first container
        first = next((c.get("name") for c in spec.get("containers") or [] if isinstance(c, dict)), None)
        owner = asked or str(first or owner)
    candidates: list[tuple[int, Finding]] = []
    for container in spec.get("containers") or []:
        if not isinstance(container, dict):
            continue
        for mount in container.get("volumeMounts") or []:
            if not isinstance(mount, dict) or not mount.get("subPath") or mount.get("name") not in volumes:
                continue
            kind, source = volumes[mount["name"]]
            cite = resource.quote(f"subPath: {mount['subPath']}", fallback=f"subPath: {mount['subPath']}")
            finding = _subpath(owner, kind, source or mount["name"], mount.get("mountPath", ""), cite)
            candidates.append((2 if source and _named(source, message) else 1, finding))
        refs = [
            (env.get("name"), kind, ref.get("name"))
            for env in container.get("env") or []
            if isinstance(env, dict)
            for kind, ref in (
                ("ConfigMap", (env.get("valueFrom") or {}).get("configMapKeyRef") or {}),
                ("Secret", (env.get("valueFrom") or {}).get("secretKeyRef") or {}),
            )
            if ref.get("name")
        ]
        refs += [
            ("envFrom", kind, ref.get("name"))
            for item in container.get("envFrom") or []
            if isinstance(item, dict)
            for kind, ref in (("ConfigMap", item.get("configMapRef") or {}), ("Secret", item.get("secretRef") or {}))
            if ref.get("name")
        ]
        for variable, kind, source in refs:
            if _named(str(source), message):
                cite = resource.quote(f"name: {source}", fallback=f"{kind} {source}")
                candidates.append((2, _env(owner, kind, str(source), str(variable), cite)))
    candidates.sort(key=lambda c: -c[0])
    return [f for _, f in candidates]


def _from_describe(obs: Observations, message: str) -> list[Finding]:
    for text in obs.texts:
        described = None
        for line in text.lines:
            if line.startswith("Name:"):
                described = line.split(":", 1)[1].strip()
            match = _DESCRIBE_SUBPATH.match(line)
            if match and described:
                return [
                    _subpath(
                        workload_of(described),
                        "ConfigMap",
                        match.group("volume"),
                        match.group("path"),
                        f"{text.label} {excerpt(line.strip())}",
                        volume_only=True,
                    )
                ]
    return []


def _subpath(owner: str, kind: str, source: str, path: str, cite: str, volume_only: bool = False) -> Finding:
    what = f"volume {source}" if volume_only else f"{kind} {source}"
    return Finding(
        kind="config_subpath_no_update",
        subject=f"{owner}:config_subpath_no_update",
        role="cause",
        title=(
            f"{owner}: {what} is mounted at {path} with subPath, and a subPath mount is copied once when the "
            f"container starts: it never receives {kind} updates, so the pods keep the old file until they restart"
        ),
        weight=88,
        evidence=[cite],
        workload=owner,
        recommendations=[
            rec(
                "high",
                f"Restart {owner} to load the new file now (kubectl rollout restart deployment/{owner}); to get updates "
                "without restarts, mount the whole ConfigMap as a directory instead of a subPath file (or roll pods on change with a checksum annotation)",
            )
        ],
        affected=[owner],
        related=[source],
    )


def _env(owner: str, kind: str, source: str, variable: str, cite: str) -> Finding:
    how = "through envFrom" if variable == "envFrom" else f"as environment variable {variable}"
    return Finding(
        kind="config_env_no_update",
        subject=f"{owner}:config_env_no_update",
        role="cause",
        title=(
            f"{owner}: reads {kind} {source} {how}, and environment variables are resolved only when the container "
            f"starts: the running pods keep the old value until they are restarted"
        ),
        weight=86,
        evidence=[cite],
        workload=owner,
        recommendations=[
            rec("high", f"Restart {owner} so its pods read the new value (kubectl rollout restart deployment/{owner})")
        ],
        affected=[owner],
        related=[source],
    )
