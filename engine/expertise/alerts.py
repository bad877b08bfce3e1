"""What the standard kube-prometheus alerts mean, after their public runbooks
(runbooks.prometheus-operator.dev), including the ones meant to fire all the time."""
# ruff: noqa: E501  (patterns and messages read better unwrapped)

from __future__ import annotations

# Alerts that fire on purpose: the triage verdict is "not an incident" (act only when they stop).
HEARTBEATS = {
    "Watchdog": "Watchdog is a heartbeat that always fires to prove the whole alerting pipeline works "
    "(Prometheus → Alertmanager → receiver); it is expected and not an incident. Route it to a dead man's "
    "switch, and worry only if it stops firing",
    "DeadMansSwitch": "DeadMansSwitch (the former name of Watchdog) is a heartbeat that always fires to prove the "
    "alerting pipeline works; it is expected and not an incident. Route it to a dead man's switch, and worry only "
    "if it stops firing",
    "InfoInhibitor": "InfoInhibitor fires whenever an info-level alert is firing, so that Alertmanager can "
    "inhibit those info alerts; it is expected and not an incident. Route it to a null receiver",
}

# Alerts whose runbook says they are expected while a cluster upgrade is rolling through, and clear when it ends.
DURING_UPGRADE = {
    "KubeVersionMismatch": "different semantic versions of Kubernetes components are running, which is expected "
    "while an upgrade rolls through the control plane and node pools",
    "KubeletVersionSkew": "kubelets run a different version than the API server, which is expected while node "
    "pools are being upgraded",
}
UPGRADE_WORDS = r"\bupgrad(?:e|es|ing)\b|\bUPDATING\b|rolling (?:update|upgrade)|node ?pool upgrade|nodegroup update"

