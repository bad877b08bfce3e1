"""What the user asks: the intent (RCA, health check, log search, log summary), the subject, a time filter.

Read from the message, ``context`` (service, namespace, related alert) and alert text pasted into the message
(Alertmanager labels ``pod="x"``, kube-prometheus descriptions ``Pod ns/name ...``). Pure text rules: the same
question always reads the same way.
"""
# ruff: noqa: E501  (patterns and messages read better unwrapped)

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Literal

from engine.expertise.alerts import DURING_UPGRADE, HEARTBEATS, MANAGED_CONTROL_PLANE, MEANINGS
from engine.models import InvestigationRequest
from engine.parsers.message_paste import asked_text
from engine.top_usage import is_ranking

Intent = Literal["rca", "health", "log_search", "log_summary", "ranking"]
KNOWN_ALERTS = (
    frozenset(HEARTBEATS) | frozenset(MEANINGS) | frozenset(MANAGED_CONTROL_PLANE) | frozenset(DURING_UPGRADE)
)

KIND_ALIASES = {
    "pod": "pod",
    "pods": "pod",
    "deployment": "deployment",
    "deploy": "deployment",
    "deployments": "deployment",
    "job": "job",
    "jobs": "job",
    "cronjob": "cronjob",
    "cron job": "cronjob",
    "statefulset": "statefulset",
    "sts": "statefulset",
    "daemonset": "daemonset",
    "ds": "daemonset",
    "replicaset": "replicaset",
    "rs": "replicaset",
    "node": "node",
    "service": "service",
    "svc": "service",
    "ingress": "ingress",
    "hpa": "horizontalpodautoscaler",
    "horizontalpodautoscaler": "horizontalpodautoscaler",
    "scaledobject": "scaledobject",
    "pvc": "persistentvolumeclaim",
    "persistentvolumeclaim": "persistentvolumeclaim",
    "application": "application",
    "kustomization": "kustomization",
    "helmrelease": "helmrelease",
    "certificate": "certificate",
    "networkpolicy": "networkpolicy",
    "pdb": "poddisruptionbudget",
    "poddisruptionbudget": "poddisruptionbudget",
    "namespace": "namespace",
}
# Alertmanager / kube-state-metrics label names that name an object.
LABEL_KINDS = {
    "pod": "pod",
    "deployment": "deployment",
    "job_name": "job",
    "cronjob": "cronjob",
    "statefulset": "statefulset",
    "daemonset": "daemonset",
    "replicaset": "replicaset",
    "node": "node",
    "horizontalpodautoscaler": "horizontalpodautoscaler",
    "persistentvolumeclaim": "persistentvolumeclaim",
    "persistentvolume": "persistentvolume",
    "service": None,
    "container": None,
}
_NAME = r"[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?"
_KIND_WORDS = "|".join(sorted((re.escape(k) for k in KIND_ALIASES), key=len, reverse=True))
_KIND_THEN_NAME = re.compile(
    rf"\b({_KIND_WORDS})(?:/|\s+(?:named\s+|called\s+)?)[`'\"]?({_NAME}(?:/{_NAME})?)[`'\"]?", re.IGNORECASE
)
_NAME_THEN_KIND = re.compile(rf"[`'\"]?\b({_NAME})[`'\"]?\s+({_KIND_WORDS})\b", re.IGNORECASE)
_DESCRIPTION = re.compile(
    rf"\b(Pod|Deployment|StatefulSet|DaemonSet|Job|CronJob|HPA|PersistentVolumeClaim|ReplicaSet)\s+({_NAME})/({_NAME})"
)
_LABEL = re.compile(r"\b([a-z_]+)\s*[=:]\s*[\"']?([A-Za-z0-9][\w.:/-]*)[\"']?")
_NOT_NAMES = {
    "is",
    "the",
    "a",
    "an",
    "my",
    "our",
    "this",
    "that",
    "in",
    "on",
    "of",
    "and",
    "or",
    "to",
    "for",
    "with",
    "not",
    "are",
    "was",
    "has",
    "have",
    "keeps",
    "stuck",
    "failing",
    "crashing",
    "pending",
    "ready",
    "running",
    "healthy",
    "some",
    "all",
    "every",
    "each",
    "new",
    "old",
    "its",
    "their",
    "which",
    "what",
    "why",
    "any",
    "one",
    "two",
    "k8s",
    "kubernetes",
    "default",
    "same",
    "whole",
    "cluster",
}
# an apostrophe inside a word (can't, doesn't) is not a quote: a quote opens after and closes before a non-letter
_QUOTED = re.compile(r"(?<![A-Za-z])[\"'`\u201c\u2018]([^\"'`\u201d\u2019]{2,120})[\"'`\u201d\u2019](?![A-Za-z])")
# the verbs as words: "search" in a name ("search-indexer", "log-filter") or before a noun ("the search page") asks
# for no search
_SEARCH = re.compile(
    r"(?<![\w-])(?:find|search(?!\s+(?:page|results?|box|bar|endpoint|api|service|feature|index|quer(?:y|ies)|requests?|traffic|latency|team|engine|cluster)\b)|grep|look(?:ing)? for|occurrences? of|lines? (?:containing|with|mentioning|matching)|mentions? of"
    r"|log(?:ged|s)? anything (?:about|with|mentioning)|any (?:log )?lines? (?:about|with|mentioning)"
    r"|show (?:me )?(?:all |the )?(?:log )?lines|filter|how many times|how often|count (?:the )?(?:lines|occurrences))(?![\w-])",
    re.IGNORECASE,
)
_SEARCH_FOR = re.compile(
    r"\b(?:search|grep|look|filter|scan)\w*\s+(?:through\s+)?(?:the\s+)?(?:[\w.-]+\s+)?(?:logs?\s+)?(?:of\s+[\w.-]+\s+)?for\s+"
    r"([\w./:-]{3,80}(?:\s+(?!(?:in|from|on|since|over|during|within|of|and|the|last|past)\b)[\w./:-]+){0,3})"
    r"|\b(?:mentions?|occurrences?)\s+of\s+([\w./:-]{3,80})",
    re.IGNORECASE,
)
_TERM = (
    r"[\w./:@-]{3,80}(?:\s+(?!(?:in|from|on|since|over|during|within|of|and|the|last|past|logs?|today|yesterday|at|for"
    r"|by|inside|across|this|that|were|was|is|are|did|does)\b)[\w./:@-]+){0,3}"
)
# Unquoted search terms the everyday ways people ask ("lines mentioning timeout in X's logs", "grep ECONNRESET in
# the gateway logs", "does the worker log contain OutOfMemoryError", "how many times did X log payment declined").
_UNQUOTED_SEARCH = re.compile(
    rf"\b(?:lines?|entries|entry|messages?|anything|something)\s+(?:that\s+)?(?:mention(?:ing|s)?|contain(?:ing|s)?"
    rf"|match(?:ing|es)?|say(?:ing|s)?|with the (?:word|text|string))\s+(?P<a>{_TERM})"
    rf"|^\s*(?:please\s+|can you\s+|could you\s+)?grep\s+(?:-\w+\s+)*(?:for\s+)?(?P<b>{_TERM})"
    rf"|\bhow (?:many times|often)\b[^.?!]{{0,60}}?\b(?:log(?:ged|s)?|print(?:ed|s)?|say|said|report(?:ed)?)\s+(?P<c>{_TERM})"
    rf"|\b(?:logs?|output)\s+(?:contain|mention|include)s?\s+(?:any\s+|the\s+)?(?P<d>{_TERM})"
    # "did X log any 502?", "has X logged any OOMKilled" (errors, warnings: a summary, not a term)
    rf"|\blog(?:ged)?\s+any\s+(?!(?:errors?|exceptions?|warnings?|problems?|issues?|failures?)\b)(?P<f>[\w./:@-]{{3,40}})"
    rf"(?=\s*(?:[?.!,]|$)|\s+(?:today|yesterday|recently|lately|since|in|during|this|last|over|after|before|between|at|from)\b)"
    # "how many timeouts are in X's logs", "count the 504s in the nginx log" (errors, lines, restarts: not a term)
    rf"|\b(?:how many|count(?:\s+the|\s+all)?)\s+(?!(?:errors?|exceptions?|warnings?|lines?|times|restarts?|pods?|"
    rf"problems?|issues?|failures?)\b)(?P<e>[\w./:@-]{{3,40}})\s+(?:are|were|did|do|does|has|have|in|from|there)\b",
    re.IGNORECASE,
)
_SUMMARY = re.compile(
    r"\bsummar(?:y|ise|ize|ising|izing)\b|\bwhat (?:errors?|went wrong|problems?)\b.*\blog|\b(?:list|group|overview of|count)\b.*\berrors?\b"
    # "since" alone is no summary request ("checkout errors are up since the deploy" asks why): a "since" with a
    # time is handled by the time filter below.
    r"|\berrors?\b.*\b(?:logged|between)\b|\bwhich errors\b"
    r"|\b(?:rundown|recap|digest|tl;?dr|gist)\b|\bwhat\b(?![^.?!]{0,40}\b(?:analys[ie]s|analysisrun|checks?|probes?|validation|webhook)\b)[^.?!]{0,40}\bcomplain(?:ing|s|ed)?\b|\bwhat (?:has|is|was)\b[^.?!]{0,40}\bbeen logging\b"
    r"|\bwhat(?:'s| is| was)? in the\b[^.?!]{0,40}\blogs?\b|\bwhat did\b[^.?!]{0,40}\blog\b"
    r"|\b(?:main|top|recent|latest|most common|frequent)\s+(?:errors?|exceptions?|warnings?)\b"
    r"|\blogs?\b[^.?!]{0,40}\bfor\s+(?:any\s+)?(?:errors?|exceptions?|warnings?|problems?)\b"
    r"|\b(?:anything|something)\s+(?:weird|odd|unusual|strange|suspicious|interesting|wrong|bad)\s+in\b[^.?!]{0,40}\blogs?\b"
    r"|\blog(?:s|ged)?\s+any\s+(?:errors?|exceptions?|warnings?)\b",
    re.IGNORECASE,
)
_HEALTH = re.compile(
    r"^\s*(?:is|are|does|do)\b.*\b(?:healthy|ok|okay|fine|working|up|running (?:fine|well|ok)|in good shape|alright|ready)\b"
    r"|\bhealth ?check\b|\bcheck (?:the )?health\b|\bhow healthy\b|\bhealth of\b|\bis (?:everything|all) (?:ok|fine|healthy)\b"
    r"|\b(?:is|are)\b[^.?!]{0,80}\bhealthy\b|\bdo (?:we|i) need to (?:do|fix|worry)\b|\bshould (?:we|i) (?:worry|be worried)\b"
    r"|\bsomething (?:we|i) need to fix\b|\bgoing to handle it\b"
    # "did anything restart?", "any restarts in shop?": a check-up that asks about restarts
    r"|^\s*(?:did|has|have)\s+(?:anything|any\s*(?:thing|pods?|containers?)|something)\b[^.?!]{0,20}\brestart(?:ed)?\b"
    r"|^\s*(?:were\s+there\s+|are\s+there\s+)?any\s+(?:pod\s+|container\s+)?restarts\b"
    # the everyday ways of asking for a check-up ("anything wrong with X?", "how is X doing?", "check on X")
    r"|^\s*(?:is\s+)?(?:there\s+)?(?:anything|something)\s+(?:wrong|off|broken|amiss|up)\s+with\b"
    r"|^\s*(?:are\s+there\s+|is\s+there\s+)?any\s+(?:problems?|issues?|trouble)\s+with\b[^.?!]*\??\s*$"
    r"|^\s*is\s+there\s+(?:an?\s+)?(?:problem|issue)\s+with\b[^.?!]*\??\s*$"
    r"|^\s*how(?:'s|s|\s+is|\s+are)\b[^.?!]{0,60}\b(?:doing|looking|holding up)\b"
    r"|\bcheck\s+(?:on|up\s+on)\b|\bsanity[- ]check\b|\bhealth\s+(?:report|status)\b"
    r"|^\s*(?:what(?:'s|\s+is)\s+the\s+)?(?:current\s+)?status\s+of\b[^.?!]*\??\s*$"
    r"|\beverything\s+(?:good|ok|okay|fine|alright|all right)\s+with\b|\bin\s+(?:a\s+)?good\s+(?:shape|state)\b"
    r"|\b(?:is|are)\s+[\w.-]+(?:\s+itself)?\s+(?:ok|okay|fine|healthy|alright|up)\b(?!\s+(?:to|with)\b)"
    r"|^\s*(?:did|has|have)\b[^.?!]{0,80}\b(?:run|ran|finish(?:ed)?|complete(?:d)?|succeed(?:ed)?|go|went)\b[^.?!]{0,20}\b(?:ok|okay|fine|well|successfully|through)\b",
    re.IGNORECASE,
)
_SINCE = re.compile(
    r"\b(?:since|after|from)\s+((?:\d{4}-\d{2}-\d{2}(?:[ T]\d{1,2}:\d{2}(?::\d{2})?Z?)?)"
    r"|(?:(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+\d{1,2}(?:st|nd|rd|th)?(?:,?\s+\d{4})?(?:,?\s+(?:at\s+)?\d{1,2}:\d{2})?)"
    r"|(?:\d{1,2}(?:st|nd|rd|th)?\s+(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*(?:\s+\d{4})?)"
    r"|(?:\d{1,2}:\d{2}(?::\d{2})?\s*(?:utc|z)?)|midnight|yesterday|today|(?:last\s+)?(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*day)",
    re.IGNORECASE,
)
_UNITS = r"(minute|min|m|hour|hr|h|day|d|week|wk|w)s?"
# "in the last 2 hours", "over the past hour", "from the last 15m", "within the past day", "since 2 hours ago", "last week"
_LAST = re.compile(
    rf"\b(?:in|over|during|from|for|within|since)\s+(?:the\s+)?(?:last|past)\s+(\d+)?\s*{_UNITS}\b"
    rf"|\b(\d+)\s*{_UNITS}\s+ago\b",
    re.IGNORECASE,
)
# The errors are what is asked for ("what errors has X logged", "show the errors"), not a remark ("no errors in the logs").
_ASKS_FOR_ERRORS = re.compile(
    r"\b(?:what|which|any|all|show|list|give me|get)\s+(?:[\w.'-]+\s+){0,2}(?:errors?|exceptions?|warnings?)\b"
    r"|\b(?:errors?|exceptions?|warnings?)\s+(?:has|have|did|were|was)\b"
    r"|(?<!no )(?<!no errors )\blogged\b",
    re.IGNORECASE,
)
_CLOCK = r"\d{1,2}:\d{2}(?::\d{2})?\s*(?:utc|z)?"
_BETWEEN = re.compile(
    rf"\bbetween\s+({_CLOCK}|\d{{4}}-\d{{2}}-\d{{2}}[ T]{_CLOCK})\s+and\s+({_CLOCK}|\d{{4}}-\d{{2}}-\d{{2}}[ T]{_CLOCK})",
    re.I,
)
_AROUND = re.compile(rf"\b(?:around|about|near|roughly|approximately|at)\s+({_CLOCK})", re.I)
_DAY = re.compile(r"\b(yesterday|today|this morning|last night)\b", re.I)
_WHAT_HAPPENED = re.compile(
    r"\bwhat\s+(?:happened|went on|was going on)\b|^\s*(?:the\s+)?(?:errors?|exceptions?)\s+(?:in|from|of)\b", re.I
)
_UNTIL = re.compile(r"\b(?:until|before|till)\s+(\d{4}-\d{2}-\d{2}(?:[ T]\d{1,2}:\d{2}(?::\d{2})?Z?)?)", re.IGNORECASE)


