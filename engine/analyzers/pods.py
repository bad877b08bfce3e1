"""Container-level failures: crash loops, OOM kills, image pulls, config errors, probes, init containers, evictions."""
# ruff: noqa: E501  (regexes and user-facing messages read better unwrapped)

from __future__ import annotations

import difflib
import re

from engine.analysis_context import AnalysisContext
from engine.analyzers import scheduling_detail
from engine.analyzers.common import crash_log_lines, events_for, finding_time, logs_for, rec, workload_name
from engine.analyzers.runtime_messages import clip
from engine.facts import ContainerFact, EventFact, Observations, PodFact
from engine.findings import Finding
from engine.logs.index import LogIndex
from engine.logs.reader import line_score
from engine.parsers.common import excerpt, quantity_bytes

_MISSING_OBJECT = re.compile(r"(secret|configmap)s? \"?([\w.-]+)\"? not found", re.IGNORECASE)
_MISSING_KEY = re.compile(r"couldn't find key ([\w.-]+) in (Secret|ConfigMap) ([\w.-]+)/([\w.-]+)", re.IGNORECASE)
_BAD_COMMAND = re.compile(
    r"executable file not found in \$PATH|no such file or directory|exec format error|permission denied"
    r"|exec: \"[^\"]+\": (?:stat|executable)",
    re.IGNORECASE,
)
_PULL_IMAGE = re.compile(r"(?:pull|pulling) image \\?\"([^\"\\]+)\\?\"", re.IGNORECASE)
_PULL_REASONS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "tls",
        re.compile(
            r"x509: [^\n\"]{0,80}|tls: failed to verify certificate[^\n\"]{0,60}|certificate signed by unknown authority",
            re.IGNORECASE,
        ),
    ),
    ("disk_full", re.compile(r"no space left on device", re.IGNORECASE)),
    ("rate_limited", re.compile(r"toomanyrequests|rate limit|429 Too Many Requests", re.IGNORECASE)),
    (
        "unauthorized",
        re.compile(
            r"unauthorized|authentication required|denied|403 Forbidden|no basic auth credentials|forbidden",
            re.IGNORECASE,
        ),
    ),
    ("not_found", re.compile(r"not found|manifest unknown|does not exist|name unknown|404", re.IGNORECASE)),
    (
        "unreachable",
        re.compile(r"i/o timeout|no such host|connection refused|TLS handshake timeout", re.IGNORECASE),
    ),
    ("invalid_name", re.compile(r"InvalidImageName|invalid reference format", re.IGNORECASE)),
)
_PULL_TITLES = {
    "": "the image cannot be pulled",
    "rate_limited": "the registry rate-limits pulls (429 Too Many Requests)",
    "unauthorized": "the registry refuses the credentials (unauthorized / access denied)",
    "not_found": "the image or tag does not exist in the registry",
    "unreachable": "the registry cannot be reached from the node",
    "invalid_name": "the image reference is malformed (InvalidImageName: repository names must be lowercase, with no spaces or invalid characters)",
    "tls": "the node does not trust the registry's TLS certificate",
    "disk_full": "the node's disk is full while the image is unpacked (no space left on device)",
}


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    findings: list[Finding] = []
    index = ctx.logs if ctx.logs is not None else LogIndex.build(obs.logs)
    for pod in obs.pods:
        events = events_for(pod.name, obs.events, ctx)
        start = len(findings)
        findings.extend(_config_errors(pod, events, obs))
        findings.extend(_image_pull(pod, events, obs))
        for container in pod.containers:
            findings.extend(_container(pod, container, obs, events, index))
        findings.extend(_probes(pod, events, _pod_lines(pod, obs), obs))
        findings.extend(_eviction(pod))
        _name_the_ordinal(pod, findings[start:])
    findings.extend(_orphan_pod_events(obs, ctx))
    return findings


def _name_the_ordinal(pod: PodFact, findings: list[Finding]) -> None:
    """A StatefulSet's pods are not interchangeable (``kafka-2`` holds its own identity and volume): a finding
    about one of them names the pod, not only its StatefulSet."""
    workload = workload_name(pod)
    if not re.fullmatch(rf"{re.escape(workload)}-\d+", pod.name):
        return
    for finding in findings:
        if finding.title.startswith(f"{workload}: "):
            finding.title = f"{pod.name}: {finding.title[len(workload) + 2 :]}"


