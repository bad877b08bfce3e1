"""Pod failures whose reason sits next to the symptom: which object or mount an SRE would name.

- ``Unable to retrieve some image pull secrets (<names>)`` (kubelet, event ``FailedToRetrieveImagePullSecret``):
  the pod's ``imagePullSecrets`` name Secrets that do not exist in its namespace (Secrets are namespaced, a
  copied Deployment does not bring them), so the pull goes out without credentials and a private registry
  refuses it.
- ``Read-only file system`` (EROFS) when a container writes a path: the volume mounted over that path is
  mounted read-only (``(ro)`` in describe, ``readOnly: true`` in the spec) or the root filesystem is read-only
  (``securityContext.readOnlyRootFilesystem``).
- ``too many missed start times`` (cronjob-controller, ``TooManyMissedTimes``): after more than 100 missed
  schedules (a long suspension, a stopped controller, clock skew) the controller does not start the CronJob
  until ``startingDeadlineSeconds`` bounds how far back it looks.
"""
# ruff: noqa: E501  (messages read better unwrapped)

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import rec, workload_cause, workload_name
from engine.analyzers.scheduling_detail import lines_of
from engine.facts import Observations, PodFact
from engine.findings import Finding, workload_of
from engine.parsers.common import excerpt

_PULL_SECRETS = re.compile(r"Unable to retrieve some image pull secrets \((?P<names>[^)]+)\)")
_EROFS = re.compile(r"(?:['\"`](?P<q>/[^'\"`]*)['\"`]|(?P<p>/[\w./-]+))?[^\n]{0,40}?Read-only file system|EROFS", re.I)
_MOUNT_LINE = re.compile(r"^\s+(?P<path>/\S*) from (?P<volume>[\w.-]+) \((?P<mode>ro|rw)\)")
_CONTAINER_HEADER = re.compile(r"^(?P<indent>\s{2,4})(?P<name>[a-z0-9][a-z0-9-]*):\s*$")
_MISSED = re.compile(r"too many missed start times(?::\s*(?P<count>\d+))?", re.I)


@dataclass(frozen=True)
class Mount:
    container: str
    init: bool
    path: str
    volume: str
    read_only: bool
    cite: str


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    return [
        *_missing_pull_secrets(obs),
        *_read_only_writes(obs),
        *_missed_schedules(obs),
        *_init_waiting_on_name(obs),
        *_missing_interpreter(obs),
        *_go_panic_site(obs, ctx),
        *_mount_type_mismatch(obs),
    ]


def _pod(obs: Observations, name: str | None) -> PodFact | None:
    return next((p for p in obs.pods if p.name == name), None) or (obs.pods[0] if len(obs.pods) == 1 else None)


def _missing_pull_secrets(obs: Observations) -> list[Finding]:
    found: list[Finding] = []
    seen: set[str] = set()
    secrets = {r.name for r in obs.resources if r.kind == "Secret"}
    listed = bool(secrets) or any(
        "kubernetes.io/service-account-token" in line or "kubernetes.io/dockerconfigjson" in line
        for _, line in lines_of(obs)
    )
    for event in obs.events:
        match = _PULL_SECRETS.search(event.message)
        if not match or match.group("names") in seen:
            continue
        seen.add(match.group("names"))
        names = [n.strip() for n in match.group("names").split(",") if n.strip()]
        pod = _pod(obs, event.object_name)
        owner = workload_name(pod) if pod else (workload_of(event.object_name) if event.object_name else None)
        namespace = event.namespace or (pod.namespace if pod else None)
        where = f" in namespace {namespace}" if namespace else " in the pod's namespace"
        absent = [n for n in names if n not in secrets]
        listing = " (the namespace's Secrets listed do not include it)" if listed and absent else ""
        elsewhere = sorted(
            {r.namespace for r in obs.resources if r.kind == "Secret" and r.name in names and r.namespace} - {namespace}
        )
        if (
            namespace
            and elsewhere
            and not any(r.kind == "Secret" and r.name in names and r.namespace == namespace for r in obs.resources)
        ):
            listing = f" (it exists only in namespace {', '.join(elsewhere)}: Secrets are namespaced, and a copied Deployment or values file does not bring them)"
        image = next((c.image for c in pod.containers if c.image), None) if pod else None
        effect = (
            f", so image {image} is pulled without credentials and the registry refuses it"
            if image
            else ", so the image is pulled without credentials"
        )
        found.append(
            workload_cause(
                "image_pull_secret_missing",
                owner=owner,
                fallback="pod",
                title=f"{owner + ': ' if owner else ''}imagePullSecret {', '.join(names)} does not exist{where}{listing}{effect}",
                weight=95,
                evidence=[event.cite],
                fix=f"Create Secret {names[0]} (type kubernetes.io/dockerconfigjson){where} — Secrets are namespaced, copy it from the namespace where the pull works — or fix imagePullSecrets",
            )
        )
    return found


