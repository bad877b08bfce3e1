"""Pods the default scheduler never places: another scheduler that is not running, or a nodeName set by hand.

- ``spec.schedulerName`` names the scheduler that must bind the pod (kubernetes.io/docs/tasks/extend-kubernetes/
  configure-multiple-schedulers/). When that scheduler (Volcano, YuniKorn, a custom one) is not running, nobody
  looks at the pod: it stays Pending with no events at all, while the nodes are idle.
- ``spec.nodeName`` set by a controller or a dispatcher bypasses the scheduler: the kubelet of that node admits the
  pod or rejects it (``OutOfcpu``/``OutOfmemory``: "Node didn't have enough resource"), however empty the other
  nodes are, and retrying with the same placement fails again.
"""
# ruff: noqa: E501  (user-facing messages read better unwrapped)

from __future__ import annotations

import difflib
import re

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import every_line, rec, workload_name
from engine.facts import Observations
from engine.findings import Finding, workload_of
from engine.parsers.common import excerpt

_SCHEDULER_NAME = re.compile(r"\"?schedulerName\"?\s*[:=]\s*\"?(?P<name>[a-z0-9][\w.-]*)\"?")
_DEFAULT = frozenset({"default-scheduler", "null"})
_NOT_RUNNING_ROW = re.compile(r"^(?P<name>[a-z0-9][\w.-]*)\s+(?P<ready>0/\d+)\s")
_NODE_NAME = re.compile(r"(?:spec\.)?\"?nodeName\"?\s*[:=]\s*\"?(?P<node>[a-z0-9][\w.-]*)\"?")
_OUT_OF = re.compile(
    r"\bOutOf(?P<what>cpu|memory|pods|ephemeral-storage)\b|Node didn't have enough resource: (?P<res>[\w.-]+)"
)


def _cite(label: str, line: str, around: str) -> str:
    return f"{label} {excerpt(line.strip(), around=around)}"


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    return [*_scheduler_not_running(obs), *_node_name_bypass(obs), *_queue_missing(obs)]


_QUEUE_LABEL = "kueue.x-k8s.io/queue-name"
_NO_QUEUE = re.compile(r"LocalQueue (?P<queue>[a-z0-9][\w.-]*) (?:doesn't|does not|not) exist")


def _local_queues(obs: Observations) -> tuple[list[str], str]:
    """The LocalQueues ``kubectl get localqueue`` listed (first column), with the table's label."""
    for text in obs.texts:
        if "localqueue" in text.command.replace(" ", "") or (
            text.lines and re.match(r"NAME\s+CLUSTERQUEUE\b", text.lines[0])
        ):
            return [line.split()[0] for line in text.lines[1:] if line.split()], text.label
    return [], ""


def _queue_missing(obs: Observations) -> list[Finding]:
    """Kueue holds a pod behind the ``kueue.x-k8s.io/admission`` scheduling gate until it admits its Workload; a
    Workload naming a LocalQueue that does not exist in the namespace is never admitted (Inadmissible), so the pods
    stay SchedulingGated with no scheduler events at all."""
    queues, table = _local_queues(obs)
    said = next(
        ((m.group("queue"), label, line) for label, line in every_line(obs) if (m := _NO_QUEUE.search(line))), None
    )
    labelled = [p for p in obs.pods if p.labels.get(_QUEUE_LABEL)]
    if said is None and queues:
        absent = next((p for p in labelled if p.labels[_QUEUE_LABEL] not in queues), None)
        if absent is not None:
            queue = absent.labels[_QUEUE_LABEL]
            said = next(
                ((queue, label, line) for label, line in every_line(obs) if _QUEUE_LABEL in line and queue in line),
                None,
            )
    if said is None:
        return []
    queue, label, line = said
    gated = {p.name: p for p in labelled if p.labels[_QUEUE_LABEL] == queue}
    for _lbl, ln in every_line(obs):
        if "SchedulingGated" in ln and ln.split() and not ln.startswith(" "):
            name = ln.split()[0]
            pod = next((p for p in obs.pods if p.name == name), None)
            if pod is not None:
                gated.setdefault(name, pod)
    if not gated:
        return []
    first = next((p for p in gated.values() if p.labels), next(iter(gated.values())))
    workload = workload_name(first)
    close = difflib.get_close_matches(queue, queues, n=1, cutoff=0.6)
    meant = f"; the namespace's LocalQueues are {', '.join(queues)}" if queues else ""
    if close:
        meant = f"; the namespace has LocalQueue {close[0]} (a similar name){' among ' + ', '.join(queues) if len(queues) > 1 else ''}"
    evidence = [_cite(label, line, queue)]
    if table:
        evidence.append(
            next(
                (
                    _cite(table, ln, close[0])
                    for t in obs.texts
                    if t.label == table
                    for ln in t.lines
                    if close and ln.startswith(close[0] + " ")
                ),
                "",
            )
        )
    return [
        Finding(
            kind="kueue_localqueue_missing",
            subject=f"{workload}:kueue_localqueue_missing",
            role="cause",
            title=(
                f"{workload}: its pods ({', '.join(list(gated)[:3])}) stay SchedulingGated behind Kueue's admission gate because their queue label "
                f"{_QUEUE_LABEL}: {queue} names a LocalQueue that doesn't exist, so Kueue never admits the Workload{meant}"
            ),
            weight=93,
            evidence=[e for e in evidence if e],
            workload=workload,
            affected=[workload, *list(gated)[:6]],
            related=[queue, *close],
            recommendations=[
                rec(
                    "high",
                    f"Set the {_QUEUE_LABEL} label of {workload}'s pod template to an existing LocalQueue{f' ({close[0]})' if close else ''}, or create LocalQueue {queue} pointing at the right ClusterQueue; Kueue then admits the Workload and removes the gate",
                ),
            ],
        )
    ]


