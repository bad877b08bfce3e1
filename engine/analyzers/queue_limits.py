"""A RabbitMQ queue at the max-length its policy sets, with an overflow mode that refuses new messages.

A ``max-length`` (or ``max-length-bytes``) policy with ``overflow: reject-publish`` (or ``reject-publish-dlx``)
makes the broker nack every publish once the queue holds that many messages (rabbitmq.com/docs/maxlength);
the broker raises no alarm, the publisher only sees its confirms nacked. ``rabbitmqctl list_policies`` prints the
definition, ``list_queues`` the queue's depth and consumers.
"""
# ruff: noqa: E501  (user-facing messages read better unwrapped)

from __future__ import annotations

import json
import re
from collections.abc import Iterator

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import rec
from engine.analyzers.datastore_text import text_lines
from engine.analyzers.log_signatures import doc_source
from engine.facts import Observations
from engine.findings import Finding
from engine.parsers.common import excerpt

_POLICY = re.compile(
    r"^\s*(?:\S+\s+)?(?P<name>[\w.:-]+)\s+(?P<pattern>\S+)\s+(?:queues|all|classic_queues|quorum_queues|streams)\s+(?P<definition>\{.*\})"
)
_REJECTING = ("reject-publish", "reject-publish-dlx")
_NACKED = re.compile(r"\bnack(?:ed)?\b|basic\.nack|rejected by (?:the )?broker|reject-publish", re.IGNORECASE)
_CELLS = re.compile(r"\t|\s{2,}|\s*\|\s*")


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    lines = list(text_lines(obs))
    policies = list(_policies(lines))
    if not policies:
        return []
    header: list[str] = []
    for label, line in lines:
        cells = [c for c in _CELLS.split(line.strip()) if c]
        if "name" in cells and "messages" in cells:
            header = cells
            continue
        if not header or len(cells) < 2:
            continue
        row = dict(zip(header, cells, strict=False))
        depth = row.get("messages", "")
        if not depth.isdigit():
            header = [] if not cells[0].strip() else header
            continue
        for name, pattern, limit, overflow, cite in policies:
            applies = row.get("policy") == name or (row.get("policy") in (None, "") and _matches(pattern, row["name"]))
            if applies and int(depth) >= limit:
                publishers = [
                    source
                    for doc in obs.logs
                    if any(_NACKED.search(ln) for ln in doc.lines[:20000]) and (source := doc_source(doc, ctx))
                ]
                return [_finding(row, name, limit, overflow, cite, f"{label} {excerpt(line.strip())}", publishers)]
    return []


def _matches(pattern: str, queue: str) -> bool:
    try:
        return re.search(pattern, queue) is not None
    except re.error:
        return False


def _policies(lines: list[tuple[str, str]]) -> Iterator[tuple[str, str, int, str, str]]:
    for label, line in lines:
        match = _POLICY.match(line) if "{" in line and len(line) < 4096 else None
        if match is None:
            continue
        try:
            definition = json.loads(match.group("definition"))
        except ValueError:
            continue
        limit = definition.get("max-length") if isinstance(definition, dict) else None
        overflow = definition.get("overflow", "drop-head") if isinstance(definition, dict) else ""
        if isinstance(limit, int) and overflow in _REJECTING:
            yield match.group("name"), match.group("pattern"), limit, overflow, f"{label} {excerpt(line.strip())}"


def _finding(
    row: dict[str, str],
    policy: str,
    limit: int,
    overflow: str,
    policy_cite: str,
    queue_cite: str,
    publishers: list[str],
) -> Finding:
    queue = row["name"]
    consumers = row.get("consumers", "")
    idle = f", and it has {consumers} consumers, so nothing drains it" if consumers == "0" else ""
    return Finding(
        kind="rabbitmq_queue_full",
        subject=f"rabbitmq:{queue}",
        role="cause",
        title=(
            f"RabbitMQ queue {queue} is full: it holds {row['messages']} messages, the max-length {limit} of policy {policy} "
            f"with overflow {overflow}, so the broker rejects (nacks) every new publish to it{idle}"
        ),
        weight=90,
        evidence=[queue_cite, policy_cite],
        workload=queue,
        recommendations=[
            rec("high", f"Restore the consumers of {queue} (or move its backlog) so it drains below {limit}"),
            rec(
                "medium",
                f"Revisit policy {policy}: a larger max-length, or overflow drop-head/a dead-letter exchange if losing messages is acceptable",
            ),
        ],
        affected=[queue],
        related=publishers,  # the publishers whose confirms it nacks
    )
