"""PersistentVolumeClaims that stay Pending: a StorageClass the cluster does not have, or no pod to bind for.

A claim's ``storageClassName`` must name an existing StorageClass (or be empty for the default); when the
StorageClasses were listed and the name is not among them, nothing will ever provision the claim.

A claim whose class has ``volumeBindingMode: WaitForFirstConsumer`` prints ``waiting for first consumer to be
created before binding`` and stays Pending by design until a pod that mounts it is scheduled; when no pod uses it
(``Used By: <none>``, no pod seen mounting it) nothing is broken in storage: the consumer is missing.
"""
# ruff: noqa: E501  (user-facing messages read better unwrapped)

from __future__ import annotations

import difflib
import re

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import rec
from engine.facts import Observations
from engine.findings import Finding

_PROVISIONING = frozenset({"Provisioning", "ProvisioningFailed", "ProvisioningSucceeded", "ExternalProvisioning"})
_FIRST_CONSUMER = re.compile(r"waiting for first consumer to be created before binding|^WaitForFirstConsumer\b")


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    return [*_missing_class(obs), *_waiting_for_consumer(obs)]


def _waiting_for_consumer(obs: Observations) -> list[Finding]:
    mounted = {name for pod in obs.pods for name in pod.volumes_claims}
    # a claim the provisioner works on has its consumer: the pod was scheduled and the claim's node selected
    mounted |= {e.object_name for e in obs.events if e.object_name and e.reason in _PROVISIONING}
    findings: list[Finding] = []
    for event in obs.events:
        name = event.object_name
        if not name or name in mounted or not _FIRST_CONSUMER.search(f"{event.reason} {event.message}"):
            continue
        claim = next((c for c in obs.claims if c.name == name), None)
        if (claim and (claim.phase or "").lower() != "pending") or any(
            f.subject.endswith(f"/{name}") for f in findings
        ):
            continue
        mode = (
            f" (StorageClass {claim.storage_class} uses volumeBindingMode: WaitForFirstConsumer)"
            if claim and claim.storage_class
            else " (its StorageClass uses volumeBindingMode: WaitForFirstConsumer)"
        )
        findings.append(
            Finding(
                kind="claim_waiting_for_consumer",
                subject=f"persistentvolumeclaim/{name}",
                role="cause",
                title=(
                    f"{name}: PersistentVolumeClaim {name} is Pending by design{mode}: it is waiting for first consumer, "
                    f"and no pod uses it, so no volume is provisioned until a pod that mounts it is scheduled; "
                    f"the provisioner is not at fault"
                ),
                weight=70,
                evidence=[e for e in (event.cite, claim.cite if claim else "") if e],
                workload=name,
                recommendations=[
                    rec(
                        "medium",
                        f"Create (or fix the claimName of) the pod that should mount {name}; binding and provisioning follow its scheduling",
                    )
                ],
                affected=[name],
            )
        )
    return findings


def _missing_class(obs: Observations) -> list[Finding]:
    classes = {r.name.split(" ")[0]: r for r in obs.resources if r.kind == "StorageClass"}
    if not classes:
        return []
    findings: list[Finding] = []
    for claim in obs.claims:
        if claim.phase != "Pending" or not claim.storage_class or claim.storage_class in classes:
            continue
        near = difflib.get_close_matches(claim.storage_class, sorted(classes), n=1, cutoff=0.5)
        meant = f"; the existing StorageClass '{near[0]}' is probably what was meant" if near else ""
        listing = next(iter(classes.values()))
        findings.append(
            Finding(
                kind="claim_storageclass_missing",
                subject=f"persistentvolumeclaim/{claim.name}",
                role="cause",
                title=(
                    f"{claim.name}: PersistentVolumeClaim {claim.name} asks for StorageClass {claim.storage_class}, which does not exist "
                    f"(the cluster has {', '.join(sorted(classes))}), so it stays Pending and the pods using it cannot start{meant}"
                ),
                weight=88,
                evidence=[e for e in (claim.cite, listing.quote(listing.name.split(" ")[0])) if e],
                workload=claim.name,
                recommendations=[
                    rec(
                        "high",
                        f"Recreate claim {claim.name} with storageClassName {near[0] if near else 'of an existing class'} (the field is immutable) or create StorageClass {claim.storage_class}",
                    )
                ],
                affected=[claim.name],
            )
        )
    return findings
