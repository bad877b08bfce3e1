"""A GitOps sync the API server refuses because a manifest carries a field its schema does not have.

Since Kubernetes 1.25 the API server decodes objects strictly (server-side field validation): a misspelt or
misplaced field (``resource:`` for ``resources:``, ``imagePullPolicyy``, a key indented one level too deep, a
field of a newer API version) is rejected with ``strict decoding error: unknown field "spec.template..."``;
server-side apply says ``.spec...: field not declared in schema`` and client-side validation
``ValidationError(Deployment.spec...): unknown field "x"``. Argo CD shows it in the sync result of the resource
(``SyncFailed``) and the application's operation message, Flux in the Kustomization's ``dry-run failed``
message. The answer names the application, the resource and the field, wherever the message was printed.
"""
# ruff: noqa: E501  (patterns and messages read better unwrapped)

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

_FIELD = re.compile(
    r"strict decoding error: unknown field \\?\"(?P<field>[^\"\\]+)\\?\"(?P<more>(?:, unknown field \\?\"[^\"\\]+\\?\")*)"
    r"|(?P<ssa>\.[\w.\[\]=\"\\-]+): field not declared in schema"
    r"|ValidationError\((?P<vkind>\w+)\.(?P<vpath>[\w.\[\]]+)\): unknown field \\?\"(?P<vfield>\w+)\\?\""
)
_HANDLED_AS = re.compile(r"(?P<kind>[A-Z]\w+) in version \\?\"[\w./]+\\?\" cannot be handled as a (?:[A-Z]\w+)")
_TYPED_PATCH = re.compile(r"typed patch object \((?:(?P<ns>[\w-]+)/)?(?P<name>[\w.-]+); [\w./]+, Kind=(?P<kind>\w+)\)")
_QUOTED_OBJECT = re.compile(r"\b(?P<kind>[A-Z]\w+)(?:\.[\w.]+)? \\?\"(?P<name>[a-z0-9][\w.-]*)\\?\"")
_SYNC_ROW = re.compile(
    r"^\s*(?:[\w.-]+\s+)?(?P<kind>[A-Z]\w+)\s+(?:[a-z0-9][\w-]*\s+)?(?P<name>[a-z0-9][\w.-]*)\s+(?:Synced|OutOfSync|Unknown|SyncFailed|Failed|Running)\b"
)
_APP_KEY = re.compile(r"\b(?:application|app)[=:]\s*\"?(?:[\w-]+/)?(?P<app>[a-z0-9][\w.-]*)")
_APP_COMMAND = re.compile(r"\bargocd\s+app\s+(?:get|sync|wait|diff|history)\s+(?:[\w-]+/)?(?P<app>[a-z0-9][\w.-]*)")
_NAME_LINE = re.compile(r"^Name:\s+(?:[\w-]+/)?(?P<name>[a-z0-9][\w.-]*)\s*$")


@dataclass
class _Rejection:
    fields: list[str]
    kind: str | None
    name: str | None
    cite: str


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    found = _from_applications(obs) or _from_texts(obs)
    if found is None:
        return []
    app, rejection = found
    obj = (
        f"{rejection.kind} {rejection.name}" if rejection.kind and rejection.name else (rejection.kind or "a manifest")
    )
    fields = ", ".join(dict.fromkeys(rejection.fields))
    who = f"Argo CD application {app}" if app else "the GitOps sync"
    subject = app or rejection.name or "gitops"
    return [
        Finding(
            kind="gitops_unknown_field",
            subject=f"application/{subject}",
            role="cause",
            title=f"{subject}: {who} cannot sync: the API server rejects {obj} because its manifest has the unknown field {fields} (strict decoding: a misspelt or misplaced field, or one this API version does not have), so {obj} is not applied",
            weight=91,
            evidence=[rejection.cite],
            workload=subject,
            recommendations=[
                rec(
                    "high",
                    f"Fix {fields} in the manifest of {obj} in Git (spelling and indentation against kubectl explain {(rejection.kind or 'the kind').lower()}), then sync again",
                )
            ],
            affected=[x for x in (app, rejection.name) if x],
        )
    ]


def _fields(text: str) -> list[str]:
    match = _FIELD.search(text)
    if match is None:
        return []
    if match.group("field"):
        more = re.findall(r"unknown field \\?\"([^\"\\]+)", match.group("more") or "")
        return [match.group("field"), *more]
    if match.group("ssa"):
        return [match.group("ssa").lstrip(".").replace('\\"', '"')]
    return [f"{match.group('vpath')}.{match.group('vfield')}"]


def _object(text: str) -> tuple[str | None, str | None]:
    patch = _TYPED_PATCH.search(text)
    if patch:
        return patch.group("kind"), patch.group("name")
    validation = re.search(r"ValidationError\((?P<kind>\w+)\.", text)
    handled = _HANDLED_AS.search(text)
    quoted = _QUOTED_OBJECT.search(text)
    kind = (handled.group("kind") if handled else None) or (validation.group("kind") if validation else None)
    if quoted and (kind is None or quoted.group("kind") == kind):
        return quoted.group("kind"), quoted.group("name")
    return kind, None


def _d(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _l(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _from_applications(obs: Observations) -> tuple[str, _Rejection] | None:
    """``kubectl get application x -o yaml``: the sync result's resources and the operation message."""
    for app in (r for r in obs.resources if r.kind == "Application"):
        operation = _d(_d(app.raw.get("status")).get("operationState"))
        for resource in (_d(x) for x in _l(_d(operation.get("syncResult")).get("resources"))):
            fields = _fields(str(resource.get("message", "")))
            if fields:
                cite = app.quote(fields[0], fallback=f"Application {app.name}: {resource.get('message')}")
                return app.name, _Rejection(
                    fields, str(resource.get("kind") or "") or None, str(resource.get("name") or "") or None, cite
                )
        messages = [str(operation.get("message", ""))] + [
            str(_d(c).get("message", "")) for c in _l(_d(app.raw.get("status")).get("conditions"))
        ]
        for message in messages:
            fields = _fields(message)
            if fields:
                kind, name = _object(message)
                return app.name, _Rejection(
                    fields, kind, name, app.quote(fields[0], fallback=f"Application {app.name}: {message[:200]}")
                )
    return None


def _from_texts(obs: Observations) -> tuple[str, _Rejection] | None:
    """The first rejection that names its object (a sync-result row, a typed patch), else the first one."""
    sources = [(t.label, t.command, t.lines) for t in obs.texts] + [(d.label, d.command, d.lines) for d in obs.logs]
    first: tuple[str, _Rejection] | None = None
    for found in _text_rejections(sources):
        if found[1].name:
            return found
        first = first or found
    return first


def _text_rejections(sources: list[tuple[str, str, list[str]]]) -> Iterator[tuple[str, _Rejection]]:
    for label, command, lines in sources:
        app: str | None = None
        named = _APP_COMMAND.search(command or "")
        if named:
            app = named.group("app")
        for line in lines[:20000]:
            heading = _NAME_LINE.match(line.strip())
            if heading and app is None:
                app = heading.group("name")
            fields = _fields(line[:4096])
            if not fields:
                continue
            kind, name = _object(line)
            row = _SYNC_ROW.match(line)
            if row and (name is None or kind is None):
                kind, name = kind or row.group("kind"), name or row.group("name")
            keyed = _APP_KEY.search(line)
            where = app or (keyed.group("app") if keyed else None)
            yield (
                where or "",
                _Rejection(
                    fields,
                    kind,
                    name,
                    f"{label} {excerpt(line.strip(), around='unknown field' if 'unknown field' in line else 'not declared')}",
                ),
            )
