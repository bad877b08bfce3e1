"""A re-pushed mutable tag that nodes do not pull again.

With ``imagePullPolicy: IfNotPresent`` (the default for any tag other than ``:latest``) a node that already
holds the tag starts the cached image; pushing a new image under the same tag (``:latest``, ``:stable``,
``:dev``) therefore reaches only nodes that never pulled it, and pods on the others keep the old code
(kubernetes.io/docs/concepts/containers/images/#updating-images). This answers only a question saying a new
image was pushed while pods still run the old one.
"""
# ruff: noqa: E501  (messages read better unwrapped)

from __future__ import annotations

import re
from typing import Any

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import rec
from engine.facts import Observations, ResourceFact
from engine.findings import Finding

_PUSHED = re.compile(r"\b(?:push|pushed|rebuil\w*|re-?tag\w*|new (?:image|build)|published)\b", re.IGNORECASE)
_STALE = re.compile(
    r"\bstill\b|\bold (?:code|version|image|banner|build)|not (?:updated|picked up)|same (?:old )?(?:code|version|image)",
    re.IGNORECASE,
)
_TEMPLATE_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Pod")


def _containers(resource: ResourceFact) -> list[dict[str, Any]]:
    spec = resource.raw.get("spec") or {}
    if resource.kind != "Pod":
        spec = (spec.get("template") or {}).get("spec") or {}
    return [c for c in spec.get("containers") or [] if isinstance(c, dict)] if isinstance(spec, dict) else []


def _tag(image: str) -> str | None:
    if "@sha256:" in image:
        return None  # pinned by digest: immutable
    last = image.rsplit("/", 1)[-1]
    return last.split(":", 1)[1] if ":" in last else "latest"


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    message = ctx.question.message if ctx.question else ""
    if not message or not _PUSHED.search(message) or not _STALE.search(message):
        return []
    for resource in obs.resources:
        if resource.kind not in _TEMPLATE_KINDS:
            continue
        for container in _containers(resource):
            image = str(container.get("image") or "")
            tag = _tag(image)
            policy = container.get("imagePullPolicy") or ("Always" if tag == "latest" else "IfNotPresent")
            if tag is None or policy != "IfNotPresent" or not re.search(re.escape(tag), message + image):
                continue
            evidence = [resource.quote(f"image: {image}", fallback=image)]
            if container.get("imagePullPolicy"):
                evidence.append(resource.quote("imagePullPolicy", fallback="imagePullPolicy: IfNotPresent"))
            return [
                Finding(
                    kind="mutable_tag_cached",
                    subject=f"{resource.name}:mutable_tag_cached",
                    role="cause",
                    title=(
                        f"{resource.name}: its image {image} uses the mutable tag :{tag} with imagePullPolicy IfNotPresent, so a node "
                        "that already has that tag cached starts the old image: the re-pushed image reaches only nodes that never pulled it"
                    ),
                    weight=86,
                    evidence=evidence,
                    workload=resource.name,
                    recommendations=[
                        rec(
                            "high",
                            f"Deploy immutable tags (a version or the image digest, image@sha256:...) for {resource.name}, or set imagePullPolicy: Always, then roll the pods",
                        )
                    ],
                    affected=[resource.name],
                )
            ]
    return []
