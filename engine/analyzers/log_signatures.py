"""Log analysis: templates ranked by severity/frequency/novelty, then failure signatures per template."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import observed_names, rec, workload_name
from engine.facts import LogDoc, Observations
from engine.findings import Finding, workload_of
from engine.logs.index import DocSignals, LogIndex
from engine.logs.signatures import SignatureMatch
from engine.models import Recommendation
from engine.parsers.command_line import prompt_host
from engine.parsers.common import excerpt, parse_timestamp

_IP = re.compile(r"^\d{1,3}(?:\.\d{1,3}){3}$")
_BURST_MIN = 5


@dataclass
class _Group:
    match: SignatureMatch
    count: int = 0
    examples: list[str] = field(default_factory=list)
    first_line: str = ""
    first_index: int = 0


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    index = ctx.logs if ctx.logs is not None else LogIndex.build(obs.logs)
    names = observed_names(obs)
    evented = {e.object_name for e in obs.events if e.object_name and e.object_name not in names}
    names += sorted(evented, key=len, reverse=True)
    findings: list[Finding] = []
    fallback = failing_workload(obs)
    nodes = {node.name for node in obs.nodes}
    for doc in obs.logs:
        shown = doc_source(doc, ctx, names) or fallback
        workload = shown if shown is None or shown in nodes else workload_of(shown)
        findings.extend(analyze_doc(index.of(doc), ctx, workload, shown))
    _other_namespace_services(findings, obs, ctx)
    return findings


def _other_namespace_services(findings: list[Finding], obs: Observations, ctx: AnalysisContext) -> None:
    """A short name resolves only in the pod's own namespace: name the namespace the Service really is in."""
    where: dict[str, tuple[str, str]] = {}
    for service in obs.services:
        if service.namespace:
            where.setdefault(service.name, (service.namespace, next(iter(service.cites.values()), "")))
    aliases: dict[str, tuple[str, str]] = {}
    for resource in obs.resources:
        if resource.kind == "Service" and resource.namespace:
            where.setdefault(resource.name, (resource.namespace, resource.quote(resource.name)))
        raw_row = resource.raw.get("row")
        row: dict[str, str] = raw_row if isinstance(raw_row, dict) else {}
        if resource.kind == "Service" and row.get("TYPE") == "ExternalName" and row.get("EXTERNAL-IP"):
            aliases[resource.name] = (str(row["EXTERNAL-IP"]), resource.quote(resource.name))
        spec = resource.raw.get("spec")
        if resource.kind == "Service" and isinstance(spec, dict) and spec.get("externalName"):  # -o yaml / json
            aliases[resource.name] = (str(spec["externalName"]), resource.quote(str(spec["externalName"])))
    listed = {s.name: next(iter(s.cites.values()), "") for s in obs.services}  # every Service seen, any namespace
    listed |= {r.name: r.quote(r.name) for r in obs.resources if r.kind == "Service"}
    for finding in findings:
        host = finding.subject.rsplit(":", 1)[-1]
        in_cluster = re.match(r"^([a-z0-9][a-z0-9-]*)\.[a-z0-9][a-z0-9-]*\.svc(?:\.cluster\.local)?\.?$", host)
        if in_cluster and in_cluster.group(1) in aliases:  # orders-db.orders.svc.cluster.local: Service orders-db
            host = in_cluster.group(1)
        if finding.kind == "dns_failure" and host in aliases:
            target, cite = aliases[host]
            prefix = finding.title.split(": ", 1)[0]
            finding.title = (
                f"{prefix}: DNS resolution fails for {host}: Service {host} is an ExternalName alias for {target}, "
                "and that name does not resolve (NXDOMAIN)"
            )
            finding.weight = max(finding.weight, 90)
            finding.evidence.append(cite)
            host_meant = _meant_host(target, obs)
            if host_meant:  # the alias points at a name that is gone; an existing one in the same domain is listed
                finding.title += f"; the existing host {host_meant[0]} is probably what was meant"
                finding.evidence.append(host_meant[1])
            continue
        if finding.kind == "dns_failure" and "." not in host and host not in listed and listed:
            near = difflib.get_close_matches(host, sorted(listed), n=1, cutoff=0.55)
            if near:  # a Service listing without the name: the existing one it was probably meant to be
                meant = f"the existing Service '{near[0]}' is probably what was meant"
                finding.title += f"; no Service {host} exists, {meant}"
                finding.weight = max(finding.weight, 88)
                if listed[near[0]]:
                    finding.evidence.append(listed[near[0]])
            continue
        if finding.kind != "dns_failure" or "." in host or host not in where:
            continue
        namespace, cite = where[host]
        if ctx.namespace and namespace == ctx.namespace:
            continue
        prefix = finding.title.split(": ", 1)[0]
        finding.title = (
            f"{prefix}: DNS resolution fails for the short name {host}: a short name resolves only in the pod's own "
            f"namespace, and Service {host} is in namespace {namespace} (use {host}.{namespace})"
        )
        finding.weight = max(finding.weight, 90)
        if cite:
            finding.evidence.append(cite)


