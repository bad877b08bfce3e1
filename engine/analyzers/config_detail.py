"""Configuration an application receives wrong, though every object exists: what Kubernetes did to it.

General facts from the Kubernetes and framework documentation:

- ``envFrom`` skips ConfigMap/Secret keys that are not valid environment variable names and records an
  ``InvalidEnvironmentVariableNames`` event naming them; the application then reports the variable unset.
- The kubelet injects ``{SERVICE}_PORT=tcp://<ip>:<port>`` (and ``_SERVICE_HOST``...) for every Service in the
  namespace (``enableServiceLinks``, on by default): a Service named like the app's own prefix overrides the
  app's ``X_PORT`` with a URL, and the app fails to parse it as a number.
- Secret ``data`` values are base64-encoded once, ``stringData`` takes plain text: a value that is still base64
  text after decoding (or base64 text in ``stringData``) reaches the application encoded, and it fails to
  authenticate with it.
- Spring Boot's failure analyzer prints ``APPLICATION FAILED TO START`` with the property that cannot be bound,
  its value, where it came from and why.
"""
# ruff: noqa: E501  (messages read better unwrapped)

from __future__ import annotations

import base64
import binascii
import difflib
import re

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import observed_names, rec, workload_cause
from engine.analyzers.log_signatures import doc_source, failing_workload
from engine.analyzers.scheduling_detail import find_key, lines_of
from engine.facts import Observations
from engine.findings import Finding, workload_of
from engine.parsers.common import excerpt

_INVALID_ENV = re.compile(
    r"Keys \[(?P<keys>[^\]]+)\] from the EnvFrom (?P<kind>configMap|secret) (?P<source>[\w./-]+) were skipped since they are considered invalid environment variable names"
)
_SERVICE_LINK_VALUE = re.compile(r"tcp://(?:\d{1,3}\.){3}\d{1,3}:\d{2,5}")
_PARSE_FAILURE = re.compile(
    r"invalid literal for int|NumberFormatException|strconv\.\w+: parsing|invalid (?:port|digit|number)|not a (?:valid )?(?:number|integer|port)|parseInt|could not convert|ParseIntError|Invalid port",
    re.I,
)
_BASE64 = re.compile(r"^[A-Za-z0-9+/]{12,}={0,2}$")
_AUTH_FAILURE = re.compile(
    r"password authentication failed|Access denied for user|authentication failed|invalid (?:credentials|password|username or password)|WRONGPASS|NOAUTH|401 Unauthorized|Login failed",
    re.I,
)
_SPRING_BIND = re.compile(r"Failed to bind properties under '(?P<prop>[^']+)' to (?P<type>[\w.$]+)")


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    findings: list[Finding] = []
    findings.extend(_invalid_env_names(obs, ctx))
    findings.extend(_service_links(obs, ctx))
    findings.extend(_double_encoded_secrets(obs, ctx))
    findings.extend(_spring_binding(obs, ctx))
    findings.extend(_unreadable_mounted_file(obs, ctx))
    findings.extend(_misspelled_env(obs, ctx))
    return findings


def _subject(obs: Observations, ctx: AnalysisContext) -> str | None:
    owner = ctx.focus.owner() if ctx.focus else None
    return owner or ctx.service or failing_workload(obs) or (ctx.question.named if ctx.question else None)