def _container(
    pod: PodFact, c: ContainerFact, obs: Observations, events: list[EventFact], index: LogIndex
) -> list[Finding]:
    findings: list[Finding] = []
    workload = workload_name(pod)
    what = f"{'init container' if c.init else 'container'} {c.name}" if c.name != "?" else "its container"
    oom = c.last_reason == "OOMKilled" or c.reason == "OOMKilled"
    cites = c.cites
    spec_seen = c.name != "?" and (c.image is not None or bool(c.command))  # the container's spec was read
    if oom and spec_seen and not c.memory_limit and not c.memory_request:
        findings.append(
            Finding(
                kind="system_oom",
                subject=f"pod/{pod.name}",
                role="cause",
                title=f"{workload}: {what} is OOMKilled although it sets no memory limit: the node ran out of memory and the kernel "
                "killed it (a pod without memory requests/limits, BestEffort, is the first the OOM killer picks)",
                weight=86,
                evidence=_dedupe(
                    [cites[k] for k in ("last_state", "state", "last_exit_code", "restarts") if k in cites]
                ),
                workload=workload,
                timestamp=c.last_finished_at or c.finished_at,
                recommendations=[
                    rec(
                        "high",
                        f"Set memory requests and limits on {workload} (so it is Burstable/Guaranteed and the scheduler accounts for it) and find what filled the node's memory",
                    ),
                ],
                affected=[workload],
            )
        )
    elif oom:
        limit = f" (memory limit {c.memory_limit})" if c.memory_limit else ""
        evidence = [
            cites[k] for k in ("last_state", "state", "last_exit_code", "memory_limit", "restarts") if k in cites
        ]
        bigger = _double(c.memory_limit)
        findings.append(
            Finding(
                kind="oom_killed",
                subject=f"pod/{pod.name}",
                role="cause",
                title=f"{workload}: {what} is OOMKilled, using more memory than its limit{limit}",
                weight=88 if c.memory_limit or c.last_exit_code == 137 else 80,
                evidence=_dedupe(evidence),
                workload=workload,
                timestamp=c.last_finished_at or c.finished_at,
                recommendations=[
                    rec(
                        "high",
                        f"Raise the memory limit of {workload}"
                        + (f" from {c.memory_limit} to {bigger}" if bigger else "")
                        + f" (kubectl set resources deployment/{workload} -c {c.name} --limits=memory={bigger or '<more>'})",
                    ),
                    rec(
                        "medium",
                        f"Profile {workload}'s memory use for a leak or an unbounded cache before the next deploy",
                    ),
                ],
                affected=[workload],
            )
        )
    crashing = c.reason in ("CrashLoopBackOff", "Error") or (
        c.restart_count >= 3 and c.last_reason in ("Error", "OOMKilled", "Completed", "ContainerCannotRun")
    )
    exit_code = c.last_exit_code if c.last_exit_code is not None else c.exit_code
    if crashing:
        decisive = _decisive_line(pod, c, obs, index)
        log_lines = [decisive[0]] if decisive else crash_log_lines(pod, c, obs.logs)
        evidence = [
            cites[k] for k in ("state", "last_state", "last_exit_code", "last_message", "restarts") if k in cites
        ]
        evidence += [e.cite for e in events if e.reason == "BackOff"][:1]
        code = f" (exit code {exit_code}{_EXIT_MEANING.get(exit_code, '')})" if exit_code is not None else ""
        said = f": {_clip(decisive[1])}" if decisive else ""
        role = "symptom"
        title = f"{workload}: {what} is crash-looping{code}{said}"
        weight = 62
        if decisive and decisive[2] >= STRONG_LINE:
            role, weight = "cause", 76  # the container says why it exits; that line is the cause seen
        if c.init:
            strong = decisive is not None and decisive[2] >= STRONG_LINE
            role, weight = "cause", 89 if strong else 70 if decisive else 66  # its own error line says why
            name = what if c.name != "?" else "an init container"
            title = f"{workload}: {name} fails{code}{said}, so the application containers never start"
        elif exit_code == 127 or (c.last_message and _BAD_COMMAND.search(c.last_message)):
            role, weight = "cause", 85
            title = f"{workload}: {what} cannot start its command{code}: " + (
                _clip(c.last_message) if c.last_message else "the executable is missing or not runnable"
            )
        findings.append(
            Finding(
                kind="init_container_failure" if c.init else ("bad_command" if role == "cause" else "crash_loop"),
                subject=f"pod/{pod.name}",
                role=role,  # type: ignore[arg-type]
                title=title,
                weight=weight,
                evidence=_dedupe(evidence + log_lines),
                workload=workload,
                timestamp=c.last_finished_at,
                recommendations=[
                    rec(
                        "high" if role == "cause" else "medium",
                        f"Read the crashing container's last output: kubectl logs {pod.name} -c {c.name} --previous"
                        if c.name != "?"
                        else f"Read the crashing container's last output: kubectl logs {pod.name} --previous",
                    ),
                ]
                + (
                    [
                        rec(
                            "high",
                            f"Fix the container command/args of {workload} (kubectl get deployment {workload} -o yaml)",
                        )
                    ]
                    if role == "cause" and not c.init
                    else []
                ),
                affected=[workload],
                count=c.restart_count or 1,
            )
        )
    if (
        c.reason in ("RunContainerError", "StartError", "ContainerCannotRun")
        and c.message
        and _BAD_COMMAND.search(c.message)
    ):
        findings.append(
            Finding(
                kind="bad_command",
                subject=f"pod/{pod.name}",
                role="cause",
                title=f"{workload}: {what} cannot start: {c.message[:160]}",
                weight=88,
                evidence=_dedupe([cites[k] for k in ("state", "message") if k in cites]),
                workload=workload,
                recommendations=[rec("high", f"Fix the command/args or image entrypoint of {workload}")],
                affected=[workload],
            )
        )
    return findings


