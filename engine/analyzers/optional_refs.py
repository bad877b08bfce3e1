"""An ``optional: true`` Secret/ConfigMap reference to an object that does not exist.

With ``optional: true`` (envFrom ``secretRef``/``configMapRef``, ``valueFrom.secretKeyRef``) the kubelet starts
the container even when the object is missing and simply sets none of its variables (Pod API reference,
environment variables). The app then runs on its built-in defaults: a database client with no host connects to
``localhost`` and is refused, or a required variable is reported missing. When the paste shows such a reference,
a listing of that kind without it (or its deletion), and the app failing on localhost or a missing variable, the
missing optional object is the cause; a similarly named object that exists is named as what was probably meant.
"""
# ruff: noqa: E501  (documented messages read better unwrapped)

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import rec
from engine.analyzers.scheduling_detail import lines_of
from engine.analyzers.storage_detail import near_name
from engine.facts import Observations
from engine.findings import Finding, workload_of
from engine.logs.signatures import match_signatures
from engine.parsers.common import excerpt

_REF_KINDS = {
    "secretRef": "Secret",
    "configMapRef": "ConfigMap",
    "secretKeyRef": "Secret",
    "configMapKeyRef": "ConfigMap",
}
# kubectl describe: "Environment Variables from:\n  db-conn  Secret  Optional: true"
_DESCRIBED = re.compile(
    r"^\s*(?P<name>[\w.-]+)\s+(?P<kind>Secret|ConfigMap)(?: with prefix '[\w.-]*')?\s+Optional:\s+true\b"
)
_LOCALHOST = re.compile(
    r"(?:localhost|127\.0\.0\.1|\[?::1\]?)[^\n]{0,80}?(?:refused|failed|ECONNREFUSED|Cannot assign)"
    r"|(?:refused|ECONNREFUSED)[^\n]{0,80}?(?:localhost|127\.0\.0\.1)",
    re.IGNORECASE,
)


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    refs = list(_optional_refs(obs))
    if not refs:
        return []
    failure = _app_failure(obs)
    if failure is None:
        return []
    fail_cite, pod = failure
    for kind, name, cite in refs:
        absent = _absent(obs, kind, name)
        if absent is None:
            continue
        owner = workload_of(pod) if pod else _named(ctx) or name
        meant = near_name(name, obs, cutoff=0.8)
        fallback = " (it connects to localhost)" if _LOCALHOST.search(fail_cite) else ""
        hint = f"; {kind} {meant[0]} exists, which is probably what was meant" if meant else ""
        evidence = [cite, absent, fail_cite] + ([meant[1]] if meant else [])
        return [
            Finding(
                kind="optional_ref_missing",
                subject=f"{owner}:optional_ref_missing",
                role="cause",
                title=(
                    f"{owner}: its {kind} reference {name} is marked optional and that {kind} does not exist, so the "
                    f"container starts without any of its variables and the app falls back to its defaults{fallback}{hint}"
                ),
                weight=95,
                evidence=[e for e in evidence if e],
                workload=owner,
                recommendations=[
                    rec(
                        "high",
                        f"Point the reference at the {kind} that exists ({meant[0] if meant else 'the right name'}) or "
                        f"recreate {name}; drop optional: true for configuration the app cannot run without",
                    )
                ],
                affected=[owner],
            )
        ]
    return []


def _optional_refs(obs: Observations) -> Iterator[tuple[str, str, str]]:
    """(kind, name, cite) of every optional Secret/ConfigMap reference the input shows."""
    for doc in obs.documents:
        for kind, name in _walk(doc.data):
            yield kind, name, doc.quote(name, fallback=f"{kind} {name} optional: true")
    for resource in obs.resources:
        for kind, name in _walk(resource.raw):
            yield kind, name, resource.quote(name)
    for label, line in lines_of(obs):
        described = _DESCRIBED.match(line)
        if described:
            yield described.group("kind"), described.group("name"), f"{label} {excerpt(line.strip())}"


def _walk(data: Any) -> Iterator[tuple[str, str]]:
    if isinstance(data, dict):
        for key, value in data.items():
            if key in _REF_KINDS and isinstance(value, dict) and value.get("optional") is True and value.get("name"):
                yield _REF_KINDS[key], str(value["name"])
            else:
                yield from _walk(value)
    elif isinstance(data, list):
        for item in data:
            yield from _walk(item)


def _absent(obs: Observations, kind: str, name: str) -> str | None:
    """Evidence that the object is gone: its deletion, or a listing of its kind without it."""
    deleted = re.compile(
        rf"(?<![\w-]){re.escape(name)}(?![\w-])[^\n]*\bdelet|\bdelet[^\n]*(?<![\w-]){re.escape(name)}(?![\w-])",
        re.IGNORECASE,
    )
    for label, line in lines_of(obs):
        if deleted.search(line):
            return f"{label} {excerpt(line.strip(), around=name)}"
    listed = [r for r in obs.resources if r.kind == kind]
    if listed and all(r.name != name for r in listed):
        return listed[0].quote(listed[0].name)
    return None


def _app_failure(obs: Observations) -> tuple[str, str | None] | None:
    """The app's line showing it runs on defaults: a refused connection to localhost, or a missing variable."""
    for doc in obs.logs:
        for line in doc.lines:
            if _LOCALHOST.search(line) or any(m.kind == "missing_env" for m in match_signatures(line)):
                return f"{doc.label} {excerpt(line.strip())}", doc.pod
    return None


def _named(ctx: AnalysisContext) -> str | None:
    return ctx.question.named if ctx.question else None
