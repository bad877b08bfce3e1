"""Kubernetes objects beyond pods: network policies, Services and Ingresses, autoscalers, disruption budgets,
GitOps applications, certificates, and any object whose status conditions say it is not ready.

Each check is general knowledge about how the object works (a Service routes to the pods its selector
matches; a default-deny egress policy blocks DNS unless a rule allows port 53; an HPA at maxReplicas cannot
add capacity), applied to what ``kubectl get/describe -o yaml`` prints.
"""
# ruff: noqa: E501  (user-facing messages read better unwrapped)

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from typing import Any

from engine.analysis_context import AnalysisContext
from engine.analyzers import daemonset_nodes
from engine.analyzers.common import rec
from engine.analyzers.dns_evidence import resolved_but_timing_out
from engine.facts import Observations, PodFact, ResourceFact
from engine.findings import Finding, workload_of


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    findings: list[Finding] = []
    findings += _network_policies(obs, ctx)
    findings += _services(obs)
    findings += _autoscalers(obs)
    findings += _disruption_budgets(obs)
    findings += _applications(obs)
    findings += _not_ready_conditions(obs)
    findings += _daemonsets(obs)
    findings += _binding_namespace_mismatch(obs)
    findings += _vpa_and_hpa(obs)
    findings += _suspended(obs)
    findings += _scaled_to_zero(obs, ctx)
    return findings


# --- Suspended reconcilers ---------------------------------------------------------------------------------


def _suspended(obs: Observations) -> list[Finding]:
    """A suspended Flux object (or CronJob) is not reconciled: what was merged since is not applied."""
    findings: list[Finding] = []
    for resource in obs.resources:
        row = _d(resource.raw.get("row"))
        flag = row.get("SUSPENDED", row.get("SUSPEND"))
        if str(flag) != "True" or resource.kind in ("CronJob",):
            continue
        revision = f" (it stays at revision {row['REVISION']})" if row.get("REVISION") else ""
        findings.append(
            Finding(
                kind="reconciliation_suspended",
                subject=f"{resource.kind.lower()}/{resource.name}",
                role="cause",
                title=f"{resource.name}: {resource.kind} {resource.name} is suspended, so it is not reconciled and changes "
                f"merged since are never applied{revision}",
                weight=78,
                evidence=[resource.quote(resource.name, "True")],
                workload=resource.name,
                recommendations=[
                    rec(
                        "high",
                        f"Resume it when intended (flux resume {resource.kind.lower()} {resource.name}) and check who suspended it and why",
                    )
                ],
                affected=[resource.name],
            )
        )
    return findings


# --- VPA and HPA on the same resource ----------------------------------------------------------------------


def _vpa_and_hpa(obs: Observations) -> list[Finding]:
    """The VPA docs: do not use a VPA in Auto/Recreate mode with an HPA on CPU or memory for the same workload."""
    findings: list[Finding] = []
    hpas = {
        str(_d(h.raw.get("row")).get("REFERENCE", "")).split("/")[-1] or h.name: h
        for h in _of_kind(obs, "HorizontalPodAutoscaler")
    }
    for hpa in _of_kind(obs, "HorizontalPodAutoscaler"):
        target = str(_d(_d(hpa.raw.get("spec")).get("scaleTargetRef")).get("name", ""))
        if target:
            hpas[target] = hpa
    for vpa in _of_kind(obs, "VerticalPodAutoscaler"):
        mode = str(
            _d(vpa.raw.get("row")).get("MODE")
            or _d(_d(vpa.raw.get("spec")).get("updatePolicy")).get("updateMode", "Auto")
        )
        target = str(_d(_d(vpa.raw.get("spec")).get("targetRef")).get("name", "")) or vpa.name
        paired = hpas.get(target)
        if paired is None or mode in ("Off", "Initial"):
            continue
        metric = str(_d(paired.raw.get("row")).get("TARGETS", "")) or "cpu/memory"
        if not re.search(r"cpu|memory|%", metric, re.I) and "row" in paired.raw:
            continue
        findings.append(
            Finding(
                kind="vpa_hpa_conflict",
                subject=f"verticalpodautoscaler/{vpa.name}",
                role="cause",
                title=f"{target}: a VPA in {mode} mode and an HPA on CPU ({metric.strip()}) both manage {target}: the VPA keeps "
                "changing the CPU requests the HPA computes utilization against, so replicas swing and pods are evicted",
                weight=88,
                evidence=[vpa.quote(vpa.name), paired.quote(paired.name)],
                workload=target,
                recommendations=[
                    rec(
                        "high",
                        f"Set the VPA of {target} to updateMode Off (recommendations only), or scale the HPA on a custom/external metric instead of CPU",
                    )
                ],
                affected=[target],
            )
        )
    return findings


# --- RBAC bindings that name the ServiceAccount in another namespace ---------------------------------------

_SA_DENIED = re.compile(r"system:serviceaccount:(?P<ns>[\w.-]+):(?P<name>[\w.-]+)\\?\"? cannot (?P<verb>\w+)")