@dataclass(frozen=True)
class Subject:
    kind: str | None  # "pod", "deployment", "job", "node", ... ; None when only a name is known (context.service)
    name: str
    namespace: str | None = None
    guessed: bool = False  # read from free text ("pod foo"): kept only if something observed has that name


@dataclass(frozen=True)
class Question:
    intent: Intent = "rca"
    subjects: tuple[Subject, ...] = ()
    terms: tuple[str, ...] = ()  # log search terms
    since: datetime | None = None
    until: datetime | None = None
    alert: str | None = None  # alertname, when the question is an alert
    words: frozenset[str] = frozenset()  # name-like words of the message, to match against observed objects
    named: str | None = None  # the object the person names, even if nothing observed carries that name
    managed_platform: bool = False  # the question says the cluster is a managed one (EKS, GKE, AKS...)
    namespace: str | None = None  # context.namespace
    labels: tuple[tuple[str, str], ...] = ()  # the alert's labels from context.labels (alert analyzers read them)
    message: str = ""  # the message as written, for rules that read what the person says ("mid-upgrade")
    alert_text: str = ""  # the alert's own description/summary annotation, when an attached notification carries it

    @property
    def subject(self) -> Subject | None:
        return self.subjects[0] if self.subjects else None


def parse_question(request: InvestigationRequest) -> Question:
    ctx = request.context
    extra = ctx.model_extra or {}
    raw_labels = extra.get("labels")
    labels: dict[str, object] = raw_labels if isinstance(raw_labels, dict) else {}
    label_text = " ".join(f'{key}="{value}"' for key, value in labels.items() if isinstance(value, str))
    alert_name = extra.get("alert_name") if isinstance(extra.get("alert_name"), str) else ""
    asked = asked_text(request.message)  # pasted output is read as an attachment; its words name no subject
    if asked != request.message and re.search(r"\balertname\s*[=:]", request.message[len(asked) :]):
        asked = request.message  # a pasted alert names its subject in its labels: read it as before
    parts = (
        asked,
        ctx.related_alert or "",
        ctx.hint or "",
        label_text,
        f"alertname={alert_name}" if alert_name else "",
    )
    text = " ".join(part for part in parts if part)
    now = request.reference_now()
    subjects = _subjects(text, ctx.service, ctx.namespace)
    intent = _intent(asked)
    terms = _terms(asked) if intent == "log_search" else ()
    if intent == "log_search" and not terms:
        intent = "log_summary"
    since, until = _time_filter(asked, now)
    if intent == "rca" and since is not None and (_ASKS_FOR_ERRORS.search(asked) or _WHAT_HAPPENED.search(asked)):
        intent = "log_summary"
    alert = _alert_name(text)
    said = f"{text} {request.message}" if asked != request.message else text
    words = frozenset(w.lower() for w in re.findall(_NAME, said.lower()) if len(w) >= 3 and w not in _NOT_NAMES)
    managed = re.search(
        r"\b(?:eks|gke|aks|managed (?:kubernetes|control plane|cluster)|autopilot|fargate)\b", text, re.I
    )
    named = _named(subjects, asked)
    return Question(
        intent,
        tuple(subjects),
        terms,
        since,
        until,
        alert,
        words,
        named,
        managed is not None,
        ctx.namespace,
        tuple((key, value) for key, value in labels.items() if isinstance(value, str)),
        request.message,
    )