# A file named after a pod: a StatefulSet ordinal (kafka-2) or a Deployment pod (api-7d9f6c5b8-qx2lm), then the
# extension (".log", "-previous.log", ".txt").
_POD_FILE = re.compile(
    r"^([a-z][a-z0-9]*(?:-[a-z0-9]+)*?-(?:\d{1,3}|[a-z0-9]{6,10}-[a-z0-9]{5}))(?:[._-](?:previous|prev|logs?|out))*\.(?:log|txt|jsonl)$"
)


_EXEC_IN = re.compile(
    r"\b(?:kubectl|oc)\b.*?\bexec\s+(?:(?:-n|--namespace|-c|--container)[ =]\S+\s+|-\S+\s+)*"
    r"(?:(?:pods?|deploy(?:ments?)?|sts|statefulsets?|ds|daemonsets?|jobs?)/)?(?P<pod>[a-z0-9][a-z0-9.-]*)"
)


def doc_source(doc: LogDoc, ctx: AnalysisContext, names: list[str] | None = None) -> str | None:
    """Whose log this is, by name: the pod it came from, else an observed object its attachment name names, else
    the subject the question names."""
    own = _own_source(doc, names or [])
    if own:
        return own
    label = doc.label.lower()
    focus_names = sorted(ctx.focus.names, key=len, reverse=True) if ctx.focus else []
    in_label = [name for name in [*focus_names, *(names or [])] if len(name) >= 3 and name.lower() in label]
    if in_label:  # the longest name the attachment's name holds: checkout-canary-logs.txt is checkout-canary's
        return max(in_label, key=len)
    pod_file = _POD_FILE.match(label.removeprefix("[attachment:").rstrip("]").rsplit("/", 1)[-1])
    if pod_file and not (ctx.service and pod_file.group(1).startswith(ctx.service.lower())):
        return pod_file.group(1)  # "kafka-2.log", "api-7d9f6c5b8-qx2lm.log": that pod's log, not the asked service's
    # a workload whose own log is attached (`kubectl logs <pod>`, <pod>.log) did not print this unnamed one too
    owned = {workload_of(source) for s in (ctx.logs.docs if ctx.logs else []) if (source := _own_log(s.doc))}
    if ctx.service and workload_of(ctx.service) not in owned:
        return ctx.service
    stem = re.split(r"[._]|-logs?\b", label.removeprefix("[attachment:").rstrip("]"))[0]
    words = ctx.question.words if ctx.question else frozenset()
    if len(stem) >= 3 and stem in words and any(workload_of(name) == stem for name in names or []):
        return stem  # "catalog.log", asked about catalog, whose pods were observed
    owners = {workload_of(name) for name in names or [] if len(stem) >= 4 and stem in workload_of(name).split("-")}
    if len(owners) == 1:
        return owners.pop()  # "exporter.log" and one observed workload mysqld-exporter: its log
    subject = ctx.focus.subject if ctx.focus else None
    if subject is not None and workload_of(subject.name) not in owned:
        return subject.name
    named = [name for name in names or [] if name.lower() in words and workload_of(name) not in owned]
    if named:
        return named[0]
    asked = ctx.question.named if ctx.question else None
    return asked if asked and workload_of(asked) not in owned else None


