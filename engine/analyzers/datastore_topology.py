"""Who is primary, who serves which slots: a datastore's own view of its topology, read next to the client's error.

- Redis Cluster (``CLUSTER INFO`` / ``CLUSTER NODES``, redis.io): ``cluster_state:fail`` when some hash slots have
  no reachable master; clients then get ``CLUSTERDOWN``. The slot ranges of masters flagged ``fail`` are what is
  down.
- MongoDB ``rs.status()`` (mongodb.com): a replica set elects a PRIMARY only with a voting majority; without one,
  writes fail with server selection timeouts (``ReplicaSetNoPrimary``) while secondaries may still serve reads.
- Patroni ``patronictl list`` (PostgreSQL high availability): after a failover the old leader is a Replica; a
  client that connects to a member's address instead of the leader Service writes to a standby, which PostgreSQL
  refuses with "cannot execute ... in a read-only transaction".
- Redis ``requirepass`` (redis.io security): a client without a password gets ``NOAUTH Authentication
  required``; the client's environment shows whether a password is configured at all.
"""
# ruff: noqa: E501  (patterns and messages read better unwrapped)

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import rec
from engine.analyzers.log_signatures import doc_source
from engine.facts import Observations
from engine.findings import Finding, workload_of
from engine.parsers.common import excerpt

_CLUSTER_STATE = re.compile(r"^\s*cluster_state:(?P<state>\w+)")
_SLOTS_FAIL = re.compile(r"^\s*cluster_slots_fail:(?P<count>\d+)")
_NODE_ROW = re.compile(
    r"^\s*(?P<id>[0-9a-f.]{6,})\s+(?P<addr>[\w.:-]+?)(?:@\d+)?(?:,\S+)?\s+(?P<flags>[\w,-]+)\s+(?P<master>[0-9a-f.-]+)\s+\d+\s+\d+\s+\d+\s+(?P<link>connected|disconnected)(?P<slots>(?:\s+[\d-]+)*)\s*$"
)
_PATRONI_ROW = re.compile(
    r"^\s*\|\s*(?P<member>[\w.-]+)\s*\|\s*(?P<host>[\w.:-]+)\s*\|\s*(?P<role>Leader|Replica|Sync Standby|Standby Leader)\s*\|\s*(?P<state>[\w ]+?)\s*\|"
)
_READ_ONLY = re.compile(
    r"cannot execute \w+ in a read-only transaction|read-only transaction|ReadOnlySqlTransaction", re.IGNORECASE
)
_DB_HOST = re.compile(
    r"(?:jdbc:postgresql|postgres(?:ql)?)://(?:[^@/\s]+@)?(?P<host>[\w.-]+)(?::(?P<port>\d+))?|\bhost=(?P<host2>[\w.-]+)"
)
_NOAUTH = re.compile(r"NOAUTH Authentication required", re.IGNORECASE)
_ENV_JSON = re.compile(r'"name"\s*:\s*"(?P<name>[A-Z][A-Z0-9_]*)"')
_ENV_DESCRIBE = re.compile(r"^\s{2,}(?P<name>[A-Z][A-Z0-9_]{2,}):\s")
_SECRET_WORDS = ("PASS", "AUTH", "SECRET", "TOKEN", "URL", "URI")


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    lines = list(_lines(obs))
    findings = _redis_cluster(lines) + _patroni_replica(obs, lines, ctx) + _redis_noauth(lines, ctx)
    findings += _mysql_replication(lines, ctx)
    findings += _rabbitmq_partitions(lines) + _kafka_offline(lines) + _inactive_slots(lines, _wal_full_hosts(obs, ctx))
    findings += _kafka_consumer_lag(lines) + _cassandra_down(lines) + _mongo_unhealthy_members(lines)
    for document in obs.documents:
        findings += _elasticsearch_red(document.data, document.label, document.lines, obs)
    for document in obs.documents:
        findings += _mongo_no_primary(document.data, document.label, document.lines, _mongo_clients(obs, ctx))
    return findings