def _near_key(key: str, obs: Observations) -> str | None:
    """A key printed in the input that differs from the missing one only in separators or case (db-url vs DB_URL)."""
    wanted = re.sub(r"[-_.]", "", key.lower())
    for _, line in scheduling_detail.lines_of(obs):
        for token in re.findall(r"[\w.-]+", line):
            if token != key and len(token) == len(key) and re.sub(r"[-_.]", "", token.lower()) == wanted:
                return str(token)
    return None


def _listed_close_name(name: str, obs: Observations) -> str | None:
    """The first-column name of a listing (``kubectl get cm``/``get secret``) closest to a missing object's name."""
    names = {
        row.split()[0]
        for _, row in scheduling_detail.lines_of(obs)
        if row
        and not row[0].isspace()
        and len(row.split()) >= 3
        and (row.split()[1].isdigit() or row.split()[2].isdigit())
    }
    names |= {r.name for r in obs.resources if r.kind in ("ConfigMap", "Secret")}
    close = difflib.get_close_matches(name, sorted(names - {name}), n=1, cutoff=0.75)
    return close[0] if close else None


def _config_errors(pod: PodFact, events: list[EventFact], obs: Observations | None = None) -> list[Finding]:
    workload = workload_name(pod)
    findings: list[Finding] = []
    texts: list[tuple[str, str, EventFact | None]] = []
    for c in pod.containers:
        if c.reason in ("CreateContainerConfigError", "CreateContainerError") and c.message:
            texts.append((c.message, c.cites.get("message", c.cites.get("state", "")), None))
    # volumes are mounted before any container starts: a pod whose container has run since a FailedMount mounted
    # them in the end (a FailedMount then is history, not why it fails now)
    has_run = any(c.restart_count or c.state in ("running", "terminated") for c in pod.containers)
    for warning in events:
        if warning.type == "Warning" and warning.reason in ("Failed", "FailedMount", "FailedCreatePodSandBox"):
            if warning.reason == "FailedMount" and has_run:
                continue
            texts.append((warning.message, warning.cite, warning))
    seen: set[str] = set()
    for message, cite, event in texts:
        key_match = _MISSING_KEY.search(message)
        obj_match = _MISSING_OBJECT.search(message)
        if key_match:
            key, kind, _ns, name = key_match.groups()
            title = f"{workload}: key '{key}' is missing from {kind} '{name}', so the container cannot be created"
            near = _near_key(key, obs) if obs is not None else None
            if near:
                title += f"; the {kind} has '{near}', which is probably what was meant"
            ident = f"key:{kind}:{name}:{key}"
            action = f"Add key '{key}' to {kind} '{name}' (kubectl edit {kind.lower()} {name}) or fix the reference in {workload}"
            finding_kind = "missing_key"
        elif obj_match:
            kind = "Secret" if obj_match.group(1).lower() == "secret" else "ConfigMap"
            name = obj_match.group(2)
            ident = f"obj:{kind}:{name}"
            mount = "mounted by" if "MountVolume" in message else "referenced by"
            title = f"{workload}: {kind} '{name}' {mount} the pod does not exist"
            listed = _listed_close_name(name, obs) if obs is not None else None
            if listed:
                title += f"; the existing {kind} '{listed}' is probably what was meant"
            action = (
                f"Create {kind} '{name}' in namespace {pod.namespace or '<namespace>'} "
                f"(kubectl create {'secret generic' if kind == 'Secret' else 'configmap'} {name} ...) "
                f"or fix the name referenced by {workload}"
            )
            finding_kind = "missing_secret" if kind == "Secret" else "missing_configmap"
        else:
            continue
        if ident in seen:
            continue
        seen.add(ident)
        evidence = [cite] if cite else []
        if c_state := next(
            (c.cites.get("state") for c in pod.containers if c.reason == "CreateContainerConfigError"), None
        ):
            evidence.append(c_state)
        findings.append(
            Finding(
                kind=finding_kind,
                subject=f"pod/{pod.name}",
                role="cause",
                title=title,
                weight=92,
                evidence=_dedupe(evidence),
                workload=workload,
                timestamp=finding_time(event),
                recommendations=[
                    rec("high", action),
                    rec("low", f"Then restart the rollout: kubectl rollout restart deployment/{workload}"),
                ],
                affected=[workload],
                related=[name],
            )
        )
    return findings


