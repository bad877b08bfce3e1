"""Detect what an attachment is from its content (the ``source`` hint helps) and parse it into facts."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import yaml

from engine.facts import DocumentFact, LogDoc, Observations, TextDoc
from engine.models import Attachment
from engine.parsers.command_line import command_object
from engine.parsers.common import Citer
from engine.parsers.describe import observations_from_describe
from engine.parsers.headerless import with_pod_header
from engine.parsers.objects import iter_objects, observations_from_objects
from engine.parsers.table import is_header, observations_from_tables

_YAML_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_MESSAGE_KEYS = ("message", "msg", "log", "@message", "line", "error", "text")
_PROMPT = re.compile(
    r"^\s*(?:[\w@.:~/-]*[$#%>]\s+|➜\s+(?:\S+\s+){1,3}?)((?:kubectl|oc|helm|k|argocd|flux|curl|docker|crictl|journalctl"
    r"|getent|nslookup|dig|hubble|cilium|gcloud|aws|az|git|istioctl|linkerd|openssl|etcdctl|cmctl)\b.*)$"
)
# ``kubectl logs [flags] [<kind>/]<name>``: a workload prefix (deploy/checkout) names the workload, never "deploy".
_LOGS_POD = re.compile(
    r"kubectl\s+(?:-n\s+\S+\s+)?logs\s+(?:(?:-\S+|--\S+)\s+)*"
    r"(?:(?:pods?|po|deploy(?:ments?)?|statefulsets?|sts|daemonsets?|ds|replicasets?|rs|jobs?)/)?([a-z0-9][a-z0-9.-]*)"
)


_LOGS_VERB = re.compile(r"\b(?:kubectl|oc|k)\s+(?:(?:-n|--namespace|--context|--kubeconfig)[\s=]\S+\s+)*logs\b")


class SkipAttachment(Exception):
    """The attachment cannot be used; ``reason`` is recorded in ``Report.skipped_attachments``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class ParsedAttachment:
    kind: str  # kubernetes-objects | describe | table | logs | query-results
    observations: Observations


def parse_attachment(attachment: Attachment) -> ParsedAttachment:
    """Parse any text: Kubernetes output into facts, other JSON/YAML flattened, the rest read as logs.

    Only empty or binary content is refused (``SkipAttachment``); nothing else fails the investigation.
    A paste holding several commands and their output (``$ kubectl get pods`` ... ``$ kubectl logs ...``) is
    read one command at a time, each with its command line as the source hint.
    """
    content = attachment.content
    if not content.strip():
        raise SkipAttachment("empty attachment")
    if _looks_binary(content):
        raise SkipAttachment("binary content, not text")
    label = f"[attachment:{attachment.name}]"
    hint = attachment.source or ""
    segments = _segments(content, hint)
    if len(segments) == 1:
        return _parse_one(segments[0][1], segments[0][0], label)
    obs = Observations()
    kinds: list[str] = []
    for segment_hint, text in segments:
        parsed = _parse_one(text, segment_hint, label)
        obs.extend(parsed.observations)
        if parsed.kind not in kinds:
            kinds.append(parsed.kind)
    return ParsedAttachment("+".join(kinds), obs)


def _segments(content: str, hint: str) -> list[tuple[str, str]]:
    """Split a paste at shell prompts that run a command (``$ kubectl ...``); one segment without prompts."""
    parts: list[tuple[str, list[str]]] = [(hint, [])]
    for line in content.splitlines():
        prompt = _PROMPT.match(line)
        if prompt:
            parts.append((prompt.group(1), []))
        else:
            parts[-1][1].append(line)
    found = [(h, "\n".join(lines)) for h, lines in parts if any(x.strip() for x in lines)]
    return found or [(hint, content)]


def _parse_one(content: str, command: str, label: str) -> ParsedAttachment:
    content = with_pod_header(content, command.lower())  # `get pods | grep x` rows without their header
    citer = Citer(label, content)
    hint = command.lower()
    kind = detect_kind(content, hint)
    parsed: ParsedAttachment | None = None
    if kind == "json":
        parsed = _parse_json(content, citer, _jsonpath(command), command)
    elif kind == "yaml":
        parsed = _parse_yaml(content, citer, command)
    elif kind == "describe":
        parsed = ParsedAttachment("describe", observations_from_describe(content, citer, hint))
    elif kind == "table":
        parsed = ParsedAttachment("table", observations_from_tables(content, citer, hint))
    path = _jsonpath(command)
    if parsed is None and path and kind == "logs" and len(content.strip().splitlines()) == 1:
        parsed = _parse_structured(_nested(path, content.strip()), citer)  # '{.spec.nodeName}' -> one value
    if parsed is None:  # logs, or JSON/YAML too malformed to load: read as text
        return ParsedAttachment("logs", Observations(logs=[_log_doc(label, content.splitlines(), hint)]))
    parsed.observations.texts.append(TextDoc(label, citer.lines, parsed.kind, hint))
    return parsed


