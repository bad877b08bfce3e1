"""An ExternalSecret that cannot sync because its remote key does not exist in the provider.

External Secrets Operator reports ``error processing spec.data[N] (key: K), err: Secret does not exist`` (its
events and status) when the provider (AWS Secrets Manager, GCP Secret Manager, Azure Key Vault, Vault) has no
secret K; the target Kubernetes Secret is then never created and every pod that references it fails with
CreateContainerConfigError. When the paste lists a secret whose name differs from K only in separators or case
(``stripe_api_key`` vs ``stripe-api-key``), that is the one that was meant.
"""

from __future__ import annotations

import re

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import rec, secret_waiting_workload
from engine.analyzers.scheduling_detail import lines_of
from engine.analyzers.storage_detail import near_name
from engine.facts import Observations
from engine.findings import Finding
from engine.parsers.common import excerpt

_NOT_FOUND = (
    r"(?:does not exist|not found|ResourceNotFoundException|can't find the specified secret|SecretNotFound|NoSuchKey)"
)
_REMOTE_MISSING = re.compile(
    rf"\(key: (?P<key>[\w/+=.@:-]+)(?:, version: [\w-]+)?\)[^\n]*?{_NOT_FOUND}"
    rf"|\bkey[\"']?\s*[:=]\s*[\"']?(?P<key2>[\w/+=.@:-]+)[\"']?[^\n]*?{_NOT_FOUND}"
    r"|Secret \[(?:projects/[\w-]+/secrets/)?(?P<key3>[\w-]+)(?:/versions/\w+)?\] not found"
    r"|A secret with \(?name\)? ?\(?(?P<key4>[\w-]+)\)? was not found in this key vault",
    re.IGNORECASE,
)
_CLI_LOOKUP = re.compile(r"--secret-id\s+['\"]?(?P<key>[\w/+=.@:-]+)")
_CLI_MISSING = re.compile(r"ResourceNotFoundException|can't find the specified secret", re.IGNORECASE)
_EXTERNAL_SECRET = re.compile(r"externalsecret(?:\.external-secrets\.io)?/(?P<name>[\w.-]+)", re.IGNORECASE)
_SYNC_ERROR_ROW = re.compile(
    r"^\s*(?:externalsecret(?:\.external-secrets\.io)?/)?(?P<name>[\w.-]+)\s+\S+\s+\S+\s+SecretSyncedError\b",
    re.IGNORECASE,
)


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    missing = _missing_key(obs)
    if missing is None:
        return []
    key, cite, line = missing
    meant = _meant(key, obs)
    if meant is None:
        return []  # without the name that exists, the generic missing-Secret finding says as much
    es = _external_secret(obs, line)
    owner = secret_waiting_workload(obs, ctx, es)
    title = (
        f"{owner}: the ExternalSecret{f' {es}' if es else ''} cannot sync because its remote key {key} does not "
        f"exist in the secret store; the store has {meant[0]} ({_difference(key, meant[0])}), so the Kubernetes "
        "Secret is never created and the pods cannot start"
    )
    return [
        Finding(
            kind="external_secret_key_missing",
            subject=f"externalsecret/{es or key}",
            role="cause",
            title=title,
            weight=95,
            evidence=[cite, meant[1]],
            workload=owner,
            recommendations=[
                rec(
                    "high",
                    f"Point remoteRef.key at {meant[0]} (or create {key} in the store), then force a refresh of the "
                    "ExternalSecret (annotate force-sync) so the Secret is created",
                )
            ],
            affected=[owner],
        )
    ]


def _missing_key(obs: Observations) -> tuple[str, str, str] | None:
    """The remote key the operator or the provider's CLI says does not exist, with its line."""
    docs = [(t.label, t.command, t.lines) for t in obs.texts] + [(d.label, d.command, d.lines) for d in obs.logs]
    for label, command, lines in docs:
        asked = _CLI_LOOKUP.search(command)  # the command that printed these lines: "aws ... --secret-id K"
        for line in lines:
            found = _REMOTE_MISSING.search(line)
            if found and found.group("key2") and "secret" not in line.lower():
                found = None  # a bare "key: x ... not found" is about a secret only on a secret store's line
            if found:
                key = next(v for k, v in found.groupdict().items() if v)
                return key, f"{label} {excerpt(line.strip(), around=key)}", line
            lookup = _CLI_LOOKUP.search(line)
            if lookup:
                asked = lookup
            elif asked and _CLI_MISSING.search(line):
                return asked.group("key"), f"{label} {excerpt(line.strip())}", line
    return None


def _squash(name: str) -> str:
    return re.sub(r"[-_.\s]", "", name.lower())


def _meant(key: str, obs: Observations) -> tuple[str, str] | None:
    """A name in the paste equal to ``key`` but for separators or case, else a close one."""
    token = re.compile(r"[\w][\w/+=.@:-]*[\w]")
    for label, line in lines_of(obs):
        for candidate in token.findall(line):
            if candidate != key and _squash(candidate) == _squash(key):
                return candidate, f"{label} {excerpt(line.strip(), around=candidate)}"
    return near_name(key, obs, cutoff=0.9)


def _difference(wrong: str, right: str) -> str:
    if wrong.lower().replace("-", "_") == right.lower().replace("-", "_"):
        hyphens = "underscores, not hyphens" if "_" in right else "hyphens, not underscores"
        return hyphens if wrong.lower() == wrong or wrong.upper() == wrong else f"{hyphens}, and other case"
    if wrong.lower() == right.lower():
        return "different case"
    return "a different name"


def _external_secret(obs: Observations, line: str) -> str | None:
    named = _EXTERNAL_SECRET.search(line)
    if named:
        return named.group("name")
    for _, text in lines_of(obs):
        row = _SYNC_ERROR_ROW.match(text)
        if row:
            return row.group("name")
    return None