def _image_pull(pod: PodFact, events: list[EventFact], obs: Observations | None = None) -> list[Finding]:
    workload = workload_name(pod)
    waiting = [c for c in pod.containers if c.reason in ("ErrImagePull", "ImagePullBackOff", "InvalidImageName")]
    pull_events = [
        e
        for e in events
        if e.type == "Warning"
        and ("pull" in e.message.lower() or e.reason in ("ErrImagePull", "InvalidImageName"))
        and e.reason in ("Failed", "ErrImagePull", "InvalidImageName", "BackOff")
    ]
    if not waiting and not pull_events:
        return []
    detail_events = [e for e in pull_events if e.reason != "BackOff"] or pull_events
    text = " ".join(e.message for e in detail_events) + " " + " ".join(c.message or "" for c in waiting)
    reason = next((name for name, pattern in _PULL_REASONS if pattern.search(text)), None)
    if any(c.reason == "InvalidImageName" for c in waiting):
        reason = "invalid_name"
    image_match = _PULL_IMAGE.search(text)
    image = image_match.group(1) if image_match else next((c.image for c in waiting if c.image), None)
    if image is None and obs is not None:  # a pods table only: the workload's image from its own listing
        image = next((w.images[0] for w in obs.workloads if w.name == workload and len(w.images) == 1), None)
    what = _PULL_TITLES[reason or ""]
    if reason == "tls":
        said = next((m.group(0) for m in [_PULL_REASONS[0][1].search(text)] if m), "")
        what += f" ({said.strip()}): add the registry's CA to the nodes' container runtime trust store"
    elif reason is None:
        tail = re.search(
            r"(?:Failed to pull image|Error response from daemon|pulling image)[^\n]*?:\s*([^:\n]+(?::[^:\n]+)?)\s*$",
            text.strip(),
        )
        if tail:
            what = f"the pull fails: {tail.group(1).strip()[:160]}"
    evidence = [c.cites["state"] for c in waiting if "state" in c.cites]
    evidence += [e.cite for e in detail_events[:2]]
    actions = {
        "not_found": f"Fix the image tag of {workload}: confirm {image or 'the image'} exists in the registry, or roll back "
        f"(kubectl rollout undo deployment/{workload})",
        "unauthorized": f"Fix the registry credentials: check the imagePullSecrets of {workload} and that the secret's token is valid",
        "rate_limited": "Authenticate pulls or mirror the image to a private registry to avoid the registry's rate limit",
        "unreachable": "Check node egress/DNS to the registry",
        "tls": "Install the registry's CA certificate on the nodes (containerd certs.d hosts.toml / docker certs.d) or use a publicly trusted certificate",
        "disk_full": "Free the node's disk (image garbage collection thresholds, large container layers) or move the pod to a node with space",
        "invalid_name": f"Fix the malformed image reference in {workload}'s pod spec",
    }
    return [
        Finding(
            kind="image_pull",
            subject=f"pod/{pod.name}",
            role="cause",
            title=f"{workload}: image {image} cannot be pulled: {what}" if image else f"{workload}: {what}",
            weight=90 if reason else 78,
            evidence=_dedupe(evidence),
            workload=workload,
            timestamp=finding_time(detail_events[0] if detail_events else None),
            recommendations=[
                rec(
                    "high",
                    actions.get(reason or "", f"Check that {image or 'the image'} can be pulled from the node"),
                )
            ],
            affected=[workload],
        )
    ]


_PROBE_PORT = re.compile(r"(?:dial tcp\s+|https?://)\[?[\w.:-]*?\]?:(\d{2,5})\b")
_LOOPBACK_LISTEN = re.compile(
    r"(?:listen\w*|bound|binding|serving|running|started)\b[^\n]{0,40}?(?:on|at|to)?\s*(?:https?://)?(127\.0\.0\.1|localhost|\[::1\]):(\d{2,5})",
    re.IGNORECASE,
)


_LISTEN = re.compile(
    r"\blisten(?:ing|s)?\b[^\n]{0,30}?(?:on|at|addr)?[\"':= ]*(?:(?:0\.0\.0\.0|\*|\[::\]|::|[\w.-]+)?:)(\d{2,5})\b"
    # "Server started: http://0.0.0.0:9200", "Uvicorn running on http://0.0.0.0:8000", "Tomcat started on port 8080"
    r"|\b(?:serving|running|started|available)\b[^\n]{0,40}?(?:\bon|\bat|:)\s+(?:https?://(?:0\.0\.0\.0|\[::\]|[\w.-]+)|0\.0\.0\.0|\*|\[::\])?:(\d{2,5})\b"
    r"|\bstarted on port\(?s?\)?:?\s*(\d{2,5})\b",
    re.IGNORECASE,
)


_PROBE_TIMING = re.compile(r"period=(\d+)s\b.*#failure=(\d+)")


def _startup_budget(probe_line: str) -> str:
    """A startup probe gives the app failureThreshold x periodSeconds to start; say how little that is."""
    timing = _PROBE_TIMING.search(probe_line)
    if not timing:
        return ""
    period, failures = int(timing.group(1)), int(timing.group(2))
    return (
        f"; the startup probe allows only {period * failures}s to start (failureThreshold {failures} x period {period}s), "
        "too short for the app to warm up, so the kubelet restarts it before it is ready"
    )


def _startup_budget_in_spec(obs: Observations) -> tuple[str, list[str]]:
    """The startup probe's budget from a pasted spec (``startupProbe:`` with periodSeconds/failureThreshold;
    the API defaults are 10s and 3)."""
    for label, lines in [(t.label, t.lines) for t in obs.texts] + [(d.label, d.lines) for d in obs.logs]:
        for index, line in enumerate(lines):
            if "startupProbe" not in line:
                continue
            block = "\n".join(lines[index : index + 14])
            period = re.search(r"periodSeconds\"?\s*:\s*(\d+)", block)
            failures = re.search(r"failureThreshold\"?\s*:\s*(\d+)", block)
            if not period and not failures:
                continue
            seconds, count = int(period.group(1)) if period else 10, int(failures.group(1)) if failures else 3
            cite = next(
                (ln for ln in lines[index : index + 14] if "failureThreshold" in ln or "periodSeconds" in ln), line
            )
            return (
                f"; the startup probe allows only {seconds * count}s to start (failureThreshold {count} x period {seconds}s), "
                "too short for the app to start, so the kubelet restarts it before it is ready",
                [f"{label} {excerpt(cite.strip())}"],
            )
    return "", []


