"""Two containers of one pod that listen on the same port.

Containers in a pod share one network namespace (kubernetes.io, "Pods": they reach each other on localhost and
cannot bind the same port). When a log says "address already in use" and the pod's spec shows two containers
claiming that port (a ``containerPort``, a ``--listen-address=:PORT``/``--port=PORT`` flag, a ``PORT`` env value),
the second one to start cannot bind it: the conflict, not the program, is the cause.
"""
# ruff: noqa: E501  (patterns and messages read better unwrapped)

from __future__ import annotations

import re

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import rec
from engine.analyzers.scheduling_detail import lines_of
from engine.facts import Observations
from engine.findings import Finding, workload_of
from engine.parsers.common import excerpt

_IN_USE = re.compile(
    r"address already in use|AddrInUse|EADDRINUSE|bind\(\) .* failed \(98|Port \d{2,5} (?:was|is) already in use",
    re.IGNORECASE,
)
_LISTEN_PORT = re.compile(
    r"(?:listen(?:ing)?|bind|addr(?:ess)?|port)\w*[=: ]+\[?(?:[\w.:]*\]?:)?(?P<port>\d{2,5})\b", re.IGNORECASE
)
_ADDRESS_PORT = re.compile(r"(?:\d{1,3}(?:\.\d{1,3}){3}|\]|::|\*|localhost|(?<=[\s\"'(=])):(?P<port>\d{2,5})\b")
_CONTAINER = re.compile(r"^(?P<indent>\s*)-\s+name:\s*['\"]?(?P<name>[a-z0-9][\w.-]*)['\"]?\s*$")
_SPEC_PORT = re.compile(
    r"containerPort\"?:\s*(?P<p1>\d{2,5})|(?:listen[\w.-]*|port|bind[\w.-]*|addr[\w.-]*)[=:]\s*['\"]?[\w.]*:?(?P<p2>\d{2,5})\b",
    re.IGNORECASE,
)

_PER_CONTAINER_ROWS = re.compile(r"containers\[\*\]\}\{\.name\}")
_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{0,62}$")
_LISTENS = re.compile(r"listen|accepting|serving|started (?:http|server)|bound to", re.IGNORECASE)

# a JVM agent that serves HTTP itself, in the application's own process: jmx_prometheus_javaagent.jar=[host:]port:config
_JAVA_AGENT = re.compile(r"-javaagent:(?P<jar>\S+?\.jar)=(?:[\w.-]+:)?(?P<port>\d{2,5}):")
_MUTATED_BY = re.compile(r"(?P<policy>[a-z0-9][\w-]*)\.[\w-]+\.kyverno\.io: (?:added|replaced) /spec/")


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    in_use: tuple[str, str] | None = None
    pod: str | None = None  # the pod and container whose log says so
    failing: str | None = None
    ports: dict[str, str] = {}  # port the failing process listens on -> the log line that says so
    for doc in obs.logs:
        for index, line in enumerate(doc.lines[:20_000]):
            if _IN_USE.search(line):
                if in_use is None:
                    in_use, pod, failing = (doc.label, line), doc.pod, doc.container
                for found in _ADDRESS_PORT.finditer(line):  # "bind() to 0.0.0.0:8080 failed", ":::3000"
                    ports.setdefault(found.group("port"), f"{doc.label} {excerpt(line.strip())}")
                for earlier in doc.lines[max(0, index - 30) : index + 1]:
                    for found in _LISTEN_PORT.finditer(earlier):
                        ports.setdefault(found.group("port"), f"{doc.label} {excerpt(earlier.strip())}")
                for later in doc.lines[index + 1 : index + 4]:  # Java: "Failed to bind to 0.0.0.0/0.0.0.0:8081" follows
                    if re.search(r"bind", later, re.IGNORECASE):
                        for found in _ADDRESS_PORT.finditer(later):
                            ports.setdefault(found.group("port"), f"{doc.label} {excerpt(later.strip())}")
    if in_use is None:
        return []
    agent = _agent_on(obs, ports, in_use, pod)
    if agent is not None:
        return [agent]
    claims = _claims(obs)
    if failing:  # the container whose log fails to bind wants the port it names
        for port, cite in ports.items():
            owners = claims.setdefault(port, [])
            if all(name != failing for name, _ in owners):
                owners.insert(0, (failing, cite))
    for port, cite in ports.items():
        owners = claims.get(port, [])
        names = list(dict.fromkeys(name for name, _ in owners))
        if len(names) < 2:
            continue
        first, second = names[0], names[1]
        owner = workload_of(pod) if pod else first
        return [
            Finding(
                kind="pod_port_conflict",
                subject=f"container/{first}",
                role="cause",
                title=f"{owner}: containers {first} and {second} of the same pod both listen on port {port}; containers in a pod share one network namespace, so the one that starts second cannot bind it (address already in use)",
                weight=92,
                evidence=[f"{in_use[0]} {excerpt(in_use[1].strip())}", cite, *(c for _, c in owners[:2])],
                workload=owner,
                related=[second],
                recommendations=[
                    rec(
                        "high",
                        f"Move one of them to another port (e.g. the {second} sidecar's listen address), keeping the Service and probes on {first}'s port {port}",
                    ),
                ],
                affected=[owner],
            )
        ]
    return []