def _mounts(obs: Observations) -> list[Mount]:
    """Container mounts from describe text (``/data from storage (ro)``) and from pod specs (volumeMounts)."""
    mounts: list[Mount] = []
    for text in obs.texts:
        container, init, section = "", False, ""
        for line in text.lines:
            if line and not line[0].isspace():
                section = line.split(":", 1)[0]
                continue
            header = _CONTAINER_HEADER.match(line)
            if header and section in ("Containers", "Init Containers"):
                container, init = header.group("name"), section == "Init Containers"
                continue
            mount = _MOUNT_LINE.match(line)
            if mount and container:
                mounts.append(
                    Mount(
                        container,
                        init,
                        mount.group("path"),
                        mount.group("volume"),
                        mount.group("mode") == "ro",
                        f"{text.label} {excerpt(line.strip())}",
                    )
                )
    for resource in obs.resources:
        spec = resource.raw.get("spec")
        if resource.kind != "Pod" or not isinstance(spec, dict):
            continue
        for key, init in (("initContainers", True), ("containers", False)):
            for container in spec.get(key) or []:
                if not isinstance(container, dict):
                    continue
                for item in container.get("volumeMounts") or []:
                    if isinstance(item, dict) and item.get("mountPath"):
                        mounts.append(
                            Mount(
                                str(container.get("name", "?")),
                                init,
                                str(item["mountPath"]),
                                str(item.get("name", "?")),
                                bool(item.get("readOnly")),
                                resource.quote("readOnly") if item.get("readOnly") else "",
                            )
                        )
    return mounts


def _read_only_writes(obs: Observations) -> list[Finding]:
    for doc in obs.logs:
        for line in doc.lines:
            if "read-only file system" not in line.lower() and "erofs" not in line.lower():
                continue
            match = _EROFS.search(line)
            path = (match.group("q") or match.group("p") or "") if match else ""
            mounts = _mounts(obs)
            named = [m for m in mounts if m.container in doc.label or m.container == doc.container]
            candidates = named or mounts
            mount = max(
                (m for m in candidates if m.read_only and (not path or _under(path, m.path))),
                key=lambda m: len(m.path),
                default=None,
            )
            if mount is None:
                continue
            pod = _pod(obs, doc.pod)
            owner = workload_name(pod) if pod else None
            evidence = [f"{doc.label} {excerpt(line.strip())}"]
            evidence.append(mount.cite)
            role = "init container" if mount.init else "container"
            return [
                Finding(
                    kind="read_only_mount_write",
                    subject=f"{owner or mount.container}:read_only_mount_write",
                    role="cause",
                    title=f"{owner + ': ' if owner else ''}{role} {mount.container} cannot write {path or mount.path}: volume {mount.volume} is mounted read-only at {mount.path} (ro / readOnly: true), so it fails with 'Read-only file system'",
                    weight=92,
                    evidence=[e for e in evidence if e],
                    workload=owner or mount.container,
                    recommendations=[
                        rec(
                            "high",
                            f"Mount volume {mount.volume} read-write in {mount.container} (drop readOnly: true) or write to another path (an emptyDir mounted for it)",
                        ),
                    ],
                    affected=[x for x in (owner, mount.container) if x],
                )
            ]
    return []


def _under(path: str, mount: str) -> bool:
    mount = mount.rstrip("/")
    return path.rstrip("/") == mount or path.startswith(mount + "/")


def _missed_schedules(obs: Observations) -> list[Finding]:
    found: list[Finding] = []
    seen: set[str] = set()
    for event in obs.events:
        match = _MISSED.search(event.message)
        if not match or (event.object_name or "") in seen:
            continue
        seen.add(event.object_name or "")
        name = event.object_name or "the CronJob"
        count = f" ({match.group('count')} missed)" if match.group("count") else ""
        found.append(
            Finding(
                kind="cronjob_missed_start_times",
                subject=f"cronjob/{name}",
                role="cause",
                title=f"{name}: CronJob {name} does not start any job: too many missed start times{count} — with more than 100 missed schedules (a long suspension, a stopped controller, clock skew) the controller refuses to schedule it while .spec.startingDeadlineSeconds is unset or too large",
                weight=92,
                evidence=[event.cite],
                workload=name,
                recommendations=[
                    rec(
                        "high",
                        f"Set .spec.startingDeadlineSeconds on CronJob {name} (e.g. 200, less than the schedule interval × 100) so only recent missed runs count, and check the nodes' clocks",
                    ),
                ],
                affected=[name],
            )
        )
    return found


