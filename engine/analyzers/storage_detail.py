"""Why a volume cannot be provisioned or mounted, down to the concrete thing to fix.

The provisioner and the kubelet print one line; an SRE reads the rest of the paste for the reason behind it:

- ``driver name X not found in the list of registered CSI drivers`` (kubelet): the CSI driver's node plugin
  (a DaemonSet with the node-driver-registrar) does not run on that node; on tainted nodes it is almost always
  a toleration the DaemonSet lacks (kubernetes-csi docs, node plugin registration).
- ``not authorized to perform: ec2:CreateVolume`` / ``UnauthorizedOperation`` / ``AccessDenied`` in a
  ProvisioningFailed or attach error: the CSI controller's cloud identity lacks the permission; when the
  identity is the node's role, the driver's service account has no role of its own (IRSA / Pod Identity /
  Workload Identity) and falls back to the node's.
- ``volumesnapshotclass ... "X" not found`` (snapshot-controller): the VolumeSnapshot names a class that does
  not exist, so it never becomes ready and every restore from it stays Pending.
- ``Failed fetching secret X: ResourceNotFoundException`` / ``secret not found`` (Secrets Store CSI driver
  providers): the SecretProviderClass names an external secret that does not exist in the vault.

Where the input lists a name close to the missing one, it is named as what was probably meant.
"""
# ruff: noqa: E501  (documented messages read better unwrapped)

from __future__ import annotations

import difflib
import re

from engine.analysis_context import AnalysisContext
from engine.analyzers.common import rec
from engine.analyzers.scheduling_detail import lines_of
from engine.facts import Observations
from engine.findings import Finding, workload_of
from engine.parsers.common import excerpt

_CSI_UNREGISTERED = re.compile(r"driver name ([\w.-]+) not found in the list of registered CSI drivers")
_CLOUD_DENIED = re.compile(
    r"(?:failed to provision volume|AttachVolume\.Attach failed|could not (?:create|attach) volume)[^\n]*?"
    r"(?P<code>not authorized to perform|UnauthorizedOperation|AccessDenied(?:Exception)?|AuthorizationFailed|PermissionDenied|PERMISSION_DENIED|does not have authorization|Forbidden)",
    re.I,
)
_ASSUMED_ROLE = re.compile(r"assumed-role/([\w+=,.@-]+)")
_SNAPSHOT_CLASS = re.compile(
    r"volumesnapshotclass(?:\.snapshot\.storage\.k8s\.io)? \\?\"([\w.-]+)\\?\" not found", re.I
)
_EXTERNAL_SECRET = re.compile(
    r"(?:Failed fetching secret|failed to (?:get|fetch|retrieve) secret(?: value)?|fetching secret)\s+\\?\"?([\w/+=.@:-]+?)\\?\"?\s*[:,]\s*[^\n]*?"
    r"(?:ResourceNotFoundException|can't find the specified secret|SecretNotFound|NotFound|not found|does not exist)",
    re.I,
)
# the line is about an external secret store (a Secrets Store CSI provider), not a Kubernetes Secret
_EXTERNAL_STORE = re.compile(
    r"secrets[- ]store|SecretProviderClass|Secrets ?Manager|Key ?Vault|Secret Manager|vault", re.I
)
_CONTROL_PLANE = re.compile(r"node-role\.kubernetes\.io/")
_POD_IN_LINE = re.compile(r"for pod ([\w-]+)/([\w.-]+)")


_PREFILTER = re.compile(r"CSI drivers|volume|snapshot|secret|\bOutput:", re.I)
_MOUNT_OUTPUT = re.compile(
    r"^(?:\w{3} +\d+ [\d:]+ \S+ \S+: )?\s*Output:\s*(?P<out>(?:mount(?:\.\w+)?|mount error\(\d+\))[:\s][^\n]{5,200}|Failed to resolve [^\n]{5,300})"
)
_MOUNT_FAILED = re.compile(r"MountVolume\.\w+ failed for volume \\?\"(?P<volume>[\w.-]+)\\?\"")


