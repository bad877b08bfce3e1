"""Detect what an attachment is from its content (the ``source`` hint helps) and parse it into facts."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import yaml

from engine.facts import LogDoc, Observations
from engine.models import Attachment
from engine.parsers.common import Citer
from engine.parsers.describe import observations_from_describe
from engine.parsers.objects import iter_objects, observations_from_objects
from engine.parsers.table import is_header, observations_from_tables

_YAML_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_MESSAGE_KEYS = ("message", "msg", "log", "@message", "line", "error", "text")
# ``kubectl logs [flags] [<kind>/]<name>``: a workload prefix (deploy/checkout) names the workload, never "deploy".
_LOGS_POD = re.compile(
    r"kubectl\s+(?:-n\s+\S+\s+)?logs\s+(?:(?:-\S+|--\S+)\s+)*"
    r"(?:(?:pods?|po|deploy(?:ments?)?|statefulsets?|sts|daemonsets?|ds|replicasets?|rs|jobs?)/)?([a-z0-9][a-z0-9.-]*)"
)


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
    content = attachment.content
    if not content.strip():
        raise SkipAttachment("empty attachment")
    if _looks_binary(content):
        raise SkipAttachment("binary content, not text")
    label = f"[attachment:{attachment.name}]"
    citer = Citer(label, content)
    hint = (attachment.source or "").lower()
    kind = detect_kind(content, hint)
    if kind == "json":
        return _parse_json(content, citer)
    if kind == "yaml":
        return _parse_yaml(content, citer)
    if kind == "describe":
        return ParsedAttachment("describe", observations_from_describe(content, citer))
    if kind == "table":
        return ParsedAttachment("table", observations_from_tables(content, citer))
    return ParsedAttachment("logs", Observations(logs=[_log_doc(label, content.splitlines(), hint)]))


def detect_kind(content: str, hint: str) -> str:
    head = content.lstrip()[:4096]
    if "logs" in hint and "kubectl" in hint:
        return "logs"
    if head.startswith(("{", "[")):
        first_line = head.splitlines()[0].strip()
        if first_line.startswith("{") and first_line.endswith("}") and "\n" in content.strip():
            try:
                json.loads(first_line)
                return "logs"  # JSON lines: structured application logs
            except ValueError:
                pass
        return "json"
    if "describe" in hint or (
        re.search(r"^Name:\s+\S", head, re.MULTILINE)
        and re.search(r"^(Namespace|Labels|Roles|Selector|CreationTimestamp):", head, re.MULTILINE)
    ):
        return "describe"
    if re.search(r"^(apiVersion|kind):\s", head, re.MULTILINE) or "-o yaml" in hint or "-oyaml" in hint:
        return "yaml"
    if any(is_header(line) for line in head.splitlines()[:5]) or hint.startswith("kubectl top"):
        return "table"
    return "logs"


def _looks_binary(content: str) -> bool:
    sample = content[:8192]
    if "\x00" in sample:
        return True
    controls = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\n\r\t\x1b\x0c")
    replacement = sample.count("\ufffd")
    return (controls + replacement) > max(8, len(sample) // 20)


def _parse_json(content: str, citer: Citer) -> ParsedAttachment:
    try:
        document = json.loads(content)
    except ValueError as exc:
        raise SkipAttachment(f"malformed JSON: {exc}") from None
    if any(True for _ in iter_objects(document)):
        return ParsedAttachment("kubernetes-objects", observations_from_objects(document, citer))
    lines = list(_message_lines(document))
    if not lines:
        raise SkipAttachment("JSON without Kubernetes objects or log messages")
    return ParsedAttachment("query-results", Observations(logs=[LogDoc(citer.label, lines)]))


def _parse_yaml(content: str, citer: Citer) -> ParsedAttachment:
    try:
        documents = [doc for doc in yaml.load_all(content, Loader=_YAML_LOADER) if doc is not None]
    except yaml.YAMLError as exc:
        problem = getattr(exc, "problem", None) or "invalid syntax"
        raise SkipAttachment(f"malformed YAML: {problem}") from None
    if not any(True for _ in iter_objects(documents)):
        raise SkipAttachment("YAML without Kubernetes objects")
    return ParsedAttachment("kubernetes-objects", observations_from_objects(documents, citer))


def _message_lines(document: Any, depth: int = 0) -> list[str]:
    """Log messages from query results (Loki/Elasticsearch/CloudWatch/Datadog shapes or plain records)."""
    if depth > 12:
        return []
    found: list[str] = []
    if isinstance(document, dict):
        values = document.get("values")
        if isinstance(values, list) and all(isinstance(v, list) and len(v) == 2 for v in values):
            return [str(v[1]) for v in values]  # Loki streams: [[ts, line], ...]
        if document.get("field") in _MESSAGE_KEYS and isinstance(document.get("value"), str):
            return [document["value"]]  # CloudWatch Insights cells
        message = next((document[k] for k in _MESSAGE_KEYS if isinstance(document.get(k), str)), None)
        if message is not None:
            level = next(
                (document[k] for k in ("level", "severity", "status") if isinstance(document.get(k), str)),
                None,
            )
            return [f"{level.upper()} {message}" if level and level.lower() not in message.lower() else message]
        for value in document.values():
            found.extend(_message_lines(value, depth + 1))
    elif isinstance(document, list):
        for item in document:
            found.extend(_message_lines(item, depth + 1))
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
    )