_PHRASES = {
    "read-only",
    "e-mail",
    "crash-loop",
    "crash-looping",
    "re-run",
    "re-deploy",
    "follow-up",
    "built-in",
    "on-call",
}


def _named(subjects: list[Subject], message: str) -> str | None:
    """What the question is about by name: a subject it states, else its first Kubernetes-like name (``rules-engine``)."""
    stated = [s for s in subjects if not s.guessed] or [s for s in subjects if re.search(r"[-\d]", s.name)]
    if stated:
        return stated[0].name
    words: list[str] = re.findall(r"(?<![\w./:-])[a-z][a-z0-9]*(?:-[a-z0-9]+)+(?![\w/:-])", message.lower())
    for word in words:
        if word not in _PHRASES and not re.fullmatch(r"[a-z]+-(?:\d+[smhd]|ish|like|based|side|wide)", word):
            return word
    return None


def _intent(message: str) -> Intent:
    mentions_logs = re.search(r"\blog(?:s|ged)?\b", message, re.IGNORECASE) is not None
    if (_QUOTED.search(message) and _SEARCH.search(message)) or (_SEARCH_FOR.search(message) and mentions_logs):
        return "log_search"
    if _unquoted_term(message) and (mentions_logs or _GREP.match(message)):
        return "log_search"
    if _counted_term(message):
        return "log_search"
    if is_ranking(message):
        return "ranking"
    if _SUMMARY.search(message):
        return "log_summary"
    if _HEALTH.search(message):
        return "health"
    return "rca"