def _binding_namespace_mismatch(obs: Observations) -> list[Finding]:
    bindings = _of_kind(obs, "ClusterRoleBinding", "RoleBinding")
    if not bindings:
        return []
    denied: dict[tuple[str, str], str] = {}
    for doc in obs.logs:
        for line in doc.lines:
            match = _SA_DENIED.search(line)
            if match:
                denied.setdefault((match.group("ns"), match.group("name")), f"{doc.label} {line.strip()[:300]}")
    findings: list[Finding] = []
    for (namespace, name), cite in sorted(denied.items()):
        for binding in bindings:
            for subject in _l(binding.raw.get("subjects")):
                subject = _d(subject)
                other = str(subject.get("namespace", ""))
                if (
                    subject.get("kind") == "ServiceAccount"
                    and subject.get("name") == name
                    and other
                    and other != namespace
                ):
                    findings.append(
                        Finding(
                            kind="rbac_binding_wrong_namespace",
                            subject=f"{binding.kind.lower()}/{binding.name}",
                            role="cause",
                            title=f"{name}: {binding.kind} {binding.name} grants its role to ServiceAccount {name} in namespace "
                            f"{other}, but the pods run as {name} in namespace {namespace}, so the API refuses them (a subject is name and namespace)",
                            weight=92,
                            evidence=[
                                cite,
                                binding.quote(other, fallback=f"{binding.kind} {binding.name} subject {other}/{name}"),
                            ],
                            workload=name,
                            recommendations=[
                                rec(
                                    "high",
                                    f"Change the subject of {binding.kind} {binding.name} to namespace {namespace} (or add one for it)",
                                )
                            ],
                            affected=[name],
                        )
                    )
    return findings


# --- DaemonSets that skip nodes ----------------------------------------------------------------------------

_TAINT_LINE = re.compile(r"^\s*Taints:\s+([\w./-]+)(?:=([\w.-]*))?:(NoSchedule|NoExecute)")
_TOLERATION_KEY = re.compile(r"\"key\"\s*:\s*\"([\w./-]+)\"")


def _daemonsets(obs: Observations) -> list[Finding]:
    if not obs.nodes:
        return []
    findings: list[Finding] = []
    daemonsets = [
        (
            ds.name,
            _int(_d(ds.raw.get("row")).get("DESIRED")) or _int(_d(ds.raw.get("status")).get("desiredNumberScheduled")),
            ds.quote(ds.name),
        )
        for ds in _of_kind(obs, "DaemonSet")
    ]
    daemonsets += [  # a described DaemonSet: "Desired Number of Nodes Scheduled"
        (w.name, w.desired, w.cites.get("replicas", ""))
        for w in obs.workloads
        if w.kind == "DaemonSet" and w.name not in {d[0] for d in daemonsets}
    ]
    # a node list shortened by hand ("... (14 general nodes Ready) ...") counts only some nodes: then only an
    # untolerated taint on a listed node says which nodes the DaemonSet skips
    listed = {n.name for n in obs.nodes if re.fullmatch(r"[a-z0-9][\w.-]*", n.name)}
    elided = any(n.name not in listed for n in obs.nodes)
    for name, desired, quoted in daemonsets:
        total = len(listed) if elided else len({n.name for n in obs.nodes})  # a node both listed and described is one
        if desired is None or (desired >= total and not elided):
            continue
        taints: list[tuple[str, str]] = []  # (taint, evidence)
        tolerated: set[str] = set()
        sources = [(t.label, t.lines) for t in obs.texts] + [(doc.label, doc.lines) for doc in obs.logs]
        for label, lines in sources:
            for line in lines:
                match = _TAINT_LINE.match(line)
                if match and not any(match.group(1) == t[0].split("=")[0] for t in taints):
                    value = f"={match.group(2)}" if match.group(2) else ""
                    taints.append((f"{match.group(1)}{value}:{match.group(3)}", f"{label} {line.strip()}"))
                if '"effect"' in line and '"key"' in line and not re.search(r'"taints"|"kind":\s*"Node"', line):
                    tolerated |= set(_TOLERATION_KEY.findall(line))
        for node in obs.nodes:
            for taint in node.taints:
                if not any(taint.split("=")[0].split(":")[0] == t[0].split("=")[0] for t in taints):
                    taints.append((taint, node.cites.get("taints", node.cites.get("status", ""))))
        untolerated = [t for t in taints if t[0].split("=")[0].split(":")[0] not in tolerated]
        if desired >= total and not untolerated:
            continue
        selected = None if untolerated else daemonset_nodes.excluded(obs, name)
        why = (
            f": the other nodes carry taint {', '.join(t[0] for t in untolerated[:2])}, which its pods do not tolerate"
            if untolerated
            else selected or ": its nodeSelector/affinity or taints exclude the other nodes"
        )
        findings.append(
            Finding(
                kind="daemonset_missing_nodes",
                subject=f"daemonset/{name}",
                role="cause",
                title=f"{name}: the DaemonSet runs on {desired} of {total} nodes{why}"
                if desired < total
                else f"{name}: the DaemonSet runs no pod on the tainted nodes{why}",
                weight=84 if untolerated or selected else 70,
                evidence=[e for e in (quoted, *[t[1] for t in untolerated[:1]]) if e],
                workload=name,
                recommendations=[
                    rec(
                        "high",
                        f"Add a toleration for {untolerated[0][0]} to DaemonSet {name}"
                        if untolerated
                        else f"Compare DaemonSet {name}'s nodeSelector/affinity/tolerations with the nodes it skips",
                    ),
                ],
                affected=[name],
            )
        )
    return findings


