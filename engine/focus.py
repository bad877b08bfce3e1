"""The subject of the investigation, resolved against what was observed.

The question names a subject (``job nightly-export``, ``pod api-7d9f-x2x7q``, an alert's ``deployment=orders``
label, ``context.service``); this module finds every observed object that belongs to it: a job's pods, a
deployment's ReplicaSets and pods, a node's pods, a pod's workload. Findings about those objects are *in focus*;
the ranker investigates them (and what explains them) first, and everything else is "also noticed".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any

from engine.analyzers.common import workload_name
from engine.facts import Observations
from engine.findings import Finding, workload_of
from engine.question import LABEL_KINDS, Question, Subject


@dataclass
class Focus:
    names: set[str] = field(default_factory=set)
    label: str | None = None  # how the report names the subject: "job nightly-export", "cart"
    subject: Subject | None = None  # the first subject that matched something observed

    def owner(self) -> str | None:
        """The grouping name findings about the subject carry: a node or claim by its name, else its workload."""
        if self.subject is None:
            return None
        if self.subject.kind in ("node", "persistentvolumeclaim"):
            return self.subject.name
        return workload_of(self.subject.name)

    def __bool__(self) -> bool:
        return bool(self.names)

    def covers(self, finding: Finding) -> bool:
        return any(_belongs(candidate, self.names) for candidate in _candidates(finding))


def resolve_focus(question: Question, obs: Observations) -> Focus:
    known = _observed_names(obs)
    # a Job or CronJob whose pods were never created is seen only in its events (FailedCreate on job/<name>-<n>),
    # pods that are gone only in theirs (Killing pod/<name>-<hash>)
    evented = known | {e.object_name.lower() for e in obs.events if e.object_name}
    pods_evented = known | {e.object_name.lower() for e in obs.events if e.object_name and e.object_kind == "Pod"}
    aside = _mentioned_aside(question.message)
    subjects = [
        s
        for s in question.subjects
        if (
            not s.guessed
            or _seen(s.name, evented if s.kind in ("job", "cronjob") else pods_evented if s.kind == "pod" else known)
        )
        and not (s.guessed and s.name in aside)
    ] or _alert_subjects(obs)
    if not subjects:
        subjects = [Subject(None, word) for word in sorted(question.words) if word in known and word not in aside]
    if not subjects:
        subjects = _bare_word_subjects(question, obs, known)
    nodes = {n.name.lower() for n in obs.nodes}
    subjects = [replace(s, kind="node") if s.kind is None and s.name in nodes else s for s in subjects]
    focus = Focus()
    for subject in subjects:
        names = _expand(subject, obs)
        if names:
            focus.names |= names
            if focus.label is None:
                focus.label = f"{subject.kind} {subject.name}" if subject.kind else subject.name
                focus.subject = subject
    return focus


_LOG_FILE = re.compile(
    r"^\[attachment:(?:.*/)?([a-z][a-z0-9]*(?:-[a-z0-9]+)*?)(?:(?:[-_.](?:previous|prev|out))*\.(?:log|jsonl)|[-_]logs?(?:[-_.]previous)?\.txt)\]$"
)
# The bare word is what the sentence is about: "orders is down", "why is payments failing", "is inventory ok?",
# "checkout keeps crashing" (not "the customer DB", where it qualifies another noun).
_SUBJECT_VERB = (
    r"(?:is|isn'?t|are|was|keeps|kept|fails|failing|failed|down|broken|not|won'?t|can'?t|cannot|errors|erroring|returns"
    r"|returning|throws|throwing|crash\w*|slow|stuck|has|had|ok|okay|fine|healthy|up|working|doing|alright|itself|logs?)"
)


# "the reports pod is also not ready", "there's also a crash-looping exporter": a clause with "also"/"too" after
# another clause names a bystander the person noticed, not what the question is about
_ASIDE_CLAUSE = re.compile(r"(?:^|[;.!?,]|\b(?:and|but)\b)([^;.!?,]*\b(?:also|too|as well)\b[^;.!?,]*)", re.IGNORECASE)


def _mentioned_aside(message: str) -> set[str]:
    names: set[str] = set()
    for match in _ASIDE_CLAUSE.finditer(message):
        if match.start(1) < 12:  # the question's own first clause is never an aside
            continue
        names |= {w.lower() for w in re.findall(r"[a-z][a-z0-9-]{2,}", match.group(1), re.IGNORECASE)}
    return names


def _bare_word_subjects(question: Question, obs: Observations, known: set[str]) -> list[Subject]:
    """A bare word of the question ("why is checkout failing?") that names what was pasted without being an
    object's full name: the one observed workload it begins ("orders" -> orders-api) or, hyphenated, ends (a Helm
    release's prefix), or a log file saved under it (payments.log, payments-7d9f6-x2x7q.log)."""
    workloads = {workload_of(name) for name in known}
    stems = {m.group(1) for doc in obs.logs for m in [_LOG_FILE.match(doc.label)] if m}
    found: list[Subject] = []
    for word in sorted(question.words):
        if len(word) < 4 or word in _QUESTION_WORDS:
            continue
        charted = {w for w in _workload_names(obs) if "-" in word and w.endswith(f"-{word}")}
        if len(charted) == 1:  # a Helm chart's name under its release prefix: node-exporter -> kube-prom-node-exporter
            found.append(Subject(None, charted.pop()))
            continue
        if not re.search(rf"(?<![\w-]){re.escape(word)}\s+{_SUBJECT_VERB}\b", question.message, re.IGNORECASE):
            continue
        if any(stem == word or workload_of(stem) == word for stem in stems):
            found.append(Subject(None, word))
            continue
        owners = {w for w in workloads if w.startswith(f"{word}-")}
        if len(owners) == 1:
            found.append(Subject(None, owners.pop()))
    return found