def _invalid_env_names(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    del ctx
    found: list[Finding] = []
    seen: set[str] = set()
    for event in obs.events:
        match = _INVALID_ENV.search(event.message)
        if not match or match.group("source") in seen:
            continue
        seen.add(match.group("source"))
        keys = match.group("keys")
        owner = workload_of(event.object_name) if event.object_name else None
        source = f"{match.group('kind')} {match.group('source')}"
        found.append(
            workload_cause(
                "envfrom_invalid_keys",
                owner=owner,
                fallback=source,
                title=f"{owner + ': ' if owner else ''}keys {keys} of {source} were skipped by envFrom (InvalidEnvironmentVariableNames): they are not valid environment variable names, so the container never gets them",
                weight=90,
                evidence=[event.cite],
                fix=f"Rename the keys {keys} in {source} to valid names (letters, digits, '_', e.g. APP_REGION), or map each with env[].valueFrom.configMapKeyRef/secretKeyRef",
            )
        )
    return found


def _service_links(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    names = observed_names(obs)
    for doc in obs.logs:
        for index, line in enumerate(doc.lines):
            value = _SERVICE_LINK_VALUE.search(line)
            if not value or not _PARSE_FAILURE.search(line):
                continue
            variable, var_cite = _variable_holding(value.group(0), doc.lines[max(0, index - 12) : index], obs)
            if not variable:
                return []
            service = variable.removesuffix("_PORT").lower().replace("_", "-")
            shown = doc_source(doc, ctx, names) or _subject(obs, ctx)
            owner = workload_of(shown) if shown else None
            evidence = [f"{doc.label} {excerpt(line.strip())}", var_cite]
            return [
                workload_cause(
                    "service_link_env_collision",
                    owner=owner,
                    fallback="pod",
                    title=f"{owner + ': ' if owner else ''}{variable} holds '{value.group(0)}', not a port number: Kubernetes injects {variable}=tcp://<ip>:<port> into every pod for the Service named {service} in the namespace (service links), overriding the variable the application reads",
                    weight=90,
                    evidence=[e for e in evidence if e],
                    fix=f"Set enableServiceLinks: false in the pod spec (or have the application read another variable name than {variable})",
                )
            ]
    return []


def _variable_holding(value: str, before: list[str], obs: Observations) -> tuple[str, str]:
    """The ``*_PORT`` variable that holds the service-link URL: an env listing, else the code the traceback shows."""
    pattern = re.compile(r"^\s*([A-Z][A-Z0-9_]*_PORT)\s*[=:]\s*\"?" + re.escape(value) + r"\"?\s*$")
    for label, line in lines_of(obs):
        found = pattern.match(line)
        if found:
            return found.group(1), f"{label} {excerpt(line.strip())}"
    for line in reversed(before):
        found_var = re.search(r"\b([A-Z][A-Z0-9_]*_PORT)\b", line)
        if found_var:
            return found_var.group(1), ""
    return "", ""


def _decoded_text(value: str) -> bool:
    """True when ``value`` is base64 of printable text (what a plain password or token looks like encoded)."""
    if not _BASE64.match(value) or len(value) % 4:
        return False
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return False
    return bool(raw) and all(32 <= b < 127 for b in raw)


def _double_encoded_secrets(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    auth = next(
        ((label, line) for label, line in lines_of(obs) if _AUTH_FAILURE.search(line) and "Secret" not in line),
        None,
    )
    found: list[Finding] = []
    for resource in obs.resources:
        if resource.kind != "Secret":
            continue
        for field_name, once in (("stringData", False), ("data", True)):
            values = resource.raw.get(field_name)
            if not isinstance(values, dict):
                continue
            for key, value in values.items():
                text = str(value)
                if once:
                    try:
                        text = base64.b64decode(text, validate=True).decode("ascii")
                    except (binascii.Error, ValueError, UnicodeDecodeError):
                        continue
                if not _decoded_text(text.strip()):
                    continue
                where = (
                    "in stringData, which takes plain text, so it is stored and delivered still base64-encoded"
                    if not once
                    else "after decoding, so the value was base64-encoded twice"
                )
                evidence = [resource.quote(f"{field_name}:")]
                if auth:
                    evidence.append(f"{auth[0]} {excerpt(auth[1].strip())}")
                owner = _subject(obs, ctx)
                effect = (
                    " — the authentication failure in the logs is the application using that encoded text as the credential"
                    if auth
                    else ""
                )
                found.append(
                    Finding(
                        kind="secret_double_base64",
                        subject=f"secret/{resource.name}:{key}",
                        role="cause",
                        title=f"{owner + ': ' if owner else ''}key {key} of Secret {resource.name} holds base64 text {where}{effect}",
                        weight=88 if auth else 70,
                        evidence=[e for e in evidence if e],
                        workload=workload_of(owner) if owner else resource.name,
                        recommendations=[
                            rec(
                                "high",
                                f"Put the plain value of {key} in stringData (or base64-encode it exactly once under data) and restart the pods that read Secret {resource.name}",
                            ),
                        ],
                        affected=[resource.name],
                    )
                )
                break
    return found


def _spring_binding(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    names = observed_names(obs)
    for doc in obs.logs:
        for index, line in enumerate(doc.lines):
            match = _SPRING_BIND.search(line)
            if not match:
                continue
            detail: dict[str, str] = {}
            evidence = [f"{doc.label} {excerpt(line.strip())}"]
            for after in doc.lines[index + 1 : index + 10]:
                field = re.match(r"^\s*(Value|Origin|Reason):\s*(.+?)\s*$", after)
                if field:
                    detail[field.group(1)] = field.group(2)
                    evidence.append(f"{doc.label} {excerpt(after.strip())}")
            reason = detail.get("Reason", "")
            why = re.search(r"(?:caused by [\w.$]+: )?([^()]*?is not a valid [^()]+?)(?:\)|$)", reason)
            shown = doc_source(doc, ctx, names) or _subject(obs, ctx)
            owner = workload_of(shown) if shown else None
            value = f": value {detail['Value']}" if "Value" in detail else ""
            origin = f" (from {detail['Origin']})" if "Origin" in detail else ""
            because = f" — {why.group(1).strip()}" if why else (f" — {reason}" if reason else "")
            return [
                workload_cause(
                    "spring_property_binding",
                    owner=owner,
                    fallback="application",
                    title=f"{owner + ': ' if owner else ''}the application fails to start: Spring Boot cannot bind property {match.group('prop')} to {match.group('type')}{value}{origin}{because}",
                    weight=90,
                    evidence=evidence[:3],
                    fix=f"Set {match.group('prop')} to a value of type {match.group('type')} (for a Duration: 30s, PT30S or 30000)",
                )
            ]
    return []


_PERMISSION = re.compile(
    r"(?:open |read |reading |load(?:ing)? )?['\"]?(?P<path>/[\w./-]+)['\"]?: permission denied", re.I
)


def _unreadable_mounted_file(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    """``open /etc/tls/tls.key: permission denied`` for a file of a Secret/ConfigMap volume: the volume's
    ``defaultMode`` makes the files readable by their owner (root) only, and the container runs as another user
    without an ``fsGroup`` that would give it access."""

    specs = [r.raw for r in obs.resources] + [d.data for d in obs.documents]
    names = observed_names(obs)
    for doc in obs.logs:
        for line in doc.lines[-60:]:
            denied = _PERMISSION.search(line)
            if not denied:
                continue
            path = denied.group("path")
            for spec in specs:
                volumes, mounts = find_key(spec, "volumes"), find_key(spec, "volumeMounts")
                if not isinstance(volumes, list) or not isinstance(mounts, list):
                    continue
                mount = next(
                    (
                        m
                        for m in mounts
                        if isinstance(m, dict) and path.startswith(str(m.get("mountPath", "")).rstrip("/") + "/")
                    ),
                    None,
                )
                volume = next(
                    (v for v in volumes if isinstance(v, dict) and mount and v.get("name") == mount.get("name")), None
                )
                source = next(
                    ((k, v) for k, v in (volume or {}).items() if k in ("secret", "configMap", "projected")), None
                )
                if mount is None or source is None or not isinstance(source[1], dict):
                    continue
                mode = source[1].get("defaultMode")
                user, group = find_key(spec, "runAsUser"), find_key(spec, "fsGroup")
                object_name = source[1].get("secretName") or source[1].get("name") or mount.get("name")
                mode_text = (
                    f" with defaultMode {oct(mode) if isinstance(mode, int) else mode}" if mode is not None else ""
                )
                who = f", while the container runs as user {user}" if user not in (None, 0) else ""
                fix = "" if group is not None else " and no fsGroup gives the pod's group access"
                shown = doc_source(doc, ctx, names) or _subject(obs, ctx)
                owner = workload_of(shown) if shown else None
                return [
                    workload_cause(
                        "mounted_file_unreadable",
                        owner=owner,
                        fallback="pod",
                        title=f"{owner + ': ' if owner else ''}cannot read {path} (permission denied): it comes from {source[0]} {object_name} mounted at {mount.get('mountPath')}{mode_text}, readable by its owner (root) only{who}{fix}",
                        weight=91,
                        evidence=[f"{doc.label} {excerpt(line.strip())}"],
                        fix=f"Set securityContext.fsGroup (and defaultMode 0440) so the container's user can read the {source[0]} files, or run as their owner",
                    )
                ]
    return []


_UNSET_VAR = re.compile(
    r"KeyError: ['\"](?P<a>[A-Z][A-Z0-9_]{2,})['\"]|(?:environment variable|env var|variable)\s+['\"`]?(?P<b>[A-Z][A-Z0-9_]{2,})['\"`]?\s+(?:is\s+)?(?:not set|missing|required|undefined|is empty|must be set)"
    r"|(?:missing|required) (?:environment variable|env var)s?:?\s+['\"`]?(?P<c>[A-Z][A-Z0-9_]{2,})"
)
_ENV_NAME = re.compile(r"(?:^|[\s{,-])\"?name\"?\s*:\s*\"?(?P<name>[A-Z][A-Z0-9_]{2,})\"?")


def _misspelled_env(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    """The application says a variable is unset while the pod spec defines one spelled almost the same."""

    defined: dict[str, str] = {}
    for label, line in lines_of(obs):
        for match in _ENV_NAME.finditer(line):
            defined.setdefault(match.group("name"), f"{label} {excerpt(line.strip())}")
    if not defined:
        return []
    names = observed_names(obs)
    for doc in obs.logs:
        for line in doc.lines[-80:]:
            found = _UNSET_VAR.search(line)
            if not found:
                continue
            wanted = next(g for g in found.groups() if g)
            if wanted in defined:
                continue
            close = difflib.get_close_matches(wanted, sorted(defined), n=1, cutoff=0.85)
            if not close:
                continue
            shown = doc_source(doc, ctx, names) or _subject(obs, ctx)
            owner = workload_of(shown) if shown else None
            return [
                workload_cause(
                    "env_var_misspelled",
                    owner=owner,
                    fallback="pod",
                    title=f"{owner + ': ' if owner else ''}the application needs environment variable {wanted}, but the pod spec defines {close[0]} (a different spelling), so {wanted} is unset",
                    weight=92,
                    evidence=[f"{doc.label} {excerpt(line.strip())}", defined[close[0]]],
                    fix=f"Rename env {close[0]} to {wanted} in the pod template",
                )
            ]
    return []