MEANINGS = {
    "KubePodCrashLooping": "a container of the pod keeps restarting (CrashLoopBackOff)",
    "KubePodNotReady": "the pod has been not ready for more than 15 minutes",
    "KubeDeploymentReplicasMismatch": "the deployment has not had its desired number of available replicas for 15 minutes",
    "KubeDeploymentGenerationMismatch": "a rollout of the deployment failed and was not rolled back",
    "KubeDeploymentRolloutStuck": "the deployment's rollout is not progressing",
    "KubeStatefulSetReplicasMismatch": "the statefulset has not had its desired number of ready replicas for 15 minutes",
    "KubeStatefulSetUpdateNotRolledOut": "the statefulset's update has not been rolled out to all pods",
    "KubeDaemonSetRolloutStuck": "the daemonset's pods are not scheduled or ready on every node they should run on",
    "KubeDaemonSetNotScheduled": "some daemonset pods are not scheduled",
    "KubeDaemonSetMisScheduled": "daemonset pods run where they should not",
    "KubeContainerWaiting": "a container has been waiting (not running) for over an hour",
    "KubeJobFailed": "the job failed to complete; its pods' logs hold the reason",
    "KubeJobNotCompleted": "the job is taking longer than its schedule allows",
    "KubeHpaReplicasMismatch": "the HPA has not matched its desired replicas for 15 minutes",
    "KubeHpaMaxedOut": "the HPA has been running at its maximum replicas for 15 minutes",
    "KubeCPUOvercommit": "the cluster's CPU requests exceed what it can tolerate losing a node",
    "KubeMemoryOvercommit": "the cluster's memory requests exceed what it can tolerate losing a node",
    "KubeQuotaExceeded": "a namespace uses more than 90% of a resource quota",
    "KubeQuotaFullyUsed": "a namespace uses all of a resource quota; new pods will be refused",
    "CPUThrottlingHigh": "the container's CPU is throttled by its CPU limit (CFS quota) a large share of the time",
    "KubePersistentVolumeFillingUp": "the persistent volume is filling up and will be full soon",
    "KubePersistentVolumeErrors": "the persistent volume is in a Failed or Pending state",
    "KubeNodeNotReady": "the node has been NotReady for more than 15 minutes",
    "KubeNodeUnreachable": "the node is unreachable and its pods are being rescheduled",
    "KubeletTooManyPods": "the kubelet runs close to its maximum pod count",
    "KubeNodeReadinessFlapping": "the node's readiness keeps changing",
    "KubeletDown": "Prometheus cannot scrape the kubelet",
    "KubeAPIErrorBudgetBurn": "the API server is burning its error budget (errors or slow requests)",
    "KubeClientCertificateExpiration": "a client certificate used against the API server expires soon",
    "NodeFilesystemSpaceFillingUp": "a node filesystem is predicted to run out of space",
    "NodeFilesystemAlmostOutOfSpace": "a node filesystem has little space left",
    "NodeMemoryHighUtilization": "the node is running out of memory",
    "NodeNetworkReceiveErrs": "the node's network interface reports receive errors",
    "TargetDown": "Prometheus cannot scrape some targets of the job",
    "PrometheusRuleFailures": "Prometheus fails to evaluate some rules",
    "AlertmanagerFailedToSendAlerts": "notifications to one of Alertmanager's receiver integrations (Slack, PagerDuty, webhook...) fail",
    "etcdInsufficientMembers": "etcd has too few members for quorum",
    "etcdNoLeader": "an etcd member has no leader",
    "etcdHighFsyncDurations": "etcd's WAL fsyncs are slow (p99 above 0.5 s): its disk is too slow or shared",
    "etcdHighCommitDurations": "etcd's backend commits are slow (p99 above 0.25 s): its disk is too slow or shared",
    "KubeVersionMismatch": "different semantic versions of Kubernetes components are running",
    "CoreDNSDown": "CoreDNS has disappeared from Prometheus target discovery",
    "NodeClockNotSynchronising": "the node's clock is not synchronised with NTP (node_timex_sync_status is 0)",
    "NodeClockSkewDetected": "the node's clock is more than 0.05 s away from NTP time",
    "NodeHighNumberConntrackEntriesUsed": "the node's connection-tracking table is almost full; new connections will be dropped",
    "NodeFileDescriptorLimit": "the node's kernel is close to its file-descriptor limit",
    "KubeletPlegDurationHigh": "the kubelet's pod lifecycle event generator relists slowly (container runtime slow or overloaded)",
    "KubeletPodStartUpLatencyHigh": "pods take long to start on the node (image pulls, volume mounts or a slow runtime)",
    "KubePodNotScheduled": "a pod has not been scheduled for 15 minutes",
    "KubeQuotaAlmostFull": "a namespace uses more than 90% of a resource quota",
    "KubeAPIDown": "Prometheus cannot scrape the API server",
    "KubeAPITerminatedRequests": "the API server terminates requests (priority and fairness queues are full)",
    "KubeAggregatedAPIErrors": "an aggregated API (metrics-server, custom API) returns errors",
    "KubeAggregatedAPIDown": "an aggregated API (for example metrics.k8s.io) has been unavailable",
    "KubeStateMetricsListErrors": "kube-state-metrics cannot list some objects (RBAC or API errors)",
    "PrometheusTargetSyncFailure": "Prometheus cannot sync some scrape targets (bad service discovery configuration)",
    "PrometheusNotConnectedToAlertmanagers": "Prometheus is connected to no Alertmanager, so alerts go nowhere",
    "PrometheusOperatorRejectedResources": "the Prometheus Operator rejected some ServiceMonitor/PrometheusRule resources as invalid",
    "ConfigReloaderSidecarErrors": "the config-reloader sidecar cannot reload Prometheus or Alertmanager's configuration",
    "etcdMembersDown": "one or more etcd members are down",
    "etcdHighNumberOfFailedGRPCRequests": "etcd answers many gRPC requests with errors",
}

# Control-plane alerts that fire on managed Kubernetes (EKS, GKE, AKS) because the provider does not expose the
# scheduler/controller-manager metrics: the runbooks say to disable those rules there, not to fix anything.
MANAGED_CONTROL_PLANE = {
    "KubeSchedulerDown": "kubeScheduler",
    "KubeControllerManagerDown": "kubeControllerManager",
    "KubeProxyDown": "kubeProxy",
    "etcdMembersDown": "kubeEtcd",
    "etcdInsufficientMembers": "kubeEtcd",
}
MANAGED_PLATFORMS = ("eks", "gke", "aks", "managed", "autopilot", "fargate", "openshift dedicated", "digitalocean")
