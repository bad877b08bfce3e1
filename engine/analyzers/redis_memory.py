"""Redis full at maxmemory, read from ``redis-cli INFO`` (memory, keyspace) next to the clients' OOM errors.

Redis refuses writes with "OOM command not allowed when used memory > 'maxmemory'" when it reached ``maxmemory``
and its ``maxmemory-policy`` cannot free anything: ``noeviction`` evicts nothing, and the ``volatile-*`` policies
evict only keys with a TTL, so with ``expires=0`` in the keyspace they behave the same. Keys written without a TTL
never expire either: memory only grows until the limit.
"""
# ruff: noqa: E501  (user-facing messages read better unwrapped)

from __future__ import annotations

import re
from collections.abc import Iterator

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import rec
from engine.analyzers.log_signatures import doc_source
from engine.facts import Observations
from engine.findings import Finding, workload_of
from engine.parsers.common import excerpt

_FIELD = re.compile(
    r"^\s*(?P<key>used_memory|used_memory_human|maxmemory|maxmemory_human|maxmemory_policy):(?P<value>\S+)\s*$"
)
_KEYSPACE = re.compile(r"^\s*db\d+:keys=(?P<keys>\d+),expires=(?P<expires>\d+)")
_OOM = re.compile(r"OOM command not allowed when used memory > 'maxmemory'")
_CLI = re.compile(
    r"\bexec\s+(?:(?:-n|--namespace|-c|--container)[ =]\S+\s+|-\S+\s+)*(?:pods?/)?(?P<pod>[a-z0-9][a-z0-9.-]*)[^|]*?\bredis-cli\b"
    r"|\bredis-cli\b[^|]*?\s-h\s+(?P<host>[A-Za-z0-9][\w.-]*)"
    r"|^\s*\[?[\w.-]+@(?P<prompt>[a-z0-9][\w.-]*)[^#$]*[#$]\s+(?:sudo\s+)?redis-cli\b"
)


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    fields: dict[str, tuple[str, str]] = {}  # key -> (value, evidence)
    keyspace: tuple[int, int, str] | None = None
    name: str | None = None
    for label, command, line in _lines(obs):
        cli = _CLI.search(line) or _CLI.search(command)
        if cli:
            name = name or cli.group("pod") or cli.group("host") or cli.group("prompt")
        field = _FIELD.match(line)
        if field:
            fields.setdefault(field.group("key"), (field.group("value"), f"{label} {excerpt(line.strip())}"))
        space = _KEYSPACE.match(line)
        if space and keyspace is None:
            keyspace = (int(space.group("keys")), int(space.group("expires")), f"{label} {excerpt(line.strip())}")
    policy = fields.get("maxmemory_policy")
    if policy is None:
        return []
    clients = _oom_clients(obs, ctx)
    used, limit = fields.get("used_memory"), fields.get("maxmemory")
    at_limit = bool(
        used
        and limit
        and used[0].isdigit()
        and limit[0].isdigit()
        and int(limit[0]) > 0
        and int(used[0]) >= 0.95 * int(limit[0])
    )
    if not clients and not at_limit:
        return []
    no_ttl = keyspace is not None and keyspace[0] > 0 and keyspace[1] == 0
    value = policy[0]
    if value == "noeviction":
        why = "maxmemory-policy noeviction evicts nothing"
    elif value.startswith("volatile-") and no_ttl:
        why = f"maxmemory-policy {value} evicts only keys with a TTL and there are none"
    else:
        why = f"maxmemory-policy {value} cannot free enough"
    ttl = (
        f"; none of its {keyspace[0]} keys has a TTL (expires=0), so nothing ever expires and memory only grows"
        if no_ttl and keyspace
        else ""
    )
    shown_used = (fields.get("used_memory_human") or used or ("?", ""))[0]
    shown_limit = (fields.get("maxmemory_human") or limit or ("?", ""))[0]
    who = name or "Redis"
    evidence = [policy[1]]
    evidence += [
        e
        for e in ((fields.get("used_memory_human") or used or ("", ""))[1], keyspace[2] if no_ttl and keyspace else "")
        if e
    ]
    evidence += [cite for _, cite in clients[:1]]
    others = [client for client, _ in clients if not name or client != workload_of(name)]
    return [
        Finding(
            kind="redis_full_noeviction",
            subject=f"redis:{who}",
            role="cause",
            title=f"Redis {who} is full (used_memory {shown_used} of maxmemory {shown_limit}) and {why}, so it refuses writes (OOM command not allowed when used memory > 'maxmemory'){ttl}",
            weight=92,
            evidence=list(dict.fromkeys(evidence)),
            workload=workload_of(name) if name else None,
            recommendations=[
                rec(
                    "high",
                    f"Give the keys a TTL (EXPIRE / SET ... EX) or switch {who} to an evicting policy (allkeys-lru for a cache); raise maxmemory only with the node's memory headroom",
                )
            ],
            affected=[who] if name else [],
            related=others,
        )
    ]


def _oom_clients(obs: Observations, ctx: AnalysisContext) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for doc in obs.logs:
        line = next((line for line in doc.lines[:20000] if _OOM.search(line)), None)
        source = doc_source(doc, ctx) if line else None
        if line and source and workload_of(source) not in {c for c, _ in found}:
            found.append((workload_of(source), f"{doc.label} {excerpt(line.strip())}"))
    return found


def _lines(obs: Observations) -> Iterator[tuple[str, str, str]]:
    for text in obs.texts:
        for line in text.lines[:20000]:
            yield text.label, text.command, line
    for doc in obs.logs:
        for line in doc.lines[:20000]:
            yield doc.label, doc.command, line
