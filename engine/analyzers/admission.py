"""Admission webhooks the API server cannot reach in time, and the port it must reach them on.

The API server calls a webhook through its Service, but connects straight to the Service's endpoints: the pods'
``targetPort`` (ingress-nginx's admission controller listens on 8443, cert-manager's webhook on 10250...). On
private clusters (GKE, EKS with restricted security groups) the control plane reaches pods only on the ports the
firewall allows (GKE's default master rule: 443 and 10250), so a call to any other port times out
(kubernetes.io/docs/reference/access-authn-authz/extensible-admission-controllers/#timeouts;
cloud.google.com/kubernetes-engine/docs/how-to/private-clusters#add_firewall_rules).
"""
# ruff: noqa: E501  (user-facing messages read better unwrapped)

from __future__ import annotations

import ipaddress
import re

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import rec
from engine.facts import Observations
from engine.findings import Finding, workload_of

_TIMED_OUT = re.compile(
    r"failed calling webhook \\?\"(?P<hook>[^\"\\]+)\\?\":[^\n]*?https://(?P<service>[a-z0-9][\w-]*)\.(?P<namespace>[a-z0-9][\w-]*)\.svc[^\s\"]*[^\n]*?(?:context deadline exceeded|i/o timeout|Client\.Timeout|timeout awaiting)",
    re.IGNORECASE,
)
_ENDPOINT = re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}:(?P<port>\d{1,5})\b")
_RULE = re.compile(
    r"^\s*(?P<name>[a-z0-9][\w-]*)\s+(?P<ranges>(?:(?:\d{1,3}\.){3}\d{1,3}/\d{1,2}[,;\s]*)+)\s+(?P<allowed>\S*tcp\S*)",
    re.IGNORECASE,
)


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    return _webhook_timeouts(obs) + can_i_denials(obs) + policy_report_denials(obs)


def _webhook_timeouts(obs: Observations) -> list[Finding]:
    sources = [(t.label, t.lines) for t in obs.texts] + [(d.label, d.lines) for d in obs.logs]
    for label, lines in sources:
        for line in lines[:5000]:
            match = _TIMED_OUT.search(line)
            if match:
                return _unreachable(match, f"{label} {line.strip()}", obs, sources)
    return []


def _unreachable(
    match: re.Match[str], cite: str, obs: Observations, sources: list[tuple[str, list[str]]]
) -> list[Finding]:
    service, hook = match.group("service"), match.group("hook")
    port, endpoints_cite = _pod_port(service, obs, sources)
    if port is None:
        return []
    evidence = [cite, endpoints_cite]
    blocking = _blocking_rule(port, sources)
    if blocking:
        name, ranges, allowed, rule_cite = blocking
        firewall = f", and firewall rule {name} lets the control plane ({ranges}) reach the nodes only on {allowed}, not on {port}"
        evidence.append(rule_cite)
    else:
        firewall = "; on private clusters the control plane reaches pods only on the ports its firewall allows (often 443 and 10250 only)"
    return [
        Finding(
            kind="webhook_port_unreachable",
            subject=f"service/{service}",
            role="cause",
            title=f"{service}: the API server times out calling admission webhook {hook}: it connects straight to the webhook's pods on their port {port} (the Service's endpoints){firewall}, so every request the webhook covers fails",
            weight=91 if blocking else 87,
            evidence=evidence,
            workload=service,
            recommendations=[
                rec(
                    "high",
                    f"Allow the control plane's address range to reach the nodes on TCP {port} (a firewall rule / security group for the webhook's pods), or set the webhook's failurePolicy to Ignore until it is reachable",
                )
            ],
            affected=[service],
            related=[hook],
        )
    ]


