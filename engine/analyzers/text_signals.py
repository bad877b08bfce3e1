"""Decisive control-plane messages wherever they are printed: events, describe output, YAML status, logs.

The rules (``engine.expertise.messages``) are what the API server, scheduler, kubelet, controllers and the
tools around them print; this analyzer finds them in every text the investigation read and attributes each to
the object it is about (the event's object, else an object the line names, else the question's subject).
"""
# ruff: noqa: E501  (patterns and messages read better unwrapped)

from __future__ import annotations

import difflib
import re

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import observed_names, rec
from engine.expertise.app_server_messages import PREFILTER as APP_SERVER_PREFILTER
from engine.expertise.controller_messages import PREFILTER as CONTROLLER_PREFILTER
from engine.expertise.messages import MessageRule, first_of_each_family, match_rules, render
from engine.facts import LogDoc, Observations
from engine.findings import Finding, workload_of
from engine.parsers.command_line import command_object
from engine.parsers.common import excerpt, parse_timestamp

_PREFILTER = re.compile(
    r"denied|webhook|AdmissionPolicy|PodSecurity|forbidden|service account|quota|usage per|terminated|metrics|missing request|storageclass"
    r"|storage class|already bound|provision|Multi-Attach|AttachVolume|MountVolume|volume node affinity|<error:|not found|network not ready"
    r"|NetworkPluginNotReady|cni|PLEG|exec format|exec: |disruption budget|x509|Order|challenge|pull|ephemeral|EmptyDir"
    r"|expired|certificate|permission denied|pull policy|Preempted|suspend|forbidden|no matches for kind|not applied"
    r"|topology spread|plugin/loop|SSL certificate|RuntimeClass|runtimeclass|swap|conntrack|ownership|OnRootMismatch"
    r"|serviceaccount/token|in-cluster|concurrency policy|deadline|finalizers|app path|repo|could not find|capacity"
    r"|RESOURCE_POOL|SkuNotAvailable|error inspecting|error establishing|error getting metric|runAsNonRoot|ScaleUpLimit|faster than the maximum scale"
    r"|load balancer|is invalid|already managed|node group size|/scale|did not receive metrics|immutable|security context constraint|free ports|scale decision|maximum replica count|TooManyReplicas|missed start|scaleTargetRef|TriggerAuthentication|too large body|too big header|upstream timed out|no object matching key"
    r"|maximum normal shards|maximum shards|returned multiple elements|multiple HPAs|slow consumer"
    r"|short name mode|(?:build|deploy) model|allocate IP|" + CONTROLLER_PREFILTER + "|" + APP_SERVER_PREFILTER,
    re.IGNORECASE,
)
MAX_LINES_SCANNED = 200_000


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    names = _known_names(obs, ctx)
    nodes = _node_names(obs, ctx)
    candidates = _existing(obs)
    claim_owners = _claim_owners(obs)
    found: dict[tuple[str, str], Finding] = {}
    scanned = 0
    sole = _sole_objects(obs)
    sources: list[tuple[str, list[str], str | None, str | None]] = [
        (t.label, t.lines, _commanded(t.command) or _described_by(t.command) or sole.get(t.label), None)
        for t in obs.texts
    ]
    sources += [  # last resort: the log's pod, else the asked workload its attachment is named after
        (
            doc.label,
            _distinct_lines(doc, ctx),
            _named_in_label(doc.label, names),
            doc.pod or _asked_in_label(doc.label, ctx),
        )
        for doc in obs.logs
    ]
    only_pod = obs.pods[0].name if len(obs.pods) == 1 else None  # a lone pod's -o json/yaml: its status is about it
    nominated = _nominated(obs)
    event_objects = {e.cite: e.object_name for e in obs.events if e.object_name}  # table rows: the event's object
    pending = [  # a LoadBalancer Service still without an address: what "load balancer" messages are about
        r.name for r in obs.resources if r.kind == "Service" and r.raw.get("row", {}).get("EXTERNAL-IP") == "<pending>"
    ]
    for label, lines, commanded, log_pod in sources:
        log_pod = log_pod or only_pod
        described = nominated.get(
            commanded or "", commanded
        )  # the object a describe block is about ("Name:" opens each block)
        for line in lines:
            scanned += 1
            if scanned > MAX_LINES_SCANNED:
                break
            if line.startswith("Name:"):
                described = line.split(":", 1)[1].strip().split("/")[-1] or None
            if len(line) < 12 or not _PREFILTER.search(line):
                continue
            cite = f"{label} {excerpt(line.strip())}"
            for rule, groups in first_of_each_family(match_rules(line[:4096])):
                _add(
                    found,
                    rule,
                    groups,
                    cite,
                    line,
                    names,
                    ctx,
                    nodes,
                    candidates,
                    event_objects.get(cite)
                    or described
                    or _quoted_pod(line)
                    or (pending[0] if len(pending) == 1 and "load balancer" in line.lower() else None),
                    claim_owners,
                    log_pod,
                )
    for event in obs.events:
        if event.cite.startswith("[tool:") and _PREFILTER.search(event.message):
            owner = event.object_name or None
            for rule, groups in match_rules(event.message):
                _add(found, rule, groups, event.cite, event.message, names, ctx, nodes, candidates, owner, claim_owners)
    _prefer_the_asked(list(found.values()), ctx)
    return sorted(found.values(), key=lambda f: -f.weight)  # merged duplicates keep the first one's title