# what an application logs while it is still starting, before it listens: schema migrations, backfills, cache
# warm-up, index or model loading
_STARTUP_WORK = re.compile(
    r"\bmigrat(?:ing|ion)\b|\bbackfill|\breindex|\bwarm(?:ing)?[ -]?up\b|\bloading\b|\bstill running\b|\brebuilding\b"
    r"|\bimporting\b|\bseeding\b|\bpre-?(?:loading|warming|computing)\b",
    re.IGNORECASE,
)
_DELAY = re.compile(r"delay=(\d+)s\b")


def _probe_line(probe: str, probe_cite: str | None, obs: Observations) -> str:
    """The probe's describe line (``Liveness: http-get ... delay=20s ...``): the container's, else any printed."""
    return probe_cite or next(
        (ln for _, ln in scheduling_detail.lines_of(obs) if ln.lstrip().startswith(f"{probe}:")), ""
    )


def _killed_while_starting(
    pod: PodFact, probe_cite: str | None, lines: list[tuple[str, str]], obs: Observations
) -> tuple[str, list[str]]:
    """A liveness probe refused (nothing listens yet) and killing a container whose log shows it still starting
    (a migration, a warm-up) and never listening, with no startupProbe: the liveness budget (initialDelaySeconds +
    failureThreshold x periodSeconds) is shorter than the start, so the kubelet kills it mid-start every time."""
    has_startup = any(c.cites.get("startupProbe") for c in pod.containers) or any(
        "startupProbe" in line or line.lstrip().startswith("Startup:") for _, line in scheduling_detail.lines_of(obs)
    )
    if has_startup or any(_LISTEN.search(line) for _, line in lines):
        return "", []
    work = [(label, line) for label, line in lines if _STARTUP_WORK.search(line)]
    if not work:
        return "", []
    label, line = work[0]
    probe_line = _probe_line("Liveness", probe_cite, obs)
    timing = _PROBE_TIMING.search(probe_line)
    delay = _DELAY.search(probe_line)
    budget = ""
    if timing:
        period, failures, wait = int(timing.group(1)), int(timing.group(2)), int(delay.group(1)) if delay else 0
        budget = f" within {wait + period * failures}s (initialDelaySeconds {wait} + failureThreshold {failures} x periodSeconds {period})"
    return (
        f"; the liveness probe kills the container before it has finished starting: nothing listens yet{budget} while "
        f"the app is still busy starting ({excerpt(line.strip())}), so every restart begins the start-up work again. "
        "A slow start needs a startupProbe sized to it (liveness checks begin only after it succeeds) or a longer initialDelaySeconds",
        [f"{label} {excerpt(line.strip())}"],
    )


def _pod_lines(pod: PodFact, obs: Observations) -> list[tuple[str, str]]:
    return [(doc.label, line) for doc in logs_for(pod, None, obs.logs) for line in doc.lines[:2000]]


def _probe_detail(pod: PodFact, message: str, lines: list[tuple[str, str]]) -> tuple[str, list[str]]:
    """Why the probe cannot connect, when the output says: the app listens on loopback only, or elsewhere."""
    port_match = _PROBE_PORT.search(message)
    refused = "refused" in message or "connection reset" in message
    if not port_match or not refused:
        return "", []
    port = int(port_match.group(1))
    for label, line in lines:
        loopback = _LOOPBACK_LISTEN.search(line)
        if loopback:
            return (
                f"; the app listens only on {loopback.group(1)}:{loopback.group(2)} (loopback), which the kubelet cannot reach — it must bind 0.0.0.0",
                [f"{label} {excerpt(line.strip())}"],
            )
    for label, line in lines:
        listening = _LISTEN.search(line)
        heard = next((g for g in listening.groups() if g), None) if listening else None
        if heard and int(heard) != port:
            return (
                f"; the probe targets port {port} but the app listens on port {heard}",
                [f"{label} {excerpt(line.strip())}"],
            )
    declared = sorted({p for c in pod.containers for p in c.ports})
    if declared and port not in declared:
        cite = next((c.cites["ports"] for c in pod.containers if "ports" in c.cites), "")
        listed = ", ".join(str(p) for p in declared)
        return f"; the probe targets port {port} but the container listens on port {listed}", [cite] if cite else []
    return "", []


_TLS_ON_HTTP = re.compile(
    r"malformed HTTP response \\?\"(?:\\x15\\x03|\x15\x03)|first record does not look like a TLS handshake|Client sent an HTTP request to an HTTPS server"
)
_PROBE_TIMEOUT = re.compile(
    r"context deadline exceeded|Client\.Timeout|timeout: failed to connect|i/o timeout|timed out|command timed out",
    re.I,
)