def _mongo_clients(obs: Observations, ctx: AnalysisContext) -> list[str]:
    """The services whose logs show MongoDB server selection failing: the set's clients."""
    asked = ctx.service or (ctx.question.named if ctx.question else None)
    clients: list[str] = []
    for doc in obs.logs:
        if any("ServerSelection" in line or "ReplicaSetNoPrimary" in line for line in doc.lines[:5000]):
            name = workload_of(doc.pod) if doc.pod else asked
            if name and name not in clients:
                clients.append(name)
    return clients


def _lines(obs: Observations) -> Iterator[tuple[str, str, str]]:
    for text in obs.texts:
        for line in text.lines:
            yield text.label, line, text.command
    for doc in obs.logs:
        for line in doc.lines:
            yield doc.label, line, doc.command or (doc.pod or "")


# --- Redis Cluster -----------------------------------------------------------------------------------------


def _redis_cluster(lines: list[tuple[str, str, str]]) -> list[Finding]:
    state: tuple[str, str] | None = None
    slots_fail = ""
    failed: list[tuple[str, str, str]] = []  # (address, slots, cite)
    failed_replicas: list[str] = []
    for label, line, _ in lines:
        found = _CLUSTER_STATE.match(line)
        if found and found.group("state") != "ok":
            state = (found.group("state"), f"{label} {line.strip()}")
        failing = _SLOTS_FAIL.match(line)
        if failing and failing.group("count") != "0":
            slots_fail = failing.group("count")
        row = _NODE_ROW.match(line)
        if row and "fail" in row.group("flags").split(","):
            address = row.group("addr").split("@")[0]
            if "master" in row.group("flags"):
                failed.append((address, " ".join(row.group("slots").split()), f"{label} {excerpt(line.strip())}"))
            else:
                failed_replicas.append(address)
    if state is None:
        return []
    evidence = [state[1], *(cite for _, _, cite in failed[:2])]
    down = "; ".join(f"master {address} (slots {slots or 'none'})" for address, slots, _ in failed)
    count = f" ({slots_fail} of 16384 slots)" if slots_fail else ""
    replicas = (
        f", and its replica {', '.join(failed_replicas)} is down too, so no failover happened"
        if failed_replicas and failed
        else ""
    )
    lost = f": {down} is marked fail{replicas}" if down else ""
    return [
        Finding(
            kind="redis_cluster_down",
            subject="redis-cluster",
            role="cause",
            title=f"Redis Cluster is down (cluster_state:{state[0]}): some hash slots{count} have no reachable master{lost}; clients get CLUSTERDOWN",
            weight=90,
            evidence=evidence,
            workload="redis-cluster",
            related=[address.split(":")[0] for address, _, _ in failed] + [a.split(":")[0] for a in failed_replicas],
            recommendations=[
                rec(
                    "high",
                    "Bring the failed master's pod back (or fail over with CLUSTER FAILOVER on a replica of those slots), then check CLUSTER INFO shows cluster_state:ok",
                ),
            ],
            affected=["redis"],
        )
    ]


# --- MongoDB replica set -------------------------------------------------------------------------------------


