"""Secret values with a trailing newline or space: the credential the application sends is not the password.

``echo "s3cret" | base64`` encodes ``s3cret\\n``; a YAML block scalar (``password: |``) under ``stringData``
ends with a newline too. Kubernetes delivers the bytes as they are, so the database or API receives the
password plus a newline and answers "password authentication failed" although the password "is right"
(kubernetes.io/docs/concepts/configuration/secret/; ``echo -n`` or ``kubectl create secret --from-literal``
avoid it).
"""
# ruff: noqa: E501  (patterns and messages read better unwrapped)

from __future__ import annotations

import base64
import binascii
import re

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import rec
from engine.analyzers.scheduling_detail import lines_of
from engine.facts import Observations
from engine.findings import Finding, workload_of
from engine.parsers.common import excerpt

_AUTH_FAILURE = re.compile(
    r"password authentication failed|Access denied for user|authentication failed|invalid (?:credentials|password|username or password)"
    r"|WRONGPASS|NOAUTH|401 Unauthorized|Login failed|bad credentials|invalid api key|SASL authentication",
    re.IGNORECASE,
)
_CREDENTIAL_KEY = re.compile(r"pass|pwd|token|secret|key|user|auth|cred", re.IGNORECASE)


def _decoded(value: object, encoded: bool) -> str | None:
    text = str(value)
    if not encoded:
        return text
    try:
        return base64.b64decode(text, validate=True).decode("utf-8")
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    auth = next(((label, line) for label, line in lines_of(obs) if _AUTH_FAILURE.search(line)), None)
    owner = ctx.focus.owner() if ctx.focus else None
    owner = owner or ctx.service or (ctx.question.named if ctx.question else None)
    found: list[Finding] = []
    for resource in obs.resources:
        if resource.kind != "Secret":
            continue
        for field_name, encoded in (("data", True), ("stringData", False)):
            values = resource.raw.get(field_name)
            if not isinstance(values, dict):
                continue
            for key, value in values.items():
                text = _decoded(value, encoded)
                if not text or text == text.rstrip() or not text.strip() or "\n" in text.rstrip():
                    continue  # no trailing whitespace, or a multi-line file (a certificate, a config): left alone
                if not auth and not _CREDENTIAL_KEY.search(str(key)):
                    continue
                tail = "a trailing newline (\\n)" if text.endswith(("\n", "\r")) else "trailing whitespace"
                evidence = [resource.quote(f"{key}:")]
                if auth:
                    evidence.append(f"{auth[0]} {excerpt(auth[1].strip())}")
                effect = (
                    ", so the application sends the wrong credential and authentication fails"
                    if auth
                    else ", which the application receives as part of the value"
                )
                found.append(
                    Finding(
                        kind="secret_trailing_newline",
                        subject=f"secret/{resource.name}:{key}",
                        role="cause",
                        title=(
                            f"{owner + ': ' if owner else ''}key {key} of Secret {resource.name} ends with {tail} "
                            f"(the value was encoded with echo instead of echo -n){effect}"
                        ),
                        weight=89 if auth else 64,
                        evidence=[e for e in evidence if e],
                        workload=workload_of(owner) if owner else resource.name,
                        recommendations=[
                            rec(
                                "high",
                                f"Re-create Secret {resource.name} without the newline (kubectl create secret generic {resource.name} "
                                f"--from-literal={key}=... or printf/echo -n | base64) and restart the pods that read it",
                            )
                        ],
                        affected=[resource.name],
                    )
                )
    return found
