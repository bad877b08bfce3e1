"""PersistentVolumeClaims that stay Pending because they name a StorageClass the cluster does not have.

A claim's ``storageClassName`` must name an existing StorageClass (or be empty for the default); when the
StorageClasses were listed and the name is not among them, nothing will ever provision the claim.
"""
# ruff: noqa: E501  (user-facing messages read better unwrapped)

from __future__ import annotations

import difflib

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import rec
from engine.facts import Observations
from engine.findings import Finding


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
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
