"""The runbook corpus under ``tests/knowledge/runbooks/`` (each file: front matter with its source and provenance,
then the runbook in Markdown), and the queries an engineer or an alert would send, with the runbook that answers."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from knowledge.services import DocumentInput, document_teach
from tenancy.audit import RequestMeta
from tenancy.models import Node

RUNBOOKS = Path(__file__).parent / "runbooks"


@dataclass(frozen=True)
class Runbook:
    name: str
    source: str
    tags: list[str]
    content: str


def load_runbooks() -> list[Runbook]:
    books = []
    for path in sorted(RUNBOOKS.glob("*.md")):
        _, header, content = path.read_text().split("---\n", 2)
        fields = dict(line.split(": ", 1) for line in header.strip().splitlines())
        name = content.splitlines()[0].removeprefix("# ")
        books.append(Runbook(name, fields["source"], [t.strip() for t in fields["tags"].split(",")], content))
    return books


def teach_corpus(node: Node) -> dict[str, str]:
    """Teach every runbook to ``node``; returns document id → runbook name."""
    names = {}
    for book in load_runbooks():
        taught = document_teach(
            node=node,
            data=DocumentInput(content=book.content, doc_type="runbook", tags=book.tags),
            key=book.name,
            meta=RequestMeta.system(),
        )
        names[taught.document.document_id] = book.name
    return names


# (query as an engineer or an alert would phrase it, the runbook that answers it)
QUERIES: list[tuple[str, str]] = [
    ("pod keeps restarting with CrashLoopBackOff after the deploy", "KubePodCrashLooping"),
    ("checkout deployment has fewer available replicas than desired", "KubeDeploymentReplicasMismatch"),
    ("container stuck with ImagePullBackOff, wrong image tag?", "KubeContainerWaiting"),
    ("postgres PVC almost full, volume will run out of space in two days", "KubePersistentVolumeFillingUp"),
    ("kubectl get nodes shows a node NotReady", "KubeNodeNotReady"),
    ("HPA is at max replicas and CPU still high", "KubeHpaMaxedOut"),
    ("container CPU throttled by its limit, latency up", "CPUThrottlingHigh"),
    ("nightly backup cronjob failed, backoff limit reached", "KubeJobFailed"),
    ("node root disk filling up, predicted full in 4 hours", "NodeFilesystemSpaceFillingUp"),
    ("node filesystem running out of inodes", "NodeFilesystemFilesFillingUp"),
    ("nf_conntrack table full, dropping packet on a node", "NodeHighNumberConntrackEntriesUsed"),
    ("ntp not synchronising, clock drift on the node", "NodeClockNotSynchronising"),
    ("alertmanager cannot deliver notifications to slack", "AlertmanagerFailedToSendAlerts"),
    ("prometheus failing to evaluate recording rules, many-to-many matching", "PrometheusRuleFailures"),
    ("prometheus remote write falling behind thanos", "PrometheusRemoteWriteBehind"),
    ("scrape targets are down, up == 0 for the job", "TargetDown"),
    ("etcd cluster has no leader", "etcdNoLeader"),
    ("etcd database size approaching its quota, NOSPACE alarm", "etcdDatabaseQuotaLowSpace"),
    ("kube-apiserver unreachable, kubectl times out", "KubeAPIDown"),
    ("client certificate for the API server expires in 3 days", "KubeClientCertificateExpiration"),
    ("PLEG is not healthy on the kubelet", "KubeletPlegDurationHigh"),
    ("node at max pods, kubelet pod capacity reached", "KubeletTooManyPods"),
    ("pods rejected: exceeded quota in namespace payments", "KubeQuotaExceeded"),
    ("daemonset pods not scheduled on the new tainted nodes", "KubeDaemonSetNotScheduled"),
    ("statefulset update not rolled out, pods still on the old revision", "KubeStatefulSetUpdateNotRolledOut"),
    ("KubePodNotReady firing for checkout-7d9f", "KubePodNotReady"),
    ("we stopped receiving the Watchdog heartbeat", "Watchdog"),
    ("cluster memory requests overcommitted, cannot tolerate losing a node", "KubeMemoryOvercommit"),
    ("too many open files, node file descriptors near the limit", "NodeFileDescriptorLimit"),
    ("RAID array degraded, a disk failed", "NodeRAIDDegraded"),
    ("apiserver error budget burning fast", "KubeAPIErrorBudgetBurn"),
    ("network interface receive errors on node eth0", "NodeNetworkReceiveErrs"),
]
