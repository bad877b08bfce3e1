"""Assemble the Report (summary, root cause, hypotheses, timeline, recommendations) from ranked findings."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from difflib import SequenceMatcher

from engine.analysis_context import AnalysisContext
from engine.answers import health_check, log_search, log_summary
from engine.expertise.alerts import DURING_UPGRADE, HEARTBEATS, MANAGED_CONTROL_PLANE, MEANINGS, UPGRADE_WORDS
from engine.facts import Observations
from engine.findings import Finding
from engine.focus import Focus
from engine.models import Hypothesis, HypothesisStatus, Recommendation, Report, RootCause, TimelineEvent
from engine.question import Question
from engine.ranking import Scored
from engine.top_usage import usage_ranking

MAX_HYPOTHESES = 6
MAX_RECOMMENDATIONS = 6
MAX_TIMELINE = 25
# A dated entry this far (or farther) from the incident is history or a mistyped date, not part of the incident:
# the larger of a week and four times the investigation's window.
MIN_TIMELINE_REACH = timedelta(days=7)
_PRIORITY = {"high": 0, "medium": 1, "low": 2}
_REPEAT = 35  # characters two phrases may share before the second one is said to repeat the first
# A clause that states something (subject + verb within its first words), so it can follow "so".
_STATEMENT = re.compile(
    r"^(?:\S+ ){0,6}?(?:is|are|was|were|fails?|failed|time out|times out|cannot|can't|does not|do not|never|"
    r"crash(?:es)?|restarts?|rebalances|keeps|gets?|returns?|has|have|will|runs?|stays?|stopped|exceeds?|"
    r"refuses?|rejects?|drops?|reads?|lacks?|misses|waits?|hangs?|shows?|logs?)\b",
    re.IGNORECASE,
)


def answer(question: Question, scored: list[Scored], obs: Observations, ctx: AnalysisContext, focus: Focus) -> Report:
    """The report that answers the question asked: an RCA, a health verdict, a log search or an error summary."""
    if question.alert in HEARTBEATS:
        return _heartbeat(question.alert)
    if question.alert in MANAGED_CONTROL_PLANE and question.managed_platform:
        return _managed_control_plane(question.alert)
    if question.alert in DURING_UPGRADE:
        upgrading = _upgrade_in_progress(question, obs)
        if upgrading is not None:
            return upgrading
    if question.intent == "log_search" and obs.logs:
        return log_search(question, obs, focus)
    if question.intent == "log_summary" and obs.logs and ctx.logs is not None:
        return log_summary(question, obs, focus, ctx.logs)
    if question.intent == "ranking":
        ranked = usage_ranking(question.message, obs, question.namespace)
        if ranked is not None:
            return ranked
    if question.intent == "health":
        healthy = health_check(question, obs, focus, scored)
        if healthy is not None:
            return healthy
        report = build_report(scored, obs, ctx, focus)
        who = focus.label or question.named
        report.summary = (
            f"No, {who} is not healthy: {_lower_first(report.summary)}" if who else f"Not healthy: {report.summary}"
        )
        return report
    if not scored and question.alert:
        from_alert = _from_alert_text(question)
        if from_alert is not None:
            return from_alert
    if question.alert and question.alert_text and (not scored or scored[0].confidence < 50):
        return _from_alert_annotation(question)
    report = build_report(scored, obs, ctx, focus)
    meaning = MEANINGS.get(question.alert or "")
    if meaning and report.root_cause.confidence >= 50:
        report.summary += f" {question.alert} fires when {meaning}."
    return report


def note_skipped(report: Report, skipped: list[dict[str, str]]) -> None:
    """Say in the summary which attachments could not be read, so nobody thinks they were."""
    if not skipped:
        return
    names = ", ".join(f"{item['name']} ({item['reason']})" for item in skipped[:5])
    report.summary = f"{report.summary.rstrip()} Not read: {names}."


def build_report(scored: list[Scored], obs: Observations, ctx: AnalysisContext, focus: Focus | None = None) -> Report:
    if not scored:
        return _insufficient(obs)
    root = scored[0]
    f = root.finding
    description = f.title if f.role == "cause" else f"{f.title}; the evidence does not show what causes it"
    linked = [s for s in scored[1:] if s.finding in root.explains or s.finding in root.explained_by]
    symptoms = [x for x in root.explains if not set(x.evidence) <= set(f.evidence)]
    explained = _unique_phrases([c for c in (_consequence(x, f.title) for x in symptoms) if c], exclude=f.title)
    if explained and (", so " in f.title or any(", so " in e for e in explained[:3])):
        # a root cause that already says "…, so …": the consequences get a sentence of their own
        consequences = _join(explained[:3])
        summary = f"{_sentence(f.title)} As a result, {consequences}."
    elif explained:
        summary = f"{_clause(f.title)}, so {_join(explained[:3])}."
    elif root.confidence < 50:
        summary = f"Strongest lead, not confirmed: {_sentence(f.title)}"
    else:
        summary = _sentence(f.title)
    noticed = _also_noticed(scored, root, focus)
    if noticed:
        label = focus.label if focus and focus.label else None
        about = "it" if label and label in f.title else label or "this"  # a name just read is not said again
        summary += f" Also noticed, unrelated to {about}: {noticed}."
    return Report(
        summary=summary,
        root_cause=RootCause(description=description, confidence=root.confidence, evidence=list(f.evidence)),
        timeline=_timeline(scored, obs, ctx),
        affected_systems=_affected(root, linked, scored),
        recommendations=_recommendations(root, linked),
        hypotheses=_hypotheses(scored, obs),
    )


def _heartbeat(alert: str) -> Report:
    return Report(
        summary=f"Not an incident: {HEARTBEATS[alert]}.",
        root_cause=RootCause(
            description=f"Not an incident: {alert} is an always-firing heartbeat alert, working as intended",
            confidence=90,
            evidence=[],
        ),
        recommendations=[
            Recommendation(priority="low", action=f"Route {alert} to a heartbeat/null receiver instead of paging"),
        ],
    )


# A cloud's own word that an upgrade is under way: an EKS nodegroup UPDATING, a GKE UPGRADE_NODES operation RUNNING,
# an AKS pool "Upgrading", kubeadm's "upgrade in progress".
_UPGRADING = re.compile(
    r"\bUPDATING\b|\bUpgrading\b|upgrade in progress|UPGRADE\w*\s+(?:RUNNING|IN_PROGRESS|PENDING)\b"
)
_VERSION = re.compile(r"(?<![\w.])v?(1\.[1-9]\d)\.\d+(?![\d.])")  # v1.30.4, 1.29.8-gke.1; not an IP


_UPGRADE_DONE = re.compile(
    r"\b(?:since|after)\s+(?:the\s+|our\s+|last\s+\w+'s\s+)?(?:[\w.-]+\s+){0,2}upgrade\b(?!\s+(?:started|began|is|are))"
    r"|\bupgrade\b[^.?!]{0,40}\b(?:finished|completed|is done|was done|succeeded)\b",
    re.IGNORECASE,
)


def _upgrade_in_progress(question: Question, obs: Observations) -> Report | None:
    """A version-skew alert while an upgrade is rolling: expected, it clears when every component is upgraded."""
    alert = question.alert or ""
    said = re.search(UPGRADE_WORDS, question.message, re.IGNORECASE)
    if said and _UPGRADE_DONE.search(question.message):
        said = None  # "since the upgrade on friday", "after the upgrade finished": it is over, the skew is left behind
    minors: dict[str, str] = {}  # minor version -> the line that shows it
    updating: str | None = None
    sources = [(t.label, t.lines) for t in obs.texts] + [(d.label, d.lines) for d in obs.logs]
    for label, lines in sources:
        for line in lines[:5000]:
            for found in _VERSION.finditer(line):
                minors.setdefault(found.group(1), f"{label} {line.strip()[:240]}")
            if updating is None and _UPGRADING.search(line):
                updating = f"{label} {line.strip()[:240]}"
    if not said and updating is None:
        return None
    versions = sorted(minors, key=lambda v: tuple(int(p) for p in v.split(".")))
    skew = f": components run Kubernetes {_join(versions)}" if len(versions) > 1 else ""
    evidence = [minors[v] for v in versions[:3]] + ([updating] if updating else [])
    return Report(
        summary=f"Not an incident: {alert} fires because {DURING_UPGRADE[alert]}{skew}. An upgrade is in progress, "
        "so the alert is expected and will clear once every node pool runs the new version; act only if it keeps "
        "firing after the upgrade has finished.",
        root_cause=RootCause(
            description=f"Expected during the upgrade, not an incident: {alert} reports version skew{skew}",
            confidence=80,
            evidence=list(dict.fromkeys(evidence)),
        ),
        recommendations=[
            Recommendation(priority="low", action="Let the upgrade finish (all node pools on the new version)"),
            Recommendation(priority="low", action=f"Silence {alert} for the upgrade window"),
        ],
    )


# What an alert's own text says about the container's last termination (kube-state-metrics reasons, exit codes).
_TERMINATION = re.compile(r"\b(OOMKilled|Error|ContainerCannotRun|StartError|DeadlineExceeded|Evicted)\b")
_EXIT_CODE = re.compile(r"exit(?:ed with)? code[:= ]+(\d{1,3})", re.IGNORECASE)
_MEMORY_LIMIT = re.compile(r"memory limit(?: of| is|:)? ([\d.]+\s?[KMGT]i?B?)", re.IGNORECASE)
_SIGNALS = {
    137: "killed with SIGKILL, usually by the OOM killer",
    143: "terminated with SIGTERM",
    139: "a segmentation fault (SIGSEGV)",
}


def _from_alert_text(question: Question) -> Report | None:
    """When no data could be read, what the alert's own text states about the subject, said as such."""
    text = question.message
    reason = _TERMINATION.search(text)
    code = _EXIT_CODE.search(text)
    if reason is None and code is None:
        return None
    subject = question.subject
    who = f"{subject.kind + ' ' if subject.kind else ''}{subject.name}" if subject else "the subject"
    labels = dict(question.labels)
    container = f" (container {labels['container']})" if labels.get("container") else ""
    exit_code = int(code.group(1)) if code else None
    limit = _MEMORY_LIMIT.search(text)
    facts = []
    if reason:
        facts.append(f"its last termination was {reason.group(1)}")
    if exit_code is not None:
        meaning = _SIGNALS.get(exit_code)
        facts.append(f"exit code {exit_code}" + (f" ({meaning})" if meaning else ""))
    verdict = ""
    at_limit = f"its memory limit of {limit.group(1)}" if limit else ""
    if (reason and reason.group(1) == "OOMKilled") or exit_code == 137:
        verdict = " It ran out of memory" + (f": it needs more than {at_limit}" if at_limit else "")
        verdict += "; raise the limit or find what grows (heap, caches, batch sizes)."
    description = f"{who}{container}: " + ", ".join(facts) + (f", at {at_limit}" if at_limit and verdict else "")
    return Report(
        summary=f"Only the alert's text could be read, and it says that {who}{container} keeps restarting: "
        + ", ".join(facts)
        + "."
        + verdict,
        root_cause=RootCause(
            description=description + " (from the alert text; no readable data confirms it)",
            confidence=45,
            evidence=[],
        ),
        recommendations=[
            Recommendation(
                priority="medium",
                action="Attach `kubectl describe pod` and `kubectl logs --previous` of the pod to confirm",
            )
        ],
    )


