"""What a pasted command line was about: ``kubectl -n ledger get ds fluentd -o wide`` -> (DaemonSet, fluentd).

Output filtered through ``jsonpath``, ``yq`` or ``grep`` no longer carries the object's name; the command line that
printed it still does.
"""

from __future__ import annotations

import re

_KINDS = {
    "po": "Pod",
    "pod": "Pod",
    "pods": "Pod",
    "deploy": "Deployment",
    "deployment": "Deployment",
    "deployments": "Deployment",
    "sts": "StatefulSet",
    "statefulset": "StatefulSet",
    "statefulsets": "StatefulSet",
    "ds": "DaemonSet",
    "daemonset": "DaemonSet",
    "daemonsets": "DaemonSet",
    "rs": "ReplicaSet",
    "replicaset": "ReplicaSet",
    "replicasets": "ReplicaSet",
    "job": "Job",
    "jobs": "Job",
    "cj": "CronJob",
    "cronjob": "CronJob",
    "cronjobs": "CronJob",
    "svc": "Service",
    "service": "Service",
    "services": "Service",
    "ep": "Endpoints",
    "endpoints": "Endpoints",
    "ing": "Ingress",
    "ingress": "Ingress",
    "ingresses": "Ingress",
    "hpa": "HorizontalPodAutoscaler",
    "horizontalpodautoscaler": "HorizontalPodAutoscaler",
    "so": "ScaledObject",
    "scaledobject": "ScaledObject",
    "scaledobjects": "ScaledObject",
    "netpol": "NetworkPolicy",
    "networkpolicy": "NetworkPolicy",
    "networkpolicies": "NetworkPolicy",
    "pdb": "PodDisruptionBudget",
    "poddisruptionbudget": "PodDisruptionBudget",
    "quota": "ResourceQuota",
    "resourcequota": "ResourceQuota",
    "pvc": "PersistentVolumeClaim",
    "persistentvolumeclaim": "PersistentVolumeClaim",
    "nodeclaim": "NodeClaim",
    "nodeclaims": "NodeClaim",
    "node": "Node",
    "nodes": "Node",
    "no": "Node",
    "cm": "ConfigMap",
    "configmap": "ConfigMap",
    "secret": "Secret",
    "validatingwebhookconfiguration": "ValidatingWebhookConfiguration",
    "mutatingwebhookconfiguration": "MutatingWebhookConfiguration",
}
_VERB = re.compile(
    r"\b(?:kubectl|oc|k)\b(?P<rest>.*?)\b(?P<verb>get|describe|edit|rollout\s+(?:status|history))\s+(?P<args>.*)"
)
_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]*$")
_LOGS = re.compile(r"kubectl\b.*?\blogs\s+(?:-\S+\s+)*(?:pod/)?(?P<pod>[a-z0-9][\w.-]*)")


# [root@bm-rack3-07 ~]# / ubuntu@worker-5:~$ : the host a shell command ran on
_PROMPT_HOST = re.compile(r"^\s*\[?[\w.-]+@(?P<host>[a-z0-9][\w.-]*)(?:[: ][^#$\]]*)?\]?[#$]\s")


def prompt_host(line: str) -> str | None:
    """The host of a shell prompt that starts ``line`` (``[root@bm-rack3-07 ~]# ...``, ``ubuntu@worker-5:~$ ...``)."""
    match = _PROMPT_HOST.match(line)
    return match.group("host") if match else None


def logs_pod(command: str) -> str | None:
    """The pod (or workload) a ``kubectl logs [flags] [pod/]<name>`` command line printed the logs of."""
    match = _LOGS.search(command)
    return match.group("pod") if match else None


def command_object(command: str) -> tuple[str, str] | None:
    """(kind, name) of the one object a ``kubectl get|describe <kind> <name>`` (or ``<kind>/<name>``) names."""
    line = command.split("|", 1)[0]
    match = _VERB.search(line)
    if match is None:
        return None
    words: list[str] = []
    skip = False
    for word in match.group("args").split():
        if skip:
            skip = False
            continue
        if word.startswith("-"):
            skip = "=" not in word and word in ("-n", "--namespace", "-o", "--output", "-l", "--selector", "-c")
            continue
        words.append(word)
    if not words:
        return None
    first = words[0]
    if "/" in first:
        kind, _, name = first.partition("/")
        base = kind.split(".")[0]
        return (_KINDS[base], name) if base in _KINDS and _NAME.match(name) else None
    if "," in first:
        return None
    known = _KINDS.get(first.split(".")[0])
    if known is None or len(words) < 2 or not _NAME.match(words[1]):
        return None
    return known, words[1]


# A line a person typed at a prompt, not one a program printed: ``$ amtool alert query``, ``# journalctl -u x``,
# ``ubuntu@worker-5:~$ df -h``, ``[root@bm-3 ~]# iostat``, zsh's ``➜  infra git:(main) kubectl ...``,
# PowerShell's ``PS C:\> kubectl ...``, a database shell's ``postgres=# SELECT ...`` / ``mysql> SHOW ...``,
# ``127.0.0.1:6379> INFO``, ``rs0:PRIMARY> rs.status()``.
_COMMAND_LINE = re.compile(
    r"^\s*(?:[$%]\s+[\w./~-]|#\s+[a-z./~]"  # "# A fatal error has been detected" (a JVM crash) is output
    r"|➜\s+\S"
    r"|PS [A-Za-z]:\\[^>]*>\s*\S"
    r"|\[?[\w.-]+@[\w.-]+(?::[^\s#$]*| [^\s#$\]]*)?\]?[#$]\s+\S"
    r"|[\w-]+=[#>]\s+\S"
    r"|(?:mysql|mariadb|redis-cli|sqlite|cqlsh(?::\w+)?|[\d.]+:\d{2,5}|[\w-]+:(?:PRIMARY|SECONDARY)"
    r"|[\w-]+ \[[\w: ]+\] [\w-]+)>\s*\S)"
)
# kubectl reporting on the query it was given, not on the cluster's health: the object asked for does not exist,
# the selector matched nothing, the kind or flag is unknown.
_QUERY_MESSAGE = re.compile(
    r"^\s*(?:Error from server \(NotFound\): [\w.\-]+ \"[^\"]+\" not found"
    r"|No resources found\b"
    r"|error: the server doesn't have a resource type"
    r"|error: unknown (?:shorthand )?flag\b|error: unknown command\b"
    r"|error: (?:container|a container name must be specified|resource\(s\) were provided, but no name)"
    r"|Error from server \(BadRequest\): previous terminated container)"
)


def is_command_line(line: str) -> bool:
    """A shell (or database shell) prompt followed by the command typed at it."""
    return _COMMAND_LINE.match(line) is not None


def is_query_message(line: str) -> bool:
    """kubectl's answer about the query itself (``Error from server (NotFound): jobs.batch "x" not found``)."""
    return _QUERY_MESSAGE.match(line) is not None