def analyze(obs: Observations, ctx: AnalysisContext) -> list[Finding]:
    del ctx
    findings: dict[str, Finding] = {}
    owners = {e.cite: e.object_name for e in obs.events if e.object_name}
    last_mount: tuple[str, str, str | None] | None = None  # (volume, cite, owner) of the last mount failure read
    server: str | None = None  # the NFS/CIFS server the last "Mounting arguments:" line names
    for label, line in lines_of(obs):
        if len(line) < 20 or not _PREFILTER.search(line):
            continue
        cite = f"{label} {excerpt(line.strip())}"
        owner = owners.get(cite) or _pod_in(line)
        csi = _CSI_UNREGISTERED.search(line)
        if csi and "csi" not in findings:
            findings["csi"] = _csi_unregistered(csi.group(1), cite, owner, obs)
        denied = _CLOUD_DENIED.search(line)
        if denied and "denied" not in findings:
            findings["denied"] = _cloud_denied(denied, line, cite, owner, obs)
        snapshot = _SNAPSHOT_CLASS.search(line)
        if snapshot and "snapshot" not in findings:
            findings["snapshot"] = _snapshot_class(snapshot.group(1), cite, obs)
        failed = _MOUNT_FAILED.search(line)
        if failed:
            last_mount = (failed.group("volume"), cite, owner)
        arguments = _MOUNT_SERVER.search(line) if "Mounting arguments" in line else None
        if arguments:
            server = arguments.group("server")
        output = _MOUNT_OUTPUT.match(line)
        if output and last_mount and "mount_output" not in findings:
            findings["mount_output"] = _mount_output(
                output.group("out").strip(), cite, *last_mount, server=server, obs=obs
            )
        secret = _EXTERNAL_SECRET.search(line) if _EXTERNAL_STORE.search(line) else None
        if secret and "secret" not in findings:
            findings["secret"] = _external_secret(secret.group(1), cite, owner, obs)
    if "mount_output" in findings:
        _name_missing_zone(findings["mount_output"], obs)
    return list(findings.values())


# efs-utils (mount_efs): the node's AZ has no mount target of the file system
_NO_MOUNT_TARGET_AZ = re.compile(
    r"No matching mount target in the az (?P<az>[\w-]+)(?:[^\n]*?Available mount target\(s\) are in az (?P<have>\[[^\]]*\]))?"
)


def _name_missing_zone(finding: Finding, obs: Observations) -> None:
    """Name the Availability Zone the mount helper says has no mount target (and where the targets are)."""
    for label, line in lines_of(obs):
        missing = _NO_MOUNT_TARGET_AZ.search(line)
        if missing:
            have = f" (mount targets exist only in {missing.group('have')})" if missing.group("have") else ""
            finding.title += f"; there is no mount target in {missing.group('az')}, the node's Availability Zone{have}: create one in a subnet of {missing.group('az')}"
            finding.evidence.append(f"{label} {excerpt(line.strip(), around='No matching mount target')}")
            return


# "Mounting arguments: -t nfs 10.50.0.20:/exports/media /var/lib/..." / "-t cifs //files.corp/share ..."
_MOUNT_SERVER = re.compile(
    r"-t\s+(?:nfs4?|cifs|smb3?|efs)\s+(?:-o\s+\S+\s+)?(?P<server>//[\w.-]+/[\w$./-]*|[\w.-]+:/[\w./-]*)"
)
_MOUNT_MEANINGS = (
    (
        re.compile(r"Connection timed out|timed out|No route to host", re.I),
        "the file server {server} does not answer from this node (NFS port 2049/111 blocked by a firewall, security group or network policy, or the server is down)",
    ),
    (
        re.compile(r"access denied by server", re.I),
        "the file server {server} refuses this node: its export does not allow the node's address (exports/allowed clients)",
    ),
    (
        re.compile(r"Connection refused", re.I),
        "the file server {server} refuses connections (the NFS service is not running there)",
    ),
    (re.compile(r"No such file or directory", re.I), "the export path {server} does not exist on the server"),
    (
        re.compile(r"Failed to resolve .*mount target", re.I),
        "the file system has no mount target reachable from this node's Availability Zone/VPC (create one in the node's subnet)",
    ),
)


