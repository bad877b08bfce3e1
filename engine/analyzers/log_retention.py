"""Retention that is configured but switched off, on a store whose volume fills up.

Loki deletes old chunks only when the compactor runs with ``retention_enabled: true``; ``limits_config.
retention_period`` (or ``table_manager.retention_period`` with ``retention_deletes_enabled: false``) alone is
accepted and does nothing, so the volume grows forever although "retention is 14d". Mimir and Cortex have the same
pair (``compactor_blocks_retention_period`` defaults to 0 = keep forever). When the disk or PVC that holds the data is
filling up, the disabled switch is the cause, not the size of the volume.
"""
# ruff: noqa: E501  (messages read better unwrapped)

from __future__ import annotations

import re

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import rec
from engine.facts import LogDoc, Observations, TextDoc
from engine.findings import Finding, workload_of
from engine.parsers.common import excerpt

_SWITCH_OFF = re.compile(
    r"^\s*(?:[\w.]*\.)?(?P<key>retention_enabled|retention_deletes_enabled)\s*[:=]\s*[\"']?false\b", re.IGNORECASE
)
_PERIOD = re.compile(r"^\s*(?:[\w.]*\.)?(?P<key>retention_period)\s*[:=]\s*[\"']?(?P<value>\d+[smhdwy]?)\b")
_FILLING = re.compile(
    r"FillingUp|\bdisk\b|\bfull\b|no space left|out of space|\bgrow|filling|\bspace\b|\bPVC\b|volume", re.IGNORECASE
)
_DF_FULL = re.compile(r"\s(?P<pct>\d{2,3})%\s+/\S*")


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    docs: list[TextDoc | LogDoc] = [*obs.texts, *obs.logs]
    for doc in docs:
        off = next(((line, m) for line in doc.lines if (m := _SWITCH_OFF.search(line))), None)
        if off is None:
            continue
        period = next((m for line in doc.lines if (m := _PERIOD.search(line))), None)
        if period is None or re.fullmatch(r"0+[smhdwy]?", period.group("value")):
            continue
        if not _filling(obs, ctx):
            continue
        labels = dict(ctx.question.labels) if ctx.question else {}
        claim = labels.get("persistentvolumeclaim")
        who = workload_of(claim) if claim else "log store"
        key = off[1].group("key")
        return [
            Finding(
                kind="retention_disabled",
                subject=f"{who}:retention_disabled",
                role="cause",
                title=f"{who}: {key} is false, so retention_period {period.group('value')} is never applied: the compactor deletes no old data (retention disabled) and the volume keeps growing until it is full",
                weight=91,
                evidence=[f"{doc.label} {excerpt(off[0].strip())}", f"{doc.label} {excerpt(period.group(0).strip())}"],
                workload=who,
                related=[claim] if claim else [],
                affected=[who],
                recommendations=[
                    rec(
                        "high",
                        f"Set {key}: true (Loki: compactor.retention_enabled with a delete_request_store) and restart the compactor; it then deletes data older than retention_period. Free space now by expanding the volume if it is about to fill",
                    )
                ],
            )
        ]
    return []


def _filling(obs: Observations, ctx: AnalysisContext) -> bool:
    question = ctx.question
    asked = " ".join([question.message, *(v for _, v in question.labels)]) if question else ""
    if _FILLING.search(asked) or any(_FILLING.search(a.name) for a in obs.alerts):
        return True
    docs: list[TextDoc | LogDoc] = [*obs.texts, *obs.logs]
    return any((m := _DF_FULL.search(line)) and int(m.group("pct")) >= 80 for doc in docs for line in doc.lines[:500])
