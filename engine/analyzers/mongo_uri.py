"""A MongoDB client pinned to one replica-set member that is no longer the primary.

A connection string with ``directConnection=true`` (or a single host without ``replicaSet=``) talks to that one
member only (mongodb.com/docs/manual/reference/connection-string-options/#mongodb-urioption-urioption.directConnection):
the driver never discovers the replica set, so after an election moves the primary elsewhere every write to it
fails with ``not primary`` (NotWritablePrimary, code 10107) while clients with the replica-set URI follow the new
primary. ``rs.status()`` shows which member is primary now.
"""
# ruff: noqa: E501  (user-facing messages read better unwrapped)

from __future__ import annotations

import re

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import rec
from engine.analyzers.datastore_text import text_lines
from engine.analyzers.log_signatures import doc_source
from engine.facts import Observations
from engine.findings import Finding, workload_of
from engine.parsers.command_line import command_object
from engine.parsers.common import excerpt

_NOT_PRIMARY = re.compile(
    r"not primary|NotWritablePrimary|NotPrimary(?:NoSecondaryOk|OrSecondary)?Error|not master\b|NotMasterError"
)
_URI = re.compile(r"mongodb://(?:[^@\s/]*@)?(?P<hosts>[\w.:,\[\]-]+)(?:/[\w.-]*)?(?:\?(?P<params>[^\s'\"]*))?")
_MEMBER = re.compile(
    r"name[\"']?\s*:\s*[\"'](?P<host>[\w.-]+)(?::\d+)?[\"'][^{}]{0,200}?state(?:Str)?[\"']?\s*:\s*[\"'](?P<state>PRIMARY|SECONDARY|RECOVERING|ARBITER)[\"']"
)


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    failing = [(doc, line) for doc in obs.logs for line in doc.lines[:20000] if _NOT_PRIMARY.search(line)]
    if not failing:
        return []
    client = doc_source(failing[0][0], ctx) or (ctx.service or "")
    lines = list(text_lines(obs))
    members = {m.group("host"): m.group("state") for m in _MEMBER.finditer("\n".join(line for _, line in lines))}
    owner = ""
    for label, line in lines:
        if line.lstrip().startswith("$"):
            found = command_object(line)
            owner = found[1] if found else ""
            continue
        uri = _URI.search(line)
        if uri is None:
            continue
        hosts = uri.group("hosts").split(",")
        params = uri.group("params") or ""
        direct = "directconnection=true" in params.lower() or (len(hosts) == 1 and "replicaset=" not in params.lower())
        if not direct or (owner and client and workload_of(owner) != workload_of(client)):
            continue
        host = hosts[0].split(":")[0]
        return [_finding(client or owner, host, params, members, f"{label} {excerpt(line.strip())}", failing[0])]
    return []


def _finding(
    client: str, host: str, params: str, members: dict[str, str], cite: str, failing: tuple[object, str]
) -> Finding:
    how = "directConnection=true" if "directconnection=true" in params.lower() else "a single host and no replicaSet"
    state = members.get(host)
    primary = next((h for h, s in members.items() if s == "PRIMARY"), None)
    now = (
        f", which is now a {state}" + (f" ({primary.split('.')[0]} is PRIMARY after an election)" if primary else "")
        if state and state != "PRIMARY"
        else ""
    )
    doc, line = failing
    label = getattr(doc, "label", "")
    return Finding(
        kind="mongo_direct_connection",
        subject=f"mongodb:{host}",
        role="cause",
        title=(
            f"{client}'s MongoDB connection string uses {how} to {host.split('.')[0]} only{now}: a direct connection never follows "
            f"the primary, so every write gets 'not primary' while replica-set clients follow the new primary"
        ),
        weight=92,
        evidence=[cite, f"{label} {excerpt(line.strip(), around='not primary')}"],
        workload=client or None,
        recommendations=[
            rec(
                "high",
                f"Give {client} the replica-set connection string (all members, replicaSet=<name>, no directConnection) so the driver follows elections",
            )
        ],
        affected=[client] if client else [],
    )