def _mount_output(
    output: str,
    cite: str,
    volume: str,
    failed_cite: str,
    owner: str | None,
    server: str | None = None,
    obs: Observations | None = None,
) -> Finding:
    """The mount helper's own output printed under a MountVolume failure (NFS/CIFS/iSCSI: why the server refused)."""
    subject = workload_of(owner) if owner else volume
    meaning = next((text for pattern, text in _MOUNT_MEANINGS if pattern.search(output)), None) if server else None
    extra: list[str] = []
    if meaning and server:
        output = f"{output} — {meaning.format(server=server)}"
        if obs is not None and "access denied" in output:
            allowed, refused = _export_clients(server, obs)
            if allowed:
                output += f"; the export allows only {allowed[0]}"
                extra.append(allowed[1])
            if refused:
                output += f"; the server's mountd refuses {refused[0]} ({refused[2]})"
                extra.append(refused[1])
    return Finding(
        kind="volume_mount_refused",
        subject=f"{subject}:volume_mount_refused",
        role="cause",
        title=f"{owner + ': ' if owner else ''}volume {volume} cannot be mounted: {output}",
        weight=91,
        evidence=[failed_cite, cite, *extra],
        workload=workload_of(owner) if owner else None,
        recommendations=[
            rec(
                "high",
                f"Fix what the mount helper reports for volume {volume} (export/share permissions for the node's address, server path, credentials)",
            ),
        ],
        affected=[workload_of(owner)] if owner else [],
    )


_MOUNTD_REFUSED = re.compile(
    r"refused mount request from (?P<client>[\w.:-]+) for (?P<path>/\S+)[^:]*:\s*(?P<why>unmatched host|illegal port \d+|no such file or directory|[\w ]+)"
)


def _export_clients(server: str, obs: Observations) -> tuple[tuple[str, str] | None, tuple[str, str, str] | None]:
    """For an NFS export refused to a node: the clients the export allows (``exportfs -v`` / ``/etc/exports``
    ``/exports/media 10.0.4.0/24(rw,...)``) and the client the server's rpc.mountd refused ("unmatched host")."""
    path = server.split(":", 1)[-1].rstrip("/")
    allowed: tuple[str, str] | None = None
    refused: tuple[str, str, str] | None = None
    export = re.compile(rf"^\s*{re.escape(path)}/?\s+(?P<clients>(?:[\w.*/:\[\]-]+\([^)]*\)\s*)+)\s*$")
    for label, line in lines_of(obs):
        found = export.match(line)
        if found and allowed is None:
            clients = [c.split("(")[0] or "*" for c in found.group("clients").split()]
            allowed = (", ".join(clients), f"{label} {excerpt(line.strip())}")
        denied = _MOUNTD_REFUSED.search(line)
        if denied and refused is None and denied.group("path").rstrip("/") == path:
            refused = (denied.group("client"), f"{label} {excerpt(line.strip())}", denied.group("why").strip())
    return allowed, refused


def _pod_in(line: str) -> str | None:
    found = _POD_IN_LINE.search(line)
    return found.group(2) if found else None


def near_name(wrong: str, obs: Observations, cutoff: float = 0.75) -> tuple[str, str] | None:
    """The name printed elsewhere in the input closest to ``wrong`` (a typo, ``_`` vs ``-``, swapped words)."""
    token = re.compile(r"[\w][\w./:+=@-]*[\w]")
    seen: set[str] = {wrong}
    best: tuple[float, str, str] | None = None
    for label, line in lines_of(obs):
        for candidate in token.findall(line):
            if candidate in seen or len(candidate) < 4 or abs(len(candidate) - len(wrong)) > 4:
                continue
            seen.add(candidate)
            ratio = difflib.SequenceMatcher(None, wrong, candidate).ratio()
            if ratio >= cutoff and (best is None or ratio > best[0]):
                best = (ratio, candidate, f"{label} {excerpt(line.strip(), around=candidate)}")
    return (best[1], best[2]) if best else None