def _terms(message: str) -> tuple[str, ...]:
    quoted = [m.strip() for m in _QUOTED.findall(message) if m.strip()]
    if quoted:
        return tuple(dict.fromkeys(quoted))
    match = _SEARCH_FOR.search(message)
    term = (match.group(1) or match.group(2) or "") if match else ""
    term = _bare_term(term.strip(".,?!")) or _unquoted_term(message) or _counted_term(message)
    return (term,) if term else ()


# "search the logs for the deadline exceeded errors": what is printed is "deadline exceeded", not the article
# or the word that says it is an error
_TERM_ARTICLE = re.compile(r"^(?:the|any|all|those|these|some)\s+", re.IGNORECASE)
_TERM_NOUN = re.compile(r"\s+(?:errors?|messages?|lines?|entries|logs?|exceptions?|warnings?|events?)$", re.IGNORECASE)


# "grep for upstream timeouts after 02:00": the time window is a filter (read into since/until), not printed text
_TERM_WINDOW = re.compile(
    r"\s+(?:after|since|before|until|till|between|during|in the (?:last|past)|over the (?:last|past)|for the (?:last|past)"
    r"|today|yesterday|overnight|last night|this (?:morning|afternoon|evening))\b.*$",
    re.IGNORECASE,
)


def _bare_term(term: str) -> str:
    windowed = _TERM_WINDOW.sub("", term).strip()
    term = windowed if len(windowed) >= 3 else term
    bare = _TERM_NOUN.sub("", _TERM_ARTICLE.sub("", term)).strip()
    return bare if len(bare) >= 3 else term