_UNRESOLVED = re.compile(
    r"can't resolve '?(?P<a>[\w.-]+)'?|could not resolve host:? (?P<b>[\w.-]+)|lookup (?P<c>[\w.-]+)(?: on [\d.:]+)?: no such host"
    r"|bad address '(?P<f>[\w.-]+)'|getaddrinfo for host \"(?P<g>[\w.-]+)\""
    r"|(?P<d>[\w.-]+): (?:Name or service not known|Temporary failure in name resolution)|NXDOMAIN[^\n]*?(?P<e>[\w-]+\.[\w.-]+)",
    re.I,
)


def _service_ports(obs: Observations) -> dict[str, set[str]]:
    """Service -> the port numbers it exposes, from ``get svc`` rows (PORT(S)) or specs."""
    found: dict[str, set[str]] = {s.name: set(s.ports) for s in obs.services}
    for resource in obs.resources:
        if resource.kind != "Service":
            continue
        row = resource.raw.get("row")
        ports = (
            set(re.findall(r"(\d+)(?::\d+)?/(?:TCP|UDP)", str(row.get("PORT(S)", ""))))
            if isinstance(row, dict)
            else set()
        )
        spec = resource.raw.get("spec")
        if isinstance(spec, dict):
            ports |= {str(p.get("port")) for p in spec.get("ports") or [] if isinstance(p, dict)}
        found.setdefault(resource.name, set()).update(ports)
    return found


def _init_waiting_on_name(obs: Observations) -> list[Finding]:
    """An init container that waits for a dependency whose name does not resolve: which Service is missing.

    A Service name resolves as ``<service>.<namespace>.svc.cluster.local`` only when that Service exists; when the
    Services of the namespace were listed, the close existing name is probably what the init container meant.
    """
    services = {s.name for s in obs.services} | {r.name for r in obs.resources if r.kind == "Service"}
    for doc in obs.logs:
        if not doc.pod or not doc.container:
            continue
        pod = next((p for p in obs.pods if p.name == doc.pod), None)
        waiting_init = pod is not None and (
            any(c.init and not c.ready for c in pod.containers) or any("Init:" in cite for cite in pod.cites.values())
        )
        if not waiting_init:
            continue
        for line in doc.lines:
            found = _UNRESOLVED.search(line)
            if not found:
                continue
            host = next(g for g in found.groups() if g)
            service = host.split(".")[0]
            owner = workload_of(doc.pod)
            missing = ""
            if services and service not in services:
                port = next(
                    (m.group(1) for text in doc.lines[:50] if (m := re.search(re.escape(host) + r":(\d{2,5})", text))),
                    None,
                )
                serving = sorted(name for name, ports in _service_ports(obs).items() if port and port in ports)
                near = difflib.get_close_matches(service, serving or sorted(services), n=1, cutoff=0.6)
                missing = f" — no Service {service} exists in the namespace" + (
                    f" (the existing Service '{near[0]}' is probably what was meant)" if near else ""
                )
            return [
                Finding(
                    kind="init_waits_on_unresolved_name",
                    subject=f"{owner}:init_waits_on_unresolved_name",
                    role="cause",
                    title=f"{owner}: init container {doc.container} keeps waiting, so the pod never starts: {host} does not resolve{missing}",
                    weight=91,
                    evidence=[
                        f"{doc.label} {excerpt(line.strip())}",
                        *([pod.cites["state"]] if pod and pod.cites.get("state") else []),
                    ],
                    workload=owner,
                    recommendations=[
                        rec(
                            "high",
                            f"Point init container {doc.container} at the Service that exists (kubectl get svc) or create Service {service}",
                        ),
                    ],
                    affected=[owner],
                )
            ]
    return []


_EXEC_ENOENT = re.compile(
    r"exec(?: user process caused:)? ['\"]?(?P<path>/[\w./-]+)?['\"]?:? ?no such file or directory"
)
_SHEBANG = re.compile(r"^\s*#!\s*(?P<interp>/[\w./-]+)(?P<crlf>\r)?")
_BASE_IMAGE = re.compile(r"^\s*FROM\s+(?P<image>\S+)", re.I)