def _scheduler_not_running(obs: Observations) -> list[Finding]:
    named = next(
        (
            (m.group("name"), label, line)
            for label, line in every_line(obs)
            if (m := _SCHEDULER_NAME.search(line)) and m.group("name") not in _DEFAULT
        ),
        None,
    )
    if named is None:
        return []
    scheduler, label, line = named
    down = next(
        (
            (m.group("name"), m.group("ready"), lbl, ln)
            for lbl, ln in every_line(obs)
            if (m := _NOT_RUNNING_ROW.match(ln.strip()))
            and (m.group("name") == scheduler or (scheduler in m.group("name") and "scheduler" in m.group("name")))
        ),
        None,
    )
    pending = [p for p in obs.pods if (p.phase or "").lower() == "pending" or (p.status_reason or "") == "Pending"]
    pending = [p for p in pending if not p.node or p.node == "<none>"]
    if down is None or not pending:
        return []
    deploy, ready, dlabel, dline = down
    names = list(dict.fromkeys(p.name for p in pending))
    workload = workload_name(next((p for p in pending if p.owner_name or p.labels), pending[0]))
    return [
        Finding(
            kind="scheduler_not_running",
            subject=f"{workload}:scheduler_not_running",
            role="cause",
            title=(
                f"{workload}: pods {', '.join(names[:4])} set schedulerName: {scheduler}, but that scheduler is not running ({deploy} is {ready} ready), "
                f"so no scheduler ever looks at them: they stay Pending with no events however idle the nodes are"
            ),
            weight=93,
            evidence=[_cite(label, line, scheduler), _cite(dlabel, dline, deploy)],
            workload=workload,
            affected=[workload, *names],
            related=[deploy],
            recommendations=[
                rec(
                    "high",
                    f"Bring {deploy} back (scale it up and keep whatever scaled it down, e.g. a downscaler schedule, away from it), or remove schedulerName: {scheduler} so default-scheduler places the pods",
                ),
            ],
        )
    ]


def _node_name_bypass(obs: Observations) -> list[Finding]:
    rejected = [p for p in obs.pods if _OUT_OF.search(f"{p.status_reason or ''} {p.status_message or ''}")]
    rejected = list({p.name: p for p in rejected}.values())
    events = [e for e in obs.events if e.object_name and _OUT_OF.search(f"{e.reason} {e.message}")]
    names = list(dict.fromkeys([*(p.name for p in rejected), *(e.object_name or "" for e in events)]))
    if not names:
        return []
    nodes = {p.node.rstrip("/") for p in rejected if p.node}
    pinned = next(
        (
            (m.group("node"), label, line)
            for label, line in every_line(obs)
            if (m := _NODE_NAME.search(line)) and (m.group("node") in nodes or any(n in line for n in names))
        ),
        None,
    )
    if pinned is None:
        return []
    node, label, line = pinned
    found = next(
        (m for p in rejected if (m := _OUT_OF.search(f"{p.status_reason or ''} {p.status_message or ''}"))), None
    )
    found = found or next((m for e in events if (m := _OUT_OF.search(f"{e.reason} {e.message}"))), None)
    what = (found.group("what") or found.group("res") or "cpu") if found else "cpu"
    labelled = next((p for p in rejected if p.owner_name or p.labels), rejected[0] if rejected else None)
    workload = workload_name(labelled) if labelled else workload_of(names[0])
    setter = next(
        ((lbl, ln) for lbl, ln in every_line(obs) if "nodeName" in ln and node in ln and lbl != label),
        None,
    )
    evidence = [_cite(label, line, node)]
    if setter:
        evidence.append(_cite(setter[0], setter[1], "nodeName"))
    evidence.extend(e.cite for e in events[:1] if e.cite)
    return [
        Finding(
            kind="node_name_bypass",
            subject=f"{workload}:node_name_bypass",
            role="cause",
            title=(
                f"{workload}: its pods are created with spec.nodeName {node} set directly, which bypasses the scheduler: the kubelet of {node} admits or rejects them on its own "
                f"and rejects them OutOf{what} ({len(names)} pods) because that node is full, while the scheduler would have placed them on the empty nodes"
            ),
            weight=92,
            evidence=evidence,
            workload=workload,
            affected=[workload, *names[:6]],
            related=[node],
            recommendations=[
                rec(
                    "high",
                    "Stop pinning the pods with spec.nodeName: express the placement preference as preferred node affinity (or a nodeSelector) so the scheduler checks room first, and stop retrying with the same node",
                ),
            ],
        )
    ]