# A counting question about something that happened to the service, not something it printed: "how many times did
# pay-gateway get a 502 back from adyen", "how often did we hit a 429", "how many times did stripe rate-limit us
# (429)": the status, code or word the lines print is the term.
_COUNTED = re.compile(
    r"\bhow (?:many times|often)\b[^.?!]{0,80}?\((?P<p>[\w./:@-]{2,40})\)"
    r"|\bhow (?:many times|often)\b[^.?!]{0,60}?\b(?:get|got|hit|see|saw|receive[d]?|return(?:ed)?|thr[eo]w[n]?|raise[d]?"
    r"|(?:fail(?:ed)?|respond(?:ed)?|answer(?:ed)?|reply|replied) with)\s+(?:an?\s+|any\s+|the\s+)?(?P<g>[\w./:@-]{2,40})",
    re.IGNORECASE,
)
# the upstream a counted status came from: "a 502 back from adyen", "429s from stripe"
_FROM = re.compile(
    r"^\s*s?\s+(?:back\s+|errors?\s+|responses?\s+)?(?:from|by)\s+(?:the\s+)?([a-z0-9][\w.-]{2,40})", re.IGNORECASE
)


def _counted_term(message: str) -> str:
    match = _COUNTED.search(message)
    if match is None:
        return ""
    term = (match.group("p") or match.group("g") or "").strip(".,?!:;")
    return "" if term.lower() in _NOT_NAMES or term.lower() in ("error", "errors") else term