def _missing_interpreter(obs: Observations) -> list[Finding]:
    """``exec /app/run.sh: no such file or directory`` for a file that exists: the kernel reports the missing
    interpreter its ``#!`` line names (``#!/bin/bash`` in an Alpine image, or ``#!/bin/sh\\r`` from CRLF line
    endings), not the script."""
    for doc in obs.logs:
        for line in doc.lines[-20:]:
            found = _EXEC_ENOENT.search(line)
            if not found:
                continue
            path = found.group("path") or "the entrypoint"
            shebang = next(((label, text, m) for label, text in lines_of(obs) if (m := _SHEBANG.match(text))), None)
            if shebang is None:
                return []
            base = next((m.group("image") for _, text in lines_of(obs) if (m := _BASE_IMAGE.match(text))), None)
            pod = _pod(obs, doc.pod)
            owner = workload_name(pod) if pod else (workload_of(doc.pod) if doc.pod else None)
            interp = shebang[2].group("interp")
            crlf = bool(shebang[2].group("crlf"))
            why = (
                f"its first line '#!{interp}' ends with a carriage return (CRLF line endings), so the kernel looks for '{interp}\\r'"
                if crlf
                else f"the interpreter its first line names, {interp}, does not exist in the image"
                + (f" ({base})" if base else "")
            )
            return [
                Finding(
                    kind="entrypoint_interpreter_missing",
                    subject=f"{owner or 'container'}:entrypoint_interpreter_missing",
                    role="cause",
                    title=f"{owner + ': ' if owner else ''}exec {path} fails with 'no such file or directory' although the script is there: {why}",
                    weight=92,
                    evidence=[f"{doc.label} {excerpt(line.strip())}", f"{shebang[0]} {excerpt(shebang[1].strip())}"],
                    workload=owner,
                    recommendations=[
                        rec(
                            "high",
                            f"Install {interp} in the image or change the script's first line to an interpreter the image has (#!/bin/sh); convert CRLF to LF",
                        ),
                    ],
                    affected=[owner] if owner else [],
                )
            ]
    return []


_GO_PANIC = re.compile(r"^panic: (?P<msg>.+?)\s*$")
_GOROUTINE = re.compile(r"^goroutine \d+ \[running\]:")
_GO_FRAME_FILE = re.compile(r"^\s+(?P<file>/[\w./@-]+\.go:\d+)")


def _go_panic_site(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    """A Go panic and where it happened: the first frame of the panicking goroutine outside the runtime."""
    for doc in obs.logs:
        message = ""
        in_trace = False
        for index, line in enumerate(doc.lines):
            panic = _GO_PANIC.match(line)
            if panic:
                message = panic.group("msg")
                continue
            if message and _GOROUTINE.match(line):
                in_trace = True
                continue
            if not in_trace or not line.strip() or line.startswith(("\t", " ")):
                continue
            function = line.strip()
            if function.startswith(("runtime.", "panic(")) or index + 1 >= len(doc.lines):
                continue
            site = _GO_FRAME_FILE.match(doc.lines[index + 1])
            if not site:
                continue
            pod = _pod(obs, doc.pod)
            focus = ctx.focus.owner() if ctx.focus else None
            owner = workload_name(pod) if pod else (focus or ctx.service)
            shown = f"{owner}: " if owner else ""
            return [
                workload_cause(
                    "go_panic_site",
                    owner=owner,
                    fallback=doc.label,
                    title=f"{shown}the process panics: {message} in {function.split('(0x')[0]} ({site.group('file')})",
                    weight=89,
                    evidence=[
                        f"{doc.label} {excerpt('panic: ' + message)}",
                        f"{doc.label} {excerpt(site.group('file'))}",
                    ],
                    fix=f"Fix the code at {site.group('file')} (a nil value it dereferences: often a missing config key or an unset dependency)",
                )
            ]
    return []


_MOUNT_TYPE = re.compile(
    r"error mounting \\?\"(?P<src>[^\"\\]+)\\?\" to rootfs at \\?\"(?P<dst>[^\"\\]+)\\?\"[^\n]*?(?P<why>not a directory|is a directory|Are you trying to mount a directory onto a file)"
)


def _mount_type_mismatch(obs: Observations) -> list[Finding]:
    """runc refuses to mount a directory onto a file (or a file onto a directory): a ConfigMap/Secret volume
    mounted over a file path without ``subPath`` (or a subPath naming a key that is not there)."""
    for event in obs.events:
        found = _MOUNT_TYPE.search(event.message)
        if not found:
            continue
        pod = _pod(obs, event.object_name)
        owner = workload_name(pod) if pod else (workload_of(event.object_name) if event.object_name else None)
        sub = "volume-subpaths" in found.group("src")
        how = (
            "the subPath mount resolves to a directory (the key it names is not in the ConfigMap/Secret) while the image has a file there"
            if sub
            else "a volume (a directory) is mounted over a path that is a file in the image"
        )
        return [
            workload_cause(
                "mount_type_mismatch",
                owner=owner,
                fallback="pod",
                title=f"{owner + ': ' if owner else ''}the container cannot start: the mount at {found.group('dst')} fails with 'not a directory' — {how} (a directory cannot be mounted onto a file)",
                weight=91,
                evidence=[event.cite],
                fix=f"Mount the file with subPath: <key> naming a key that exists in the ConfigMap/Secret, or mount the volume on a directory instead of {found.group('dst')}",
            )
        ]
    return []