def detect_kind(content: str, hint: str) -> str:
    head = content.lstrip()[:4096]
    if _LOGS_VERB.search(hint):  # "kubectl logs ...", not "kubectl -n logs describe ..."
        return "logs"
    if head.startswith(("{", "[")):
        first_line = head.splitlines()[0].strip()
        if first_line.startswith("{") and first_line.endswith("}") and "\n" in content.strip():
            try:
                first_object = json.loads(first_line)
            except ValueError:
                first_object = None
            if (
                isinstance(first_object, dict)
                and {"apiVersion", "kind"} <= set(first_object)
                and not str(first_object["apiVersion"]).startswith("audit.k8s.io")  # audit logs stay logs
            ):
                return "json"  # Kubernetes objects one per line (`jq -c`): read as objects
            if isinstance(first_object, dict) and "resourceSpans" in first_object:
                return "json"  # the OpenTelemetry collector's file exporter: one OTLP trace document a line
            if first_object is not None:
                return "logs"  # JSON lines: structured application logs
        return "json"
    if _EVENTS_EXCERPT.search(head):
        return "describe"
    if "describe" in hint or (
        re.search(r"^Name:\s+\S", head, re.MULTILINE)
        and re.search(
            r"^(Namespace|Labels|Roles|Selector|CreationTimestamp|Containers|Init Containers|Status|Node|Controlled By|"
            r"Conditions|Events|Spec|Rules|Reference|Volumes|Taints|Capacity):",
            head,
            re.MULTILINE,
        )
    ):
        return "describe"
    if re.search(r"^(apiVersion|kind):\s", head, re.MULTILINE) or "-o yaml" in hint or "-oyaml" in hint:
        return "yaml"
    first = next((line for line in head.splitlines() if line.strip() and not line.lstrip().startswith("#")), "")
    if re.match(r"^(?:- )?[A-Za-z_][\w.-]*:\s*$", first):
        return "yaml"  # a block mapping (a spec excerpt, a values file): structured, not log text
    if any(is_header(line) for line in head.splitlines()[:5]) or hint.startswith("kubectl top"):
        return "table"
    return "logs"


# a describe output's Events section pasted alone: "Events:" and its Type/Reason/Age/From/Message table
_EVENTS_EXCERPT = re.compile(r"\A\s*Events:\s*\n\s+Type\s+Reason\s+Age\s+From\s+Message")