def search_qualifier(message: str, term: str) -> str | None:
    """The upstream a counted term is restricted to ("a 502 back from adyen" -> "adyen"), if the question names one."""
    at = message.lower().find(term.lower())
    if at < 0:
        return None
    match = _FROM.match(message[at + len(term) :])
    return match.group(1).lower().strip(".,?!") if match else None


_GREP = re.compile(r"\s*(?:please\s+|can you\s+|could you\s+)?grep\b", re.IGNORECASE)


def _unquoted_term(message: str) -> str:
    match = _UNQUOTED_SEARCH.search(message)
    if match is None:
        return ""
    term = next((group for group in match.groups() if group), "")
    return term.strip(".,?!:;")


def _subjects(text: str, service: str | None, namespace: str | None) -> list[Subject]:
    found: list[Subject] = []

    def add(kind: str | None, name: str, ns: str | None = None, guessed: bool = False) -> None:
        name = name.strip().strip(".,:;)(").lower()
        if not name or name in _NOT_NAMES or len(name) < 2 or name.isdigit():
            return
        if any(s.name == name and (s.kind == kind or kind is None) for s in found):
            return
        found.append(Subject(kind, name, ns or namespace, guessed))

    for match in _DESCRIPTION.finditer(text):
        kind = KIND_ALIASES.get(match.group(1).lower(), match.group(1).lower())
        add(kind, match.group(3), match.group(2))
    for key, value in _LABEL.findall(text):
        if key in LABEL_KINDS and value:
            add(LABEL_KINDS[key], value)
    for match in _KIND_THEN_NAME.finditer(text):
        kind = KIND_ALIASES[match.group(1).lower()]
        name = match.group(2)
        ns = None
        if "/" in name:
            ns, name = name.split("/", 1)
        if kind == "namespace" or (match.group(1).lower().endswith("s") and match.group(1).lower() != "ds"):
            continue  # "pods were evicted", "jobs have": a plural is not followed by a name
        add(kind, name, ns, guessed=True)
    for match in _NAME_THEN_KIND.finditer(text):
        kind = KIND_ALIASES[match.group(2).lower()]
        if kind != "namespace":
            add(kind, match.group(1), guessed=True)
    if service:
        add(None, service)
    return found


def _alert_name(text: str) -> str | None:
    match = re.search(r"\balertname\s*[=:]\s*[\"']?([A-Za-z][\w]+)", text) or re.search(
        r"\[FIRING(?::\d+)?\]\s+([A-Za-z][A-Za-z0-9]+)\b", text
    )
    if match:
        return match.group(1)
    known = re.search(rf"\b({'|'.join(sorted(KNOWN_ALERTS, key=len, reverse=True))})\b", text)
    if known:
        return known.group(1)
    match = re.search(
        r"\b((?:Kube|Node|Prometheus|Alertmanager|Etcd|CoreDNS|Target|Watchdog|InfoInhibitor|DeadMansSwitch)[A-Za-z]*)\b",
        text,
    )
    return match.group(1) if match else None