_URL_HOST = re.compile(r"\b(?:curl|wget|http|httpie)\b[^|]*?\bhttps?://(?P<host>[a-z][a-z0-9-]*)[.:/]")


def _own_log(doc: LogDoc) -> str | None:
    """The pod whose own log this is (`kubectl logs <pod>`, a file named after the pod)."""
    if doc.pod:
        return doc.pod
    pod_file = _POD_FILE.match(doc.label.lower().removeprefix("[attachment:").rstrip("]").rsplit("/", 1)[-1])
    return pod_file.group(1) if pod_file and not doc.command else None


def _own_source(doc: LogDoc, names: list[str]) -> str | None:
    """Who printed the log by its own provenance: the pod `kubectl logs` read, the pod a command ran in, the host
    an HTTP client asked, a file named after a pod."""
    if doc.pod:
        return doc.pod
    executed = _EXEC_IN.search(doc.command)
    if executed:  # `kubectl exec kafka-0 -- kafka-topics.sh ...`: what that pod printed, not the asked service's log
        return executed.group("pod")
    asked = _URL_HOST.search(doc.command)
    if asked:  # `curl http://kafka-connect.streaming:8083/...`: that service's answer
        return asked.group("host")
    first = next((line for line in doc.lines[:3] if line.strip()), None)
    host = prompt_host(first) if first else None
    if host:  # `azureuser@cart-redis-01:~$ redis-cli INFO`: a session on that host
        return host
    pod_file = _POD_FILE.match(doc.label.lower().removeprefix("[attachment:").rstrip("]").rsplit("/", 1)[-1])
    return _fuller_name(pod_file.group(1), names) if pod_file and not doc.command else None


def _fuller_name(short: str, names: list[str]) -> str:
    """A file named by a pod's short name (``ingester-2-logs.txt``) is the log of the one observed pod whose name
    ends with it (``loki-ingester-2``); the short name itself when none or several do."""
    fuller = {name for name in names if name.lower().endswith(f"-{short}")}
    return fuller.pop() if len(fuller) == 1 else short


def failing_workload(obs: Observations) -> str | None:
    """The one workload whose pods fail, when exactly one does: an unattributed log most likely is its log."""
    failing = {
        workload_name(pod)
        for pod in obs.pods
        if any(c.restart_count or c.reason in _FAILING for c in pod.containers) or pod.phase == "Failed"
    }
    return failing.pop() if len(failing) == 1 else None


_FAILING = {"CrashLoopBackOff", "Error", "OOMKilled", "RunContainerError", "CreateContainerError", "StartError"}


def analyze_doc(
    signals: DocSignals, ctx: AnalysisContext, workload: str | None = None, shown: str | None = None
) -> list[Finding]:
    """Findings from one log; ``workload`` groups them, ``shown`` is how titles name the source (pod, node)."""
    doc = signals.doc
    shown = shown or workload
    groups: dict[tuple[str, str], _Group] = {}
    for template, matches in signals.matches:
        for match in matches:
            key = (
                match.kind,
                match.groups.get("target") or match.groups.get("var") or match.groups.get("host") or "",
            )
            group = groups.get(key)
            if group is None:
                group = groups[key] = _Group(match, first_line=template.example, first_index=template.first_index)
            group.count += template.count
            if len(group.examples) < 2 and template.example not in group.examples:
                group.examples.append(template.example)
    _fold_untargeted(groups)
    findings: list[Finding] = []
    for (kind, subject_key), group in sorted(groups.items(), key=lambda item: item[1].first_index):
        if kind == "http_5xx" and group.count < _BURST_MIN:
            continue
        about = _subject_named_in(group.examples, ctx)  # a line naming the subject is about it, whoever logged it
        other = _object_reconciled(group.examples)  # a controller's line names the object it reconciles
        if other and other != workload:
            found = _finding(doc, group, kind, subject_key, other, signals.total, other)
            named = ctx.question.named if ctx.question else None
            if named and other != named and workload_of(_own_source(doc, []) or "") != workload_of(named):
                found.weight -= 20  # the question names another object this controller reconciles: a bystander
            findings.append(found)
        elif about and about != workload and not other:
            findings.append(_finding(doc, group, kind, subject_key, about, signals.total, about))
        else:
            findings.append(_finding(doc, group, kind, subject_key, workload, signals.total, shown))
    if not any(f.role == "cause" for f in findings) and signals.decisive:
        best = signals.decisive[0]
        line = excerpt(best.line)
        findings.append(
            Finding(
                kind="error_log_pattern",
                subject=f"logs/{workload or doc.label}",
                role="symptom",
                title=(f"{shown} logs " if shown else "The logs show ") + f"'{_clip(line)}'",
                weight=44 if best.score >= 6 else 30,
                evidence=[f"{doc.label} {line}"],
                workload=workload,
                timestamp=parse_timestamp(best.line[:64]),
                recommendations=[
                    rec("medium", "Trace where this error is raised; it matches no known failure signature")
                ],
                affected=[workload] if workload else [],
            )
        )
    return findings