_LABEL_STEM = re.compile(r"[._]|-(?:logs?|previous|prev|crash|current|stdout|stderr)\b")


def _named_in_label(label: str, names: list[str]) -> str | None:
    """``invoice-pdf-logs.txt``: the longest observed name the attachment's name holds is whose log it is."""
    name = label.removeprefix("[attachment:").lower()
    found = [n for n in names if len(n) >= 4 and re.search(rf"(?<![\w-]){re.escape(n.lower())}(?![\w])", name)]
    return max(found, key=len) if found else None


def _asked_in_label(label: str, ctx: AnalysisContext) -> str | None:
    """``notifier-previous.log`` while the question asks about notifier: that workload's log."""
    stem = _LABEL_STEM.split(label.removeprefix("[attachment:").rstrip("]").lower())[0]
    words = ctx.question.words if ctx.question else frozenset()
    return stem if len(stem) >= 4 and stem in words else None


def _prefer_the_asked(findings: list[Finding], ctx: AnalysisContext) -> None:
    """Several refusals of one kind (RBAC denials for two resources): the one naming what the question names first."""
    words = {w for w in (ctx.question.words if ctx.question else ()) if len(w) > 3}
    kinds: dict[str, int] = {}
    for finding in findings:
        kinds[finding.kind] = kinds.get(finding.kind, 0) + 1
    for finding in findings:
        if kinds[finding.kind] < 2 or not words:
            continue
        named = {w for w in words if re.search(rf"(?<![\w-]){re.escape(w)}(?![\w-])", finding.title, re.IGNORECASE)}
        if named:
            finding.weight = min(100, finding.weight + min(len(named), 3))


def _sole_objects(obs: Observations) -> dict[str, str]:
    """Sources holding exactly one API object (a ``get -o yaml`` of it): their status messages are about it."""
    seen: dict[str, set[str]] = {}
    for resource in obs.resources:
        seen.setdefault(resource.label, set()).add(resource.name)
    return {label: next(iter(names)) for label, names in seen.items() if len(names) == 1}


def _described_by(command: str) -> str | None:
    """The object a ``kubectl describe <kind> <name>`` command line names (its output may be cut below Name:)."""
    found = re.search(r"\bdescribe\s+(?:[a-z][\w.]*(?:/|\s+))?([a-z0-9][\w.-]*)", command.split("|", 1)[0])
    return found.group(1) if found else None