def _claims(obs: Observations) -> dict[str, list[tuple[str, str]]]:
    """Port -> the containers whose spec claims it, from YAML/JSON-ish container lists."""
    claims: dict[str, list[tuple[str, str]]] = {}
    for text in obs.texts:
        container: str | None = None
        level: int | None = None  # the indent of the containers list's items (ports and env items sit deeper)
        for line in text.lines:
            if re.match(r"^\s*-?\s*(?:initContainers|containers):\s*$", line):
                container, level = None, None
                continue
            named = _CONTAINER.match(line)
            if named and (level is None or len(named.group("indent")) <= level):
                container, level = named.group("name"), len(named.group("indent"))
                continue
            if container is None:
                continue
            for found in _SPEC_PORT.finditer(line):
                port = found.group("p1") or found.group("p2")
                claims.setdefault(port, []).append((container, f"{text.label} {excerpt(line.strip())}"))
    for label, command, lines in [*((t.label, t.command, t.lines) for t in obs.texts), *_log_lines(obs)]:
        if _PER_CONTAINER_ROWS.search(command):  # jsonpath '{range .spec.containers[*]}{.name}...{end}'
            for line in lines:
                name = line.split(maxsplit=1)[0] if line.strip() else ""
                if not _NAME.match(name):
                    continue
                for found in _SPEC_PORT.finditer(line):
                    port = found.group("p1") or found.group("p2")
                    claims.setdefault(port, []).append((name, f"{label} {excerpt(line.strip())}"))
    for doc in obs.logs:  # a container's own log says it listens on the port
        if not doc.container:
            continue
        for line in doc.lines[:200]:
            if _LISTENS.search(line) and not _IN_USE.search(line):
                for found in [*_LISTEN_PORT.finditer(line), *_ADDRESS_PORT.finditer(line)]:
                    owners = claims.setdefault(found.group("port"), [])
                    if all(name != doc.container for name, _ in owners):
                        owners.append((doc.container, f"{doc.label} {excerpt(line.strip())}"))
    for pod in obs.pods:  # describe's "Port: 8080/TCP" per container
        for c in pod.containers:
            for number in c.ports:
                owners = claims.setdefault(str(number), [])
                if c.name != "?" and "ports" in c.cites and all(name != c.name for name, _ in owners):
                    owners.append((c.name, c.cites["ports"]))
    return claims


def _log_lines(obs: Observations) -> list[tuple[str, str, list[str]]]:
    return [(doc.label, doc.command, doc.lines) for doc in obs.logs]


def _agent_on(obs: Observations, ports: dict[str, str], in_use: tuple[str, str], pod: str | None) -> Finding | None:
    """The port the application cannot bind is the one a ``-javaagent:...jar=PORT:config`` in its own JVM options
    (JAVA_TOOL_OPTIONS, JAVA_OPTS, the command) already listens on: the agent starts before the application."""
    for label, line in lines_of(obs):
        found = _JAVA_AGENT.search(line)
        if found is None or found.group("port") not in ports:
            continue
        port, jar = found.group("port"), found.group("jar").rsplit("/", 1)[-1]
        via = next((v for v in ("JAVA_TOOL_OPTIONS", "JDK_JAVA_OPTIONS", "JAVA_OPTS") if v in line), None)
        mutated = next(((lbl, m) for lbl, text in lines_of(obs) if (m := _MUTATED_BY.search(text))), None)
        injected = f", injected by the mutating policy {mutated[1].group('policy')}" if mutated else ""
        owner = workload_of(pod) if pod else None
        return Finding(
            kind="java_agent_port_conflict",
            subject=f"{owner or 'application'}:java_agent_port_conflict",
            role="cause",
            title=f"{owner + ': ' if owner else ''}the JVM agent {jar} (-javaagent{' from ' + via if via else ''}{injected}) listens on port {port} inside the application's own process, so the application's server cannot bind port {port} (address already in use)",
            weight=93,
            evidence=[
                f"{in_use[0]} {excerpt(in_use[1].strip())}",
                f"{label} {excerpt(line.strip(), around='-javaagent')}",
                *([f"{mutated[0]} {excerpt(mutated[1].group(0))}"] if mutated else []),
            ],
            workload=owner,
            recommendations=[
                rec(
                    "high",
                    f"Give the agent another port (-javaagent:...{jar}=<free port>:<config>){' in policy ' + mutated[1].group('policy') if mutated else ''}, and point the scrape annotation/ServiceMonitor at it",
                ),
            ],
            affected=[owner] if owner else [],
        )
    return None