def _probe_path_missing(probe: str, probe_cite: str | None, obs: Observations) -> tuple[str, list[str]]:
    """A probe answered 404: the path it asks for, and the close path the application does serve."""
    found = re.search(r"http-get https?://[^/\s]*(/\S*)", probe_cite or "")
    path, cites = (found.group(1), [probe_cite or ""]) if found else ("", [])
    if not path:
        key, block = f"{probe.lower()}Probe", ""
        for label, line in scheduling_detail.lines_of(obs):
            if key in line:
                block = label
            if block == label and (m := re.search(r"\"?path\"?\s*:\s*\"?(/[\w./-]*)", line)):
                path, cites = m.group(1), [f"{label} {excerpt(line.strip())}"]
                break
    if not path:
        return "", []
    served = {
        token
        for _, line in scheduling_detail.lines_of(obs)
        for token in re.findall(r"(?<![\w/])(/[a-z][\w./-]*)", line)
        if "/" in token[1:] or token.startswith(("/health", "/ready", "/live"))
    } - {path}
    close = difflib.get_close_matches(path, sorted(served), n=1, cutoff=0.7)
    also = f"; the application serves {close[0]}, which is probably what the probe should ask for" if close else ""
    return f"; the probe asks for {path}, which the application does not serve (404){also}", cites


# what a TLS port answers a plain-HTTP request with: nginx, Go's net/http, Tomcat/Spring Boot
_PLAIN_HTTP_REFUSED = re.compile(
    r"The plain HTTP request was sent to HTTPS port|Client sent an HTTP request to an HTTPS server|This combination of host and port requires TLS",
    re.IGNORECASE,
)


def _plain_http_to_tls(lines: list[tuple[str, str]], obs: Observations) -> tuple[str, list[str]]:
    """A probe answered 400 by a port that speaks TLS, as the server's own answer to plain HTTP shows: the probe's
    scheme defaults to HTTP and must be set to HTTPS."""
    for label, line in [*lines, *scheduling_detail.lines_of(obs)]:
        found = _PLAIN_HTTP_REFUSED.search(line)
        if found:
            return (
                f"; the port serves TLS and answers the probe's plain-HTTP request with 400 ({found.group(0)}): "
                "httpGet.scheme defaults to HTTP, so set the probe's scheme: HTTPS",
                [f"{label} {excerpt(line.strip(), around=found.group(0)[:20])}"],
            )
    return "", []


_MANAGEMENT_PORT = re.compile(
    r"management\.server\.port\"?\s*[:=]\s*\"?(\d{2,5})|MANAGEMENT_SERVER_PORT\"?\s*[:=]\s*\"?(\d{2,5})"
)


def _management_port(probe_cite: str | None, lines: list[tuple[str, str]], obs: Observations) -> tuple[str, list[str]]:
    """A probe on a Spring Boot actuator path answered 404 on the application port while ``management.server.port``
    moves the actuator endpoints to their own port (docs.spring.io, "Customizing the Management Server Port"):
    the probe must target that port."""
    target = re.search(r"http-get https?://[^/\s]*:(\d+)(/\S*)", probe_cite or "")
    if target is None or not target.group(2).startswith("/actuator"):
        return "", []
    port = target.group(1)
    for label, line in [*lines, *scheduling_detail.lines_of(obs)]:
        found = _MANAGEMENT_PORT.search(line)
        moved = (found.group(1) or found.group(2)) if found else None
        if moved and moved != port:
            return (
                f"; the probe asks for {target.group(2)} on port {port}, but management.server.port={moved} moves the actuator "
                f"endpoints to port {moved}, so the application port answers 404: point the probe at port {moved}",
                [f"{label} {excerpt(line.strip())}"],
            )
    return "", []


_HEALTH_DOWN = re.compile(
    r'"(?P<name>[\w.-]+)"\s*:\s*\{\s*"status"\s*:\s*"(?:DOWN|OUT_OF_SERVICE|unhealthy|fail)"', re.IGNORECASE
)


def _health_down(obs: Observations) -> tuple[str, list[str]]:
    """A 5xx health endpoint whose body was printed (Spring Actuator, health-check libraries): the components DOWN."""
    for label, line in scheduling_detail.lines_of(obs):
        down = [
            m.group("name") for m in _HEALTH_DOWN.finditer(line) if m.group("name") not in ("components", "details")
        ]
        if down:
            names = ", ".join(dict.fromkeys(down))
            return (
                f"; the health endpoint reports {names} DOWN, so the pods are taken out of the Service's endpoints "
                f"until {names} is back: the probe checks a dependency, not the pod itself",
                [f"{label} {excerpt(line.strip(), around='DOWN')}"],
            )
    return "", []


def _probe_timeout(probe: str, probe_cite: str | None, obs: Observations) -> tuple[str, list[str]]:
    """The probe's timeoutSeconds when the endpoint answers too slowly: describe's ``timeout=1s`` or the spec's."""
    found = re.search(r"timeout=(\d+)s", probe_cite or "")
    if found:
        return f"; the endpoint does not answer within the probe's timeoutSeconds ({found.group(1)}s)", [
            probe_cite or ""
        ]
    key, block = f"{probe.lower()}Probe", ""
    for label, line in scheduling_detail.lines_of(obs):
        if key in line:
            block = label
        if block == label:  # the probe's block, or a flattened "...livenessProbe.timeoutSeconds: 1" line
            seconds = re.search(r"timeoutSeconds\"?\s*[:=]\s*(\d+)", line)
            if seconds:
                cite = f"{label} {excerpt(line.strip())}"
                return f"; the endpoint does not answer within the probe's timeoutSeconds ({seconds.group(1)}s)", [cite]
    return "", []