def _add(
    found: dict[tuple[str, str], Finding],
    rule: MessageRule,
    groups: dict[str, str],
    cite: str,
    line: str,
    names: list[str],
    ctx: AnalysisContext,
    nodes: frozenset[str],
    candidates: dict[str, set[str]],
    owner: str | None = None,
    claim_owners: dict[str, str] | None = None,
    last_resort: str | None = None,
) -> None:
    if '": "' in line:  # one-line JSON: a group read to the end of the line stops at its closing quote
        groups = {k: re.split(r'(?<!\\)"', v, maxsplit=1)[0] for k, v in groups.items()}
    what = render(rule.title, groups)
    if what is None:
        return
    meant = _probably_meant(rule.kind, groups, candidates)
    if meant:
        what += f"; the existing {meant[0]} '{meant[1]}' is probably what was meant"
    key = (rule.kind, what)
    asked = ctx.question.named if ctx.question else None
    shown = _printed_by(line, names) or owner or ctx.service or asked or last_resort  # the object as the input names it
    if shown and re.search(rf'namespace \\?"{re.escape(shown)}\\?"', line):
        where = shown  # a namespace the message names is where, not what, failed
        shown = owner or ctx.service or (asked if asked != where else None) or last_resort
    refused = _quoted_pod(line)
    if rule.kind == "rbac_forbidden":  # the object acted on is not the failing party: the user/ServiceAccount is
        if refused and shown == refused:
            shown = (owner if owner != refused else None) or ctx.service or asked
        refused = None
        account = groups.get("user", "")
        if shown is None and account.startswith("system:serviceaccount:"):
            shown = account.rsplit(":", 1)[-1]
    missing = next((v for k, v in groups.items() if k.startswith("service") and v), None)
    if (
        rule.kind == "ingress_backend_missing"
        and missing
        and shown
        and shown not in missing
        and missing not in shown
        and _owner_in(line, [shown]) is None
    ):
        shown = missing  # another backend than the subject's (legacy-search, not catalog): the message is about it
    elsewhere = _other_namespace_object(line, groups, ctx)
    if elsewhere:  # 'Service "monitoring/grafana" ...' while the question is about namespace shop: grafana's
        shown = elsewhere
    focused = ctx.focus.owner() if ctx.focus else None
    if refused and shown not in (focused, asked) and not (shown and refused.startswith(shown)):
        shown = refused  # 'pods "toolbox-jane" is forbidden: exceeded quota q': the refused pod, not the quota
    owners = claim_owners or {}
    claim = _owner_in(line, sorted(owners, key=len, reverse=True)) if owners else None
    if claim and shown in (None, claim, ctx.service, asked):
        shown = owners[claim]  # a StatefulSet's claim: the StatefulSet waits on it
        what += f" (PersistentVolumeClaim {claim}, which StatefulSet {shown}'s pod needs)"
    workload = shown if shown is None or shown in nodes else workload_of(shown)
    existing = found.get(key)
    if existing is not None:
        existing.count += 1
        if cite not in existing.evidence and len(existing.evidence) < 3:
            existing.evidence.append(cite)
        subject = (ctx.focus.owner() if ctx.focus else None) or asked
        if subject and shown == subject and existing.workload != workload:  # the same message, seen on the subject
            existing.title = f"{shown}: {what}"
            existing.workload, existing.affected, existing.subject = (
                workload,
                [workload or shown],
                f"{workload}:{rule.kind}",
            )
        return
    action = render(rule.action, groups) or rule.action.split("{")[0].rstrip()
    found[key] = Finding(
        kind=rule.kind,
        subject=f"{workload or 'cluster'}:{rule.kind}",
        role=rule.role,
        title=f"{shown}: {what}" if shown else what[:1].upper() + what[1:],
        weight=rule.weight - (20 if elsewhere else 0),
        evidence=[cite],
        workload=workload,
        timestamp=parse_timestamp(line[:64]),
        recommendations=[rec("high", action)],
        affected=[workload] if workload else [],
        related=[v for k, v in groups.items() if k in ("service", "account", "storageclass", "hook")],
    )


