"""Why dynamic provisioning never produces a volume for a Pending claim, as the claim's events print it.

- ``Waiting for a volume to be created either by the external provisioner 'X' or manually ...``
  (persistentvolume-controller, ``ExternalProvisioning``), repeated with no ``Provisioning`` or
  ``ProvisioningFailed`` event from X: nothing serves provisioner X. When the paste lists the cluster's
  CSIDrivers (``kubectl get csidrivers``) or its CSI pods without X, the driver is not installed (a missing add-on
  or Helm release), which is the usual cause after moving manifests to a new cluster.
- ``ProvisioningFailed ... Volume capabilities not supported`` (or ``MULTI_NODE_MULTI_WRITER``, "access mode ...
  not supported") for a claim asking ``ReadWriteMany``/``ReadOnlyMany``: the class's driver makes block volumes
  that attach to one node at a time (EBS, Azure Disk, GCE PD, Ceph RBD...), so only ReadWriteOnce works; shared
  access needs a file driver (EFS, Azure Files, Filestore, NFS, CephFS).
"""
# ruff: noqa: E501  (messages read better unwrapped)

from __future__ import annotations

import re

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import rec
from engine.analyzers.scheduling_detail import lines_of
from engine.facts import Observations
from engine.findings import Finding
from engine.parsers.common import excerpt

_WAITING = re.compile(
    r"Waiting for a volume to be created,? either by (?:the )?external provisioner [\"'](?P<driver>[\w./-]+)[\"']", re.I
)
_CSIDRIVERS_HEADER = re.compile(r"^NAME\s+ATTACHREQUIRED\s+PODINFOONMOUNT", re.I)
_CAPABILITY = re.compile(
    r"(?:failed to provision volume|ProvisioningFailed)[^\n]*?(?P<error>Volume capabilit(?:y|ies) not supported|VolumeCapabilities is invalid[^\n]*|MULTI_NODE_(?:MULTI_WRITER|READER_ONLY|SINGLE_WRITER)[^\n]*?not supported|access ?mode[^\n]*?not supported|unsupported access ?mode[^\n]*|(?:only|does not) supports? (?:the )?ReadWriteOnce[^\n]*)",
    re.I,
)
_SHARED_MODE = re.compile(r"\b(ReadWriteMany|ReadOnlyMany|RWX|ROX)\b")
_CLASS = re.compile(r"StorageClass \\?[\"'](?P<name>[\w.-]+)\\?[\"']")
_CLAIM = re.compile(r"(?:persistentvolumeclaim/|claim \\?\"(?:[\w-]+/)?)(?P<name>[\w.-]+)")


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    return [*_provisioner_absent(obs), *_shared_access_unsupported(obs)]


def _claim_waiting(obs: Observations, driver: str) -> tuple[str | None, str | None]:
    """The claim (and its StorageClass) whose events say it waits for the driver."""
    for event in obs.events:
        if event.reason == "ExternalProvisioning" and driver in event.message and event.object_name:
            claim = next((c for c in obs.claims if c.name == event.object_name), None)
            return event.object_name, claim.storage_class if claim else None
    pending = [c for c in obs.claims if (c.phase or "").lower() == "pending"]
    if len(pending) == 1:
        return pending[0].name, pending[0].storage_class
    return None, None


def _provisioner_absent(obs: Observations) -> list[Finding]:
    waiting: tuple[str, str] | None = None
    for label, line in lines_of(obs):
        found = _WAITING.search(line)
        if found:
            waiting = (found.group("driver"), f"{label} {excerpt(line.strip(), around='external provisioner')}")
            break
    if waiting is None:
        return []
    driver, cite = waiting
    if any(
        re.search(rf"\b(?:Provisioning|ProvisioningFailed|ProvisioningSucceeded)\b.*{re.escape(driver)}", line)
        for _, line in lines_of(obs)
    ):
        return []  # the provisioner runs and answers: its own events say why
    installed, listing = _csidrivers(obs)
    token = _driver_token(driver)
    csi_pods = [
        (label, line)
        for label, line in lines_of(obs)
        if re.match(r"^\s*(?:[\w-]+\s+)?[\w.-]*(?:csi|provisioner)[\w.-]*-[a-z0-9]{4,10}\s+\d+/\d+\s+\w+", line)
    ]
    pod_seen = any(token in line.lower() for _, line in csi_pods)
    claim, storage_class = _claim_waiting(obs, driver)
    subject = claim or storage_class or driver
    evidence = [cite]
    if listing is not None and driver not in installed:
        others = f" (only {', '.join(installed)})" if installed else ""
        absent = f"no CSIDriver {driver} is registered in the cluster{others}"
        if csi_pods and not pod_seen:
            absent += f" and no {token} CSI controller or node pod runs"
        evidence.append(listing)
        weight = 92
    elif csi_pods and not pod_seen:
        absent = f"no {token} CSI controller or node pod runs (only {', '.join(sorted({line.split()[-5] if len(line.split()) > 5 and '/' not in line.split()[0] else line.split()[0] for _, line in csi_pods[:3]}))})"
        evidence.append(f"{csi_pods[0][0]} {excerpt(csi_pods[0][1].strip())}")
        weight = 86
    else:
        return []
    claim_text = f"PVC {claim}" if claim else "the claim"
    class_text = f" (StorageClass {storage_class})" if storage_class else ""
    return [
        Finding(
            kind="provisioner_not_installed",
            subject=f"persistentvolumeclaim/{subject}",
            role="cause",
            title=f"{claim_text}{class_text} stays Pending: it waits for the external provisioner {driver}, which is not installed or not running — {absent}, so nothing ever creates the volume",
            weight=weight,
            evidence=evidence,
            workload=claim,
            recommendations=[
                rec(
                    "high",
                    f"Install the {driver} CSI driver (its Helm chart or the cloud add-on, with its controller's cloud permissions) or point the claim at a StorageClass whose provisioner runs here",
                )
            ],
            affected=[claim] if claim else [],
        )
    ]


