"""A ranking question ("which pod uses the most memory?", "top CPU consumers in payments") answered from usage data.

``kubectl top pod|node`` tables (with or without ``--containers`` / ``-A``) and metrics.k8s.io ``PodMetrics`` /
``NodeMetrics`` objects give each object's current CPU and memory. The question is answered with the object that
uses the most of the resource asked about, its figure as kubectl prints it, and the runners-up, not with a root
cause: a pod that uses the most memory is not broken for that alone.
"""
# ruff: noqa: E501  (patterns read better unwrapped)

from __future__ import annotations

import re
from dataclasses import dataclass, field

from engine.facts import Observations, UsageFact
from engine.models import Recommendation, Report, RootCause
from engine.parsers.common import millicores, quantity_bytes

_RESOURCE = r"(?:cpu|memory|mem|ram|rss)"
RANKING = re.compile(
    # "which pod uses the most memory?", "what is eating the most CPU in shop", "who has the highest memory"
    rf"\b(?:which|what|who)\b[^.?!]{{0,40}}?\b(?:uses?|using|consum(?:es?|ing)|eat(?:s|ing)?|hog(?:s|ging)?|takes?|taking|has|have|burn(?:s|ing)?|needs?)\b"
    rf"[^.?!]{{0,20}}?\b(?:the\s+)?(?:most|highest|largest|biggest|greatest|heaviest)\b[^.?!]{{0,15}}?\b{_RESOURCE}\b"
    # "top CPU consumers", "top 5 memory users", "top pods by memory", "top consumers of cpu"
    rf"|\btop\s+(?:\d+\s+)?(?:{_RESOURCE}\s+(?:consumers?|users?|hogs?|eaters?|pods?|containers?|nodes?|workloads?)\b"
    rf"|(?:pods?|containers?|nodes?|workloads?|consumers?|users?)\s+(?:by|of|for|in terms of)\s+(?:\w+\s+)?{_RESOURCE}\b)"
    # "highest memory usage in namespace X", "biggest CPU consumer", "memory hogs"
    rf"|\b(?:highest|most|biggest|largest|heaviest|greatest)\s+{_RESOURCE}\s+(?:usage|use|consumers?|users?|hogs?|consumption|footprint)\b"
    rf"|\b{_RESOURCE}\s+hogs?\b|\b(?:which|what|who)\b[^.?!]{{0,40}}?\bhog(?:s|ging)\b[^.?!]{{0,10}}?\b(?:the\s+|all\s+(?:the\s+)?)?{_RESOURCE}\b"
    # "sort the pods by memory", "rank nodes by cpu usage", "list pods ordered by memory"
    rf"|\b(?:sort|rank|order)(?:ed|ing)?\b[^.?!]{{0,30}}?\bby\s+(?:\w+\s+)?{_RESOURCE}\b",
    re.IGNORECASE,
)
_MEMORY = re.compile(r"\b(?:memory|mem|ram|rss)\b", re.IGNORECASE)
_CPU = re.compile(r"\bcpu\b", re.IGNORECASE)
_NODES = re.compile(r"\bnodes?\b", re.IGNORECASE)
_CONTAINERS = re.compile(r"\bcontainers?\b", re.IGNORECASE)
_NAMESPACE = re.compile(
    r"\b(?:in|of|for|across)\s+(?:the\s+)?(?:namespace|ns)\s+[`'\"]?([a-z0-9][a-z0-9-]*)"
    r"|\b(?:in|of|for)\s+(?:the\s+)?[`'\"]?([a-z0-9][a-z0-9-]*)[`'\"]?\s+(?:namespace|ns)\b"
    r"|(?:-n\s+|--namespace[= ])([a-z0-9][a-z0-9-]*)",
    re.IGNORECASE,
)
MAX_RUNNERS_UP = 4


def is_ranking(message: str) -> bool:
    return RANKING.search(message) is not None


@dataclass
class _Total:
    kind: str
    name: str
    namespace: str | None
    cpu: int | None = None
    memory: int | None = None
    cites: list[str] = field(default_factory=list)


def _add(total: _Total, usage: UsageFact) -> None:
    if usage.cpu_millicores is not None:
        total.cpu = (total.cpu or 0) + usage.cpu_millicores
    if usage.memory_bytes is not None:
        total.memory = (total.memory or 0) + usage.memory_bytes
    if usage.cite and usage.cite not in total.cites:
        total.cites.append(usage.cite)


def _totals(obs: Observations, want: str) -> list[_Total]:
    """One total per object of the kind asked about: a pod's containers (``--containers``, PodMetrics) added up."""
    totals: dict[tuple[str | None, str], _Total] = {}
    for usage in obs.usage:
        if want == "node" and usage.kind != "node":
            continue
        if want == "pod" and usage.kind == "node":
            continue
        name = usage.name
        if want == "pod" and usage.kind == "container":
            name = name.split("/", 1)[0]
        key = (usage.namespace, name)
        total = totals.setdefault(key, _Total(want, name, usage.namespace))
        _add(total, usage)
    return list(totals.values())