# The labels kube-prometheus alerts name their object by, most specific first (runbooks.prometheus-operator.dev).
_SUBJECT_LABELS = (
    ("pod", "pod"),
    ("persistentvolumeclaim", "PVC"),
    ("job_name", "job"),
    ("cronjob", "cronjob"),
    ("deployment", "deployment"),
    ("statefulset", "statefulset"),
    ("daemonset", "daemonset"),
    ("horizontalpodautoscaler", "HPA"),
    ("node", "node"),
    ("service", "service"),
    ("instance", "instance"),
)


def _from_alert_annotation(question: Question) -> Report:
    """When the data read shows nothing firmer, what the alert itself states about its object (its description)."""
    labels = dict(question.labels)
    kind, name = next(((k, labels[key]) for key, k in _SUBJECT_LABELS if labels.get(key)), ("", ""))
    where = f" in namespace {labels['namespace']}" if labels.get("namespace") and kind != "node" else ""
    who = f"{kind} {name}{where}" if name else (f"namespace {labels['namespace']}" if labels.get("namespace") else "")
    meaning = MEANINGS.get(question.alert or "")
    note = question.alert_text.strip()
    return Report(
        summary=f"{question.alert} fires for {who or 'its target'}: {note}"
        + (f" ({question.alert} fires when {meaning}.)" if meaning else "")
        + " The data read shows nothing firmer about the cause.",
        root_cause=RootCause(
            description=f"{question.alert} on {who or 'its target'}: {note} "
            "(from the alert; no other data confirms it)",
            confidence=45,
            evidence=[],
        ),
        recommendations=[
            Recommendation(
                priority="medium",
                action=f"Attach `kubectl describe` and the events of {who or 'the object the alert names'} to confirm",
            )
        ],
    )