_NAMESPACED_KEY = re.compile(r'\\?"(?P<ns>[a-z0-9][a-z0-9-]{0,62})/(?P<name>[a-z0-9][\w.-]*)\\?"')


def _other_namespace_object(line: str, groups: dict[str, str], ctx: AnalysisContext) -> str | None:
    """The object a controller message keys as ``"<namespace>/<name>"`` when that namespace is not the one the
    question is about: the message is about that object (another team's Ingress, Service or Secret), not the subject."""
    namespace = ctx.namespace or (ctx.question.namespace if ctx.question else None)
    if not namespace:
        return None
    values = set(groups.values())
    for match in _NAMESPACED_KEY.finditer(line):
        if match.group("name") in values and match.group("ns") != namespace:
            return match.group("name")
    return None


_ORDINAL = re.compile(r"^(.+)-\d+$")
_QUOTED_POD = re.compile(
    r'\b(?:pods?|services?|deployments?(?:\.apps)?|statefulsets?(?:\.apps)?|jobs?(?:\.batch)?|persistentvolumeclaims?|configmaps?|ingress(?:es)?(?:\.networking\.k8s\.io)?) \\?"(?P<pod>(?!sh\.helm\.release)[a-z0-9][a-z0-9.-]*)\\?" is forbidden'
)
_NOMINATED = re.compile(r"should schedule on:? (?:nodeclaim|node)/(?P<claim>[a-z0-9][\w.-]*)", re.IGNORECASE)


def _commanded(command: str) -> str | None:
    """The object the command that printed a text names (``kubectl describe nodeclaim gpu-7xk2q``)."""
    found = command_object(command) if command else None
    return found[1] if found else None


def _quoted_pod(line: str) -> str | None:
    """``pods "vector-agent-8kq2w" is forbidden``: the refused pod (its controller is the workload)."""
    match = _QUOTED_POD.search(line)
    return match.group("pod") if match else None


def _nominated(obs: Observations) -> dict[str, str]:
    """Karpenter's ``Nominated`` event (``Pod should schedule on: nodeclaim/x``): the node claim -> the pod waiting on it."""
    found: dict[str, str] = {}
    for event in obs.events:
        match = _NOMINATED.search(event.message)
        if match and event.object_name:
            found.setdefault(match.group("claim"), event.object_name)
    for text in obs.texts:
        pod = _commanded(text.command)
        for line in text.lines if pod else []:
            match = _NOMINATED.search(line)
            if match:
                found.setdefault(match.group("claim"), pod or "")
    return found


def _claim_owners(obs: Observations) -> dict[str, str]:
    """A StatefulSet's claims (``<template>-<statefulset>-<ordinal>``) -> the StatefulSet, when its pods or it are seen."""
    sets = {w.name for w in obs.workloads if w.kind == "StatefulSet"}
    sets |= {r.name for r in obs.resources if r.kind == "StatefulSet"}
    pods = {p.name for p in obs.pods if _ORDINAL.match(p.name)}
    owners: dict[str, str] = {}
    for claim in {c.name for c in obs.claims}:
        for pod in pods:
            match = _ORDINAL.match(pod)
            if claim.endswith(f"-{pod}") and match:
                owners[claim] = match.group(1)
        for name in sets:
            if re.search(rf"-{re.escape(name)}-\d+$", claim):
                owners.setdefault(claim, name)
    return owners


def _distinct_lines(doc: LogDoc, ctx: AnalysisContext) -> list[str]:
    """A log's distinct lines (one example per template, in order): a message repeated 10,000 times is read once."""
    if ctx.logs is None:
        return doc.lines
    templates = sorted(ctx.logs.of(doc).templates, key=lambda t: t.first_index)
    return [t.example for t in templates]