_WORKLOAD_KINDS = frozenset({"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob"})


def _workload_names(obs: Observations) -> set[str]:
    """Names of the observed workloads (not of policies, Services or other objects named after them)."""
    names = {w.name for w in obs.workloads} | {workload_of(p.name) for p in obs.pods}
    return names | {r.name for r in obs.resources if r.kind in _WORKLOAD_KINDS}


# Words of a question that are never a workload's name, however the workloads are called.
_QUESTION_WORDS = frozenset(
    [
        "failing",
        "failed",
        "fails",
        "down",
        "slow",
        "broken",
        "error",
        "errors",
        "since",
        "help",
        "please",
        "logs",
        "log",
        "down",
        "crash",
        "crashing",
        "restarts",
        "restarting",
        "pending",
        "timeout",
        "timeouts",
        "today",
        "yesterday",
        "morning",
        "night",
        "again",
        "still",
        "issue",
        "issues",
        "problem",
        "problems",
        "working",
        "healthy",
        "status",
        "wrong",
        "users",
        "customers",
        "everyone",
        "nobody",
        "anything",
        "something",
    ]
)


def _seen(name: str, known: set[str]) -> bool:
    return name in known or any(n.startswith(f"{name}-") for n in known)


def _observed_names(obs: Observations) -> set[str]:
    names = {p.name for p in obs.pods} | {workload_name(p) for p in obs.pods}
    names |= {w.name for w in obs.workloads} | {s.name for s in obs.services} | {n.name for n in obs.nodes}
    names |= {r.name for r in obs.resources if r.kind not in ("Event", "Namespace")}
    names |= {doc.pod for doc in obs.logs if doc.pod}
    return {n.lower() for n in names if n and n != "?"}


def _expand(subject: Subject, obs: Observations) -> set[str]:
    """The subject's own name plus the observed objects that belong to it."""
    name = subject.name.lower()
    names = {name}
    if subject.kind == "node":
        names |= {p.name for p in obs.pods if p.node == subject.name}
        return names
    if subject.kind == "persistentvolumeclaim" and "-" in name:
        names.add(name.split("-", 1)[1])  # a StatefulSet claim is <template>-<pod>: data-loki-ingester-1
    for pod in obs.pods:
        owner = (pod.owner_name or "").lower()
        workload = workload_name(pod).lower()
        if pod.name == name:
            names |= {workload, owner} - {""}
        elif name in (workload, owner) or (
            (pod.name.startswith(f"{name}-") or owner.startswith(f"{name}-"))
            and not workload.startswith(f"{name}-")  # checkout-canary's pods are not checkout's
        ):
            names.add(pod.name)
    for fact in obs.workloads:
        if fact.owner_name and fact.owner_name.lower() == name:
            names.add(fact.name)
    if name not in _observed_names(obs) and subject.kind is None:
        related = {n for n in _observed_names(obs) if n.startswith(f"{name}-") or name.startswith(f"{n}-")}
        names |= related
    return names | _labelled_nodes(name, obs)


def _labelled_nodes(name: str, obs: Observations) -> set[str]:
    """The nodes of a node group or pool: ``get nodes -L <label>`` rows showing the name as a label value."""
    nodes = {n.name for n in obs.nodes}
    return {
        cells[0]
        for text in obs.texts
        for line in text.lines
        if len(cells := line.split()) > 2 and cells[0] in nodes and name in (c.lower() for c in cells[1:])
    }


def _alert_subjects(obs: Observations) -> list[Subject]:
    subjects: list[Subject] = []
    for document in obs.documents:
        for labels in _alert_labels(document.data):
            for key, kind in LABEL_KINDS.items():
                value = labels.get(key)
                if isinstance(value, str) and value and kind is not None:
                    subject = Subject(kind, value.lower(), labels.get("namespace"))
                    if subject not in subjects:
                        subjects.append(subject)
    return subjects


def _alert_labels(data: Any) -> list[dict[str, Any]]:
    if not isinstance(data, dict):
        return []
    alerts = data.get("alerts")
    if isinstance(data.get("data"), dict):
        alerts = data["data"].get("alerts", alerts)
    found = [a.get("labels") for a in alerts if isinstance(a, dict)] if isinstance(alerts, list) else []
    if isinstance(data.get("labels"), dict):
        found.append(data["labels"])
    return [labels for labels in found if isinstance(labels, dict)]


def _candidates(finding: Finding) -> list[str]:
    subject = finding.subject
    name = subject.split("/", 1)[1] if "/" in subject else subject.split(":", 1)[0]
    found = [name, finding.workload or "", *finding.affected, *finding.related]
    return [c.lower().rstrip("-") for c in found if c]  # a generateName prefix (job-29221440-) names its pods


def _belongs(candidate: str, names: set[str]) -> bool:
    if candidate in names:
        return True
    base = workload_of(candidate)
    return any(base == workload_of(name) or name.startswith(f"{candidate}-") for name in names)