def _time_filter(message: str, now: datetime) -> tuple[datetime | None, datetime | None]:
    since: datetime | None = None
    last = _LAST.search(message)
    if last:
        amount = int(last.group(1) or last.group(3) or 1)
        unit = (last.group(2) or last.group(4)).lower()[0]
        span = {"m": timedelta(minutes=1), "h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}
        since = now - amount * span[unit]
    match = _SINCE.search(message)
    if since is None and match:
        since = _parse_when(match.group(1), now)
    until_match = _UNTIL.search(message)
    until = _parse_when(until_match.group(1), now) if until_match else None
    if since is None and until is None:
        since, until = _window(message, now)
    return since, until


def _window(message: str, now: datetime) -> tuple[datetime | None, datetime | None]:
    """A window named without "since": "between 13:00 and 14:00", "yesterday around 14:00", "yesterday", "today"."""
    day = _DAY.search(message)
    shift = timedelta(days=1) if day and day.group(1).lower() in ("yesterday", "last night") else timedelta(0)
    between = _BETWEEN.search(message)
    if between:
        start, end = _parse_when(between.group(1), now), _parse_when(between.group(2), now)
        if start is not None and end is not None:
            if ":" not in between.group(1)[:3]:
                return start, end
            start, end = start - shift, end - shift
            if start > now:  # "between 13:00 and 14:00" asked in the morning means yesterday afternoon
                start, end = start - timedelta(days=1), end - timedelta(days=1)
            return start, end
    around = _AROUND.search(message)
    if around:
        moment = _parse_when(around.group(1), now)
        if moment is not None:
            moment -= shift
            if moment > now:  # "around 23:00" asked at 09:00 means last night
                moment -= timedelta(days=1)
            return moment - timedelta(minutes=30), moment + timedelta(minutes=30)
    if day:
        midnight = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        word = day.group(1).lower()
        if word == "yesterday":
            return midnight - timedelta(days=1), midnight
        if word == "last night":
            return midnight - timedelta(hours=6), midnight + timedelta(hours=6)
        return midnight, None
    return None, None


def _parse_when(text: str, now: datetime) -> datetime | None:
    lowered = text.lower().strip()
    midnight = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    if lowered in ("today", "midnight"):
        return midnight
    if lowered == "yesterday":
        return midnight - timedelta(days=1)
    weekday = re.fullmatch(r"(last\s+)?(mon|tues|wednes|thurs|fri|satur|sun)day", lowered)
    if weekday:  # the most recent such day before today ("since Monday" on a Tuesday: yesterday midnight)
        target = ("mon", "tues", "wednes", "thurs", "fri", "satur", "sun").index(weekday.group(2))
        back = (midnight.weekday() - target) % 7 or 7
        return midnight - timedelta(days=back)
    cleaned = re.sub(r"(\d)(st|nd|rd|th)\b", r"\1", text, flags=re.I).replace(" at ", " ").replace(",", " ")
    value = _parse_date(cleaned.strip(), midnight)
    if value is None:
        return None
    if value > now + timedelta(days=1) and not re.search(r"\d{4}", text):
        value = value.replace(year=value.year - 1)  # "since June 12" in January means last June
    return value


_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


def _parse_date(text: str, midnight: datetime) -> datetime | None:
    """ISO dates, "June 12 [2026] [14:00]", "12 June [2026]" and "14:00" (today), all UTC."""
    iso = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?Z?", text, re.I)
    clock = re.search(r"(\d{1,2}):(\d{2})(?::(\d{2}))?", text)
    try:
        if iso:
            year, month, day, hour, minute, second = iso.groups()
            return datetime(
                int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0), tzinfo=UTC
            )
        words = text.lower().split()
        month = next((i + 1 for w in words for i, m in enumerate(_MONTHS) if w.startswith(m)), None)
        numbers = [int(w) for w in words if w.isdigit()]
        hour, minute = (int(clock.group(1)), int(clock.group(2))) if clock else (0, 0)
        if month is None:
            return midnight.replace(hour=hour, minute=minute) if clock else None
        day = next((n for n in numbers if 1 <= n <= 31), 1)
        year = next((n for n in numbers if n > 1900), midnight.year)
        return datetime(year, month, day, hour, minute, tzinfo=UTC)
    except ValueError:
        return None