def _memory(value: int) -> str:
    mib = value / 2**20
    shown = f"{mib:.0f}Mi"
    return f"{shown} ({value / 2**30:.1f} GiB)" if value >= 2**30 else shown


def _cpu(value: int) -> str:
    return f"{value}m ({value / 1000:g} cores)" if value >= 1000 else f"{value}m"


def _figure(total: _Total, resource: str) -> str:
    if resource == "memory":
        return _memory(total.memory or 0)
    return _cpu(total.cpu or 0)


def _limit_share(total: _Total, obs: Observations, resource: str) -> str:
    """ "(90% of its 2Gi limit)" when the pod's limits were read too: how close the top consumer is to being killed."""
    if total.kind != "pod":
        return ""
    pod = next((p for p in obs.pods if p.name == total.name), None)
    if pod is None or not pod.containers:
        return ""
    if resource == "memory":
        limits = [quantity_bytes(c.memory_limit) for c in pod.containers]
        used = total.memory
    else:
        limits = [millicores(c.cpu_limit) for c in pod.containers]
        used = total.cpu
    if not used or any(limit is None for limit in limits):
        return ""
    limit = sum(limit for limit in limits if limit is not None)
    shown = pod.containers[0].memory_limit if resource == "memory" else pod.containers[0].cpu_limit
    if len(pod.containers) > 1 or not shown or not limit:
        return ""
    return f" ({used * 100 // limit}% of its {shown} limit)"


def usage_ranking(message: str, obs: Observations, namespace: str | None = None) -> Report | None:
    """The answer to a ranking question, or None when no usage figures were read (the usual report answers)."""
    if not obs.usage:
        return None
    memory_at = _MEMORY.search(message)
    cpu_at = _CPU.search(message)
    if memory_at and cpu_at:
        resource = "memory" if memory_at.start() < cpu_at.start() else "cpu"
    else:
        resource = "cpu" if cpu_at else "memory"
    has_nodes = any(u.kind == "node" for u in obs.usage)
    has_pods = any(u.kind != "node" for u in obs.usage)
    want = "node" if (has_nodes and (_NODES.search(message) or not has_pods)) else "pod"
    totals = _totals(obs, want)
    asked = _NAMESPACE.search(message)
    scope = next((g for g in asked.groups() if g), None) if asked else None
    if scope is None:  # "in payments?": a word after "in" that is one of the namespaces the listing shows
        seen = {t.namespace for t in totals if t.namespace}
        scope = next(
            (w for w in re.findall(r"\b(?:in|for|of)\s+([a-z0-9][a-z0-9-]*)", message.lower()) if w in seen), None
        )
    scope = scope or (namespace if want == "pod" else None)
    if scope and want == "pod" and any(t.namespace for t in totals):
        in_scope = [t for t in totals if t.namespace == scope]
        totals = in_scope or totals
    measured = [t for t in totals if (t.memory if resource == "memory" else t.cpu) is not None]
    if not measured:
        return None
    measured.sort(key=lambda t: -((t.memory if resource == "memory" else t.cpu) or 0))
    top = measured[0]
    words = "memory" if resource == "memory" else "CPU"
    where = f" in namespace {scope}" if scope and want == "pod" else ""
    noun = f"{want}s" if len(measured) != 1 else want
    share = _limit_share(top, obs, resource)
    runners = [f"{t.name} {_figure(t, resource)}" for t in measured[1 : 1 + MAX_RUNNERS_UP]]
    other = "cpu" if resource == "memory" else "memory"
    other_words = "CPU" if other == "cpu" else "memory"
    also = ""
    if (top.cpu if other == "cpu" else top.memory) is not None:
        also = f"; it uses {_figure(top, other)} {other_words}"
    summary = (
        f"{top.name} uses the most {words}{where}: {_figure(top, resource)}{share}{also}."
        + (f" Next: {', '.join(runners)}." if runners else "")
        + f" ({len(measured)} {noun} measured; current usage as metrics-server reports it, not a peak.)"
    )
    container_note = (
        " Per-container figures were added up per pod." if _CONTAINERS.search(message) and want == "pod" else ""
    )
    return Report(
        summary=summary + container_note,
        root_cause=RootCause(
            description=f"Highest {words} use{where}: {want} {top.name} at {_figure(top, resource)}{share}",
            confidence=85,
            evidence=[cite for t in measured[:3] for cite in t.cites[:1]],
        ),
        affected_systems=[top.name],
        recommendations=[
            Recommendation(
                priority="low",
                action=f"If {top.name}'s {words} is a concern, compare it with its requests and limits "
                f"(kubectl describe {want} {top.name}) and watch it over time; one sample is not a trend",
            )
        ],
    )