_PEERED = {"dns_failure", "tls_error", "auth_failure", "broker_auth_refused", "cloud_access_denied", "grpc_unavailable"}
_PEER = re.compile(
    r"(?:dial tcp |connect(?:ing)? to |host[=: ]+|server[=: ]+|ServerName: |(?:failed to )?resolve |broker[=: ]+|https?://|tls://|ssl://|amqps?://|mqtts?://)"
    r"(?:\\?['\"])?\[?(?P<peer>[a-z][\w-]*(?:\.[\w-]+)+(?::\d{2,5})?)",
    re.IGNORECASE,
)


_CONNECTION_KINDS = {"connection_refused", "connection_timeout", "connection_reset"}
_DATASTORE = re.compile(
    r"\b(redis|postgres(?:ql)?|psql|npgsql|mysql|mariadb|mongo(?:db)?|kafka|rabbitmq|amqp|memcached|elasticsearch"
    r"|opensearch|cassandra|nats|etcd|zookeeper|clickhouse|sql ?server)"
    r"(?=[\s:.(]|server|connection|exception|client|error|$)",
    re.IGNORECASE,
)
_DATASTORE_NAMES = {"psql": "postgresql", "npgsql": "postgresql", "amqp": "rabbitmq"}


def _datastore_in(lines: list[str]) -> str | None:
    for line in lines:
        match = _DATASTORE.search(line)
        if match:
            word = match.group(1).lower()
            return _DATASTORE_NAMES.get(word, word)
    return None


def _peer_in(lines: list[str]) -> str | None:
    for line in lines:
        match = _PEER.search(line)
        if match:
            return match.group("peer")
    return None


def _subject_named_in(lines: list[str], ctx: AnalysisContext) -> str | None:
    name = ctx.focus.owner() if ctx.focus else None
    name = name or (ctx.question.named if ctx.question else None)
    if name and len(name) >= 4 and any(re.search(rf"(?<![\w-]){re.escape(name)}(?![\w])", line) for line in lines):
        return name
    return None


# the object a controller's structured line is about: controller-runtime's `"ExternalSecret": {"name": "x", ...}`,
# klog's `object="ns/x"` / `key="ns/x"`
_OBJECT_REF = re.compile(
    r"\"(?P<kind>[A-Z][A-Za-z]+)\"\s*:\s*\{\s*\"name\"\s*:\s*\"(?P<name>[a-z0-9][a-z0-9.-]*)\""
    r"|\b(?:object|key)=\"[a-z0-9][a-z0-9-]*/(?P<name2>[a-z0-9][a-z0-9.-]*)\""
)


def _object_reconciled(lines: list[str]) -> str | None:
    """The one object every example line names in a structured object reference, when they all name the same."""
    names = set()
    for line in lines:
        match = _OBJECT_REF.search(line.replace('""', '"'))  # a CSV export doubles the JSON's quotes
        if match is None:
            return None
        names.add(match.group("name") or match.group("name2"))
    return names.pop() if len(names) == 1 else None


def _clip(line: str, limit: int = 180) -> str:
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


def _fold_untargeted(groups: dict[tuple[str, str], _Group]) -> None:
    """A bare "connection refused" belongs to the same kind's group that names the host, when there is one."""
    for kind, key in sorted(k for k in groups if not k[1]):
        targeted = sorted(k for k in groups if k[0] == kind and k[1])
        if targeted:
            bare = groups.pop((kind, key))
            into = groups[targeted[0]]
            into.count += bare.count
            into.first_index = min(into.first_index, bare.first_index)