# --- Workloads scaled to zero ------------------------------------------------------------------------------

_SCALED_DOWN = re.compile(r"Scaled down replica set ([\w.-]+) to 0(?: from (\d+))?")
_AUDIT_USER = re.compile(r"\"username\"\s*:\s*\"([^\"]+)\"")


def _scaled_to_zero(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    findings: list[Finding] = []
    for workload in obs.workloads:
        if workload.kind not in ("Deployment", "StatefulSet") or workload.desired != 0:
            continue
        evidence = [workload.cites.get("replicas", "")]
        detail = ""
        for event in obs.events:
            match = _SCALED_DOWN.search(event.message)
            if match and workload_of(match.group(1)) == workload.name:
                detail = f" (scaled down from {match.group(2)})" if match.group(2) else ""
                evidence.append(event.cite)
                break
        actor = _audit_actor(obs, workload.name)
        if actor:
            detail += f"; the audit log shows {actor[0]} changed it"
            evidence.append(actor[1])
        findings.append(
            Finding(
                kind="scaled_to_zero",
                subject=f"{workload.kind.lower()}/{workload.name}",
                role="cause",
                title=f"{workload.name}: {workload.kind} {workload.name} is scaled to 0 replicas{detail}, so no pod serves it",
                weight=66 + (14 if actor else 0),
                evidence=[e for e in evidence if e],
                workload=workload.name,
                recommendations=[
                    rec(
                        "high",
                        f"Scale it back (kubectl scale {workload.kind.lower()}/{workload.name} --replicas=<n>) and stop whatever scaled it down",
                    )
                ],
                affected=[workload.name],
            )
        )
    return findings


def _audit_actor(obs: Observations, name: str) -> tuple[str, str] | None:
    """Who changed the object, from Kubernetes audit events (audit.k8s.io) that name it."""
    sources: list[tuple[Any, Any]] = [(d.data, d) for d in obs.documents]
    sources += [(r.raw, r) for r in obs.resources if str(r.raw.get("apiVersion", "")).startswith("audit.k8s.io")]
    for data, document in sources:
        events = data if isinstance(data, list) else [data]
        for event in events:
            ref, user = _d(_d(event).get("objectRef")), _d(_d(event).get("user"))
            if ref.get("name") == name and _d(event).get("verb") in ("update", "patch") and user.get("username"):
                username = str(user["username"])
                return username, document.quote(username, fallback=f"audit: {username} {_d(event).get('verb')} {name}")
    for doc in obs.logs:
        for line in doc.lines:
            if "audit.k8s.io" in line and f'"{name}"' in line and re.search(r'"verb"\s*:\s*"(?:update|patch)"', line):
                found = _AUDIT_USER.search(line)
                if found:
                    return found.group(1), f"{doc.label} {line.strip()[:300]}"
    return None


def _d(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _l(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _of_kind(obs: Observations, *kinds: str) -> list[ResourceFact]:
    return [r for r in obs.resources if r.kind in kinds]


def _selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    match = {str(k): str(v) for k, v in _d(selector.get("matchLabels")).items()}
    if not all(labels.get(k) == v for k, v in match.items()):
        return False
    for expression in _l(selector.get("matchExpressions")):
        expression = _d(expression)
        key, operator = str(expression.get("key")), str(expression.get("operator"))
        values = [str(v) for v in _l(expression.get("values"))]
        if operator == "In" and labels.get(key) not in values:
            return False
        if operator == "NotIn" and labels.get(key) in values:
            return False
        if operator == "Exists" and key not in labels:
            return False
        if operator == "DoesNotExist" and key in labels:
            return False
    return True


# --- Network policies --------------------------------------------------------------------------------------


def _allows_dns(rule: dict[str, Any]) -> bool:
    ports = _l(rule.get("ports"))
    if not ports:
        return True  # a rule without ports allows every port to its destinations
    return any(str(_d(p).get("port")) in ("53", "dns", "dns-tcp") for p in ports)


def _allows_dns_udp(rule: dict[str, Any]) -> bool:
    ports = _l(rule.get("ports"))
    if not ports:
        return True
    return any(
        str(_d(p).get("port")) in ("53", "dns") and str(_d(p).get("protocol", "TCP")).upper() == "UDP" for p in ports
    )


def _network_policies(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    described = [p for p in _of_kind(obs, "NetworkPolicy") if p.raw.get("described")]
    policies = [p for p in _of_kind(obs, "NetworkPolicy") if isinstance(p.raw.get("spec"), dict)]
    if not policies and not described:
        return []
    findings: list[Finding] = []
    findings += _namespace_selector_mismatch(described, obs)
    egress = [p for p in policies if "Egress" in [str(t) for t in _l(p.raw["spec"].get("policyTypes"))]]
    if egress:
        allowing = [p for p in egress if any(_allows_dns(_d(rule)) for rule in _l(p.raw["spec"].get("egress")))]
        tcp_only = [
            p for p in allowing if not any(_allows_dns_udp(_d(rule)) for rule in _l(p.raw["spec"].get("egress")))
        ]
        if allowing and len(tcp_only) == len(allowing):
            policy = tcp_only[0]
            selected = _policy_target(policy, obs) or ctx.service
            findings.append(
                Finding(
                    kind="netpol_dns_tcp_only",
                    subject=f"networkpolicy/{policy.name}",
                    role="cause",
                    title=f"{selected + ': ' if selected else ''}NetworkPolicy {policy.name} allows DNS (port 53) only over TCP, "
                    "but DNS queries use UDP first, so name lookups time out",
                    weight=90,
                    evidence=[policy.quote("53", fallback=f"NetworkPolicy {policy.name} egress port 53/TCP")],
                    workload=selected,
                    recommendations=[
                        rec("high", f"Add port 53 with protocol UDP next to TCP in NetworkPolicy {policy.name}")
                    ],
                    affected=[selected] if selected else [],
                )
            )
        if not allowing:
            deny = next((p for p in egress if not _l(p.raw["spec"].get("egress"))), egress[0])
            others = [p for p in egress if p is not deny and _l(p.raw["spec"].get("egress"))]
            ports = sorted(
                {
                    str(_d(port).get("port"))
                    for p in others
                    for r in _l(p.raw["spec"].get("egress"))
                    for port in _l(_d(r).get("ports"))
                }
            )
            selected = _policy_target(deny, obs) or ctx.service
            detail = f"; the other egress rules allow only port {', '.join(ports)}" if ports else ""
            findings.append(
                Finding(
                    kind="netpol_blocks_dns",
                    subject=f"networkpolicy/{deny.name}",
                    role="cause",
                    title=f"{selected + ': ' if selected else ''}NetworkPolicy {deny.name} denies egress and no policy allows DNS (port 53 to kube-dns), "
                    f"so name lookups time out{detail}",
                    weight=72 if resolved_but_timing_out(obs) else 90,  # names do resolve: something else blocks
                    evidence=[
                        deny.quote("Egress", fallback=f"NetworkPolicy {deny.name} policyTypes Egress"),
                        *[p.quote(p.name) for p in others[:1]],
                    ],
                    workload=selected,
                    recommendations=[
                        rec(
                            "high",
                            f"Add an egress rule allowing UDP and TCP port 53 to kube-dns (namespaceSelector kubernetes.io/metadata.name=kube-system, podSelector k8s-app=kube-dns) in namespace {deny.namespace or ctx.namespace or '<namespace>'}",
                        )
                    ],
                    affected=[selected] if selected else [],
                )
            )
    findings += _namespace_selector_mismatch(policies, obs)
    return findings


def _policy_target(policy: ResourceFact, obs: Observations) -> str | None:
    selector = _d(_d(policy.raw.get("spec")).get("podSelector"))
    labels = _d(selector.get("matchLabels"))
    for key in ("app", "app.kubernetes.io/name", "k8s-app", "name"):
        if key in labels:
            return str(labels[key])
    return None


def _namespace_labels(obs: Observations) -> dict[str, dict[str, str]]:
    found: dict[str, dict[str, str]] = {}
    for ns in _of_kind(obs, "Namespace"):
        labels = _d(_d(ns.raw.get("metadata")).get("labels")) or _d(ns.raw.get("labels"))
        found[ns.name] = {str(k): str(v) for k, v in labels.items()}
    return found


def _namespace_selector_mismatch(policies: list[ResourceFact], obs: Observations) -> list[Finding]:
    namespaces = _namespace_labels(obs)
    if not namespaces:
        return []
    findings: list[Finding] = []
    for policy in policies:
        for selector, line_needle in _namespace_selectors(policy):
            if any(all(labels.get(k) == v for k, v in selector.items()) for labels in namespaces.values()):
                continue
            wanted = ",".join(f"{k}={v}" for k, v in selector.items())
            near = _near_namespace(selector, namespaces)
            hint = f"; namespace {near[0]} is labelled {near[1]}" if near else ""
            evidence = [policy.quote(line_needle, fallback=f"NetworkPolicy {policy.name} namespaceSelector {wanted}")]
            if near:
                evidence.append(_namespace_cite(obs, near[0]))
            findings.append(
                Finding(
                    kind="netpol_selector_matches_nothing",
                    subject=f"networkpolicy/{policy.name}",
                    role="cause",
                    title=f"NetworkPolicy {policy.name} allows traffic only from namespaces labelled {wanted}, and no namespace has that label{hint}, so that traffic is blocked",
                    weight=86,
                    evidence=[e for e in evidence if e],
                    workload=policy.namespace,
                    recommendations=[
                        rec(
                            "high",
                            f"Fix the namespaceSelector of NetworkPolicy {policy.name}"
                            + (f" to match {near[1]} (namespace {near[0]})" if near else "")
                            + " or label the source namespace accordingly",
                        )
                    ],
                    affected=[policy.namespace] if policy.namespace else [],
                )
            )
    return findings


def _namespace_selectors(policy: ResourceFact) -> Iterable[tuple[dict[str, str], str]]:
    if policy.raw.get("described"):  # kubectl describe networkpolicy: "NamespaceSelector: team=observability"
        for path, value, _line in _l(policy.raw.get("entries")):
            if path and path[-1] == "NamespaceSelector" and "=" in str(value):
                labels = dict(item.strip().partition("=")[::2] for item in str(value).split(",") if "=" in item)
                yield labels, str(value).split(",")[0].strip()
        return
    spec = _d(policy.raw.get("spec"))
    for rule in [*_l(spec.get("ingress")), *_l(spec.get("egress"))]:
        for peer in [*_l(_d(rule).get("from")), *_l(_d(rule).get("to"))]:
            selector = _d(_d(peer).get("namespaceSelector"))
            labels = {str(k): str(v) for k, v in _d(selector.get("matchLabels")).items()}
            if labels:
                needle = next(iter(labels.items()))
                yield labels, f"{needle[0]}={needle[1]}" if policy.raw.get("described") else str(needle[1])


def _near_namespace(selector: dict[str, str], namespaces: dict[str, dict[str, str]]) -> tuple[str, str] | None:
    for key, value in selector.items():
        candidates = {f"{name}\0{labels[key]}": name for name, labels in namespaces.items() if key in labels}
        values = {labels[key]: name for name, labels in namespaces.items() if key in labels}
        close = difflib.get_close_matches(value, list(values), n=1, cutoff=0.5)
        close += [v for v in values if value in v or v in value]
        if close and candidates:
            return values[close[0]], f"{key}={close[0]}"
    return None


def _namespace_cite(obs: Observations, name: str) -> str:
    for ns in _of_kind(obs, "Namespace"):
        if ns.name == name:
            return ns.quote(name, fallback=f"namespace {name}")
    return ""


# --- Services and Ingresses --------------------------------------------------------------------------------


def _pods_in(obs: Observations, namespace: str | None) -> list[PodFact]:
    return [p for p in obs.pods if namespace is None or p.namespace in (None, namespace)]


def _services(obs: Observations) -> list[Finding]:
    findings: list[Finding] = []
    for service in obs.services:
        if not service.selector:
            continue
        pods = [p for p in _pods_in(obs, service.namespace) if p.labels]
        if not pods or any(all(p.labels.get(k) == v for k, v in service.selector.items()) for p in pods):
            continue
        wanted = ",".join(f"{k}={v}" for k, v in service.selector.items())
        near = _closest_labels(service.selector, pods)
        actual = f"; the pods are labelled {near[1]} (e.g. {near[0].name})" if near else ""
        evidence = [
            service.cites.get("selector", ""),
            service.cites.get("endpoints", "") or _endpoints_cite(obs, service.name),
        ]
        if near:
            evidence.append(near[0].cites.get("row", ""))
        findings.append(
            Finding(
                kind="service_selector_mismatch",
                subject=f"service/{service.name}",
                role="cause",
                title=f"{service.name}: Service {service.name}'s selector {wanted} matches no pod, so it has no endpoints{actual}",
                weight=92,
                evidence=[e for e in dict.fromkeys(evidence) if e],
                workload=service.name,
                recommendations=[
                    rec(
                        "high",
                        f"Fix the selector of Service {service.name}"
                        + (f" to {near[1]}" if near else "")
                        + " (or the pod template labels) so it matches the pods",
                    )
                ],
                affected=[service.name],
            )
        )
    return findings


def _endpoints_cite(obs: Observations, name: str) -> str:
    """The ``kubectl get endpoints`` row (or Endpoints/EndpointSlice object) showing the Service has no address."""
    for fact in _of_kind(obs, "Endpoints", "EndpointSlice"):
        owner = _d(_d(fact.raw.get("metadata")).get("labels")).get("kubernetes.io/service-name", fact.name)
        row = _d(fact.raw.get("row"))
        if owner == name and (
            row.get("ENDPOINTS") == "<none>"
            or (not row and not _l(fact.raw.get("subsets")) and not _l(fact.raw.get("endpoints")))
        ):
            return fact.quote(name, fallback=f"{fact.kind} {fact.name}: no addresses")
    return ""


def _closest_labels(selector: dict[str, str], pods: list[PodFact]) -> tuple[PodFact, str] | None:
    best: tuple[float, PodFact, str] | None = None
    for pod in pods:
        shared = [k for k in selector if k in pod.labels]
        if not shared:
            continue
        same = sum(1 for k in shared if pod.labels[k] == selector[k])
        differing = [k for k in shared if pod.labels[k] != selector[k]]
        ratio = max((difflib.SequenceMatcher(None, selector[k], pod.labels[k]).ratio() for k in differing), default=0.0)
        score = same + ratio
        if differing and (best is None or score > best[0]):
            best = (score, pod, ",".join(f"{k}={pod.labels[k]}" for k in differing))
    # other keys, same values: app=x vs app.kubernetes.io/name=x (a chart moving to the recommended labels)
    if best is None:
        for pod in pods:
            renamed = [k for k, v in pod.labels.items() if v in selector.values() and k not in selector]
            if renamed and (best is None or len(renamed) > best[0]):
                best = (len(renamed), pod, ",".join(f"{k}={pod.labels[k]}" for k in renamed))
    return (best[1], best[2]) if best else None


# --- Autoscalers -------------------------------------------------------------------------------------------


def _autoscalers(obs: Observations) -> list[Finding]:
    findings: list[Finding] = []
    for hpa in _of_kind(obs, "HorizontalPodAutoscaler"):
        row = _d(hpa.raw.get("row"))
        spec, status = _d(hpa.raw.get("spec")), _d(hpa.raw.get("status"))
        maximum = _int(row.get("MAXPODS")) or _int(spec.get("maxReplicas"))
        current = _int(row.get("REPLICAS")) or _int(status.get("currentReplicas"))
        target = row.get("REFERENCE") or "/".join(
            str(_d(spec.get("scaleTargetRef")).get(k, "")) for k in ("kind", "name")
        )
        workload = str(target).split("/")[-1] or hpa.name
        limited = next(
            (
                c
                for c in _l(status.get("conditions"))
                if _d(c).get("type") == "ScalingLimited" and _d(c).get("status") == "True"
            ),
            None,
        )
        targets = str(row.get("TARGETS", ""))
        if hpa.raw.get("described"):  # kubectl describe hpa: "Max replicas:", "<kind> pods: N current / M desired"
            text = "\n".join(hpa.lines)
            found = re.search(r"^\s*Max replicas:\s*(\d+)", text, re.MULTILINE)
            maximum = maximum or (int(found.group(1)) if found else None)
            found = re.search(r"^\s*\w+ pods:\s*(\d+) current", text, re.MULTILINE)
            current = current or (int(found.group(1)) if found else None)
            found = re.search(r"\):\s*(\d+%)\s*(?:\([^)]*\))?\s*/\s*(\d+%)", text)
            targets = targets or (f"{found.group(1)}/{found.group(2)}" if found else "")
            found = re.search(r"^\s*Reference:\s*[\w.]+/([\w.-]+)\s*$", text, re.MULTILINE)
            workload = found.group(1) if found and workload == hpa.name else workload
            if re.search(r"^\s*ScalingLimited\s+True\s+TooManyReplicas", text, re.MULTILINE):
                limited = {"type": "ScalingLimited", "status": "True"}
        over = _over_target(targets)
        if maximum and current and current >= maximum and (over or limited):
            usage = f" while {targets.strip()} (current/target)" if targets else ""
            findings.append(
                Finding(
                    kind="hpa_at_max",
                    subject=f"horizontalpodautoscaler/{hpa.name}",
                    role="cause",
                    title=f"{workload}: the HPA {hpa.name} is at its maximum of {maximum} replicas{usage}, so it cannot add capacity and load per pod stays above target",
                    weight=84,
                    evidence=[hpa.quote(hpa.name, fallback=f"HPA {hpa.name} replicas {current}/{maximum}")],
                    workload=workload,
                    recommendations=[
                        rec(
                            "high",
                            f"Raise maxReplicas of HPA {hpa.name} above {maximum} (check node capacity first) or make {workload} cheaper per request",
                        ),
                    ],
                    affected=[workload],
                )
            )
        slow = _slow_scale_up(spec)
        if slow and maximum and current and current < maximum:
            findings.append(
                Finding(
                    kind="hpa_scale_up_slow",
                    subject=f"horizontalpodautoscaler/{hpa.name}",
                    role="cause",
                    title=f"{workload}: the HPA {hpa.name} may add only {slow} (behavior.scaleUp policy), so it lags behind "
                    f"load: {current} of at most {maximum} replicas",
                    weight=80,
                    evidence=[hpa.quote("scaleUp", fallback=f"HPA {hpa.name} behavior.scaleUp: {slow}")],
                    workload=workload,
                    recommendations=[
                        rec(
                            "high",
                            f"Loosen behavior.scaleUp of HPA {hpa.name}: a larger value, a shorter periodSeconds, selectPolicy Max",
                        )
                    ],
                    affected=[workload],
                )
            )
        for condition in _l(status.get("conditions")):
            condition = _d(condition)
            if condition.get("type") in ("AbleToScale", "ScalingActive") and condition.get("status") == "False":
                message = str(condition.get("message") or condition.get("reason") or "")
                findings.append(
                    Finding(
                        kind="hpa_cannot_scale",
                        subject=f"horizontalpodautoscaler/{hpa.name}",
                        role="cause",
                        title=f"{workload}: the HPA {hpa.name} cannot scale ({condition.get('reason')}): {message[:200]}",
                        weight=80,
                        evidence=[
                            hpa.quote(message[:60], fallback=f"HPA {hpa.name} {condition.get('type')}=False: {message}")
                        ],
                        workload=workload,
                        recommendations=[rec("high", f"Fix what the HPA {hpa.name} reports: {message[:120]}")],
                        affected=[workload],
                    )
                )
    return findings


def _slow_scale_up(spec: dict[str, Any]) -> str | None:
    """'1 pod every 300s' when the scale-up policies allow at most a couple of pods per minute or more."""
    scale_up = _d(_d(spec.get("behavior")).get("scaleUp"))
    policies = [_d(p) for p in _l(scale_up.get("policies"))]
    pods = [p for p in policies if p.get("type") == "Pods" and _int(p.get("value")) and _int(p.get("periodSeconds"))]
    if not pods or (scale_up.get("selectPolicy") != "Min" and len(pods) != len(policies)):
        return None
    slowest = min(pods, key=lambda p: (_int(p.get("value")) or 0) / max(_int(p.get("periodSeconds")) or 1, 1))
    value, period = _int(slowest.get("value")) or 0, _int(slowest.get("periodSeconds")) or 0
    if value > 2 or period < 60:
        return None
    return f"{value} pod{'s' if value != 1 else ''} every {period}s"


def _over_target(targets: str) -> bool:
    return any(int(current) > int(wanted) for current, wanted in re.findall(r"(\d+)%?\s*/\s*(\d+)%?", targets))


def _int(value: Any) -> int | None:
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


# --- Disruption budgets ------------------------------------------------------------------------------------


def _disruption_budgets(obs: Observations) -> list[Finding]:
    findings: list[Finding] = []
    for pdb in _of_kind(obs, "PodDisruptionBudget"):
        row, status = _d(pdb.raw.get("row")), _d(pdb.raw.get("status"))
        allowed = _int(row.get("ALLOWED DISRUPTIONS"))
        if allowed is None:
            allowed = _int(status.get("disruptionsAllowed"))
        if allowed != 0:
            continue
        rule = row.get("MIN AVAILABLE") or row.get("MAX UNAVAILABLE") or _d(pdb.raw.get("spec")).get("minAvailable")
        findings.append(
            Finding(
                kind="pdb_blocks_disruption",
                subject=f"poddisruptionbudget/{pdb.name}",
                role="cause",
                title=f"PodDisruptionBudget {pdb.name} allows 0 disruptions"
                + (f" (minAvailable/maxUnavailable {rule})" if rule not in (None, "N/A") else "")
                + ", so evictions and node drains are refused",
                weight=88,
                evidence=[pdb.quote(pdb.name, fallback=f"PodDisruptionBudget {pdb.name} disruptionsAllowed 0")],
                workload=workload_of(pdb.name),
                recommendations=[
                    rec(
                        "high",
                        f"Scale the protected workload above the budget or relax PodDisruptionBudget {pdb.name} so one pod may be evicted; then retry the drain",
                    )
                ],
                affected=[pdb.name],
            )
        )
    return findings


# --- GitOps applications -----------------------------------------------------------------------------------

_NOT_FOUND = re.compile(r"namespaces? \\?\"([\w.-]+)\\?\" not found")
_PATH_MISSING = re.compile(
    r"(?:app path does not exist|path [\w./-]+ does not exist|unable to resolve [^\n]{0,80}path)", re.I
)


def _applications(obs: Observations) -> list[Finding]:
    findings: list[Finding] = []
    known_namespaces = {r.name for r in _of_kind(obs, "Namespace")}
    for app in _of_kind(obs, "Application", "Kustomization", "HelmRelease"):
        spec, status = _d(app.raw.get("spec")), _d(app.raw.get("status"))
        sync = str(_d(status.get("sync")).get("status", ""))
        health = str(_d(status.get("health")).get("status", ""))
        messages = [str(_d(c).get("message", "")) for c in _l(status.get("conditions"))]
        messages.append(str(_d(status.get("operationState")).get("message", "")))
        failing = [
            m
            for m in messages
            if m
            and (
                "fail" in m.lower() or "error" in m.lower() or "not found" in m.lower() or "does not exist" in m.lower()
            )
        ]
        failing += [  # Argo CD's condition types say it (InvalidSpecError, ComparisonError, SyncError)
            str(_d(c).get("message"))
            for c in _l(status.get("conditions"))
            if str(_d(c).get("type", "")).endswith("Error")
            and _d(c).get("message")
            and str(_d(c)["message"]) not in failing
        ]
        ready_false = [
            _d(c)
            for c in _l(status.get("conditions"))
            if _d(c).get("type") == "Ready" and _d(c).get("status") == "False"
        ]
        failing += [str(c.get("message", "")) for c in ready_false if c.get("message")]
        if not failing and sync in ("Synced", "") and health in ("Healthy", ""):
            continue
        destination = str(_d(spec.get("destination")).get("namespace", "") or spec.get("targetNamespace", ""))
        detail = failing[0] if failing else f"sync {sync}, health {health}"
        missing_ns = _NOT_FOUND.search(detail)
        title = f"{app.name}: {app.kind} {app.name} is {sync or 'not ready'}" + (f"/{health}" if health else "")
        if missing_ns:
            name = missing_ns.group(1)
            close = difflib.get_close_matches(name, sorted(known_namespaces - {name}), n=1, cutoff=0.6)
            title = f"{app.name}: {app.kind} {app.name} cannot sync: its destination namespace '{name}' does not exist (namespaces \"{name}\" not found)"
            if close:
                title += f"; the existing namespace '{close[0]}' is probably what was meant"
        elif _PATH_MISSING.search(detail):
            title = f"{app.name}: {app.kind} {app.name} cannot render: its source path does not exist in the repository ({detail[:160]})"
        else:
            title += f": {_long_message(detail)}"
        evidence = [app.quote(detail[:50], fallback=f"{app.kind} {app.name}: {detail[:200]}")]
        if missing_ns:
            close_ns = next((r for r in _of_kind(obs, "Namespace") if r.name in title.split("'")), None)
            if close_ns is not None:
                evidence.append(close_ns.quote(close_ns.name))
        findings.append(
            Finding(
                kind="gitops_sync_failed",
                subject=f"{app.kind.lower()}/{app.name}",
                role="cause",
                title=title,
                weight=88 if failing else 70,
                evidence=evidence,
                workload=app.name,
                recommendations=[
                    rec(
                        "high",
                        f"Fix the destination of {app.kind} {app.name} (spec.destination.namespace '{destination}') or enable CreateNamespace=true"
                        if missing_ns
                        else f"Fix what {app.kind} {app.name} reports, then sync again",
                    )
                ],
                affected=[app.name],
            )
        )
    return findings


# --- Any object with a failing status condition ------------------------------------------------------------

_HANDLED = {
    "Pod",
    "Node",
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicaSet",
    "Job",
    "CronJob",
    "HorizontalPodAutoscaler",
    "Application",
    "Kustomization",
    "HelmRelease",
    "Event",
}


# Condition types that, when True, say why an object is not Ready (cert-manager's Denied/InvalidRequest/Failed,
# Flux's Stalled, Crossplane's and operators' Degraded/ReconcileError): their message is the concrete reason.
_FAILURE_CONDITIONS = ("Denied", "InvalidRequest", "Failed", "Stalled", "Degraded", "ReconcileError", "Error")


def _why_condition(raw: dict[str, object]) -> str | None:
    for condition in _l(_d(raw.get("status")).get("conditions")):
        condition = _d(condition)
        if condition.get("type") in _FAILURE_CONDITIONS and condition.get("status") == "True":
            return str(condition.get("message") or condition.get("reason") or "") or None
    return None


def _not_ready_conditions(obs: Observations) -> list[Finding]:
    findings: list[Finding] = []
    for resource in obs.resources:
        row = _d(resource.raw.get("row"))
        if (
            row.get("READY") == "False" and row.get("MESSAGE") and row.get("SUSPENDED") != "True"
        ):  # flux get ..., kubectl get certificates -o wide
            message = str(row["MESSAGE"])
            findings.append(
                Finding(
                    kind=f"{resource.kind.lower()}_not_ready",
                    subject=f"{resource.kind.lower()}/{resource.name}",
                    role="cause",
                    title=f"{resource.name}: {resource.kind} {resource.name} is not Ready: {_long_message(message)}",
                    weight=76,
                    evidence=[resource.quote(resource.name)],
                    workload=resource.name,
                    recommendations=[rec("high", f"Fix what {resource.kind} {resource.name} reports: {message[:120]}")],
                    affected=[resource.name],
                )
            )
            continue
        if resource.kind in _HANDLED:
            continue
        for condition in _l(_d(resource.raw.get("status")).get("conditions")):
            condition = _d(condition)
            if (
                condition.get("type") not in ("Ready", "Available", "Issuing", "Synced", "Healthy")
                or condition.get("status") != "False"
            ):
                continue
            message = str(condition.get("message") or condition.get("reason") or "not ready")
            why = _why_condition(resource.raw)
            if why and why not in message:
                message = f"{message}: {why}"
            findings.append(
                Finding(
                    kind=f"{resource.kind.lower()}_not_ready",
                    subject=f"{resource.kind.lower()}/{resource.name}",
                    role="cause",
                    title=f"{resource.name}: {resource.kind} {resource.name} is not {condition.get('type')} ({condition.get('reason') or 'False'}): {message[:320]}",
                    weight=74,
                    evidence=[resource.quote(message[:60], fallback=f"{resource.kind} {resource.name}: {message}")],
                    workload=resource.name,
                    recommendations=[
                        rec(
                            "high", f"kubectl describe {resource.kind.lower()} {resource.name} and fix: {message[:120]}"
                        )
                    ],
                    affected=[resource.name],
                )
            )
            break
    return findings


def _long_message(message: str, limit: int = 200) -> str:
    """A long status message shortened in its middle: a wrapped error (Helm, kustomize, the API server) says what
    failed first and why last ("…: field is immutable")."""
    if len(message) <= limit:
        return message
    return f"{message[: limit // 2 - 5].rstrip()} … {message[-(limit // 2) :].lstrip()}"