def _pod_port(service: str, obs: Observations, sources: list[tuple[str, list[str]]]) -> tuple[str | None, str]:
    for resource in obs.resources:
        if resource.kind in ("Endpoints", "EndpointSlice") and resource.name.startswith(service):
            row = resource.raw.get("row")
            text = str(row.get("ENDPOINTS", "")) if isinstance(row, dict) else ""
            match = _ENDPOINT.search(text)
            if match:
                return match.group("port"), resource.quote(resource.name)
    for label, lines in sources:
        for line in lines[:5000]:
            if line.lstrip().startswith(service) and (match := _ENDPOINT.search(line)):
                return match.group("port"), f"{label} {line.strip()}"
    return None, ""


def _blocking_rule(port: str, sources: list[tuple[str, list[str]]]) -> tuple[str, str, str, str] | None:
    """A firewall rule for a control-plane-looking range (a master rule, a /28) whose tcp ports leave out the port."""
    found: tuple[str, str, str, str] | None = None
    for label, lines in sources:
        for line in lines[:5000]:
            match = _RULE.match(line)
            if match is None:
                continue
            allowed = match.group("allowed")
            if _allows(allowed, int(port)):
                if any(ipaddress.ip_network(r, strict=False).prefixlen >= 24 for r in _ranges(match.group("ranges"))):
                    return None  # the control plane's range may reach that port
                continue
            ranges = ",".join(_ranges(match.group("ranges")))
            master = re.search(r"master|control|apiserver|api-server", match.group("name"), re.IGNORECASE)
            if master or found is None:
                found = (match.group("name"), ranges, allowed, f"{label} {line.strip()}")
    return found


def _ranges(text: str) -> list[str]:
    return re.findall(r"(?:\d{1,3}\.){3}\d{1,3}/\d{1,2}", text)


def _allows(allowed: str, port: int) -> bool:
    for low, high in re.findall(r"tcp:(\d+)(?:-(\d+))?", allowed, re.IGNORECASE):
        if int(low) <= port <= int(high or low):
            return True
    return bool(re.search(r"(?:^|[,;\s])(?:tcp|all)(?:$|[,;\s])", allowed, re.IGNORECASE))


# --- kubectl auth can-i ------------------------------------------------------------------------------------

_CAN_I = re.compile(r"\bauth\s+can-i\s+(?P<verb>[\w*-]+)\s+(?P<resource>[\w./*-]+)(?P<rest>.*)$")
_AS = re.compile(r"--as[= ](?P<user>\S+)")
_NAMESPACE = re.compile(r"(?:-n|--namespace)[= ](?P<ns>[\w.-]+)")


# Kyverno prints its denial over several lines: the webhook line, the resource, then each policy and its rules
# (kyverno.io/docs/writing-policies/validate/): "resource Deployment/shop/cart was blocked due to the following
# policies" (older) or "policy Deployment/shop/cart for resource violation:" (newer), then "<policy>:" and
# "  <rule>: 'validation error: ...'".
_BLOCKED = re.compile(
    r"^\s*(?:resource (?P<kind>[A-Za-z]+)/(?:(?P<ns>[a-z0-9][\w.-]*)/)?(?P<name>[a-z0-9][\w.-]*) was blocked due to the following polic"
    r"|policy (?P<kind2>[A-Za-z]+)/(?:(?P<ns2>[a-z0-9][\w.-]*)/)?(?P<name2>[a-z0-9][\w.-]*) for resource violations?:)"
)
_POLICY = re.compile(r"^(?P<indent>\s*)(?P<policy>[a-z0-9][\w.-]*):\s*$")  # indented when a describe quotes it
_POLICY_RULE = re.compile(r"^\s+(?P<rule>[a-z0-9][\w.-]*):\s*['\"]?(?P<message>[^\n]{3,300}?)['\"]?\s*$")