def _managed_control_plane(alert: str) -> Report:
    component = MANAGED_CONTROL_PLANE[alert]
    return Report(
        summary=f"Not an incident: on a managed control plane (EKS, GKE, AKS) Prometheus cannot scrape the {component} "
        f"targets the provider runs for you, so {alert} fires although the component works (pods still schedule). "
        f"Disable the rule and its scrape target ({component}.enabled=false in kube-prometheus-stack).",
        root_cause=RootCause(
            description=f"Not an incident: {alert} is a false positive on a managed control plane whose {component} "
            "metrics are not exposed to the cluster's Prometheus",
            confidence=80,
            evidence=[],
        ),
        recommendations=[
            Recommendation(
                priority="medium", action=f"Set {component}.enabled=false in the kube-prometheus-stack values"
            ),
        ],
    )


def _also_noticed(scored: list[Scored], root: Scored, focus: Focus | None) -> str:
    if not focus:
        return ""
    for item in scored[1:]:
        f = item.finding
        if f.role == "cause" and f.weight >= 70 and not focus.covers(f) and f not in root.explains:
            if _plain(root.finding.title)[-_REPEAT:] in _plain(f.title):
                continue  # it ends on the root cause's own error: the same failure seen from elsewhere
            return _lower_first(f.title.rstrip("."))
    return ""


