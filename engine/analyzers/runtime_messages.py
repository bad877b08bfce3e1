"""Long runtime and admission messages condensed to the part that says why.

A container runtime wraps its error in five layers ("failed to create containerd task: failed to create shim task:
OCI runtime create failed: runc create failed: unable to start container process: ...") and OpenShift lists every
SecurityContextConstraints provider it tried, most of them only "not usable by user or serviceaccount"; a title
clipped at 200 characters then keeps the wrapping and loses the reason. ``condense`` drops the wrapping and the
providers that were never usable, and names the mount target of a runc mount error.
"""

from __future__ import annotations

import re

_RUNTIME_WRAPPERS = re.compile(
    r"(?:failed to (?:create|start) containerd task|failed to create shim task|OCI runtime (?:create|start|exec) failed"
    r"|runc (?:create|start) failed|unable to start container process|error during container init"
    r"|Error response from daemon|failed to start container \"?\w*\"?)\s*:\s*",
    re.IGNORECASE,
)
_MOUNT_ERROR = re.compile(
    r"error mounting \"(?P<source>[^\"]+)\" to rootfs at \"(?P<target>[^\"]+)\".*?:\s*"
    r"(?P<why>not a directory|no such file or directory|permission denied|read-only file system|is a directory)",
    re.IGNORECASE | re.DOTALL,
)
_MOUNT_HINT = {
    "not a directory": "a file mounted onto a directory or the reverse: check the volumeMount's subPath and mountPath",
    "is a directory": "a directory is mounted onto a file: check the volumeMount's subPath and mountPath",
}
_SCC = re.compile(r"unable to validate against any security context constraint:\s*\[(?P<items>.*)\]", re.DOTALL)
_UNUSABLE_PROVIDER = re.compile(r"provider \"?[\w.-]+\"?: Forbidden: not usable by user or serviceaccount,?\s*")


def condense(message: str) -> str:
    """The message without its runtime wrapping or unusable SCC providers; unchanged when neither applies."""
    text = message.strip()
    mount = _MOUNT_ERROR.search(text)
    if mount:
        why = mount.group("why").lower()
        hint = _MOUNT_HINT.get(why, "")
        return f'error mounting a volume at "{mount.group("target")}": {why}' + (f" ({hint})" if hint else "")
    unwrapped = text
    while True:
        wrapper = _RUNTIME_WRAPPERS.match(unwrapped)
        if not wrapper:
            break
        unwrapped = unwrapped[wrapper.end() :]
    scc = _SCC.search(unwrapped)
    if scc:
        reasons = _UNUSABLE_PROVIDER.sub("", scc.group("items")).strip(" ,")
        if reasons:
            return f"forbidden: no security context constraint (SCC) admits the pod: {reasons}"
    return unwrapped if unwrapped else text


def clip(message: str, limit: int) -> str:
    """The message whole when it fits in ``limit`` characters, else condensed and then clipped."""
    text = message.strip()
    if len(text) > limit:
        text = condense(text)
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