def _probes(pod: PodFact, events: list[EventFact], lines: list[tuple[str, str]], obs: Observations) -> list[Finding]:
    workload = workload_name(pod)
    findings: list[Finding] = []
    for probe, role, weight in (
        ("Liveness", "cause", 66),
        ("Readiness", "cause", 58),
        ("Startup", "cause", 64),
    ):
        failing = [e for e in events if e.reason == "Unhealthy" and e.message.startswith(f"{probe} probe failed")]
        if not failing:
            continue
        kills = (
            [e for e in events if e.reason == "Killing" and "liveness" in e.message.lower()]
            if probe != "Readiness"
            else []
        )
        detail = failing[0].message.split(":", 1)[-1].strip()
        probe_cite = next(
            (c.cites.get(f"{probe.lower()}Probe") for c in pod.containers if c.cites.get(f"{probe.lower()}Probe")),
            None,
        )
        evidence = [failing[0].cite, *(e.cite for e in kills[:1]), *([probe_cite] if probe_cite else [])]
        why, why_cites = _probe_detail(pod, failing[0].message, lines)
        if probe == "Liveness" and not why and kills and "refused" in failing[0].message:
            why, why_cites = _killed_while_starting(pod, probe_cite, lines, obs)
        if probe == "Startup" and not why and probe_cite:
            why = _startup_budget(probe_cite)
        if probe == "Startup" and not why:
            why, why_cites = _startup_budget_in_spec(obs)
        if not why and _TLS_ON_HTTP.search(failing[0].message):
            why = "; the endpoint answers with TLS (a TLS alert, bytes \\x15\\x03) to a plain-HTTP probe: set the probe's scheme: HTTPS"
        elif not why and re.search(r"statuscode: 400\b", failing[0].message):
            why, why_cites = _plain_http_to_tls(lines, obs)
        if not why and "server gave HTTP response to HTTPS client" in failing[0].message:
            why = "; the probe uses scheme: HTTPS but the endpoint speaks plain HTTP: set scheme: HTTP"
        if not why and re.search(r"statuscode: 40[13]\b", failing[0].message):
            why = (
                "; the endpoint requires authentication (401/403), and the kubelet's probe sends no credentials: "
                "probe an unauthenticated health path or exempt it from auth"
            )
        if not why and re.search(r"statuscode: 5\d\d\b", failing[0].message):
            why, why_cites = _health_down(obs)
        if not why and "statuscode: 404" in failing[0].message:
            why, why_cites = _management_port(_probe_line(probe, probe_cite, obs), lines, obs)
        if not why and "statuscode: 404" in failing[0].message:
            why, why_cites = _probe_path_missing(probe, probe_cite, obs)
        if not why and _PROBE_TIMEOUT.search(failing[0].message):
            why, why_cites = _probe_timeout(probe, probe_cite, obs)
        evidence += why_cites
        findings.append(
            Finding(
                kind=f"{probe.lower()}_probe_failure",
                subject=f"pod/{pod.name}",
                role=role,  # type: ignore[arg-type]
                title=f"{workload}: {probe.lower()} probe fails ({detail[:140]})"
                + (", so the kubelet restarts the container" if kills else "")
                + why,
                weight=weight + (8 if kills else 0) + (20 if why else 0),
                evidence=_dedupe(evidence),
                workload=workload,
                timestamp=finding_time(failing[0]),
                recommendations=[
                    rec(
                        "high" if role == "cause" else "medium",
                        f"Check {workload}'s health endpoint directly (kubectl port-forward pod/{pod.name} and curl it); "
                        "if it is just slow to start, raise initialDelaySeconds/timeoutSeconds or add a startupProbe",
                    )
                ],
                affected=[workload],
                count=sum(e.count for e in failing),
            )
        )
    return findings


def _eviction(pod: PodFact) -> list[Finding]:
    if pod.status_reason != "Evicted":
        return []
    workload = workload_name(pod)
    message = pod.status_message or "evicted"
    resource = re.search(r"low on resource: ([\w-]+)", message)
    return [
        Finding(
            kind="evicted",
            subject=f"pod/{pod.name}",
            role="symptom",
            title=f"{workload}: pod {pod.name} was evicted"
            + (f" because node {pod.node or ''} ran low on {resource.group(1)}" if resource else ""),
            weight=58,
            evidence=_dedupe([pod.cites[k] for k in ("status", "status_message") if k in pod.cites]),
            workload=workload,
            recommendations=[
                rec(
                    "medium",
                    f"Set memory/ephemeral-storage requests and limits on {workload} so the scheduler accounts for it",
                )
            ],
            affected=[workload],
            related=[f"node/{pod.node}"] if pod.node else [],
        )
    ]