def policy_report_denials(obs: Observations) -> list[Finding]:
    """A multi-line policy-engine denial: the refused object, the policy and the rule with its message."""
    findings: list[Finding] = []
    sources = [(t.label, t.lines) for t in obs.texts] + [(d.label, d.lines) for d in obs.logs]
    for label, lines in sources:
        for index, line in enumerate(lines[:5000]):
            blocked = _BLOCKED.search(line)
            if blocked is None:
                continue
            kind = blocked.group("kind") or blocked.group("kind2")
            name = blocked.group("name") or blocked.group("name2")
            owner = workload_of(name.rstrip("-")) if kind == "Pod" else name  # a controller's pod: its workload
            policy, indent = None, 0
            for offset, follower in enumerate(lines[index + 1 : index + 30], start=index + 1):
                if _BLOCKED.search(follower):
                    break
                opened = _POLICY.match(follower)
                if opened:
                    policy, indent = opened.group("policy"), len(opened.group("indent"))
                    continue
                ruled = _POLICY_RULE.match(follower)
                if policy and ruled and len(follower) - len(follower.lstrip()) > indent:
                    message = ruled.group("message").replace("''", "'")
                    wrapped = lines[offset + 1] if offset + 1 < len(lines) else ""
                    deeper = len(wrapped) - len(wrapped.lstrip()) > len(follower) - len(follower.lstrip())
                    if "'" not in message and follower.rstrip()[-1:] != "'" and wrapped.strip() and deeper:
                        message = f"{message} {wrapped.strip().rstrip(chr(39))}"  # a message wrapped onto the next line
                    findings.append(
                        Finding(
                            kind="admission_denied",
                            subject=f"{kind.lower()}/{name}",
                            role="cause",
                            title=f"{owner}: admission policy {policy} (rule {ruled.group('rule')}) refuses {kind} {name}: {message[:240]}",
                            weight=91,
                            evidence=[f"{label} {follower.strip()}", f"{label} {line.strip()}"],
                            workload=owner,
                            recommendations=[
                                rec(
                                    "high",
                                    f"Change {kind} {name} so it satisfies rule {ruled.group('rule')} of policy {policy} (or fix the policy if it is wrong)",
                                )
                            ],
                            affected=[owner],
                        )
                    )
                    break
    return findings


def can_i_denials(obs: Observations) -> list[Finding]:
    """``kubectl auth can-i <verb> <resource> -n <ns> --as=<user>`` answering ``no``: RBAC grants that user nothing
    for it there (kubernetes.io/docs/reference/access-authn-authz/authorization/#checking-api-access)."""
    findings: list[Finding] = []
    sources = [(t.label, t.lines, t.command) for t in obs.texts] + [(d.label, d.lines, d.command) for d in obs.logs]
    for label, lines, command in sources:
        match = _CAN_I.search(command) if command else None
        answer = next((line.strip() for line in lines if line.strip()), "")
        if match is None or not re.match(r"^no\b", answer):
            continue
        rest = match.group("rest")
        user = _AS.search(rest)
        namespace = _NAMESPACE.search(rest)
        who = user.group("user") if user else "the current user"
        where = (
            f" in namespace {namespace.group('ns')}"
            if namespace
            else (" cluster-wide" if "-a" in rest.split() or "--all-namespaces" in rest else "")
        )
        account = who.rsplit(":", 1)[-1] if who.startswith("system:serviceaccount:") else who
        verb, resource = match.group("verb"), match.group("resource")
        findings.append(
            Finding(
                kind="rbac_can_i_denied",
                subject=f"rbac/{account}:{verb}:{resource}",
                role="cause",
                title=f"{account}: RBAC does not allow {who} to {verb} {resource}{where} (kubectl auth can-i answers no): no Role/ClusterRole bound to it there grants that verb",
                weight=84,
                evidence=[f"{label} {answer}"],
                workload=account,
                recommendations=[
                    rec(
                        "high",
                        f"Bind a Role granting '{verb}' on {resource} to {who}{where} (a RoleBinding in that namespace), then re-check with kubectl auth can-i",
                    )
                ],
                affected=[account],
            )
        )
    return findings