def _node_names(obs: Observations, ctx: AnalysisContext) -> frozenset[str]:
    """Nodes are named as they are (``worker-07``), never cut to a workload name."""
    subject = ctx.focus.subject if ctx.focus else None
    focused = {subject.name} if subject is not None and subject.kind == "node" else set()
    return frozenset({node.name for node in obs.nodes} | focused)


def _known_names(obs: Observations, ctx: AnalysisContext) -> list[str]:
    """The subject first, then what the person named in the question, then every observed object."""
    owner = ctx.focus.owner() if ctx.focus else None
    asked = sorted((w for w in ctx.question.words if "-" in w), key=len, reverse=True) if ctx.question else []
    return [*([owner] if owner else []), *asked, *observed_names(obs)]


_STERN = re.compile(r"[a-z0-9][a-z0-9-]*-[a-z0-9]{6,10}-[a-z0-9]{5} [a-z][\w-]* ")  # stern: pod, container, line


def _printed_by(line: str, names: list[str]) -> str | None:
    """A stern / ``kubectl logs --prefix`` line opens with the pod that printed it; a name further on (its
    container's, such as ``php-fpm``) does not outrank it. Else the first known name the line holds."""
    first = line.lstrip("[").split(" ", 1)[0].removeprefix("pod/").split("/", 1)[0]
    if first in names or (workload_of(first) != first and workload_of(first) in names) or _STERN.match(line):
        return first
    return _owner_in(line, names)


def _owner_in(line: str, names: list[str]) -> str | None:
    for name in names:
        if re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", line):
            return name
    return None


_MEANT = {
    "namespace_missing": "namespace",
    "gitops_path_missing": "path",
    "ingress_tls_secret_missing": "secret",
    "issuer_not_found": "issuer",
    "hpa_target_missing": "name",  # the workload an HPA's scaleTargetRef was meant to name
    "keda_target_missing": "name",
}
_SHOWN_AS = {"name": "workload"}
_KIND_OF_GROUP = {"namespace": "Namespace", "secret": "Secret"}
_PATH_TOKEN = re.compile(r"(?<![\w/.-])[\w.-]+(?:/[\w.-]+)+(?![\w/.-])")


def _existing(obs: Observations) -> dict[str, set[str]]:
    """Names that exist, by kind, to tell what a wrong name was probably meant to be."""
    found: dict[str, set[str]] = {"namespace": set(), "secret": set(), "path": set(), "issuer": set()}
    found["name"] = {w.name for w in obs.workloads if w.kind in ("Deployment", "StatefulSet", "ReplicaSet")}
    found["name"] |= {r.name for r in obs.resources if r.kind in ("Deployment", "StatefulSet")}
    for resource in obs.resources:
        if resource.kind == "Namespace":
            found["namespace"].add(resource.name)
        elif resource.kind == "Secret":
            found["secret"].add(resource.name)
        elif resource.kind in ("ClusterIssuer", "Issuer"):
            found["issuer"].add(resource.name)
    for lines in [t.lines for t in obs.texts] + [d.lines[:2000] for d in obs.logs]:
        for line in lines[:5000]:
            if "/" in line and len(line) < 300 and not line.lstrip().startswith(("$", "#", ">")):
                found["path"] |= {t for t in _PATH_TOKEN.findall(line) if "://" not in t and not t.startswith("/")}
    return found


def _probably_meant(kind: str, groups: dict[str, str], candidates: dict[str, set[str]]) -> tuple[str, str] | None:
    group = _MEANT.get(kind)
    wrong = groups.get(group or "")
    if not group or not wrong:
        return None
    pool = sorted(candidates.get(group, set()) - {wrong})
    close = difflib.get_close_matches(wrong, pool, n=1, cutoff=0.8 if group == "path" else 0.6)
    return (_SHOWN_AS.get(group, group), close[0]) if close else None
