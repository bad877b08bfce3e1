"""A SOPS file encrypted for an age recipient whose private key the GitOps controller does not hold.

SOPS encrypts the file's data key once per recipient; decryption needs the private key of one of them. Flux's
kustomize-controller (and helm-secrets, ksops) print the recipients they tried: ``age1...: FAILED`` with
"no identity matched any of the recipients". When the controller's key (the ``# public key:`` of its
``sops-age`` Secret) is another recipient, the file was encrypted for the wrong key, usually another
environment's creation rule in ``.sops.yaml``; re-encrypting it (``sops updatekeys``) for the right recipient
fixes it, rotating the controller's key does not.
"""
# ruff: noqa: E501  (user-facing messages read better unwrapped)

from __future__ import annotations

import re

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import workload_cause
from engine.facts import Observations
from engine.findings import Finding

_FAILED_KEY = re.compile(r"(?P<key>age1[0-9a-z]{40,}):\s*FAILED")
_NO_IDENTITY = re.compile(
    r"no identity matched any of the recipients|cannot get sops data key|failed to get the data key", re.IGNORECASE
)
_PUBLIC = re.compile(r"public key:\s*(?P<key>age1[0-9a-z]{40,})")
_RULE_PATH = re.compile(r"path_regex:\s*(?P<path>\S+)")
_RULE_AGE = re.compile(r"\bage:\s*['\"]?(?P<keys>age1[0-9a-z,\s]{40,})")
_SECRET = re.compile(r"decryption failed for '(?P<secret>[^']+)'|failed to decrypt and format '(?P<path>[^']+)'")
_FLUX_ROW = re.compile(
    r"^\s*(?:[\w.-]+\s+)?(?P<name>[a-z0-9][\w.-]*)\s+\S+\s+(?:True|False)\s+False\s+decryption failed"
)
_KS_NAME = re.compile(r"(?:Kustomization[/ ](?:[\w.-]+/)?|\"name\":\s*\")(?P<name>[a-z0-9][\w.-]*)")


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    docs = [(t.label, t.lines) for t in obs.texts] + [(d.label, d.lines) for d in obs.logs]
    failed: dict[str, str] = {}
    public: dict[str, str] = {}
    rules: dict[str, str] = {}  # recipient -> the path_regex of its creation rule
    owner = secret = None
    refused = ""
    for label, lines in docs:
        path = ""
        for line in lines[:20000]:
            for match in _FAILED_KEY.finditer(line):
                failed.setdefault(match.group("key"), f"{label} {line.strip()[:300]}")
            key = _PUBLIC.search(line)
            if key:
                public.setdefault(key.group("key"), f"{label} {line.strip()[:300]}")
            rule = _RULE_PATH.search(line)
            if rule:
                path = rule.group("path")
            age = _RULE_AGE.search(line)
            if age and path:
                for recipient in re.findall(r"age1[0-9a-z]{40,}", age.group("keys")):
                    rules.setdefault(recipient, path)
            if _NO_IDENTITY.search(line):
                refused = refused or f"{label} {line.strip()[:300]}"
                named = _SECRET.search(line)
                if named and secret is None:
                    secret = named.group("secret") or named.group("path")
                row = _FLUX_ROW.match(line) or _KS_NAME.search(line)
                owner = owner or (row.group("name") if row else None)
    wrong = [k for k in failed if k not in public]
    if not refused or not wrong or not public:
        return []
    recipient = wrong[0]
    held = next(iter(public))
    owner = owner or (ctx.focus.owner() if ctx.focus else None) or ctx.service
    what = f"the SOPS file of {secret}" if secret else "the SOPS file"
    elsewhere = f", the recipient of the .sops.yaml creation rule for {rules[recipient]}" if recipient in rules else ""
    meant = f" (the rule for {rules[held]})" if held in rules else ""
    return [
        workload_cause(
            "sops_wrong_recipient",
            owner=owner,
            fallback="gitops",
            title=f"{owner + ': ' if owner else ''}{what} is encrypted for the age recipient {recipient}{elsewhere}, but the controller's decryption key is {held}{meant}, so no identity matched any of the recipients and the data key cannot be decrypted",
            weight=94,
            evidence=[e for e in (refused, failed[recipient], public[held]) if e],
            fix=f"Re-encrypt {secret or 'the file'} for {held} (sops updatekeys after fixing its path/creation rule, or sops -r -i --add-age {held}), then let the controller reconcile",
        )
    ]