def _plain(text: str) -> str:
    """A title without JSON escaping and the closing punctuation a quoted document leaves (``\\"}``)."""
    return text.replace('\\"', '"').rstrip('."}] ')


def _short(finding: Finding) -> str:
    """A finding's title without its workload prefix, as a clause: "its container is crash-looping"."""
    title = finding.title
    prefix = title.split(": ", 1)[0]
    named = {finding.workload, finding.subject.rpartition("/")[2]}
    if prefix in named or (finding.workload and " " not in prefix and prefix.startswith(finding.workload)):
        title = title.split(": ", 1)[1]
    return _lower_first(title)


def _consequence(finding: Finding, root_title: str) -> str:
    """A symptom as the clause that follows "so": its quoted detail is dropped when the root cause already says it."""
    clause = _short(finding)
    head, sep, _ = clause.partition(": ")
    if _overlap(clause, root_title) >= min(_REPEAT, len(clause)) or (sep and len(head) >= 20 and head in root_title):
        if not sep or _overlap(head, root_title) >= min(_REPEAT, len(head)):
            return ""  # the root cause sentence already says all of it
        clause = head
    if not _STATEMENT.match(clause.partition(": ")[0]):  # a noun phrase ("unhandled X"): say who shows it
        clause = f"{finding.workload or 'the service'} shows {clause}"
    return clause


def _overlap(a: str, b: str) -> int:
    """The length of the longest passage two sentences share (case-insensitive)."""
    a, b = a.lower(), b.lower()
    match = SequenceMatcher(None, a, b, autojunk=False).find_longest_match(0, len(a), 0, len(b))
    return match.size


def _clause(text: str) -> str:
    return text.strip().rstrip(".")


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "!", "?")) else f"{text}."


def _lower_first(text: str) -> str:
    first = text.split(" ", 1)[0]
    acronym = len(first) > 1 and (first == first.upper() or first[1:] != first[1:].lower())  # DNS, ClusterIssuer
    return text if acronym else text[:1].lower() + text[1:]