def _orphan_pod_events(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    """Config/pull events about pods we have no status for (an events-only attachment)."""
    known = {pod.name for pod in obs.pods}
    by_pod: dict[str, list[EventFact]] = {}
    for event in obs.events:
        if (
            event.object_name and event.object_name not in known and (event.object_kind or "pod").lower() == "pod"
        ) and not ctx.is_stale(event.last_seen):
            by_pod.setdefault(event.object_name, []).append(event)
    findings: list[Finding] = []
    for name in sorted(by_pod):
        pod = PodFact(name=name, namespace=by_pod[name][0].namespace)
        events = by_pod[name]
        findings.extend(_config_errors(pod, events, obs))
        findings.extend(_image_pull(pod, events, obs))
        findings.extend(_probes(pod, events, _pod_lines(pod, obs), obs))
        backoff = [e for e in events if e.reason == "BackOff" and "restarting failed container" in e.message]
        oom = [e for e in events if e.reason == "OOMKilling" or "OOMKilled" in e.message]
        workload = workload_name(pod)
        if oom:
            findings.append(
                Finding(
                    "oom_killed",
                    f"pod/{name}",
                    "cause",
                    f"{workload}: container is OOMKilled",
                    78,
                    [oom[0].cite],
                    workload,
                    finding_time(oom[0]),
                    [rec("high", f"Raise the memory limit of {workload} or fix its memory growth")],
                    [workload],
                )
            )
        if backoff:
            findings.append(
                Finding(
                    "crash_loop",
                    f"pod/{name}",
                    "symptom",
                    f"{workload}: container is crash-looping",
                    55,
                    [backoff[0].cite],
                    workload,
                    finding_time(backoff[0]),
                    [
                        rec(
                            "medium",
                            f"Read the crashing container's last output: kubectl logs {name} --previous",
                        )
                    ],
                    [workload],
                    count=backoff[0].count,
                )
            )
    return findings


# What an exit code says by itself (128 + signal number for a signal; shells' own codes below 128).
_EXIT_MEANING = {
    126: ": the command is not executable",
    127: ": command not found",
    124: ": a timeout command gave up",
    134: ": aborted (SIGABRT)",
    137: ": killed with SIGKILL",
    139: ": segmentation fault (SIGSEGV)",
    143: ": terminated (SIGTERM)",
}
STRONG_LINE = 6.0  # a line scoring this high (error level + a reason, an exception with its message) says why


def _decisive_line(pod: PodFact, c: ContainerFact, obs: Observations, index: LogIndex) -> tuple[str, str, float] | None:
    """(evidence, line, score) for the line the container printed that best says why it exits, if any."""
    best: tuple[str, str, float] | None = None
    for doc in logs_for(pod, c, obs.logs):
        for candidate in index.of(doc).decisive[:1]:
            if best is None or candidate.score > best[2]:
                best = (f"{doc.label} {excerpt(candidate.line)}", candidate.line, candidate.score)
    if best is not None and _POOL_STARVED.search(best[1]):
        best = _why_no_connection(pod, c, obs, best)
    if best is None and c.last_message and "last_message" in c.cites:
        score = line_score(c.last_message)
        if score > 0:
            best = (c.cites["last_message"], c.last_message.strip().splitlines()[-1], score + 2)
    return best


# a pool with no connection to hand out (Ecto/DBConnection, HikariCP, SQLAlchemy QueuePool, pgx, node-postgres)
_POOL_STARVED = re.compile(
    r"connection not available and request was dropped|pool cannot serve|Connection is not available, request timed out"
    r"|QueuePool limit of size|timeout (?:acquiring|exceeded when trying to connect)|(?:pool|connections?) (?:exhausted|timed out)",
    re.IGNORECASE,
)
# why a connection could not be opened at all, most specific first
_CONNECT_FAILED = (
    re.compile(
        r"password authentication failed|28P01|Access denied for user|no pg_hba\.conf entry|role \S+ does not exist"
        r"|database \S+ does not exist|could not translate host name|Name or service not known|nxdomain|certificate verify failed",
        re.IGNORECASE,
    ),
    re.compile(r"connection refused|ECONNREFUSED|failed to connect|could not connect|no route to host", re.IGNORECASE),
)


def _why_no_connection(
    pod: PodFact, c: ContainerFact, obs: Observations, best: tuple[str, str, float]
) -> tuple[str, str, float]:
    """A pool that has no connection to hand out is the consequence when the same output says earlier why
    connecting fails (a rejected password, a refused port): that earlier line is the reason."""
    for pattern in _CONNECT_FAILED:
        for doc in logs_for(pod, c, obs.logs):
            line = next((line for line in doc.lines if pattern.search(line) and not _POOL_STARVED.search(line)), None)
            if line is not None:
                return (f"{doc.label} {excerpt(line.strip())}", line.strip(), best[2])
    return best


def _clip(line: str, limit: int = 200) -> str:
    return clip(line, limit)


def _double(limit: str | None) -> str | None:
    size = quantity_bytes(limit)
    if not size:
        return None
    doubled = size * 2
    for unit, factor in (("Gi", 2**30), ("Mi", 2**20)):
        if doubled % factor == 0:
            return f"{doubled // factor}{unit}"
    return f"{doubled // 2**20}Mi"


def _dedupe(items: list[str]) -> list[str]:
    return list(dict.fromkeys(item for item in items if item))