def _csi_unregistered(driver: str, cite: str, owner: str | None, obs: Observations) -> Finding:
    evidence = [cite]
    pod = next((p for p in obs.pods if p.name == owner), None)
    tainted = [n for n in obs.nodes if [t for t in n.taints if not _CONTROL_PLANE.search(t)]]
    node = next((n for n in obs.nodes if pod is not None and n.name == pod.node), None) or (
        tainted[0] if len(tainted) == 1 else None
    )
    daemonset = next(
        (
            name
            for name in [w.name for w in obs.workloads if w.kind == "DaemonSet"]
            + [r.name for r in obs.resources if r.kind == "DaemonSet"]
            if "csi" in name or driver.split(".")[0] in name
        ),
        None,
    )
    listed = _listed_node(obs, owner) if node is None and owner else None
    where = f"node {node.name}" if node else f"node {listed[0]}" if listed else "the pod's node"
    plugin = (
        f"its node plugin DaemonSet {daemonset}"
        if daemonset
        else "the driver's node plugin (DaemonSet with node-driver-registrar)"
    )
    detail = ""
    if node:
        taints = [t for t in node.taints if not _CONTROL_PLANE.search(t)]
        if taints:
            evidence.append(node.cites.get("taints", ""))
            detail = f"; the node carries taint(s) {', '.join(taints)}, which {daemonset or 'the node plugin'} does not tolerate"
    elif listed:
        evidence.append(listed[1])
        printed = _printed_taints(obs, listed[0])
        if printed:
            evidence.append(printed[1])
            detail = f"; the node carries taint(s) {', '.join(printed[0])}, which {daemonset or 'the node plugin'} does not tolerate"
    subject = owner or daemonset or driver
    return Finding(
        kind="csi_driver_not_registered",
        subject=f"{workload_of(subject)}:csi_driver_not_registered",
        role="cause",
        title=f"{subject}: CSI driver {driver} is not registered on {where}: {plugin} does not run there{detail}, so volumes of that driver cannot be mounted on it",
        weight=92,
        evidence=[e for e in dict.fromkeys(evidence) if e],
        workload=workload_of(owner) if owner else daemonset,
        recommendations=[
            rec(
                "high",
                f"Add tolerations for the node's taints to {daemonset or 'the CSI node DaemonSet'} (or tolerations: [{{operator: Exists}}]) so the driver registers on every node that mounts its volumes",
            ),
        ],
        affected=[x for x in (owner and workload_of(owner), daemonset) if x],
    )


_NODE_NAME = re.compile(r"^(?:ip-\d+-\d+-\d+-\d+[\w.-]*|[a-z0-9][\w-]*\.(?:[\w-]+\.)*internal|gke-[\w-]+|aks-[\w-]+)$")


def _listed_node(obs: Observations, pod: str) -> tuple[str, str] | None:
    """The node a ``get pods -o wide`` row (even grepped, without its header) shows the pod on."""
    known = {n.name for n in obs.nodes}
    for label, line in lines_of(obs):
        cells = line.split()
        if len(cells) > 4 and cells[0] == pod:
            node = next((c for c in reversed(cells[1:]) if c in known or _NODE_NAME.match(c)), None)
            if node:
                return node, f"{label} {line.strip()}"
    return None


def _printed_taints(obs: Observations, node: str) -> tuple[list[str], str] | None:
    """The taints ``kubectl get node <node> -o jsonpath='{.spec.taints}'`` printed as a JSON list."""
    import json

    sources = [(t.label, t.command, t.lines) for t in obs.texts] + [(d.label, d.command, d.lines) for d in obs.logs]
    for label, command, lines in sources:
        names_node = node in (command or "") and "taints" in (command or "")
        for line in lines:
            text = line.strip()
            if text.startswith("$") or "kubectl" in text:  # a command inside the paste
                names_node = node in text and "taints" in text
                continue
            if not names_node or not text.startswith("[{"):
                continue
            try:
                data = json.loads(text)
            except ValueError:
                continue
            taints = [
                f"{t.get('key')}{'=' + str(t['value']) if t.get('value') else ''}:{t.get('effect')}"
                for t in data
                if isinstance(t, dict) and t.get("key") and not _CONTROL_PLANE.search(str(t.get("key")))
            ]
            if taints:
                return taints, f"{label} {text}"
    return None


_DRIVERS = (  # the cloud API a denied action belongs to -> the CSI driver that calls it
    (re.compile(r"\bec2:|EC2: \w+Volume", re.I), "AWS EBS CSI driver (ebs.csi.aws.com)"),
    (re.compile(r"elasticfilesystem:", re.I), "AWS EFS CSI driver (efs.csi.aws.com)"),
    (re.compile(r"compute\.disks\.|compute\.instances\.attachDisk", re.I), "GCE PD CSI driver (pd.csi.storage.gke.io)"),
    (re.compile(r"Microsoft\.Compute/disks", re.I), "Azure Disk CSI driver (disk.csi.azure.com)"),
)