def _mongo_no_primary(data: Any, label: str, doc_lines: list[str], clients: list[str]) -> list[Finding]:
    if not isinstance(data, dict) or not isinstance(data.get("members"), list) or "set" not in data:
        return []
    members = [m for m in data["members"] if isinstance(m, dict)]
    states = [str(m.get("stateStr", "")) for m in members]
    if "PRIMARY" in states or not members:
        return []
    down = [m for m in members if m.get("health") == 0 or "not reachable" in str(m.get("stateStr", ""))]
    healthy = len(members) - len(down)
    majority = data.get("majorityVoteCount") or (len(members) // 2 + 1)
    names = [str(m.get("name", "?")) for m in down]
    reason = next((str(m.get("lastHeartbeatMessage")) for m in down if m.get("lastHeartbeatMessage")), "")
    why = f" ({reason[:160]})" if reason else ""
    evidence = [f"{label} {excerpt(line.strip())}" for line in doc_lines if any(n in line for n in names[:2])][:2]
    evidence = evidence or [f"{label} set: {data.get('set')}"]
    pods = [n.split(".")[0].split(":")[0] for n in names]
    return [
        Finding(
            kind="mongo_no_primary",
            subject=f"replicaset/{data.get('set')}",
            role="cause",
            title=f"MongoDB replica set {data.get('set')} has no PRIMARY: only {healthy} of {len(members)} members are healthy and electing a primary needs a majority of {majority}; {', '.join(names)} cannot be reached{why}, so writes fail (ReplicaSetNoPrimary) while secondaries still answer reads",
            weight=92,
            evidence=evidence,
            workload=str(data.get("set")),
            related=[*pods, *clients],
            recommendations=[
                rec(
                    "high",
                    f"Bring {', '.join(pods)} back (see why their pods are not running) so the set regains a voting majority and elects a primary",
                ),
            ],
            affected=pods,
        )
    ]


_MONGO_FIELD = re.compile(
    r"[\"']?(?P<key>name|stateStr|health|infoMessage|lastHeartbeatMessage)[\"']?\s*:\s*(?:'(?P<single>[^']*)'|\"(?P<double>[^\"]*)\"|(?P<number>[\d.]+))"
)
_MONGO_BAD_STATES = (
    "RECOVERING",
    "STARTUP",
    "STARTUP2",
    "ROLLBACK",
    "DOWN",
    "UNKNOWN",
    "REMOVED",
    "(not reachable/healthy)",
)


def _mongo_unhealthy_members(lines: list[tuple[str, str, str]]) -> list[Finding]:
    """``rs.status()`` as mongosh prints it (or its JSON): a member that is RECOVERING, DOWN or unhealthy while the
    set still has a PRIMARY. ``RS102 too stale to catch up`` means its last optime fell off the primary's oplog, so
    it never recovers by itself and must be resynced."""
    members: list[dict[str, str]] = []
    for label, line, _ in lines:
        for found in _MONGO_FIELD.finditer(line):
            key = found.group("key")
            value = found.group("single") or found.group("double") or found.group("number") or ""
            if key == "name" and ":" in value:
                members.append({"name": value, "label": label, "line": line})
            elif members and key not in members[-1]:
                members[-1][key] = value
    if not any(m.get("stateStr") == "PRIMARY" for m in members):
        return []
    bad = [m for m in members if m.get("stateStr") in _MONGO_BAD_STATES or m.get("health") == "0"]
    findings: list[Finding] = []
    for member in bad[:2]:
        name = member["name"]
        pod = name.split(".")[0].split(":")[0]
        message = member.get("infoMessage") or member.get("lastHeartbeatMessage") or ""
        stale = "too stale" in message or "RS102" in message
        why = f": {message[:200]}" if message else ""
        effect = (
            "its last applied optime is older than the primary's oplog window, so it cannot catch up by itself and needs an initial sync"
            if stale
            else "it serves no reads and does not count toward write majority until it recovers"
        )
        findings.append(
            Finding(
                kind="mongo_member_unhealthy",
                subject=f"mongo/{pod}",
                role="cause",
                title=f"MongoDB replica set member {name} is {member.get('stateStr') or 'unhealthy'}{why}; {effect}",
                weight=84,
                evidence=[f"{member['label']} {excerpt(member['line'].strip())}"],
                workload=pod,
                recommendations=[
                    rec(
                        "high",
                        f"Resync {pod}: stop it, empty its data directory (delete its PVC data) and let it run an initial sync; enlarge the oplog (replSetResizeOplog) so a member can be down longer"
                        if stale
                        else f"See why {pod} is {member.get('stateStr')} (its pod, logs and disk) and bring it back",
                    )
                ],
                affected=[pod],
            )
        )
    return findings


# --- Patroni: writes sent to a replica -------------------------------------------------------------------------


def _patroni_replica(obs: Observations, lines: list[tuple[str, str, str]], ctx: AnalysisContext) -> list[Finding]:
    members: dict[str, tuple[str, str, str]] = {}  # host -> (member, role, cite)
    leader: tuple[str, str] | None = None
    read_only: tuple[str, str] | None = None  # (cite, source)
    host_line: tuple[str, str, str] | None = None  # (host, cite, source)
    for label, line, source in lines:
        row = _PATRONI_ROW.match(line)
        if row:
            host = row.group("host").split(":")[0]
            members[host] = (row.group("member"), row.group("role"), f"{label} {line.strip()}")
            if row.group("role") == "Leader":
                leader = (row.group("member"), host)
            continue
        if read_only is None and _READ_ONLY.search(line):
            read_only = (f"{label} {excerpt(line.strip())}", source)
        target = _DB_HOST.search(line)
        if target:
            host_line = (target.group("host") or target.group("host2"), f"{label} {excerpt(line.strip())}", source)
    if read_only is None or not members:
        return []
    client = ctx.service or (ctx.question.named if ctx.question else None) or "the client"
    evidence = [read_only[0]]
    if host_line and host_line[0] in members and members[host_line[0]][1] != "Leader":
        member, role, cite = members[host_line[0]]
        evidence += [host_line[1], cite]
        where = f" {leader[0]} ({leader[1]})" if leader else " another member"
        title = f"{client} writes to {host_line[0]}, the address of {member}, which is a {role} since the failover (the leader is now{where}), so PostgreSQL refuses its writes as a read-only transaction; it should connect through the leader Service, not a pod IP"
    elif leader:
        title = f"{client}'s writes reach a standby: PostgreSQL refuses them as a read-only transaction while the leader is {leader[0]} ({leader[1]}); the connection does not follow the failover"
        evidence.append(members[leader[1]][2])
    else:
        return []
    return [
        Finding(
            kind="writes_to_replica",
            subject=f"service/{client}",
            role="cause",
            title=title,
            weight=90,
            evidence=evidence,
            workload=workload_of(client) if client != "the client" else None,
            related=[m for m, _, _ in members.values()],
            recommendations=[
                rec(
                    "high",
                    f"Point {client} at the leader Service (Patroni's primary endpoint) instead of a member's address, and reconnect after failovers",
                ),
            ],
            affected=[client],
        )
    ]


# --- RabbitMQ network partitions, Kafka offline partitions, PostgreSQL slots, Elasticsearch red --------------------

_PARTITION = re.compile(r"^\s*Node (?P<node>\S+) cannot communicate with (?P<peers>.+)$")
_KAFKA_PARTITION = re.compile(
    r"Topic:\s*(?P<topic>[\w.-]+)\s+Partition:\s*(?P<partition>\d+)\s+Leader:\s*(?P<leader>none|-1)\s+Replicas:\s*(?P<replicas>[\d,]+)\s+Isr:\s*(?P<isr>[\d,]*)",
    re.IGNORECASE,
)
_SIZE = re.compile(r"(?P<amount>\d+(?:\.\d+)?)\s*(?P<unit>[KMGT])i?B\b", re.IGNORECASE)


def _rabbitmq_partitions(lines: list[tuple[str, str, str]]) -> list[Finding]:
    """``rabbitmqctl cluster_status`` lists "Network Partitions": nodes that cannot reach each other; each side
    keeps running with its own view of queues (RabbitMQ partitions guide: pause_minority / autoheal)."""
    found = [(label, line, _PARTITION.match(line)) for label, line, _ in lines]
    rows = [(label, line, m) for label, line, m in found if m]
    if not rows:
        return []
    pairs = "; ".join(f"{m.group('node')} cannot reach {m.group('peers').strip()}" for _, _, m in rows[:3])
    return [
        Finding(
            kind="rabbitmq_partition",
            subject="rabbitmq:partition",
            role="cause",
            title=f"The RabbitMQ cluster is split by a network partition: {pairs}; each side serves its own copy of the queues, so messages and queues diverge",
            weight=90,
            evidence=[f"{label} {excerpt(line.strip())}" for label, line, _ in rows[:2]],
            workload="rabbitmq",
            recommendations=[
                rec(
                    "high",
                    "Restart the nodes of the minority side so they rejoin (or let autoheal do it), then set cluster_partition_handling to pause_minority and find the network fault between them",
                ),
            ],
            affected=["rabbitmq"],
        )
    ]


def _kafka_offline(lines: list[tuple[str, str, str]]) -> list[Finding]:
    """``kafka-topics --describe``: ``Leader: none`` (or -1) is an offline partition: none of its replicas is alive
    and in sync, so it can be neither written nor read."""
    rows = [(label, line, m) for label, line, _ in lines if (m := _KAFKA_PARTITION.search(line))]
    if not rows:
        return []
    first = rows[0][2]
    parts = ", ".join(f"{m.group('topic')}-{m.group('partition')}" for _, _, m in rows[:4])
    return [
        Finding(
            kind="kafka_offline_partition",
            subject=f"topic/{first.group('topic')}",
            role="cause",
            title=f"Kafka partition(s) {parts} are offline (Leader: none): none of their replicas (brokers {first.group('replicas')}) is alive and in sync, so producing to and consuming from them fails",
            weight=92,
            evidence=[f"{lab} {excerpt(text.strip())}" for lab, text, _ in rows[:2]],
            workload=first.group("topic"),
            related=[f"kafka-{b}" for b in first.group("replicas").split(",")],
            recommendations=[
                rec(
                    "high",
                    f"Bring brokers {first.group('replicas')} back; only if their data is lost, allow an unclean leader election for {first.group('topic')} (data loss)",
                ),
            ],
            affected=[first.group("topic")],
        )
    ]


_DU_SIZE = re.compile(r"^\s*(?P<amount>\d+(?:\.\d+)?)(?P<unit>[KMGT])\s+\S*pg_wal")


def _wal_dir_size(lines: list[tuple[str, str, str]]) -> str | None:
    """The size a ``pg_ls_waldir()`` (or ``du`` of pg_wal) query printed, when the attachments ran one."""
    for index, (_, line, _) in enumerate(lines):
        if "pg_ls_waldir" in line or "pg_wal" in line:
            for _, after, _ in lines[index : index + 4]:
                found = _SIZE.search(after) or _DU_SIZE.search(after)
                if (
                    found
                    and float(found.group("amount")) * 1024 ** "KMGT".index(found.group("unit").upper()) >= 1024**2
                ):
                    return f"{found.group('amount')} {found.group('unit').upper()}B"
    return None


_WAL_ENOSPC = re.compile(r"pg_wal\b.*No space left on device|No space left on device.*pg_wal\b", re.IGNORECASE)


def _wal_full_hosts(obs: Observations, ctx: AnalysisContext) -> tuple[list[str], str]:
    """The database hosts/pods whose own log shows a WAL write failing on a full disk (what a slot fills), and
    the first such line."""
    hosts: list[str] = []
    cite = ""
    for doc in obs.logs:
        line = next((line for line in doc.lines[:20000] if _WAL_ENOSPC.search(line)), None)
        source = doc_source(doc, ctx) if line else None
        host = (_JOURNAL_HOST.match(line) if line else None) or None
        cite = cite or (f"{doc.label} {excerpt(line.strip())}" if line else "")
        for name in (source, host.group("host") if host else None):
            if name and name not in hosts:
                hosts += [name, workload_of(name)] if workload_of(name) != name else [name]
    return hosts, cite


_JOURNAL_HOST = re.compile(r"^\s*[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d (?P<host>[a-z0-9][\w.-]*) ")


def _inactive_slots(lines: list[tuple[str, str, str]], full: tuple[list[str], str] = ([], "")) -> list[Finding]:
    """``pg_replication_slots``: an inactive slot keeps every WAL segment since its restart_lsn, so pg_wal grows
    until the disk is full (PostgreSQL docs, replication slots; max_slot_wal_keep_size)."""
    header: list[str] | None = None
    worst: tuple[float, str, str, str] | None = None  # bytes, slot, size text, cite
    for label, line, _ in lines:
        cells = [c.strip() for c in line.split("|")]
        if "slot_name" in cells and "active" in cells:
            header = cells
            continue
        if header is None or len(cells) != len(header):
            continue
        row = dict(zip(header, cells, strict=True))
        if row.get("active") not in ("f", "false", "False"):
            continue
        size = next((v for v in row.values() if _SIZE.fullmatch(v.strip())), None)
        if size is None and row.get("wal_status") in ("extended", "unreserved") and _wal_dir_size(lines):
            size = _wal_dir_size(lines)  # the slot holds WAL past max_wal_size; pg_ls_waldir() shows how much
        if size is None:
            continue
        found = _SIZE.fullmatch(size.strip())
        amount = float(found.group("amount")) * 1024 ** "KMGT".index(found.group("unit").upper()) if found else 0.0
        if worst is None or amount > worst[0]:
            worst = (amount, row.get("slot_name", "?"), size, f"{label} {excerpt(line.strip())}")
    if worst is None or worst[0] < 1024**2:  # under a GB retained: not what fills a disk
        return []
    return [
        Finding(
            kind="postgres_inactive_slot",
            subject=f"slot/{worst[1]}",
            role="cause",
            title=f"PostgreSQL replication slot {worst[1]} is inactive and retains {worst[2]} of WAL: nothing consumes it, so pg_wal grows until the disk is full",
            weight=92 if full[1] else 90,  # the database's own WAL write failing on the full disk confirms it
            evidence=[worst[3], *([full[1]] if full[1] else [])],
            workload="postgresql",
            related=["postgres", "postgresql", *full[0]],  # the database whose disk the WAL fills
            recommendations=[
                rec(
                    "high",
                    f"Reconnect the consumer of slot {worst[1]} or drop it (SELECT pg_drop_replication_slot('{worst[1]}')), and set max_slot_wal_keep_size so a slot cannot fill the disk again",
                ),
            ],
            affected=["postgresql"],
        )
    ]


def _elasticsearch_red(data: Any, label: str, doc_lines: list[str], obs: Observations) -> list[Finding]:
    """``_cluster/health`` red (a primary shard is unassigned) or yellow (a replica is): ``_cluster/allocation/explain``
    says why, in its deciders' ``NO`` explanations (e.g. ``same_shard``: a replica never goes on the node holding its
    primary, so a one-node cluster stays yellow for any index with replicas)."""
    status = data.get("status") if isinstance(data, dict) else None
    if status not in ("red", "yellow") or "unassigned_shards" not in data or not data.get("unassigned_shards"):
        return []
    explain = next(
        (
            d.data
            for d in obs.documents
            if isinstance(d.data, dict) and ("allocate_explanation" in d.data or "unassigned_info" in d.data)
        ),
        None,
    )
    cluster = str(data.get("cluster_name", "elasticsearch"))
    why = ""
    evidence = [f"{label} status: {status}"]
    if explain:
        raw_info = explain.get("unassigned_info")
        info: dict[str, Any] = raw_info if isinstance(raw_info, dict) else {}
        why = f"; shard {explain.get('shard')} of index {explain.get('index')} is unassigned ({info.get('reason', '?')}): {str(explain.get('allocate_explanation') or explain.get('can_allocate') or '')[:200]}"
        decider = _first_no_decider(explain)
        if decider:
            why += f"; decider {decider[0]} says NO: {decider[1][:220]}"
        source = next((d for d in obs.documents if d.data is explain), None)
        if source:
            evidence.append(source.quote(decider[0]) if decider else source.quote("allocate_explanation"))
    nodes = data.get("number_of_data_nodes", data.get("number_of_nodes"))
    if status == "yellow" and nodes == 1 and "same_shard" not in why:
        why += "; with a single data node no replica can be allocated (a replica never shares a node with its primary)"
    effect = (
        "including primaries, so searches and writes to those indices fail"
        if status == "red"
        else "all replicas: every primary is active, so data is served but has no redundancy"
    )
    return [
        Finding(
            kind="elasticsearch_red" if status == "red" else "elasticsearch_yellow",
            subject=f"elasticsearch/{cluster}",
            role="cause",
            title=f"Elasticsearch cluster {cluster} is {status}: {data.get('unassigned_shards')} shards are unassigned, {effect}{why}",
            weight=88 if status == "red" else 70,
            evidence=[e for e in evidence if e],
            workload=cluster,
            recommendations=[
                rec(
                    "high",
                    "Run GET _cluster/allocation/explain for the index and fix what it names (a lost node, disk watermarks, "
                    "a stale copy to restore from snapshot, or number_of_replicas above what the data nodes can hold)",
                )
            ],
            affected=[cluster],
        )
    ]


def _first_no_decider(explain: dict[str, Any]) -> tuple[str, str] | None:
    """The first allocation decider that answered NO, with its explanation, from the node decisions."""
    decisions = explain.get("node_allocation_decisions")
    for node in decisions if isinstance(decisions, list) else []:
        deciders = node.get("deciders") if isinstance(node, dict) else None
        for decider in deciders if isinstance(deciders, list) else []:
            if isinstance(decider, dict) and str(decider.get("decision", "")).upper() == "NO":
                return str(decider.get("decider", "?")), str(decider.get("explanation", ""))
    return None


# --- Kafka consumer group lag, Cassandra nodes down ------------------------------------------------------------

_LAG_HEADER = ("GROUP", "TOPIC", "PARTITION", "LAG")
_NO_MEMBERS = re.compile(r"Consumer group '(?P<group>[\w.-]+)' has no active members")


def _kafka_consumer_lag(lines: list[tuple[str, str, str]]) -> list[Finding]:
    """``kafka-consumer-groups --describe``: LAG is LOG-END-OFFSET minus CURRENT-OFFSET; a CONSUMER-ID of ``-`` (or
    "has no active members") means no consumer holds the partition, so the lag only grows."""
    header: list[str] = []
    groups: dict[str, list[tuple[int, bool, str]]] = {}  # group -> (lag, has consumer, cite)
    idle: set[str] = set()
    for label, line, _ in lines:
        cells = line.split()
        if all(column in cells for column in _LAG_HEADER):
            header = cells
            continue
        if (found := _NO_MEMBERS.search(line)) is not None:
            idle.add(found.group("group"))
        if not header or len(cells) != len(header):
            continue
        row = dict(zip(header, cells, strict=True))
        if row["LAG"].isdigit():
            consumer = row.get("CONSUMER-ID", "-") not in ("-", "")
            groups.setdefault(row["GROUP"], []).append((int(row["LAG"]), consumer, f"{label} {excerpt(line.strip())}"))
    findings: list[Finding] = []
    for group, rows in groups.items():
        total = sum(lag for lag, _, _ in rows)
        if total < 1000:
            continue
        orphaned = group in idle or not any(consumer for _, consumer, _ in rows)
        why = (
            "the group has no active members (CONSUMER-ID -), so nothing consumes and the lag only grows"
            if orphaned
            else "its consumers are connected but consume slower than producers write"
        )
        worst = max(rows)
        findings.append(
            Finding(
                kind="kafka_consumer_lag",
                subject=f"consumergroup/{group}",
                role="cause",
                title=f"Kafka consumer group {group} lags by {total} messages over {len(rows)} partition(s): {why}",
                weight=62 if orphaned else 55,
                evidence=[worst[2]],
                workload=group,
                recommendations=[
                    rec(
                        "high",
                        f"Find why {group}'s consumers are gone (crashed or scaled to zero pods, rebalance loop) and bring them back"
                        if orphaned
                        else f"Scale {group}'s consumers up to the partition count or speed up their processing",
                    )
                ],
                affected=[group],
            )
        )
    return findings


_NODETOOL_ROW = re.compile(
    r"^(?P<state>[UD][NLJM])\s+(?P<address>[\d.:a-f]+)\s+(?P<load>\S+(?:\s[KMGT]i?B)?|\?)\s+\d+\s+"
)


def _cassandra_down(lines: list[tuple[str, str, str]]) -> list[Finding]:
    """``nodetool status``: ``DN`` is a node down; with fewer live replicas than the consistency level needs, queries
    fail with UnavailableException."""
    down = [
        (label, line, m)
        for label, line, _ in lines
        if (m := _NODETOOL_ROW.match(line.strip())) and m.group("state")[0] == "D"
    ]
    if not down:
        return []
    up = sum(1 for _, line, _ in lines if (m := _NODETOOL_ROW.match(line.strip())) and m.group("state")[0] == "U")
    addresses = ", ".join(m.group("address") for _, _, m in down[:5])
    return [
        Finding(
            kind="cassandra_nodes_down",
            subject=f"cassandra/{down[0][2].group('address')}",
            role="cause",
            title=f"Cassandra node(s) {addresses} are down (DN in nodetool status, {up} up): queries needing more live replicas than remain (QUORUM, ALL) fail with UnavailableException",
            weight=86,
            evidence=[f"{label} {excerpt(line.strip())}" for label, line, _ in down[:2]],
            workload="cassandra",
            recommendations=[
                rec(
                    "high",
                    f"Bring {addresses} back (check their pods, disks and gossip logs); until then lower the consistency level only if stale reads are acceptable",
                )
            ],
            affected=[m.group("address") for _, _, m in down[:5]],
        )
    ]


# --- MySQL replication stopped -------------------------------------------------------------------------------

_MYSQL_FIELD = re.compile(
    r"^\s*(?P<key>(?:Replica|Slave)_(?:SQL|IO)_Running|Last_(?:SQL|IO)_Errno|Last_(?:SQL|IO)_Error|LAST_ERROR_MESSAGE|Seconds_Behind_(?:Source|Master))\s*:\s*(?P<value>.*)$"
)


def _mysql_replication(lines: list[tuple[str, str, str]], ctx: AnalysisContext) -> list[Finding]:
    """``SHOW REPLICA STATUS`` (MySQL docs): a replica whose SQL or IO thread is not running has stopped
    replicating; Last_*_Errno/Error (and the applier's LAST_ERROR_MESSAGE) say why."""
    fields: dict[str, tuple[str, str]] = {}
    for label, line, _ in lines:
        found = _MYSQL_FIELD.match(line)
        if found:
            key = found.group("key").replace("Slave_", "Replica_").replace("_Master", "_Source")
            fields.setdefault(key, (found.group("value").strip(), f"{label} {excerpt(line.strip())}"))
    thread = next((t for t in ("SQL", "IO") if fields.get(f"Replica_{t}_Running", ("",))[0] == "No"), None)
    if thread is None:
        return []
    errno = fields.get(f"Last_{thread}_Errno", ("", ""))
    error = fields.get("LAST_ERROR_MESSAGE") or fields.get(f"Last_{thread}_Error") or ("", "")
    replica = (
        (ctx.focus.owner() if ctx.focus else None) or (ctx.question.named if ctx.question else None) or "the replica"
    )
    known = {
        "1062": "a duplicate key: the row already exists on the replica",
        "1032": "a row the event changes does not exist on the replica",
        "1146": "a table that does not exist on the replica",
    }
    meaning = f" ({known[errno[0]]})" if errno[0] in known else ""
    detail = f"error {errno[0]}{meaning}" if errno[0] else "an error"
    evidence = [fields[f"Replica_{thread}_Running"][1], *(cite for _, cite in (errno, error) if cite)]
    return [
        Finding(
            kind="mysql_replication_stopped",
            subject=f"pod/{replica}",
            role="cause",
            title=f"{replica}: MySQL replication has stopped: the replica's {thread} thread is not running (Replica_{thread}_Running=No) after {detail}: {error[0][:200]}",
            weight=90,
            evidence=evidence,
            workload=workload_of(replica) if replica != "the replica" else None,
            recommendations=[
                rec(
                    "high",
                    "Fix the conflicting row (or skip that transaction after checking it) and START REPLICA; then compare source and replica data (pt-table-checksum)",
                ),
            ],
            affected=[replica],
        )
    ]


# --- Redis NOAUTH: a client without a password ------------------------------------------------------------------


def _redis_noauth(lines: list[tuple[str, str, str]], ctx: AnalysisContext) -> list[Finding]:
    noauth = next(((label, line) for label, line, _ in lines if _NOAUTH.search(line)), None)
    if noauth is None:
        return []
    env: dict[str, str] = {}
    for label, line, _ in lines:
        for found in [*_ENV_JSON.finditer(line), *_ENV_DESCRIBE.finditer(line)]:
            env.setdefault(found.group("name"), f"{label} {excerpt(line.strip())}")
    redis_vars = [name for name in env if "REDIS" in name]
    if not redis_vars or any(word in name for name in redis_vars for word in _SECRET_WORDS):
        return []
    client = ctx.service or (ctx.question.named if ctx.question else None) or "the client"
    return [
        Finding(
            kind="redis_client_without_password",
            subject=f"service/{client}",
            role="cause",
            title=f"{client} connects to Redis without a password: its environment sets only {', '.join(sorted(redis_vars))} and no REDIS_PASSWORD (or secret) variable, while Redis now requires one (requirepass), so every command fails with NOAUTH Authentication required",
            weight=90,
            evidence=[f"{noauth[0]} {excerpt(noauth[1].strip())}", *(env[name] for name in sorted(redis_vars)[:2])],
            workload=workload_of(client) if client != "the client" else None,
            recommendations=[
                rec(
                    "high",
                    f"Give {client} the Redis password from the Redis Secret (env REDIS_PASSWORD via secretKeyRef) and restart it",
                ),
            ],
            affected=[client],
        )
    ]
