"""A client the API server answers ``Unauthorized`` whose ServiceAccount token Secret no longer exists.

A long-lived ServiceAccount token is stored in a ``kubernetes.io/service-account-token`` Secret; the token is
valid only while that Secret exists (kubernetes.io/docs/concepts/security/service-accounts/#manual-secret-management-for-serviceaccounts).
Deleting the Secret (a cleanup, a namespace re-creation, the LegacyServiceAccountTokenCleanUp controller) makes
every copy of the token fail with ``401 Unauthorized``. kubectl's ``NotFound`` for that Secret, next to the
client's ``Unauthorized``, says so.
"""
# ruff: noqa: E501  (documentation links and messages read better unwrapped)

from __future__ import annotations

import re

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import rec
from engine.analyzers.log_signatures import doc_source
from engine.facts import Observations
from engine.findings import Finding
from engine.parsers.common import excerpt

_UNAUTHORIZED = re.compile(r"\(Unauthorized\)|\b401 Unauthorized\b|\"reason\":\s*\"Unauthorized\"")
_SECRET_GONE = re.compile(r"Error from server \(NotFound\): secrets \"(?P<secret>[\w.-]*token[\w.-]*)\" not found")


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    lines = [(t.label, ln) for t in obs.texts for ln in t.lines] + [(d.label, ln) for d in obs.logs for ln in d.lines]
    refused = next(((label, line) for label, line in lines if _UNAUTHORIZED.search(line)), None)
    client = next((doc_source(d, ctx) for d in obs.logs if any(_UNAUTHORIZED.search(ln) for ln in d.lines)), None)
    gone = next(((label, m) for label, line in lines if (m := _SECRET_GONE.search(line))), None)
    if refused is None or gone is None:
        return []
    secret = gone[1].group("secret")
    return [
        Finding(
            kind="token_secret_deleted",
            subject=f"secret/{secret}",
            role="cause",
            title=(
                f"the API server answers Unauthorized because the token's Secret {secret} no longer exists: a "
                f"ServiceAccount token kept in a Secret is invalidated when that Secret is deleted"
            ),
            weight=88,
            evidence=[f"{refused[0]} {excerpt(refused[1].strip())}", f"{gone[0]} {gone[1].group(0)}"],
            workload=client or secret,
            recommendations=[
                rec(
                    "high",
                    f"Issue a new token (kubectl create token <serviceaccount>, or re-create the Secret {secret} of type "
                    "kubernetes.io/service-account-token) and update the client's kubeconfig",
                )
            ],
            affected=[client or secret],
            related=[secret],
        )
    ]