def _cloud_denied(denied: re.Match[str], line: str, cite: str, owner: str | None, obs: Observations) -> Finding:
    performed = re.search(
        r"not authorized to perform:? ([\w-]+:[\w*-]+)|Required '([\w.]+)' permission|authorization to perform action '([\w./-]+)'",
        line,
    )
    action = next((g for g in performed.groups() if g), "") if performed else denied.group("code")
    role = _ASSUMED_ROLE.search(line)
    node_role = bool(role and re.search(r"node|nodegroup|node-group|worker", role.group(1), re.I))
    identity = f"IAM role {role.group(1)}" if role else "its cloud identity"
    why = (
        " (the node's role: the CSI controller's service account has no IAM role of its own, IRSA / Pod Identity annotation missing)"
        if node_role
        else ""
    )
    driver = next((name for pattern, name in _DRIVERS if pattern.search(line)), "")
    if driver and node_role:
        account = next(
            (
                r
                for r in obs.resources
                if r.kind == "ServiceAccount"
                and "csi" in r.name
                and "controller" in r.name
                and not any("role-arn" in str(k) for k in ((r.raw.get("metadata") or {}).get("annotations") or {}))
            ),
            None,
        )
        if account:
            why += f"; ServiceAccount {account.namespace + '/' if account.namespace else ''}{account.name} carries no eks.amazonaws.com/role-arn annotation"
    subject = owner or "storage"
    return Finding(
        kind="csi_cloud_permission_denied",
        subject=f"{workload_of(subject)}:csi_cloud_permission_denied",
        role="cause",
        title=f"{subject}: the CSI controller{' of the ' + driver if driver else ''} is not authorized by the cloud to manage volumes: {identity} is not authorized to perform {action}{why}, so new volumes are not provisioned",
        weight=92,
        evidence=[cite],
        workload=workload_of(owner) if owner else None,
        recommendations=[
            rec(
                "high",
                f"Give the CSI controller's service account an IAM role/policy that allows {action} (for EBS: AmazonEBSCSIDriverPolicy via IRSA or Pod Identity) and restart the controller",
            ),
        ],
        affected=[workload_of(owner)] if owner else [],
    )


def _snapshot_class(name: str, cite: str, obs: Observations) -> Finding:
    evidence = [cite]
    meant = near_name(name, obs)
    hint = ""
    if meant:
        evidence.append(meant[1])
        hint = f"; the existing VolumeSnapshotClass '{meant[0]}' is probably what was meant"
    snapshots = sorted({e.object_name for e in obs.events if e.object_name and "snapshot class" in e.message.lower()})
    snapshot = f"VolumeSnapshot {snapshots[0]}" if snapshots else "the VolumeSnapshot"
    return Finding(
        kind="volumesnapshotclass_missing",
        subject=f"{snapshots[0] if snapshots else 'snapshot'}:volumesnapshotclass_missing",
        role="cause",
        title=f"{snapshot} names VolumeSnapshotClass {name}, which does not exist{hint}, so the snapshot is never ready and restores from it stay Pending",
        weight=92,
        evidence=evidence,
        workload=snapshots[0] if snapshots else None,
        recommendations=[
            rec(
                "high",
                f"Recreate the VolumeSnapshot with volumeSnapshotClassName {meant[0] if meant else 'of an existing class'} (kubectl get volumesnapshotclass), or create VolumeSnapshotClass {name}",
            ),
        ],
        affected=snapshots[:1],
    )


def _external_secret(name: str, cite: str, owner: str | None, obs: Observations) -> Finding:
    evidence = [cite]
    meant = near_name(name, obs, cutoff=0.8)
    hint = ""
    if meant:
        evidence.append(meant[1])
        hint = f"; the store has '{meant[0]}', which is probably what was meant"
    subject = workload_of(owner) if owner else "secrets-store"
    return Finding(
        kind="external_secret_missing",
        subject=f"{subject}:external_secret_missing",
        role="cause",
        title=f"{subject}: the secret store has no secret {name} (the SecretProviderClass names it){hint}, so the secrets-store CSI volume cannot be mounted and the pod stays in ContainerCreating",
        weight=92,
        evidence=evidence,
        workload=subject if owner else None,
        recommendations=[
            rec(
                "high",
                f"Fix objectName in the SecretProviderClass to {meant[0] if meant else 'the name the secret has in the store'} (or create secret {name} in the store)",
            ),
        ],
        affected=[subject] if owner else [],
    )