_GENERIC = {
    "csi",
    "driver",
    "rancher",
    "kubernetes",
    "k8s",
    "io",
    "com",
    "aws",
    "azure",
    "gke",
    "storage",
    "cluster",
    "local",
    "net",
    "org",
}


def _driver_token(driver: str) -> str:
    """The word a driver's pods are named after: efs.csi.aws.com -> efs, rancher.io/local-path -> local,
    cluster.local/nfs-subdir-external-provisioner -> nfs, driver.longhorn.io -> longhorn."""
    parts = [p for p in re.split(r"[./]", driver.lower()) if p and p not in _GENERIC]
    specific = parts[-1] if "/" in driver and parts else (parts[0] if parts else driver.lower())
    return specific.split("-")[0]


def _csidrivers(obs: Observations) -> tuple[list[str], str | None]:
    """The CSIDriver names a ``kubectl get csidrivers`` table lists, and its header as evidence (None: no table)."""
    names: list[str] = []
    listing: str | None = None
    for text in obs.texts:
        inside = False
        for line in text.lines:
            if _CSIDRIVERS_HEADER.match(line.strip()):
                inside, listing = True, f"{text.label} {excerpt(line.strip())}"
                continue
            if inside:
                cells = line.split()
                if len(cells) >= 3 and cells[1] in ("true", "false"):
                    names.append(cells[0])
                    listing = f"{text.label} {excerpt(line.strip())}"
                else:
                    inside = False
    for resource in obs.resources:
        if resource.kind == "CSIDriver":
            names.append(resource.name)
            listing = listing or resource.quote(resource.name)
    return names, listing


def _shared_access_unsupported(obs: Observations) -> list[Finding]:
    failure: tuple[re.Match[str], str, str] | None = None
    for label, line in lines_of(obs):
        found = _CAPABILITY.search(line)
        if found:
            failure = (found, line, f"{label} {excerpt(line.strip(), around=found.group('error')[:30])}")
            break
    if failure is None:
        return []
    found, line, cite = failure
    mode_line = next(
        ((label, text) for label, text in lines_of(obs) if _SHARED_MODE.search(text) and "not supported" not in text),
        None,
    )
    if mode_line is None:
        return []
    mode = _SHARED_MODE.search(mode_line[1]).group(1)  # type: ignore[union-attr]
    mode = {"RWX": "ReadWriteMany", "ROX": "ReadOnlyMany"}.get(mode, mode)
    storage_class = _CLASS.search(line)
    claim_match = _CLAIM.search(line)
    claim = claim_match.group("name") if claim_match else None
    if claim is None:
        event = next((e for e in obs.events if found.group("error") in e.message and e.object_name), None)
        claim = event.object_name if event else None
    if claim is None and len(obs.claims) == 1:
        claim = obs.claims[0].name
    provisioner = next(
        (m.group(1) for _, text in lines_of(obs) if (m := re.search(r"storage-provisioner\"?:\s*\"?([\w./-]+)", text))),
        None,
    )
    class_name = storage_class.group("name") if storage_class else None
    driver = f" (driver {provisioner})" if provisioner else ""
    return [
        Finding(
            kind="access_mode_unsupported",
            subject=f"persistentvolumeclaim/{claim or class_name or 'claim'}",
            role="cause",
            title=f"PVC {claim or ''} asks for {mode} (access mode) but StorageClass {class_name or '?'}{driver} provisions block volumes that attach to one node at a time, so it supports only ReadWriteOnce: '{found.group('error').strip()}' — the claim never binds".replace(
                "PVC  ", "the PVC "
            ),
            weight=92,
            evidence=[cite, f"{mode_line[0]} {excerpt(mode_line[1].strip())}"],
            workload=claim,
            recommendations=[
                rec(
                    "high",
                    "Use a StorageClass backed by a shared file system (EFS, Azure Files, Filestore, NFS, CephFS) for a volume several pods mount, or ReadWriteOnce with one pod per volume",
                )
            ],
            affected=[claim] if claim else [],
        )
    ]
