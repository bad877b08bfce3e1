"""A subPath that names no item of its volume: the kubelet mounts an empty directory where the program expects a file.

kubernetes.io/docs/concepts/storage/volumes/#using-subpath: a volumeMount with ``subPath`` mounts one item of the
volume at ``mountPath``. When the ConfigMap/Secret has no key by that name (a renamed key: ``config.yml`` for
``config.yaml``), the kubelet creates an empty directory at that path instead, and the program that opens the
file fails with "is a directory" (Go ``read X: is a directory``, Python ``IsADirectoryError``, Node ``EISDIR``).
"""
# ruff: noqa: E501  (user-facing messages read better unwrapped)

from __future__ import annotations

import re

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import workload_cause
from engine.analyzers.scheduling_detail import lines_of
from engine.facts import Observations
from engine.findings import Finding, workload_of
from engine.parsers.common import excerpt

_IS_DIRECTORY = re.compile(
    r"(?:read|open|load(?:ing)?|parse|reading)\s+['\"]?(?P<path>/[\w./-]+)['\"]?:\s+is a directory"
    r"|IsADirectoryError: \[Errno 21\] Is a directory: ['\"](?P<path2>/[\w./-]+)['\"]"
    r"|EISDIR: illegal operation on a directory, (?:read|open) ['\"]?(?P<path3>/[\w./-]+)?"
    r"|(?P<path4>/[\w./-]+\.\w+)['\"]? is a directory",
    re.IGNORECASE,
)
_MOUNT_PATH = re.compile(r"""mountPath["']?\s*[:=]\s*["']?(?P<path>/[\w./-]+)""")
_SUB_PATH = re.compile(r"""subPath["']?\s*[:=]\s*["']?(?P<sub>[\w.-]+)""")
_QUOTED_NAME = re.compile(r"""["'\s](?P<name>[\w.-]+\.[A-Za-z]\w*)["':]""")


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    failure = _directory_error(obs)
    if failure is None:
        return []
    label, line, path, owner = failure
    lines = list(lines_of(obs)) + [(r.label, text) for r in obs.resources for text in r.lines]
    mount = _mount_of(lines, path)
    if mount is None:
        return []
    sub, mount_cite = mount
    if not path.endswith(sub) and "." not in sub:
        return []
    similar = _similar_key(lines, sub)
    owner = owner or (ctx.focus.owner() if ctx.focus else None)
    has = f" (the volume has {similar[0]}, not {sub})" if similar else ""
    evidence = [f"{label} {excerpt(line.strip())}", mount_cite]
    if similar:
        evidence.append(similar[1])
    return [
        workload_cause(
            "subpath_item_missing",
            owner=owner,
            fallback="pod",
            title=f"{owner + ': ' if owner else ''}the container mounts {path} with subPath {sub}, but its volume has no item {sub}{has}, so the kubelet mounts an empty directory there and the program fails reading it: {path}: is a directory",
            weight=93,
            evidence=evidence,
            fix=f"Make the subPath name the key the ConfigMap/Secret really has{' (' + similar[0] + ')' if similar else ''}, or rename the key back to {sub}, then restart the pods",
        )
    ]


def _directory_error(obs: Observations) -> tuple[str, str, str, str | None] | None:
    """(label, line, path, workload) of the first "is a directory" error on a file path."""
    for doc in obs.logs:
        for line in doc.lines:
            found = _IS_DIRECTORY.search(line)
            path = next((g for g in found.groups() if g), None) if found else None
            if path:
                return doc.label, line, path, workload_of(doc.pod) if doc.pod else None
    for text in obs.texts:
        for line in text.lines:
            found = _IS_DIRECTORY.search(line)
            path = next((g for g in found.groups() if g), None) if found else None
            if path:
                return text.label, line, path, None
    return None


def _mount_of(lines: list[tuple[str, str]], path: str) -> tuple[str, str] | None:
    """The subPath of the volumeMount at ``path``: on the same line (JSON) or within the next/previous 3 lines."""
    for index, (label, line) in enumerate(lines):
        mounted = _MOUNT_PATH.search(line)
        if not mounted or mounted.group("path").rstrip("/") != path.rstrip("/"):
            continue
        for other_label, near in lines[max(0, index - 3) : index + 4]:
            sub = _SUB_PATH.search(near)
            if sub and other_label == label:
                return sub.group("sub"), f"{label} {excerpt(near.strip())}"
    return None


def _similar_key(lines: list[tuple[str, str]], sub: str) -> tuple[str, str] | None:
    """A key with the same stem and another extension (config.yml for config.yaml) read anywhere: the renamed key."""
    stem = sub.rsplit(".", 1)[0]
    if not stem or "." not in sub:
        return None
    for label, line in lines:
        if "subPath" in line or "mountPath" in line:
            continue
        for found in _QUOTED_NAME.finditer(f" {line} "):
            name = found.group("name")
            if name != sub and name.rsplit(".", 1)[0] == stem:
                return name, f"{label} {excerpt(line.strip())}"
    return None