_LOCKED_RELATION = re.compile(
    r"in relation \\?\"(?P<relation>[\w.]+)\\?\"|\b(?:UPDATE|INSERT INTO|DELETE FROM)\s+`?(?P<table>[\w.]+)`?",
    re.IGNORECASE,
)


def deadlocked_table(lines: list[str]) -> tuple[str, str] | None:
    """The table a deadlock happened on and the line naming it, from the lines after the deadlock: PostgreSQL's
    CONTEXT (``while updating tuple (12,4) in relation "invoices"``) or STATEMENT, a client's failed statement."""
    for line in lines:
        found = _LOCKED_RELATION.search(line)
        if found:
            return found.group("relation") or found.group("table"), line
    return None


def _finding(
    doc: LogDoc, group: _Group, kind: str, subject_key: str, workload: str | None, total: int, shown: str | None
) -> Finding:
    match = group.match
    target = match.groups.get("target") or match.groups.get("host")
    target_host = target.rsplit(":", 1)[0] if target else None
    related = []
    if target_host and not _IP.match(target_host):
        related.append(target_host.split(".")[0])
    where = f"{shown or workload}: " if shown or workload else ""
    evidence = [f"{doc.label} {excerpt(line.strip())}" for line in group.examples]
    title = match.title()
    if kind in ("connection_timeout", "connection_refused") and target and target.endswith(":53"):
        verb = "time out" if kind == "connection_timeout" else "are refused"
        kind = "dns_failure"  # port 53 is DNS: queries to the resolver fail, so every name lookup fails
        title = f"DNS queries to the resolver {target} {verb}, so name lookups fail"
    if kind == "http_5xx":
        title = f"HTTP 5xx burst: {group.count} of {total} log lines are 5xx responses"
    peer = None
    # An address, not a name: the lines around it often name the host (not for the DNS resolver's own address).
    by_address = bool(target_host and _IP.match(target_host)) and not (target or "").endswith(":53")
    if (kind in _PEERED and not target and not match.groups.get("host")) or by_address:  # the line before names it
        earlier = doc.lines[max(0, group.first_index - 20) : group.first_index + 1]
        peer = _peer_in(group.examples) or _peer_in(list(reversed(earlier)))
    if peer is None and not target and not match.groups.get("host") and kind in _CONNECTION_KINDS:
        # no host printed, but the client library says what it talks to ("RedisConnectionException: It was not
        # possible to connect to the redis server(s)", "MongoTimeoutException", "PSQLException")
        peer = _datastore_in(group.examples)
    if peer and kind == "dns_failure":
        title = f"DNS resolution fails for {peer.rsplit(':', 1)[0]}"
    elif peer and peer not in title:
        title += f" (talking to {peer})"
    if kind == "db_deadlock" and (locked := deadlocked_table(doc.lines[group.first_index : group.first_index + 10])):
        title += (
            f" on table {locked[0]}: concurrent transactions lock its rows in opposite order and the database "
            "rolls one back"
        )
        evidence.append(f"{doc.label} {excerpt(locked[1].strip())}")
    if kind != "http_5xx" and group.count > 1:
        title += f" ({group.count} log lines)"
    weight = match.signature.weight + (4 if group.count >= 10 else 0) + (6 if peer else 0)
    if doc.previous:
        weight += 4  # printed right before the container died
    return Finding(
        kind=kind,
        subject=f"{workload or 'logs'}:{subject_key or kind}",
        role=match.signature.role,  # type: ignore[arg-type]
        title=where + title,
        weight=min(weight, 95),
        evidence=evidence,
        workload=workload,
        timestamp=parse_timestamp(group.first_line[:64]),
        recommendations=recommend(kind, match.groups, workload, target_host),
        affected=[s for s in (workload, *related) if s],
        related=related,
        count=group.count,
    )


