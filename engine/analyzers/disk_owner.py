"""Who owns the directory that fills a node's disk, as an SRE reads ``du`` next to the cluster's own listings.

- ``du`` lists parents with their children (``79G /var`` above ``71G /var/fluent-bit``): the culprit is the deepest
  directory that still holds most of its parent, not the parent.
- ``/var/lib/kubelet/pods/<uid>/...`` is a pod's own directory (its emptyDir volumes under
  ``volumes/kubernetes.io~empty-dir/<volume>``): the pod is the one whose ``metadata.uid`` is that UID (a
  ``custom-columns`` listing of NAME and UID). ``/var/log/pods/<namespace>_<pod>_<uid>`` names the pod itself.
- Any other host path is the one a workload was configured to write to: the config line that names it
  (``storage.path /var/fluent-bit/buffer/``, a hostPath ``path:``) and the object the command printed it from.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from engine.facts import PodFact
from engine.findings import workload_of
from engine.parsers.command_line import command_object, logs_pod
from engine.parsers.common import excerpt

_UID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_POD_DIR = re.compile(rf"^/var/lib/kubelet/pods/(?P<uid>{_UID})")
_LOG_DIR = re.compile(rf"^/var/log/pods/(?P<ns>[a-z0-9-]+)_(?P<pod>[a-z0-9][\w.-]*)_(?P<uid>{_UID})")
_EMPTY_DIR = re.compile(r"/volumes/kubernetes\.io~empty-dir/(?P<volume>[\w.-]+)")
_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]*[a-z0-9]$")
_COMMAND = re.compile(r"^\s*(?:\[?[\w.-]+@[\w.-]+[^#$]*[#$]|\$)\s")


@dataclass(frozen=True)
class DuRow:
    size: float
    path: str
    line: str
    label: str


def culprit(rows: list[DuRow], root: DuRow) -> DuRow:
    """The deepest directory under ``root`` that still holds at least half of what its parent holds."""
    current = root
    while True:
        inside = [r for r in rows if r.path.startswith(current.path.rstrip("/") + "/") and r.size >= current.size / 2]
        if not inside:
            return current
        current = max(inside, key=lambda r: (r.size, -len(r.path)))


def owner(path: str, rows: list[DuRow], docs: list[tuple[str, str, list[str]]]) -> tuple[str, str]:
    """('the emptyDir volume scratch of pod x', cite) for the directory ``path``, or ('', '')."""
    log_dir = _LOG_DIR.match(path)
    if log_dir:
        return f"the container logs of pod {log_dir.group('pod')} (namespace {log_dir.group('ns')})", ""
    pod_dir = _POD_DIR.match(path)
    if pod_dir:
        return _pod_of_uid(pod_dir.group("uid"), path, rows, docs)
    return _configured_writer(path, docs)


def _pod_of_uid(uid: str, path: str, rows: list[DuRow], docs: list[tuple[str, str, list[str]]]) -> tuple[str, str]:
    volume = next(
        (
            m.group("volume")
            for r in sorted(rows, key=lambda r: -r.size)
            if r.path.startswith(path) and (m := _EMPTY_DIR.search(r.path))
        ),
        "",
    )
    what = f"the emptyDir volume {volume} of " if volume else "the directory of "
    name, cite = pod_of_uid(uid, docs)
    if name:
        return f"{what}pod {name}", cite
    return (f"the emptyDir volume {volume} of pod UID {uid}" if volume else ""), ""


def pod_of_uid(uid: str, docs: list[tuple[str, str, list[str]]]) -> tuple[str, str]:
    """The pod whose ``metadata.uid`` is ``uid``: a row printing a name before it, or the output of a command about
    one pod (``kubectl get pod x -o jsonpath='{.metadata.uid}'``) that prints it."""
    for label, command, lines in docs:
        for line in lines:
            words = line.split()
            if uid not in words or _COMMAND.match(line):
                continue
            at = words.index(uid)
            name = next((w for w in reversed(words[:at]) if _NAME.match(w) and "-" in w), "")
            named = command_object(command)
            if not name and named and named[0] == "Pod":
                name = named[1]
            if name:
                return name, f"{label} {excerpt(line.strip())}"
    return "", ""


def _configured_writer(path: str, docs: list[tuple[str, str, list[str]]]) -> tuple[str, str]:
    """The object whose printed config names ``path``: the one the command that printed that line was about."""
    mention = re.compile(rf"(?<![\w./-]){re.escape(path.rstrip('/'))}(?:/|\b)")
    for label, command, lines in docs:
        source = _object(command)
        for line in lines:
            if _COMMAND.match(line):
                source = _object(line)
                continue
            if not source or not mention.search(line) or re.match(r"^\s*\d+(?:\.\d+)?[KMGT]?\s+/", line):
                continue
            if "*" in line:
                continue  # a glob names what a collector reads (Path /var/log/containers/*.log), not where it writes
            key = line.strip().split()[0].rstrip(":=")
            via = f" (its {key})" if key and not key.startswith("/") else ""
            return f"written by {source}{via}", f"{label} {excerpt(line.strip())}"
    return "", ""


def _object(command: str) -> str:
    named = command_object(command)
    if named:
        return named[1]
    return logs_pod(command) or ""


# a container's writable layer on the node: containerd's overlayfs snapshot (``.../snapshots/<id>/fs/<path in the
# container>``) or Docker's overlay2 ``<id>/diff``: what the container writes outside its volumes
_LAYER = re.compile(
    r"^/var/lib/(?:containerd/io\.containerd\.snapshotter\.v1\.overlayfs/snapshots/\d+(?:/fs)?|docker/overlay2/\w+(?:/diff)?)(?P<inner>/.*)?$"
)


def in_layer(path: str) -> bool:
    return _LAYER.match(path) is not None


def layer_owner(path: str, pods: list[PodFact], node: str | None) -> tuple[str, str]:
    """('the writable layer of pod x (its /var/lib/app)', cite) for a directory inside a container's writable layer.

    A program's state directory is named after it (/var/lib/mysql, /var/lib/buildkit, /var/cache/nginx): the running
    pod on that node whose workload is named after the directory (``buildkitd`` for ``buildkit``) is the writer."""
    layer = _LAYER.match(path)
    inner = layer.group("inner") if layer else None
    if not inner:
        return "", ""
    names = [part for part in inner.strip("/").split("/") if len(part) >= 4 and part not in _SYSTEM_DIRS]
    if not names:
        return "", ""
    running = [p for p in pods if p.phase in (None, "Running") and (node is None or p.node in (None, node))]
    for part in reversed(names):
        owners = [p for p in running if _named_after(workload_of(p.name), part)]
        if len({workload_of(p.name) for p in owners}) == 1:
            pod = owners[0]
            return (
                f"the writable layer of pod {pod.name}'s container "
                f"(its {inner}, written inside the container, not to a volume)",
                pod.cites.get("row", ""),
            )
    return "", ""


_SYSTEM_DIRS = {"var", "lib", "cache", "data", "home", "root", "opt", "usr", "local", "share", "tmp", "srv"}


def _named_after(workload: str, directory: str) -> bool:
    """``buildkitd`` / ``buildkit`` / ``buildkit-cache`` are named after ``buildkit``; ``mysql`` after ``mysql``."""
    directory = directory.lower()
    if workload == directory or workload in (f"{directory}d", f"{directory}-server"):
        return True
    return workload.startswith(f"{directory}-")