def _join(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def _unique_phrases(phrases: list[str], exclude: str) -> list[str]:
    """The phrases, each saying something the others and ``exclude`` do not (a shared quote is said once)."""
    seen: list[str] = []
    for phrase in sorted({p.strip().rstrip(".") for p in phrases}, key=len):
        said = [exclude, *seen]
        if not phrase or phrase.lower() in exclude.lower():
            continue
        if any(_overlap(phrase, other) >= min(_REPEAT, len(phrase)) for other in said):
            head = phrase.partition(": ")[0]
            if head == phrase or any(_overlap(head, other) >= min(_REPEAT, len(head)) for other in said):
                continue
            phrase = head
        seen.append(phrase)
    return sorted(seen)


def _insufficient(obs: Observations) -> Report:
    summary = (
        "No data could be collected, so no failure could be observed"
        if obs.is_empty()
        else "No failure was found in the provided data"
    )
    return Report(
        summary=f"{summary}; the evidence is insufficient to name a root cause.",
        root_cause=RootCause(
            description="Insufficient evidence: no failing pod, error signature or unhealthy resource was observed",
            confidence=10,
            evidence=[],
        ),
        recommendations=[
            Recommendation(
                priority="medium",
                action="Attach the failing pod's `kubectl describe pod` output and "
                "`kubectl logs --previous`, "
                "or enable the Kubernetes data source",
            )
        ],
    )


def _recommendations(root: Scored, linked: list[Scored]) -> list[Recommendation]:
    picked: list[Recommendation] = []
    seen: set[str] = set()
    for source in [root, *linked]:
        for recommendation in source.finding.recommendations:
            if recommendation.action not in seen:
                seen.add(recommendation.action)
                picked.append(recommendation)
    picked = picked[:MAX_RECOMMENDATIONS]
    return sorted(picked, key=lambda r: _PRIORITY[r.priority])


def _affected(root: Scored, linked: list[Scored], scored: list[Scored]) -> list[str]:
    systems: list[str] = []
    for finding in [root.finding, *(s.finding for s in linked)]:
        for name in [*finding.affected, *([finding.workload] if finding.workload else [])]:
            if name and name not in systems:
                systems.append(name)
    return systems[:10]


def _timeline(scored: list[Scored], obs: Observations, ctx: AnalysisContext) -> list[TimelineEvent]:
    entries: dict[tuple[str, str], TimelineEvent] = {}
    for item in scored:
        f = item.finding
        if f.timestamp is not None:
            entries.setdefault((f.timestamp.isoformat(), f.title), TimelineEvent(timestamp=f.timestamp, event=f.title))
    for event in obs.events:
        when = event.first_seen or event.last_seen
        if when is None or event.type != "Warning" or ctx.is_stale(event.last_seen):
            continue
        text = f"{event.reason} {event.object_kind or ''}/{event.object_name or ''}: {event.message}"[:240]
        entries.setdefault((when.isoformat(), text), TimelineEvent(timestamp=when, event=text))
    for workload in obs.workloads:
        if workload.created_at and workload.kind == "ReplicaSet" and not ctx.is_stale(workload.created_at):
            image = f" ({workload.images[0]})" if workload.images else ""
            text = f"ReplicaSet {workload.name} created{image}"
            entries.setdefault(
                (workload.created_at.isoformat(), text),
                TimelineEvent(timestamp=workload.created_at, event=text),
            )
    ordered = sorted(entries.values(), key=lambda e: (e.timestamp, e.event))
    return within_incident(ordered, ctx)[-MAX_TIMELINE:]


def within_incident(entries: list[TimelineEvent], ctx: AnalysisContext) -> list[TimelineEvent]:
    """Drop entries far from the incident: a pasted log line from years ago must not open the timeline.

    The incident is centred on its stated start (the anchor); without one, on the run's reference time when some
    evidence is dated near it (a live incident), else on the newest entry (a replay of old logs). Entries more
    than the reach away on either side are dropped; the findings they come from still rank as usual.
    """
    if not entries:
        return entries
    reach = max(MIN_TIMELINE_REACH, 4 * ctx.window)

    def near(when: datetime, centre: datetime) -> bool:
        return abs(when - centre) <= reach

    centre = ctx.anchor
    if centre is None:
        centre = ctx.now if any(near(e.timestamp, ctx.now) for e in entries) else entries[-1].timestamp
    return [e for e in entries if near(e.timestamp, centre)]


def _hypotheses(scored: list[Scored], obs: Observations) -> list[Hypothesis]:
    root = scored[0]
    hypotheses: list[Hypothesis] = []
    for item in scored[:MAX_HYPOTHESES]:
        f = item.finding
        status: HypothesisStatus
        if item is root:
            status = "supported" if item.confidence >= 50 else "inconclusive"
        elif f in root.explains or f in root.explained_by:
            status = "supported"
        else:
            status = "inconclusive"
        hypotheses.append(
            Hypothesis(
                description=f.title,
                status=status,
                confidence=item.confidence,
                subject=f.subject,
                evidence=list(f.evidence)[:4],
            )
        )
    hypotheses.extend(_refuted_oom(scored, obs))
    return hypotheses


def _refuted_oom(scored: list[Scored], obs: Observations) -> list[Hypothesis]:
    """A crash loop with a plain non-137 exit code refutes the common 'it ran out of memory' guess."""
    if any(s.finding.kind == "oom_killed" for s in scored):
        return []
    for pod in obs.pods:
        for container in pod.containers:
            code = container.last_exit_code
            if (
                container.restart_count
                and code is not None
                and code not in (137, 0)
                and "last_exit_code" in container.cites
            ):
                return [
                    Hypothesis(
                        description=f"Container {container.name} of {pod.name} is killed for exceeding "
                        "its memory limit",
                        status="refuted",
                        confidence=5,
                        subject=f"pod/{pod.name}",
                        evidence=[container.cites["last_exit_code"]],
                    )
                ]
    return []