def recommend(kind: str, groups: dict[str, str], workload: str | None, target: str | None) -> list[Recommendation]:
    app = workload or "the service"
    var = groups.get("var")
    table = {
        "missing_env": [
            rec(
                "high",
                f"Set {var or 'the missing variable'} in {app}'s deployment "
                f"(kubectl set env deployment/{app} {var or 'NAME'}=<value>, "
                "or add it to its ConfigMap/Secret)",
            ),
            rec("low", "Validate required configuration in CI before deploying"),
        ],
        "invalid_config": [rec("high", f"Fix the invalid configuration value in {app}'s ConfigMap/env and redeploy")],
        "dns_failure": [
            rec(
                "high",
                f"Check that {target or 'the host'} is the right name and that its Service exists "
                f"(kubectl get svc -A | grep {(target or 'name').split('.')[0]}); then check CoreDNS",
            ),
        ],
        "tls_error": [
            rec(
                "high",
                f"Renew or fix the certificate used between {app} and {target or 'its peer'} "
                "(check expiry with openssl s_client -connect host:port)",
            )
        ],
        "auth_failure": [
            rec(
                "high",
                f"Fix {app}'s credentials: compare the Secret it uses with the current password/token "
                "and rotate it in both places",
            )
        ],
        "db_pool_exhausted": [
            rec(
                "high",
                f"Find what holds connections in {app} (slow queries, leaked connections) and restart it to recover",
            ),
            rec("medium", "Raise the pool size only if the database has spare max_connections"),
        ],
        "db_too_many_connections": [
            rec(
                "high",
                "Reduce connections to the database (pool sizes x replicas) or raise max_connections; "
                "add a pooler such as PgBouncer",
            ),
        ],
        "db_deadlock": [
            rec("medium", f"Find the conflicting transactions in {app} and lock rows in a consistent order")
        ],
        "db_schema": [
            rec(
                "high",
                f"Run the pending database migrations for {app}, or roll back to the version "
                "that matches the current schema",
            )
        ],
        "db_unavailable": [rec("high", f"Check the database {app} uses: is it running, in recovery or restarting?")],
        "disk_full": [
            rec("high", f"Free space on the volume {app} writes to (logs, temp files) or expand the PVC/disk")
        ],
        "out_of_memory": [rec("high", f"Raise {app}'s memory (heap/limit) and look for a leak or an unbounded cache")],
        "connection_refused": [
            rec(
                "high",
                f"Bring {target or 'the dependency'} back: check that it is running and listening "
                f"(kubectl get pods,endpoints | grep {(target or 'name').split('.')[0]})",
            ),
        ],
        "connection_timeout": [
            rec(
                "high",
                f"Check the network path and health of {target or 'the dependency'} "
                "(NetworkPolicy, security groups, its load)",
            )
        ],
        "connection_reset": [rec("medium", f"Check {target or 'the peer'} for restarts or idle-timeout mismatches")],
        "http_5xx": [rec("medium", f"Find the failing upstream behind {app}'s 5xx responses")],
        "panic": [
            rec(
                "high",
                f"Fix the crash in {app} (see the panic and stack trace) or roll back to the previous version",
            )
        ],
        "exception": [rec("high", f"Fix the unhandled exception in {app} or roll back to the previous version")],
    }
    return table.get(kind, [rec("medium", f"Investigate {app}'s errors")])


def _meant_host(target: str, obs: Observations) -> tuple[str, str] | None:
    """A host name printed in the input in the same domain as ``target`` whose first label is close to its own
    (``loyalty-prod.x.rds.amazonaws.com`` -> ``loyalty-prod-pg16.x.rds.amazonaws.com``)."""
    first, _, domain = target.partition(".")
    if not domain or "." not in domain:
        return None
    pattern = re.compile(rf"\b([a-z0-9][a-z0-9-]*)\.{re.escape(domain)}\b", re.IGNORECASE)
    seen: dict[str, str] = {}
    for label, lines in [(t.label, t.lines) for t in obs.texts] + [(d.label, d.lines) for d in obs.logs]:
        for line in lines[:5000]:
            for name in pattern.findall(line):
                if name.lower() != first.lower():
                    seen.setdefault(name.lower(), f"{label} {line.strip()}")
    near = difflib.get_close_matches(first.lower(), sorted(seen), n=1, cutoff=0.6)
    return (f"{near[0]}.{domain}", seen[near[0]]) if near else None