def _looks_binary(content: str) -> bool:
    sample = content[:8192]
    if "\x00" in sample:
        return True
    controls = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\n\r\t\x1b\x0c")
    replacement = sample.count("\ufffd")
    return (controls + replacement) > max(8, len(sample) // 20)


_JSONPATH = re.compile(r"""-o\s*=?\s*jsonpath=['"]?\{\.([\w.\[\]/-]+)\}['"]?(?:\s|$)""")


def _jsonpath(command: str) -> list[str]:
    """The keys of a ``-o jsonpath='{.spec.containers[0].resources.requests}'`` that prints one JSON value."""
    found = _JSONPATH.search(command)
    return found.group(1).split(".") if found else []


def _parse_json(
    content: str, citer: Citer, path: list[str] | None = None, command: str = ""
) -> ParsedAttachment | None:
    """A JSON document; printed by a one-expression jsonpath, it is kept under that path, so its flattened lines
    say what the values are (``spec.containers[0].resources.requests.memory: 16Gi``, not ``memory: 16Gi``)."""
    try:
        document = json.loads(content)
    except ValueError:
        stream = _json_stream(content)  # `kubectl get svc,endpointslice -o json | jq -c '.items[]'`: one per line
        if stream is not None:
            return _parse_structured(stream, citer)
        repaired = repair_truncated_json(content)  # a paste cut off by a chat client or a terminal
        if repaired is None:
            return None
        return _parse_structured(_nested(path or [], repaired), citer)
    whole = len(path or []) <= 1  # '{.spec}' prints a whole field; '{.spec.containers[0]}' a value inside it
    return _parse_structured(filtered_object(_nested(path or [], document), command if whole else ""), citer)


_FIELD_FILTER = re.compile(r"\|\s*(?:yq|jq)\b[^|]*?['\"]?\.(?P<field>spec|status)['\"]?(?:\s|$)")
_METADATA_FIELDS = {
    "annotations",
    "labels",
    "generation",
    "resourceVersion",
    "uid",
    "creationTimestamp",
    "ownerReferences",
}
_NAMESPACE_FLAG = re.compile(r"(?:-n|--namespace)(?:\s+|=)(?P<ns>[a-z0-9][a-z0-9-]*)")


def filtered_object(document: Any, command: str) -> Any:
    """``kubectl get netpol x -o yaml | yq .spec`` (or ``-o jsonpath='{.spec}'``) prints only a field of the one object
    the command names: put it back under that field with the object's kind, name and namespace, so it is read as
    that object."""
    if not isinstance(document, dict) or not command or {"kind", "apiVersion", "metadata"} & set(document):
        return document
    found = command_object(command)
    if found is None:
        return document
    filtered = _FIELD_FILTER.search(command)
    if filtered:
        document = {filtered.group("field"): document}
    keys = set(document)  # jq '{annotations: .metadata.annotations, spec: .spec}': metadata fields beside the spec
    if not keys & {"spec", "status"} or keys - {"spec", "status"} - _METADATA_FIELDS:
        return document
    namespace = _NAMESPACE_FLAG.search(command.split("|", 1)[0])
    metadata = {"name": found[1], **({"namespace": namespace.group("ns")} if namespace else {})}
    metadata.update({key: document[key] for key in keys & _METADATA_FIELDS})
    return {"kind": found[0], "metadata": metadata, **{key: document[key] for key in keys & {"spec", "status"}}}


_CLOSERS = {"{": "}", "[": "]"}


def repair_truncated_json(content: str) -> Any | None:
    """A JSON document cut off part-way (``"podIP": "10.8.3.`` and nothing after): everything up to the last
    complete member, with the brackets still open closed. None when the text is not such a prefix."""
    text = content.strip()
    if not re.match(r'\s*(?:\{\s*"|\[\s*\{\s*")', text):
        return None  # a JSON object or list of objects, not a log line opening with "[2026-11-03 ...]"
    stack: list[str] = []
    cuts: list[tuple[int, str]] = []  # (where the kept text ends, the closers it then needs)
    in_string = escaped = False
    for index, char in enumerate(text):
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
            continue
        if char == '"':
            in_string = True
        elif char in "{[":
            stack.append(char)
            cuts.append((index + 1, "".join(_CLOSERS[c] for c in reversed(stack))))
        elif char in "}]":
            if not stack:
                return None
            stack.pop()
            if stack:
                cuts.append((index + 1, "".join(_CLOSERS[c] for c in reversed(stack))))
        elif char == "," and stack:
            cuts.append((index, "".join(_CLOSERS[c] for c in reversed(stack))))
    if not stack:
        return None  # complete (so malformed in another way), not truncated
    for end, closers in reversed(cuts[-50:]):
        if end < len(text) * 0.8:
            break  # only the tail may be missing: a prefix that short is not this document
        try:
            return json.loads(text[:end] + closers)
        except ValueError:
            continue
    return None


def _nested(path: list[str], value: Any) -> Any:
    for key in reversed(path):
        value = {key: value}
    return value


def _json_stream(content: str) -> list[Any] | None:
    """Several JSON documents one after another (``jq`` output), or None when the text is not that."""
    decoder = json.JSONDecoder()
    documents: list[Any] = []
    index, size = 0, len(content)
    while index < size:
        while index < size and content[index].isspace():
            index += 1
        if index >= size:
            break
        try:
            document, index = decoder.raw_decode(content, index)
        except ValueError:
            return None
        documents.append(document)
    return documents if len(documents) > 1 else None


def _parse_yaml(content: str, citer: Citer, command: str = "") -> ParsedAttachment | None:
    try:
        documents = [doc for doc in yaml.load_all(content, Loader=_YAML_LOADER) if doc is not None]
    except yaml.YAMLError:
        return None
    if not documents or all(isinstance(doc, str) for doc in documents):
        return None  # plain text that happens to be valid YAML
    return _parse_structured(filtered_object(documents[0], command) if len(documents) == 1 else documents, citer)


def _parse_structured(document: Any, citer: Citer) -> ParsedAttachment:
    if any(True for _ in iter_objects(document)):
        return ParsedAttachment("kubernetes-objects", observations_from_objects(document, citer))
    obs = Observations(documents=[DocumentFact(citer.label, document, citer.lines)])
    lines = _message_lines(document)
    if lines:
        pods = _record_pod(document)
        obs.logs.append(LogDoc(citer.label, lines, pod=pods.pop() if len(pods) == 1 else None))
    flat = flatten(document)
    if not lines:
        obs.logs.append(LogDoc(citer.label, flat))  # searchable and read for error messages like any text
    return ParsedAttachment("query-results" if lines else "structured", obs)


MAX_FLAT_LINES = 50_000


def flatten(document: Any) -> list[str]:
    """``{"a": {"b": [1, {"c": "x"}]}}`` -> ``["a.b[0]: 1", "a.b[1].c: x"]``: any document, searchable."""
    out: list[str] = []
    stack: list[tuple[str, Any]] = [("", document)]
    while stack and len(out) < MAX_FLAT_LINES:
        path, value = stack.pop()
        if isinstance(value, dict):
            for key in reversed(list(value)):
                stack.append((f"{path}.{key}" if path else str(key), value[key]))
        elif isinstance(value, list):
            for index in range(len(value) - 1, -1, -1):
                stack.append((f"{path}[{index}]", value[index]))
        else:
            out.append(f"{path}: {value}" if path else str(value))
    return out


_LEVEL_KEYS = ("level", "severity", "status", "levelname", "log.level")
_DETAIL_KEYS = ("error", "err", "exception", "error_message", "reason", "stack_trace", "stacktrace")


def _message_lines(document: Any, depth: int = 0, level: str | None = None) -> list[str]:
    """Log messages from query results (Loki/Elasticsearch/CloudWatch/Datadog/Cloud Logging shapes or plain
    records): a record's message with its error detail (``"msg": "ZADD failed", "error": "OOM ..."``) and the
    level its record or an enclosing one carries (a LogEntry's ``severity`` around its ``jsonPayload``)."""
    if depth > 12:
        return []
    found: list[str] = []
    if isinstance(document, dict):
        values = document.get("values")
        if isinstance(values, list) and all(isinstance(v, list) and len(v) == 2 for v in values):
            return [str(v[1]) for v in values]  # Loki streams: [[ts, line], ...]
        if document.get("field") in _MESSAGE_KEYS and isinstance(document.get("value"), str):
            return [document["value"]]  # CloudWatch Insights cells
        level = next((document[k] for k in _LEVEL_KEYS if isinstance(document.get(k), str)), level)
        message = next((document[k] for k in _MESSAGE_KEYS if isinstance(document.get(k), str)), None)
        if message is not None:
            detail = next(
                (
                    _detail_text(document[k])
                    for k in _DETAIL_KEYS
                    if document.get(k) and _detail_text(document[k]) and _detail_text(document[k]) not in message
                ),
                "",
            )
            message = f"{message}: {detail}" if detail else message
            return [f"{level.upper()} {message}" if level and level.lower() not in message.lower() else message]
        for value in document.values():
            found.extend(_message_lines(value, depth + 1, level))
    elif isinstance(document, list):
        for item in document:
            found.extend(_message_lines(item, depth + 1))
    return found


def _detail_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        inner = value.get("message") or value.get("msg")
        return inner if isinstance(inner, str) else ""
    return ""


_POD_KEYS = ("pod_name", "pod", "podName", "kubernetes.pod_name")


def _record_pod(document: Any, depth: int = 0) -> set[str]:
    """The pod names log records carry (Cloud Logging ``resource.labels.pod_name``, ``kubernetes.pod.name``)."""
    found: set[str] = set()
    if depth > 8:
        return found
    if isinstance(document, dict):
        for key in _POD_KEYS:
            value = document.get(key)
            if isinstance(value, str) and re.fullmatch(r"[a-z0-9][a-z0-9.-]{2,252}", value):
                found.add(value)
            if isinstance(value, dict) and isinstance(value.get("name"), str):
                found.add(value["name"])
        for value in document.values():
            if isinstance(value, dict | list):
                found |= _record_pod(value, depth + 1)
    elif isinstance(document, list):
        for item in document[:2000]:
            found |= _record_pod(item, depth + 1)
    return found


def _log_doc(label: str, lines: list[str], hint: str) -> LogDoc:
    pod_match = _LOGS_POD.search(hint)
    previous = bool(re.search(r"(?:^|\s)(?:--previous|-p)(?:\s|=|$)", hint))
    container = re.search(r"(?:-c|--container)[ =](\S+)", hint)
    return LogDoc(
        label=label,
        lines=lines,
        pod=pod_match.group(1) if pod_match else None,
        container=container.group(1) if container else None,
        previous=previous,
        command=hint,
    )
