"""An image pulled on a node whose CPU architecture the image was not built for, named with both architectures.

containerd refuses with ``no match for platform in manifest: not found`` and Docker with ``no matching manifest
for linux/arm64/v8 in the manifest list entries`` when the image index has no entry for the node's platform
(kubernetes.io/docs/concepts/containers/images/, "Multi-architecture images with image indexes"). Which platform
is missing is in what was pasted next to it: the node's ``kubernetes.io/arch`` (``get nodes -L``, ``describe
node``'s labels or ``Architecture:``) and the platforms ``docker manifest inspect``/``imagetools inspect`` list.
It typically appears when a new node pool of another architecture (Graviton/Ampere arm64) joins the cluster.
"""
# ruff: noqa: E501  (patterns and messages read better unwrapped)

from __future__ import annotations

import re

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import workload_cause, workload_name
from engine.analyzers.scheduling_detail import lines_of
from engine.facts import Observations
from engine.findings import Finding, workload_of

_NO_PLATFORM = re.compile(
    r"no match for platform in manifest|no matching manifest for (?P<wanted>[\w/]+) in the manifest list"
    r"|does not match the specified platform"
)
_IMAGE = re.compile(r"(?:pull(?:ing)? image|image) \\?\"(?P<image>[^\"\\\s]+)\\?\"", re.IGNORECASE)
_ARCHES = ("amd64", "arm64", "arm", "s390x", "ppc64le", "386", "riscv64")
_ARCH_WORD = re.compile(
    r"(?<![\w/-])(?:kubernetes\.io/arch=|beta\.kubernetes\.io/arch=)?(?P<arch>amd64|arm64|s390x|ppc64le|riscv64)\b"
)
_MANIFEST_ARCH = re.compile(r"\"architecture\":\s*\"(?P<arch>\w+)\"|Platform:\s+linux/(?P<arch2>\w+)")


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    for cite, text, pod_name in _refusals(obs):
        found = _NO_PLATFORM.search(text)
        if found is None:
            continue
        pod = next((p for p in obs.pods if p.name == pod_name), None)
        node = pod.node if pod else None
        wanted = found.group("wanted")
        arch = wanted.split("/")[1] if wanted and "/" in wanted else (_node_arch(obs, node) if node else None)
        listed = _manifest_arches(obs)
        if arch is None or (listed and arch in listed):
            continue
        named = _IMAGE.search(text)
        image = f"image {named.group('image')}" if named else "the image"
        owner = workload_name(pod) if pod else (workload_of(pod_name) if pod_name else None)
        where = f" on node {node} ({arch})" if node else f" on {arch} nodes"
        only = f"; the image's manifest lists only {', '.join(f'linux/{a}' for a in listed)}" if listed else ""
        return [
            workload_cause(
                "image_architecture_missing",
                owner=owner,
                fallback="pod",
                title=f"{owner + ': ' if owner else ''}{image} has no linux/{arch} build, so it cannot be pulled{where}{only} (it is not a multi-arch image for {arch})",
                weight=95,
                evidence=[cite] if cite else [],
                fix=f"Publish a multi-arch image (docker buildx build --platform linux/amd64,linux/{arch}) or keep the workload on nodes it has a build for (nodeSelector kubernetes.io/arch, or the node pool's architecture requirement)",
            )
        ]
    return []


def _refusals(obs: Observations) -> list[tuple[str, str, str | None]]:
    """(cite, message, pod) of every pull refusal: events, then container messages."""
    found: list[tuple[str, str, str | None]] = [
        (e.cite, e.message, e.object_name) for e in obs.events if "manifest" in e.message
    ]
    for pod in obs.pods:
        for c in pod.containers:
            if c.message and "manifest" in c.message:
                found.append((c.cites.get("message", ""), c.message, pod.name))
    return found


def _node_arch(obs: Observations, node: str) -> str | None:
    """The node's architecture: its ``get nodes -L kubernetes.io/arch`` row, or its describe block's labels."""
    described = False
    for _, line in lines_of(obs):
        stripped = line.strip()
        if stripped.startswith("Name:"):
            described = stripped.split(":", 1)[1].strip() == node
        if stripped.split(maxsplit=1)[:1] == [node] or described:
            found = _ARCH_WORD.search(stripped if not described else stripped.replace("Architecture:", ""))
            if found and found.group("arch") in _ARCHES:
                return found.group("arch")
    return None


def _manifest_arches(obs: Observations) -> list[str]:
    arches: list[str] = []
    for _, line in lines_of(obs):
        found = _MANIFEST_ARCH.search(line)
        arch = (found.group("arch") or found.group("arch2")) if found else None
        if arch and arch in _ARCHES and arch not in arches:
            arches.append(arch)
    return arches