def with_alert_documents(question: Question, documents: list[object], texts: Sequence[str] = ()) -> Question:
    """The alert and its labels from an attached Alertmanager notification (webhook JSON, API alert list, or a
    text listing that prints each alert's labels as ``key="value"`` pairs: amtool, ``ALERTS{...}`` series) when
    the request's context did not carry them."""
    if question.alert and question.labels:
        return question
    label_sets = [labels for data in documents for labels in _alert_label_sets(data)]
    label_sets += [labels for text in texts for labels in _text_label_sets(text)]
    # a heartbeat (Watchdog) grouped with real alerts in one notification is not what the notification is about
    label_sets.sort(key=lambda labels: str(labels.get("alertname")) in HEARTBEATS)
    for labels in label_sets:
        name = labels.get("alertname")
        if not isinstance(name, str) or (question.alert and name != question.alert):
            continue
        pairs = tuple((k, v) for k, v in labels.items() if isinstance(k, str) and isinstance(v, str) and k != _NOTE)
        note = labels.get(_NOTE)
        return replace(
            question, alert=name, labels=question.labels or pairs, alert_text=note if isinstance(note, str) else ""
        )
    return question


_LABEL_PAIR = re.compile(r"\b([a-zA-Z_][\w]*)\s*=\s*\"([^\"]*)\"")


_NOTE = "\x00annotation"  # where a label set carries its alert's description (never a real label name)
_NOTE_KEYS = ("description", "message", "summary")


_BLOCK_PAIR = re.compile(r"^\s*([a-z_][\w]*)\s*[=:]\s*\"?(.*?)\"?\s*$")
_BLOCK_HEADER = re.compile(r"^\s*(labels|annotations)\s*:\s*$", re.I)


def _block_label_set(lines: list[str], at: int) -> dict[str, object]:
    """A label listing one pair per line ("Labels:\n  alertname = X\n  pod = y\nAnnotations:\n  description = ...")."""
    start = at
    while start > 0 and _BLOCK_PAIR.match(lines[start - 1]) and not _BLOCK_HEADER.match(lines[start - 1]):
        start -= 1
    labels: dict[str, object] = {}
    notes: dict[str, str] = {}
    in_notes = False
    for line in lines[start : at + 40]:
        header = _BLOCK_HEADER.match(line)
        if header:
            in_notes = header.group(1).lower() == "annotations"
            continue
        pair = _BLOCK_PAIR.match(line)
        if pair is None or (line.strip().startswith("alertname") and "alertname" in labels):
            break
        (notes if in_notes or pair.group(1) in _NOTE_KEYS else labels).setdefault(pair.group(1), pair.group(2))
    note = next((notes[key] for key in _NOTE_KEYS if notes.get(key)), "")
    if note:
        labels[_NOTE] = note
    return labels


def _text_label_sets(text: str) -> list[dict[str, object]]:
    found: list[dict[str, object]] = []
    lines = text.splitlines()[:500]
    for index, line in enumerate(lines):
        if "alertname" not in line:
            continue
        if re.match(r"^\s*alertname\s*[=:]\s*\"?[A-Za-z]\w*\"?\s*$", line):
            block = _block_label_set(lines, index)
            if isinstance(block.get("alertname"), str):
                found.append(block)
            continue
        labels: dict[str, object] = {}
        notes: dict[str, str] = {}
        for key, value in _LABEL_PAIR.findall(line):
            if key in (*_NOTE_KEYS, "runbook_url") or notes:
                notes.setdefault(key, value)  # the annotations column: its text is no label
                continue
            labels.setdefault(key, value)
        note = next((notes[key] for key in _NOTE_KEYS if notes.get(key)), "")
        if note:
            labels[_NOTE] = note
        if isinstance(labels.get("alertname"), str):
            found.append(labels)
    return found


def _with_note(alert: dict[str, object]) -> dict[str, object]:
    labels = alert["labels"]
    assert isinstance(labels, dict)
    annotations = alert.get("annotations")
    notes = annotations if isinstance(annotations, dict) else {}
    note = next((notes[key] for key in _NOTE_KEYS if isinstance(notes.get(key), str) and notes[key]), "")
    return {**labels, _NOTE: note} if note else dict(labels)


def _alert_label_sets(data: object) -> list[dict[str, object]]:
    if isinstance(data, list):
        return [_with_note(x) for x in data if isinstance(x, dict) and isinstance(x.get("labels"), dict)]
    if not isinstance(data, dict):
        return []
    alerts = data.get("alerts")
    if isinstance(data.get("data"), dict):
        alerts = data["data"].get("alerts", alerts)
    found = (
        [_with_note(a) for a in alerts if isinstance(a, dict) and isinstance(a.get("labels"), dict)]
        if isinstance(alerts, list)
        else []
    )
    if isinstance(data.get("labels"), dict):
        found.append(data["labels"])
    if isinstance(data.get("commonLabels"), dict):
        found.append(data["commonLabels"])
    return found
