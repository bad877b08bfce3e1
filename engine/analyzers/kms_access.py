"""S3 AccessDenied on an object encrypted with a KMS key: the caller needs kms:Decrypt on that key, not more S3.

An object stored with SSE-KMS (``"ServerSideEncryption": "aws:kms"`` and its ``SSEKMSKeyId`` in ``head-object``)
can only be read by a principal allowed ``kms:Decrypt`` on that key (by its IAM policy and the key policy); S3
answers the GetObject with a plain ``AccessDenied`` otherwise, even when ``s3:GetObject`` is allowed
(docs.aws.amazon.com/AmazonS3/latest/userguide/troubleshoot-403-errors.html). A role policy that lists only s3:
actions is the usual reason after a bucket's default encryption moved to a customer-managed key.
"""
# ruff: noqa: E501  (patterns and messages read better unwrapped)

from __future__ import annotations

import re

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import observed_names, workload_cause
from engine.analyzers.log_signatures import doc_source, failing_workload
from engine.analyzers.scheduling_detail import lines_of
from engine.facts import Observations
from engine.findings import Finding, workload_of
from engine.parsers.common import excerpt

_DENIED = re.compile(
    r"\(AccessDenied\) when calling the (?:GetObject|HeadObject|CopyObject) operation|AccessDenied: Access Denied[^\n]*GetObject"
    r"|GetObject[^\n]*(?:AccessDenied|403 Forbidden|status ?code: 403)",
    re.IGNORECASE,
)
# head-object's SSEKMSKeyId, get-bucket-encryption's KMSMasterKeyID
_KMS_KEY = re.compile(r"(?:SSEKMSKeyId|KMSMasterKeyID)\"?:\s*\"?(?P<key>arn:aws:kms:[^\"\s,]+|[0-9a-f-]{36})")
_KMS_USED = re.compile(r"(?:ServerSideEncryption|SSEAlgorithm)\"?:\s*\"?aws:kms")
_POLICY = re.compile(r"\"(?:Action|NotAction)\"\s*:")
_DECRYPT = re.compile(r"kms:(?:Decrypt|\*)|\"\*\"")


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    denied = next(((doc, line) for doc in obs.logs for line in doc.lines if _DENIED.search(line)), None)
    if denied is None:
        return []
    lines = list(lines_of(obs))
    key = next(((label, line, m.group("key")) for label, line in lines if (m := _KMS_KEY.search(line))), None)
    if key is None and not any(_KMS_USED.search(line) for _, line in lines):
        return []
    policies = [line for _, line in lines if _POLICY.search(line)]
    no_decrypt = bool(policies) and not any(_DECRYPT.search(line) for line in policies)
    doc, line = denied
    source = doc_source(doc, ctx, observed_names(obs))
    owner = failing_workload(obs) or (workload_of(source) if source else None)
    which = f"the KMS key {key[2]}" if key else "a KMS key"
    policy = "; the role's policy shown allows s3: actions but no kms:Decrypt" if no_decrypt else ""
    return [
        workload_cause(
            "s3_object_kms_denied",
            owner=owner,
            fallback="application",
            title=f"{owner + ': ' if owner else ''}S3 refuses the GetObject (AccessDenied) because the object is encrypted with {which} (SSE-KMS) and the caller may not use it to decrypt (kms:Decrypt){policy}",
            weight=93,
            evidence=[
                f"{doc.label} {excerpt(line.strip(), around='AccessDenied')}",
                *([f"{key[0]} {excerpt(key[1].strip())}"] if key else []),
            ],
            fix=f"Allow kms:Decrypt on {which} to the role the pod uses (its IAM policy, and the key policy if it does not delegate to IAM), or store the object with the bucket's previous encryption",
        )
    ]
