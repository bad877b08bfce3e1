"""What Kubernetes and the tools around it print when something is refused or broken, and what it means.

Each rule is a message documented by the component that prints it (the API server's admission and RBAC
errors, the scheduler, the kubelet, controllers, the HPA, storage provisioners, ingress controllers,
cert-manager, the container runtime). A rule names the concrete thing (which webhook, which verb on which
resource, which StorageClass) from the message itself; the title never carries a placeholder.
"""
# ruff: noqa: E501  (documented messages read better unwrapped)

from __future__ import annotations

import re
from dataclasses import dataclass

from engine.expertise.app_server_messages import APP_SERVER_RULES
from engine.expertise.controller_messages import CONTROLLER_RULES
from engine.findings import Role


@dataclass(frozen=True)
class MessageRule:
    kind: str
    role: Role
    weight: int
    title: str  # str.format over the named groups; every field the title uses is a required group
    action: str
    pattern: re.Pattern[str]
    family: str = ""  # rules of one family explain the same line in different ways: the first match wins


def _r(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


_PULL = r"(?:Failed to pull image|[Ee]rror (?:response from daemon|pulling image)|pulling image)\s*\\?\"?(?P<image>[^\"\\\s]+)\\?\"?[^\n]*?"

# the kubelet's own log adds the volume's unique name and the pod between the volume and the error
_KUBELET_VOLUME_IDS = (
    r"(?:\s*\(UniqueName: \\?\"[^\"\\]*\\?\"\))?(?:\s*pod \\?\"[\w.-]+\\?\"\s*\(UID: \\?\"[^\"\\]*\\?\"\))?"
)

RULES: tuple[MessageRule, ...] = (
    MessageRule(
        "image_short_name",
        "cause",
        92,
        "image {image} is not fully qualified, and the node's container runtime enforces short-name mode (the short name is ambiguous across its search registries), so the container cannot be created",
        "Use the fully qualified image reference (registry host/repository:tag, e.g. docker.io/library/{image})",
        _r(r"couldn't parse image name \\?\"(?P<image>[^\"\\]+)\\?\": short name mode is enforcing"),
        "image_pull",
    ),
    MessageRule(
        "object_too_large",
        "cause",
        90,
        "the API server rejects {kind} {name}: it is larger than the 1 MiB an object may hold (Too long: must have at most 1048576 bytes)",
        "Split {name} into several objects, mount large files from an image or a volume instead, or compress them",
        _r(
            r"The (?P<kind>ConfigMap|Secret) \\?\"(?P<name>[\w.-]+)\\?\" is invalid: [^\n]*?Too long: must have at most 1048576 bytes"
        ),
        "invalid_object",
    ),
    MessageRule(
        "image_rate_limited",
        "cause",
        92,
        "image {image} cannot be pulled: Docker Hub (docker.io) rate-limits pulls (429 toomanyrequests); anonymous pulls are limited per source IP address, so every node egressing through one NAT address shares that limit",
        "Authenticate pulls to Docker Hub (imagePullSecrets or node credentials with a Docker account), or use a pull-through cache/mirror (ECR/Artifact Registry/Harbor proxy) for docker.io images",
        _r(
            _PULL + r"(?:(?:docker\.io|dockerhub)[^\n]*?(?:toomanyrequests|429 Too Many Requests|pull rate limit)"
            r"|(?:toomanyrequests|429 Too Many Requests|pull rate limit)[^\n]*?(?:docker\.io|docker\.com/increase-rate-limit))"
        ),
        "image_pull",
    ),
    MessageRule(
        "image_rate_limited",
        "cause",
        92,
        "image {image} cannot be pulled: the registry rate-limits pulls (429 toomanyrequests)",
        "Authenticate image pulls (imagePullSecrets with a registry account) or mirror {image} to a registry you control",
        _r(_PULL + r"(?:toomanyrequests|429 Too Many Requests|pull rate limit)"),
        "image_pull",
    ),
    MessageRule(
        "image_registry_dns",
        "cause",
        92,
        "image {image} cannot be pulled: the node cannot resolve the registry host {host}: the DNS resolver the node uses, {resolver}, answers 'no such host' (the node runtime pulls with the node's own resolv.conf, not cluster DNS; a resolver that does not serve the registry's private zone cannot resolve it)",
        "Give these nodes a resolver that serves {host} (the same DNS servers as the nodes that pull it, e.g. the VNet/VPC custom DNS), or fix the registry host name in the image reference",
        _r(_PULL + r"lookup (?P<host>[\w.-]+) on (?P<resolver>[\d.]+|\[[\da-f:]+\]):\d+: no such host"),
        "image_pull",
    ),
    MessageRule(
        "image_registry_dns",
        "cause",
        92,
        "image {image} cannot be pulled: the node cannot resolve the registry host {host} (no such host)",
        "Fix the registry host name in the image reference or the nodes' DNS for {host}",
        _r(_PULL + r"lookup (?P<host>[\w.-]+)(?: on [\d.:]+)?: no such host"),
        "image_pull",
    ),
    MessageRule(
        "image_wrong_platform",
        "cause",
        94,
        "image {image} cannot be pulled on this node: it has no build for the node's platform/architecture ({detail})",
        "Publish a multi-arch image (docker buildx --platform linux/amd64,linux/arm64) or keep the workload off nodes of that architecture (nodeSelector kubernetes.io/arch)",
        _r(
            _PULL
            + r"(?P<detail>no match for platform in manifest[^\n]{0,60}|no matching manifest for [\w/]+ in the manifest list entries)"
        ),
        "image_pull",
    ),
    MessageRule(
        "image_unauthorized",
        "cause",
        92,
        "image {image} cannot be pulled: the registry refuses the pull without valid credentials ({detail})",
        "Add or fix the imagePullSecrets of the workload (a secret with a valid token for the registry of {image})",
        _r(
            _PULL
            + r"(?P<detail>pull access denied|unauthorized|authentication required|no basic auth credentials|403 Forbidden|insufficient_scope|access denied)"
        ),
        "image_pull",
    ),
    MessageRule(
        "image_not_found",
        "cause",
        92,
        "image {image} cannot be pulled: that image or tag does not exist in the registry ({detail})",
        "Fix the image tag of the workload ({image} does not exist) or push it; roll back if a deploy introduced it",
        _r(
            _PULL
            + r"(?P<detail>manifest unknown|manifest for [^\s]+ not found|not found|name unknown|repository does not exist)"
        ),
        "image_pull",
    ),
    MessageRule(
        "image_registry_unreachable",
        "cause",
        88,
        "image {image} cannot be pulled: the registry cannot be reached from the node ({detail})",
        "Check the nodes' egress to the registry of {image} (proxy, firewall, NAT)",
        _r(
            _PULL
            + r"(?P<detail>i/o timeout|connection refused|TLS handshake timeout|context deadline exceeded|no route to host)"
        ),
        "image_pull",
    ),
    MessageRule(
        "ephemeral_storage_exceeded",
        "cause",
        90,
        "the pod was evicted for using more ephemeral storage than its limit: {detail}",
        "Raise the ephemeral-storage limit, or write large/temporary data to a volume (emptyDir with sizeLimit, a PVC) instead of the container filesystem",
        _r(
            r"(?P<detail>(?:Pod ephemeral local storage usage exceeds the total limit of containers [\w.]+|Container [\w.-]+ exceeded its local ephemeral storage limit \\?\"?[\w.]+\\?\"?|Usage of EmptyDir volume \\?\"?[\w.-]+\\?\"? exceeds the limit \\?\"?[\w.]+))"
        ),
    ),
    MessageRule(
        "admission_denied",
        "cause",
        90,
        "the admission webhook {hook} denies the request: {detail}",
        "Fix the object so it satisfies the policy of webhook {hook} (or, if the policy is wrong, change the policy/constraint)",
        _r(
            r"admission webhook \\?\"(?P<hook>[^\"\\]+)\\?\" denied the request(?::\s*(?P<detail>[^\n]{3,240})|(?P<detail2> without explanation))"
        ),
    ),
    MessageRule(
        "admission_policy_denied",
        "cause",
        90,
        "the ValidatingAdmissionPolicy {policy} denies the request: {detail}",
        "Change the object to satisfy ValidatingAdmissionPolicy {policy} (or its binding's parameters if the policy is wrong)",
        _r(
            r"ValidatingAdmissionPolicy '(?P<policy>[^']+)'(?: with binding '[^']+')? denied request:\s*(?P<detail>[^\n]{3,240})"
        ),
    ),
    MessageRule(
        "admission_webhook_unreachable",
        "cause",
        86,
        "the admission webhook {hook} cannot be called, so the API server refuses the request: {detail}",
        "Bring the webhook's backing service back (or set its failurePolicy/namespaceSelector so it does not block {hook})",
        _r(r"failed calling (?:admission )?webhook \\?\"(?P<hook>[^\"\\]+)\\?\":\s*(?P<detail>[^\n]{3,200})"),
    ),
    MessageRule(
        "pod_security_violation",
        "cause",
        88,
        "the namespace's Pod Security level {level} forbids the pod: {detail}",
        "Make the pod spec meet Pod Security '{level}' (securityContext) or relabel the namespace if that level is wrong",
        _r(r"violates PodSecurity \\?\"(?P<level>[\w:.-]+)\\?\":\s*(?P<detail>[^\n]{3,200})"),
    ),
    MessageRule(
        "rbac_forbidden",
        "cause",
        88,
        "RBAC forbids it: {user} cannot {verb} {resource}{group}{where}",
        "Grant {user} '{verb}' on {resource} with a Role/ClusterRole and a RoleBinding (kubectl auth can-i {verb} {resource} --as={user})",
        _r(
            # "cannot list resource \"pods\"" since 1.14; older servers print "cannot list pods in the namespace"; a
            # non-resource URL is "cannot get path \"/metrics\""
            r"(?:is forbidden: )?User \\?\"(?P<user>[^\"\\]+)\\?\" cannot (?P<verb>\w+) (?:(?:resource|path) \\?\"(?P<resource>[\w./-]+)\\?\""
            r"|(?P<resource2>[a-z][\w./-]*)(?= in the namespace| at the cluster scope| in API group|: ))"
            r"(?: in API group \\?\"(?P<group>[^\"\\]*)\\?\")?(?P<where>(?: in the namespace \\?\"[\w.-]+\\?\"| at the cluster scope))?"
        ),
    ),
    MessageRule(
        "service_account_missing",
        "cause",
        88,
        "the ServiceAccount {account} does not exist, so the pods cannot be created",
        "Create ServiceAccount {account} or fix serviceAccountName in the pod template",
        _r(
            r"error looking up service account [\w.-]+/(?P<account>[\w.-]+): serviceaccount \\?\"[\w.-]+\\?\" not found"
        ),
    ),
    MessageRule(
        "quota_exceeded",
        "cause",
        88,
        "namespace quota {quota} is exhausted: requested {requested}, used {used}, limited {limited}",
        "Raise ResourceQuota {quota} or lower the requests/limits of the new pods (kubectl describe quota {quota})",
        _r(
            r"exceeded quota: (?P<quota>[\w.-]+), requested: (?P<requested>[\w.=,/ -]+?), used: (?P<used>[\w.=,/ -]+?), limited: (?P<limited>[\w.=/-]+(?:,[\w.=/-]+)*)"
        ),
    ),
    MessageRule(
        "quota_requires_limits",
        "cause",
        86,
        "namespace quota {quota} requires every pod to set {what}, and this pod does not",
        "Set {what} on every container (or add a LimitRange with defaults)",
        _r(r"failed quota: (?P<quota>[\w.-]+): must specify (?P<what>[\w.,]+)"),
    ),
    MessageRule(
        "limitrange_violation",
        "cause",
        86,
        "a LimitRange refuses the pod: {detail}",
        "Bring the container's requests/limits inside the namespace's LimitRange (kubectl describe limitrange)",
        _r(
            r"(?P<detail>(?:maximum|minimum) (?:cpu|memory|ephemeral-storage|storage) usage per (?:Container|Pod|PersistentVolumeClaim) is [\w.]+, but (?:limit|request) is [\w.]+)"
        ),
    ),
    MessageRule(
        "namespace_terminating",
        "cause",
        84,
        "namespace {namespace} is being deleted, so nothing new can be created in it",
        "Wait for namespace {namespace} to finish terminating (check finalizers: kubectl get ns {namespace} -o yaml) or deploy elsewhere",
        _r(r"unable to create new content in namespace (?P<namespace>[\w.-]+) because it is being terminated"),
    ),
    MessageRule(
        "hpa_metrics_unavailable",
        "cause",
        86,
        "the HPA cannot read {metric} metrics: the resource metrics API (metrics.k8s.io) is not served, usually because metrics-server is not installed or not running",
        "Install or fix metrics-server (kubectl get apiservice v1beta1.metrics.k8s.io; kubectl -n kube-system get deploy metrics-server)",
        _r(
            r"unable to get metrics for resource (?P<metric>\w+): (?:unable to fetch metrics from resource metrics API: (?:the server could not find the requested resource|the server is currently unable to handle the request|[^\n]*metrics\.k8s\.io)|no metrics returned from resource metrics API)"
        ),
    ),
    MessageRule(
        "hpa_missing_request",
        "cause",
        86,
        "the HPA cannot compute {metric} utilization because container {container} of the scaled pods sets no {metric} request (utilization is computed against the requests of every container, sidecars included)",
        "Set resources.requests.{metric} on container {container} (every container of the scaled workload needs one), or switch the HPA to a containerResource metric of the main container",
        _r(
            r"missing request for (?P<metric>cpu|memory)(?: in container| on container|:)? \\?\"?(?P<container>[a-z0-9][\w.-]*)\\?\"?"
        ),
        "hpa_request",
    ),
    MessageRule(
        "hpa_missing_request",
        "cause",
        84,
        "the HPA cannot compute {metric} utilization because the pods set no {metric} request",
        "Set resources.requests.{metric} on every container of the scaled workload",
        _r(r"missing request for (?P<metric>cpu|memory)"),
        "hpa_request",
    ),
    MessageRule(
        "hpa_custom_metric_missing",
        "cause",
        82,
        "the HPA cannot read its external/custom metric: {detail}",
        "Check the metrics adapter (prometheus-adapter / KEDA metrics server) and that the metric name and selector exist",
        _r(
            r"(?P<detail>unable to get (?:external|custom) metric [^\n]{3,200}|no metrics returned from (?:external|custom) metrics API[^\n]{0,120}|unable to get metric [\w:.-]+: unable to fetch metrics from (?:custom|external) metrics API[^\n]{0,160})"
        ),
    ),
    MessageRule(
        "storageclass_missing",
        "cause",
        90,
        "StorageClass {storageclass} does not exist, so the PersistentVolumeClaim cannot be provisioned",
        "Create StorageClass {storageclass} or set the claim's storageClassName to an existing class (kubectl get storageclass)",
        _r(r"storageclass\.storage\.k8s\.io \\?\"(?P<storageclass>[\w.-]+)\\?\" not found"),
    ),
    MessageRule(
        "no_storageclass",
        "cause",
        84,
        "the PersistentVolumeClaim names no StorageClass and no PersistentVolume matches it",
        "Set storageClassName on the claim (or mark a default StorageClass), or create a matching PersistentVolume",
        _r(r"no persistent volumes available for this claim and no storage class is set"),
    ),
    MessageRule(
        "volume_bound_elsewhere",
        "cause",
        86,
        "PersistentVolume {volume} is already bound to a different claim: a Released volume keeps its old spec.claimRef, so a new claim cannot bind it",
        "Clear the old binding on PersistentVolume {volume} (remove spec.claimRef, or set it to the new claim) so it becomes Available again",
        _r(r"volume \\?\"(?P<volume>[\w.-]+)\\?\" already bound to a different claim"),
    ),
    MessageRule(
        "provisioning_failed",
        "cause",
        86,
        "the volume cannot be provisioned with StorageClass {storageclass}: {detail}",
        "Fix the provisioner error for StorageClass {storageclass} (kubectl describe pvc; the CSI controller's logs)",
        _r(
            r"failed to provision volume with StorageClass \\?\"(?P<storageclass>[\w.-]+)\\?\":\s*(?P<detail>[^\n]{3,600})"
        ),
    ),
    MessageRule(
        "volume_multi_attach",
        "cause",
        88,
        "volume {volume} is still attached to another node (ReadWriteOnce) and used by pod(s) {holder}, so the new pod cannot mount it until that pod is gone",
        "Delete or scale down {holder} (or the stale VolumeAttachment of its node) so the volume detaches, or use a Recreate strategy / RWX volume",
        _r(
            r"Multi-Attach error for volume \\?\"(?P<volume>[\w.-]+)\\?\"\s*Volume is already used by pod\(s\)\s*(?P<holder>[\w.-]+(?:,\s*[\w.-]+)*)"
        ),
        "multi_attach",
    ),
    MessageRule(
        "volume_multi_attach",
        "cause",
        86,
        "volume {volume} is still attached to another node (ReadWriteOnce), so the new pod cannot mount it",
        "Let the old pod/node release the volume (delete the old pod, or the stale VolumeAttachment) or use a RWX volume",
        _r(r"Multi-Attach error for volume \\?\"(?P<volume>[\w.-]+)\\?\""),
        "multi_attach",
    ),
    MessageRule(
        "volume_attach_failed",
        "cause",
        86,
        "volume {volume} cannot be attached: the cloud disk is still attached to (or being detached from) the VM {other}, so it cannot attach to the new node until that detach completes",
        "Check the VolumeAttachment of {volume} on {other}; if that VM or node is gone, detach the disk in the cloud provider and delete the stale VolumeAttachment",
        _r(
            r"AttachVolume\.Attach failed for volume \\?\"(?P<volume>[\w.-]+)\\?\"[^\n]*?"
            r"(?:(?:being detached|detach operation failed|already attached)[^\n]*?\bon VM \\?[\"'](?P<other1>[\w.-]+)"
            r"|already being used by \\?[\"'](?:[^\"'\s]*/)?(?P<other2>[\w.-]+))"
        ),
        "volume_attach",
    ),
    MessageRule(
        "volume_attach_failed",
        "cause",
        84,
        "volume {volume} cannot be attached: {detail}",
        "Fix the attach error for volume {volume} (cloud disk state, zone, CSI driver logs)",
        _r(
            r"AttachVolume\.Attach failed for volume \\?\"(?P<volume>[\w.-]+)\\?\""
            + _KUBELET_VOLUME_IDS
            + r"\s*:\s*(?P<detail>[^\n]{3,600})"
        ),
        "volume_attach",
    ),
    MessageRule(
        "volume_mount_failed",
        "cause",
        80,
        "volume {volume} cannot be mounted: {detail}",
        "Fix the mount error for volume {volume} (kubectl describe pod; the node's kubelet/CSI logs)",
        _r(
            r"MountVolume\.\w+ failed for volume \\?\"(?P<volume>[\w.-]+)\\?\""
            + _KUBELET_VOLUME_IDS
            + r"\s*:\s*(?P<detail>(?!\s|(?:secret|configmap) \\?\"[\w.-]+\\?\" not found)[^\n]{3,600})"
        ),
    ),
    MessageRule(
        "volume_zone_conflict",
        "cause",
        86,
        "the pod's PersistentVolume is in another zone than the nodes that can run it (volume node affinity conflict)",
        "Schedule the pod in the volume's zone (node affinity) or recreate the volume with WaitForFirstConsumer binding",
        _r(r"volume node affinity conflict"),
    ),
    MessageRule(
        "ingress_backend_missing",
        "cause",
        86,
        "the Ingress routes to Service {service}, which does not exist",
        "Create Service {service} or point the Ingress backend at the existing Service (kubectl get svc)",
        _r(
            r"<error: (?:services|endpoints) \\?\"(?P<service>[\w.-]+)\\?\" not found>|[Ss]ervice \\?\"[\w.-]+/(?P<service2>[\w.-]+)\\?\" (?:not found|does not exist)"
            # ingress-nginx's controller log when the backend Service is absent from its informer cache
            r"|Error obtaining Endpoints for Service \\?\"[\w.-]+/(?P<service3>[\w.-]+)\\?\": no object matching key"
        ),
    ),
    MessageRule(
        "cni_not_ready",
        "cause",
        86,
        "the node's network plugin (CNI) is not ready, so pods there get no network: {detail}",
        "Fix the CNI on the node (its DaemonSet pod, e.g. calico/cilium/aws-node, and /etc/cni/net.d)",
        _r(
            r"(?P<detail>(?:container runtime network not ready|NetworkPluginNotReady)[^\n]{0,160}|cni plugin not initialized|failed to (?:setup|set up) network for sandbox[^\n]{0,160})"
        ),
    ),
    MessageRule(
        "pleg_unhealthy",
        "cause",
        80,
        "the kubelet's pod lifecycle loop is stalled (PLEG is not healthy): the container runtime on the node is overloaded or hung",
        "Check the container runtime on the node (systemctl status containerd; crictl ps), its load and disk",
        _r(r"PLEG is not healthy"),
    ),
    MessageRule(
        "exec_format_error",
        "cause",
        88,
        "the image's binary is built for another CPU architecture (exec format error)",
        "Build/pull the image for the node's architecture (multi-arch manifest) or schedule on matching nodes (kubernetes.io/arch)",
        _r(r"exec format error"),
    ),
    MessageRule(
        "exec_command_one_string",
        "cause",
        94,
        'the {probe} probe\'s exec command is written as one string, "{binary}": exec.command is an argv list run without a shell, so the whole string (spaces included) is looked up as one program name and is not found (executable file not found in $PATH); the probe can never pass',
        'Split the command into separate list elements (["{first}", ...]) or run it through a shell (["sh", "-c", "{binary}"])',
        _r(
            r"(?P<probe>Liveness|Readiness|Startup) probe errored:[^\n]*?exec: \\?\"(?P<binary>(?P<first>[^\"\\\s]+) [^\"\\]+)\\?\": executable file not found in \$PATH"
        ),
        "exec_missing",
    ),
    MessageRule(
        "exec_command_one_string",
        "cause",
        92,
        'the container\'s command is written as one string, "{binary}": command/args are an argv list run without a shell, so the whole string (spaces included) is looked up as one program name and is not found (executable file not found in $PATH)',
        'Split the command into separate list elements (["{first}", ...]) or run it through a shell (["sh", "-c", "{binary}"])',
        _r(r"exec: \\?\"(?P<binary>(?P<first>[^\"\\\s/]+) [^\"\\]+)\\?\": executable file not found in \$PATH"),
        "exec_missing",
    ),
    MessageRule(
        "probe_command_missing",
        "cause",
        93,
        "the {probe} probe's exec command {binary} does not exist in the image (executable file not found in $PATH), so the probe can never pass",
        "Use a command the image has in the {probe} probe (or an httpGet/tcpSocket/grpc probe), or add {binary} to the image",
        _r(
            r"(?P<probe>Liveness|Readiness|Startup) probe errored:[^\n]*?exec: \\?\"(?P<binary>[^\"\\]+)\\?\": executable file not found in \$PATH"
        ),
        "exec_missing",
    ),
    MessageRule(
        "executable_missing",
        "cause",
        90,
        "the container's command {binary} does not exist in the image or is not on its PATH (executable file not found in $PATH): a bare command name is looked up only in the PATH directories, so a program installed elsewhere (a virtualenv's or a tool's own bin directory) is not found",
        "Fix the command/entrypoint: install {binary} in the image, or put the directory that holds it on PATH (ENV PATH=...) or call it by its full path",
        _r(
            r"exec: \\?\"(?P<binary>[^\"\\/]+)\\?\": executable file not found in \$PATH"
            r"|executable file `(?P<binary2>[^`/]+)` not found in \$PATH"  # crun (CRI-O)
        ),
        "exec_missing",
    ),
    MessageRule(
        "executable_missing",
        "cause",
        90,
        "the container's command {binary} does not exist in the image",
        "Fix the command/entrypoint: {binary} is not in the image's PATH (check the Dockerfile or use the full path)",
        _r(
            r"exec: \\?\"(?P<binary>[^\"\\]+)\\?\": (?:executable file not found in \$PATH|stat [^:]+: no such file or directory)"
        ),
        "exec_missing",
    ),
    MessageRule(
        "entrypoint_not_executable",
        "cause",
        92,
        "the container's entrypoint {path} is not executable (permission denied), so the runtime cannot start it",
        "Make {path} executable in the image (chmod +x in the Dockerfile, or defaultMode 0755 if it is mounted from a ConfigMap)",
        _r(r"exec:? \\?\"?(?P<path>/[\w./-]+)\\?\"?: permission denied"),
    ),
    MessageRule(
        "image_never_pull",
        "cause",
        90,
        "image {image} is not present on the node and the pull policy is Never, so it is never pulled",
        "Load the image onto the node (kind load docker-image / minikube image load) or set imagePullPolicy IfNotPresent with a pullable registry",
        _r(r"Container image \\?\"(?P<image>[^\"\\]+)\\?\" is not present with pull policy of Never"),
    ),
    MessageRule(
        "preempted",
        "cause",
        84,
        "the pod was preempted (evicted to make room) by a higher-priority pod{by}",
        "Give the workload a PriorityClass that matches its importance, or reserve capacity (more nodes, quotas per priority) for the higher-priority workload",
        _r(r"Preempted by (?:a pod on node \S+|pod \S+|(?P<by>[\w./-]+(?: on node \S+)?))"),
    ),
    MessageRule(
        "job_suspended",
        "cause",
        86,
        "the Job is suspended (spec.suspend: true), so it creates no pods",
        'Resume it when intended: kubectl patch job <name> -p \'{{"spec":{{"suspend":false}}}}\' (and check what suspended it, e.g. a queue controller)',
        _r(r"\bJob suspended\b|^\s*Suspend:\s+true\s*$"),
    ),
    MessageRule(
        "statefulset_forbidden_update",
        "cause",
        88,
        "the StatefulSet{sts} cannot be updated in place: only replicas, template, updateStrategy, ordinals and a few other fields may change, so a change to volumeClaimTemplates (storage size) is forbidden",
        "Resize the existing PVCs directly (if the StorageClass allows expansion) and recreate the StatefulSet with --cascade=orphan to change volumeClaimTemplates",
        _r(
            r"(?:StatefulSet\.apps \\?\"(?P<sts>[\w.-]+)\\?\" is invalid: spec: Forbidden: )?updates to statefulset spec for fields other than [^\n]{0,200}are forbidden"
        ),
    ),
    MessageRule(
        "crd_missing",
        "cause",
        88,
        "the API server does not know kind {kind} ({group}): its CustomResourceDefinition is not installed",
        "Install the CRD (the operator that provides {kind}, e.g. its Helm chart with CRDs) before syncing objects of that kind",
        _r(r"no matches for kind \\?\"(?P<kind>\w+)\\?\" in version \\?\"(?P<group>[\w./-]+)\\?\""),
    ),
    MessageRule(
        "k8sgpt_netpol_unused",
        "cause",
        82,
        "NetworkPolicy {policy} selects no pods, so it protects nothing (its podSelector matches no pod labels)",
        "Fix the podSelector of NetworkPolicy {policy} to the labels the pods really carry (kubectl get pods --show-labels)",
        _r(r"Network policy is not applied to any pods: (?P<policy>[\w.-]+)"),
    ),
    MessageRule(
        "topology_spread_unsatisfiable",
        "cause",
        86,
        "the pod cannot be scheduled: its topology spread constraint (maxSkew, whenUnsatisfiable: DoNotSchedule) cannot be met with the nodes available in each zone",
        "Add capacity in the zone that lacks it, or relax the topologySpreadConstraints (maxSkew or whenUnsatisfiable: ScheduleAnyway)",
        _r(r"didn't match pod topology spread constraints"),
    ),
    MessageRule(
        "coredns_loop",
        "cause",
        90,
        "CoreDNS detected a forwarding loop and stopped: it forwards to the node's /etc/resolv.conf, which points at a local resolver (such as systemd-resolved on 127.0.0.53) that sends queries back to CoreDNS",
        "Point CoreDNS's forward at a real upstream (forward . 1.1.1.1 or the VPC resolver) or give the kubelet --resolv-conf=/run/systemd/resolve/resolv.conf",
        _r(r"plugin/loop: Loop \([^)]*\) detected"),
    ),
    MessageRule(
        "ingress_tls_secret_missing",
        "cause",
        86,
        "the Ingress TLS Secret {secret} does not exist, so the controller serves its default (fake) certificate",
        "Create Secret {secret} (or fix the Ingress spec.tls secretName to the Secret that exists; kubectl get secrets)",
        _r(
            r"^(?!.*MountVolume)(?:.*?)(?:local SSL certificate|secret) \\?\"?(?:[\w-]+/)?(?P<secret>[\w.-]+)\\?\"? (?:was not found|not found|does not exist)"
        ),
    ),
    MessageRule(
        "runtimeclass_missing",
        "cause",
        90,
        "RuntimeClass {name} does not exist, so the pod cannot be created",
        "Install the runtime and its RuntimeClass {name} (kubectl get runtimeclass) or remove runtimeClassName from the pod spec",
        _r(
            r"RuntimeClass \\?\"(?P<name>[\w.-]+)\\?\" not found|runtimeclass\.node\.k8s\.io \\?\"(?P<name2>[\w.-]+)\\?\" not found"
        ),
    ),
    MessageRule(
        "kubelet_swap",
        "cause",
        88,
        "the kubelet refuses to run because swap is enabled on the node",
        "Disable swap on the node (swapoff -a and remove it from /etc/fstab) or configure the kubelet's memorySwap/failSwapOn deliberately",
        _r(r"running with swap on is not supported|failSwapOn|swap is enabled"),
    ),
    MessageRule(
        "conntrack_full",
        "cause",
        88,
        "the node's connection-tracking table is full (nf_conntrack: table full), so new connections are dropped",
        "Raise net.netfilter.nf_conntrack_max on the node and find the pod opening connections at a high rate",
        _r(r"nf_conntrack: table full, dropping packet"),
    ),
    MessageRule(
        "fsgroup_chown_slow",
        "cause",
        84,
        "the kubelet changes the ownership of every file on the volume (fsGroup) before starting the pod, which takes very long on a volume with many files",
        "Set securityContext.fsGroupChangePolicy: OnRootMismatch so the recursive chown runs only when needed",
        _r(r"Setting volume ownership for [^\n]{0,200}is taking longer than expected|consider using OnRootMismatch"),
    ),
    MessageRule(
        "sa_token_not_mounted",
        "cause",
        86,
        "the service account token is not mounted in the pod (automountServiceAccountToken: false), so the in-cluster client cannot authenticate",
        "Set automountServiceAccountToken: true on the pod or its ServiceAccount (or mount a projected token) for workloads that call the API",
        _r(
            r"/var/run/secrets/kubernetes\.io/serviceaccount/token: no such file or directory|unable to load in-cluster configuration, KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be defined"
        ),
    ),
    MessageRule(
        "cronjob_forbid_blocked",
        "cause",
        88,
        "the CronJob skips every scheduled run because the previous Job is still running and concurrencyPolicy is Forbid: that Job is stuck",
        "Find why the running Job hangs (its pod's logs), delete it so runs resume, and set activeDeadlineSeconds on the jobTemplate",
        _r(r"Not starting job because prior execution is (?:still )?running and concurrency policy is Forbid"),
    ),
    MessageRule(
        "job_deadline",
        "cause",
        76,
        "the Job was terminated because it ran longer than its activeDeadlineSeconds (DeadlineExceeded)",
        "Raise activeDeadlineSeconds if the work legitimately takes longer, or find what made this run slow",
        _r(r"Job was active longer than specified deadline"),
    ),
    MessageRule(
        "namespace_finalizers",
        "cause",
        88,
        "the namespace cannot finish deleting: objects in it still carry finalizer {finalizer}, which no running controller removes",
        "Bring back the controller that owns {finalizer} (so it cleans up), or remove that finalizer from the remaining objects by hand",
        _r(r"(?:Some content in the namespace has finalizers remaining|finalizers remaining): (?P<finalizer>[\w./-]+)"),
    ),
    MessageRule(
        "gitops_path_missing",
        "cause",
        88,
        "the GitOps application cannot render: its source path {path} does not exist in the repository",
        "Fix the application's source path ({path}) to the directory that exists in the repository",
        _r(
            r"(?P<path>[\w.-]+(?:/[\w.-]+)+): app path does not exist|path [\"']?(?P<path2>[\w.-]+(?:/[\w.-]+)+)[\"']? (?:does not exist|not found) in (?:the )?repo"
        ),
    ),
    MessageRule(
        "namespace_missing",
        "cause",
        86,
        "namespace {namespace} does not exist, so nothing can be created in it",
        "Create namespace {namespace} (or enable CreateNamespace=true in Argo CD) or fix the destination namespace",
        _r(r"namespaces? \\?\"(?P<namespace>[\w.-]+)\\?\" not found"),
    ),
    MessageRule(
        "crd_missing_api",
        "cause",
        88,
        "the API server does not know {group}/{kind}: its CustomResourceDefinition is not installed",
        "Install the CRD for {kind} (the operator or chart that provides {group}) before syncing objects of that kind",
        _r(r"could not find (?P<group>[\w.-]+\.[\w.-]+)/(?P<kind>[A-Z]\w+) for requested resource"),
    ),
    MessageRule(
        "cloud_capacity",
        "cause",
        86,
        "the cloud provider has no capacity for the requested instances: {detail}",
        "Allow more instance types/zones in the node pool (Karpenter NodePool requirements / ASG mixed instances) or use capacity reservations",
        _r(
            r"(?P<detail>InsufficientInstanceCapacity[^\n]{0,200}|insufficient capacity[^\n]{0,160}|ZONE_RESOURCE_POOL_EXHAUSTED[^\n]{0,160}|SkuNotAvailable[^\n]{0,160})"
        ),
    ),
    MessageRule(
        "hpa_ambiguous_selector",
        "cause",
        94,
        "more than one HPA targets the same pods (AmbiguousSelector): {hpas} all select {selector}, so the HPA controller refuses to compute replicas for them (targets read <unknown>) and the workload does not scale",
        "Delete the HPA that should not exist (often an old one left behind when a chart renamed its HPA), so exactly one HPA targets the workload",
        _r(r"pods by selector (?P<selector>\S+) are controlled by multiple HPAs: \[(?P<hpas>[^\]]+)\]"),
    ),
    MessageRule(
        "nats_slow_consumer",
        "cause",
        88,
        "NATS drops messages for the subscription on {subject}: the subscriber is a slow consumer (it handles messages slower than they arrive, so its pending buffer hits the pending limits and the client library drops the overflow)",
        "Make the subscriber on {subject} keep up: process messages asynchronously or in a worker pool, spread it over a queue group, raise its pending limits (SetPendingLimits) only as a buffer, or use a JetStream consumer with flow control",
        _r(
            r"slow consumer,? messages dropped(?: on connection \[?\d+\]?)? for subscription on \\?[\"'](?P<subject>[^\"'\\]+)"
        ),
    ),
    MessageRule(
        "keda_query_multiple_elements",
        "cause",
        90,
        "KEDA's Prometheus trigger query {query} returns multiple elements (one series per label value), but the scaler needs a single-element result, so it reads no metric and the workload stays at its minimum replicas",
        "Aggregate the trigger's query to one series (sum(...) without 'by', or select one label value) so it returns a single element",
        _r(r"prometheus query (?P<query>[^\n]{3,200}?) returned multiple elements"),
        "keda_scaler",
    ),
    MessageRule(
        "es_shard_limit",
        "cause",
        90,
        "Elasticsearch refuses to create the index: the cluster is at its shard limit (cluster.max_shards_per_node x data nodes: {open}/{max} shards open), so new (daily) indices cannot be created and writes to them fail",
        "Delete or shrink old indices (ILM retention, fewer shards per index) or raise cluster.max_shards_per_node with care; check GET _cluster/health and _cat/shards",
        _r(
            r"this action would add \[(?P<add>\d+)\] (?:total )?shards, but this cluster currently has \[(?P<open>\d+)\]/\[(?P<max>\d+)\] maximum (?:normal )?shards open"
        ),
    ),
    MessageRule(
        "keda_scaler_failed",
        "cause",
        86,
        "KEDA cannot read its {scaler} trigger ({detail}), so it cannot scale the workload, which stays at its minimum replicas",
        "Fix the credentials/connection of the ScaledObject's {scaler} trigger (its TriggerAuthentication and the Secret it references)",
        _r(
            r"error (?:inspecting|getting metric for|connecting to) (?P<scaler>[\w-]+)(?: scaler)?:\s*(?P<detail>[^\n]{3,200})"
            r"|error (?:establishing|opening) (?P<scaler2>[\w-]+) connection:\s*(?P<detail2>[^\n]{3,200})"
        ),
        "keda_scaler",
    ),
    MessageRule(
        "run_as_root_refused",
        "cause",
        90,
        "the pod requires runAsNonRoot but the image runs as root (user 0), so the kubelet refuses to start it",
        "Set securityContext.runAsUser to a non-zero UID (and runAsGroup/fsGroup), or build the image with a non-root USER",
        _r(r"container has runAsNonRoot and image (?:will run as root|has non-numeric user)"),
    ),
    MessageRule(
        "hpa_scale_up_limited",
        "cause",
        84,
        "the HPA wants more replicas but its scale-up behavior policy limits how fast it may add them (ScaleUpLimit)",
        "Loosen spec.behavior.scaleUp of the HPA (a larger Pods/Percent value, a shorter periodSeconds, selectPolicy Max)",
        _r(r"ScaleUpLimit|the desired replica count is increasing faster than the maximum scale rate"),
    ),
    MessageRule(
        "pdb_blocks_eviction",
        "cause",
        86,
        "pod {pod} cannot be evicted: the pod disruption budget that covers it allows no disruption now, so the eviction (drain) is refused and retried",
        "Scale {pod}'s workload up or relax its PodDisruptionBudget (kubectl get pdb -A) so one pod may be evicted",
        _r(
            r"evicting pods?/\\?\"?(?P<pod>[a-z0-9][\w.-]*)\\?\"?[^\n]*?Cannot evict pod as it would violate the pod's disruption budget"
        ),
        "pdb_eviction",
    ),
    MessageRule(
        "pdb_blocks_eviction",
        "cause",
        84,
        "the PodDisruptionBudget allows no disruption, so the eviction (drain) is refused",
        "Scale the workload up or relax the PodDisruptionBudget (kubectl get pdb -A) so one pod may be evicted",
        _r(r"Cannot evict pod as it would violate the pod's disruption budget"),
        "pdb_eviction",
    ),
    MessageRule(
        "pdb_blocks_scale_down",
        "cause",
        84,
        "the cluster autoscaler cannot remove the node: pod {pod} cannot be moved because its pod disruption budget allows no disruption",
        "Relax the PodDisruptionBudget of {pod} (or scale its workload up) so the autoscaler may evict it, or accept that the node stays",
        _r(r"(?:pod )?(?P<pod>[\w.-]+/[\w.-]+) cannot be removed: not enough pod disruption budget to move"),
    ),
    MessageRule(
        "host_port_taken",
        "cause",
        84,
        "the pod asks for a hostPort that is already taken on {count} node(s) (another pod binds the same host port there), so it cannot be scheduled on them",
        "Free the host port (an older copy or another agent uses it), change the pod's hostPort, or use a Service instead of hostPort",
        _r(r"(?P<count>\d+) node\(s\) didn't have free ports for the requested pod ports"),
    ),
    MessageRule(
        "certificate_expired",
        "cause",
        88,
        "a TLS certificate has expired: {detail}",
        "Renew the certificate (cert-manager: kubectl describe certificate; or replace the Secret) and restart what caches it",
        _r(
            r"(?P<detail>x509: certificate has expired or is not yet valid[^\n]{0,120}|(?:client |serving )?certificate (?:in [^\s]+ )?(?:is|has) expired[^\n]{0,80}|certificate [^\n]{0,60}? is expired[^\n]{0,60})"
        ),
    ),
    MessageRule(
        "load_balancer_failed",
        "cause",
        86,
        "the cloud load balancer for the Service cannot be created, so it stays <pending> without an external address: {detail}",
        "Fix what the cloud provider reports ({detail}): subnet tags/annotations, quotas or the controller's IAM permissions",
        _r(
            r"(?:Error syncing load balancer|failed to ensure load balancer)[:\s]+(?P<detail>[^\n]{8,200})"
            # the AWS Load Balancer Controller's FailedBuildModel/FailedDeployModel events
            r"|Failed (?:build|deploy) model due to (?P<detail2>[^\n]{8,200})"
            # MetalLB's controller when its IPAddressPools have no free address (or none matches the Service)
            r"|Failed to allocate IP for \\?\"[\w.-]+/[\w.-]+\\?\": (?P<detail3>[^\n]{4,200})"
        ),
    ),
    MessageRule(
        "issuer_not_found",
        "cause",
        90,
        "cert-manager cannot issue the certificate: its {issuerkind} {issuer} does not exist",
        "Point the Certificate's issuerRef at an existing issuer (kubectl get clusterissuers,issuers -A) or create {issuer}",
        _r(
            r"Referenced \"?(?P<issuerkind>ClusterIssuer|Issuer)\"? not found: [\w.-]+ \"(?P<issuer>[\w.-]+)\" not found"
        ),
    ),
    MessageRule(
        "helm_history_quota",
        "cause",
        92,
        "Helm cannot store revision {revision} of release {release}: Helm keeps every release revision as a Secret (sh.helm.release.v1.{release}.v{revision}) and namespace quota {quota} on count/secrets is full, because old revisions are never pruned without a history limit",
        "Delete old revisions' Secrets of {release} and set a history limit (helm upgrade --history-max 10, or HELM_MAX_HISTORY > 0), or raise quota {quota}",
        _r(
            r"secrets \\?\"sh\.helm\.release\.v1\.(?P<release>[\w.-]+?)\.v(?P<revision>\d+)\\?\" is forbidden: exceeded quota: (?P<quota>[\w.-]+)"
        ),
    ),
    MessageRule(
        "hpa_target_missing",
        "cause",
        90,
        "the HPA's scaleTargetRef names {name} ({kind}), which does not exist (renamed or deleted), so the HPA cannot read or set its scale",
        "Point the HPA's scaleTargetRef at the existing workload (kubectl get deploy,sts) or delete the stale HPA",
        _r(
            r"(?P<kind>deployments|statefulsets|replicasets|replicationcontrollers)/scale(?:\.apps)? \\?\"(?P<name>[\w.-]+)\\?\" not found"
        ),
    ),
    MessageRule(
        "hpa_pods_without_metrics",
        "cause",
        78,
        "the HPA gets no metrics for the targeted pods (they are not Ready yet, or metrics-server cannot scrape them), so it cannot compute the replica count",
        "Check that the target's pods are Ready and that metrics-server scrapes them (kubectl top pods; metrics-server logs)",
        _r(r"did not receive metrics for (?:any ready pods|targeted pods)"),
    ),
    MessageRule(
        "immutable_field",
        "cause",
        88,
        "the {kind} {name} cannot be updated: {field} is immutable after creation, and the new manifest changes it",
        "Keep {field} of {kind} {name} as it was, or delete and recreate the {kind} (kubectl replace --force / a new name) to change it",
        _r(
            r"(?:The )?(?P<kind>Deployment|StatefulSet|DaemonSet|Job|Service|PersistentVolumeClaim|ReplicaSet)(?:\.[\w.]+)? \\?\"(?P<name>[\w.-]+)\\?\" is invalid: (?P<field>spec\.[\w.\[\]]+): [^\n]*?field is immutable"
        ),
    ),
    MessageRule(
        "scc_denied",
        "cause",
        86,
        "OpenShift refuses the pod: no SecurityContextConstraints allowed for its service account admits it ({detail})",
        "Grant the workload's service account an SCC that admits it (oc adm policy add-scc-to-user <scc> -z <sa>) or drop the privileges the pod asks for",
        _r(r"unable to validate against any security context constraint:?\s*(?P<detail>[^\n]{0,200})"),
    ),
    MessageRule(
        "hpa_capped_at_max",
        "cause",
        84,
        "the HPA wants more replicas than its maxReplicas allows (ScalingLimited: TooManyReplicas), so it is capped at its maximum while the load per pod stays above target",
        "Raise maxReplicas of the HPA (check node capacity first) or make each pod cheaper per request",
        _r(r"the desired replica count is more than the maximum replica count|ScalingLimited\s+True\s+TooManyReplicas"),
    ),
    MessageRule(
        "keda_scaler_failed",
        "cause",
        86,
        "KEDA cannot get a scale decision from its {scaler} trigger ({detail}), so it does not scale the workload",
        "Fix the ScaledObject's {scaler} trigger (its query/metadata, address and TriggerAuthentication) so the scaler returns a metric",
        _r(
            r'error getting scale decision[^\n]*?"scaler":\s*"(?P<scaler>[\w-]+)"[^\n]*?"error":\s*"(?P<detail>[^\n]{3,240})'
        ),
        "keda_scaler",
    ),
    MessageRule(
        "cronjob_missed_too_many",
        "cause",
        86,
        "the CronJob controller stopped starting jobs: it missed too many start times ({detail}), which happens when startingDeadlineSeconds is unset or too long after the controller or the clock was off",
        "Set .spec.startingDeadlineSeconds (e.g. 200) on the CronJob so old missed runs are skipped, and check the controller's clock; then it schedules again",
        _r(r"too many missed start times?:?\s*(?P<detail>[^\n]{0,80}?)(?:\.\s*Set or decrease|$)"),
    ),
    MessageRule(
        "keda_target_missing",
        "cause",
        90,
        "the ScaledObject's scaleTargetRef names {name}, which does not exist, so KEDA scales nothing",
        "Point the ScaledObject's scaleTargetRef at the existing workload (name, kind and apiVersion) or create {name}",
        _r(
            r"doesn't have correct scaleTargetRef specification:?[^\n]*?(?:deployments|statefulsets)(?:\.apps)? \\?\"(?P<name>[\w.-]+)\\?\" not found"
        ),
        "hpa_target",
    ),
    MessageRule(
        "keda_auth_missing",
        "cause",
        90,
        "KEDA cannot resolve the trigger's credentials: {kind} {name} does not exist, so the ScaledObject is not Ready and does not scale",
        "Create {kind} {name} in the ScaledObject's namespace (or fix authenticationRef, and kind: ClusterTriggerAuthentication if it is cluster-wide)",
        _r(r"(?P<kind>(?:Cluster)?TriggerAuthentication)(?:\.keda\.sh)? \\?\"(?P<name>[\w.-]+)\\?\" not found"),
    ),
    MessageRule(
        "ingress_body_too_large",
        "cause",
        86,
        "ingress-nginx rejects the request body as too large (413): {detail}; the Ingress's body size limit (nginx.ingress.kubernetes.io/proxy-body-size, 1m by default) is smaller",
        'Raise the limit on the Ingress with nginx.ingress.kubernetes.io/proxy-body-size (e.g. "50m"), or proxy-body-size in the controller ConfigMap',
        _r(r"client intended to send too large body:\s*(?P<detail>\d+ bytes[^\n]{0,80}?)(?:, request:|$)"),
    ),
    MessageRule(
        "ingress_header_too_big",
        "cause",
        84,
        "ingress-nginx cannot read the backend's response headers: the upstream sent a header larger than its proxy buffer (502)",
        'Raise nginx.ingress.kubernetes.io/proxy-buffer-size on the Ingress (e.g. "16k") or make the backend\'s headers (cookies, tokens) smaller',
        _r(r"upstream sent too big header while reading response header from upstream"),
    ),
    MessageRule(
        "ingress_upstream_timeout",
        "cause",
        80,
        "ingress-nginx times out waiting for the backend's response ({upstream}): the backend takes longer than proxy-read-timeout (60s by default), so clients get 504",
        "Find why {upstream} is slow (its logs, its dependencies); if long responses are expected, raise nginx.ingress.kubernetes.io/proxy-read-timeout on the Ingress",
        _r(
            r"upstream timed out \(110: [^)]*\) while reading response header from upstream[^\n]*?upstream: \\?\"(?P<upstream>[^\"\\]+)"
        ),
    ),
    MessageRule(
        "rollout_strategy_invalid",
        "cause",
        90,
        "the Deployment {name} is rejected by API validation: maxUnavailable and maxSurge of its rollingUpdate strategy may not both be 0 (a rollout could then never replace a pod)",
        "Set maxSurge or maxUnavailable of Deployment {name} above 0 (for example maxSurge: 1, maxUnavailable: 0)",
        _r(
            r"(?:The )?Deployment(?:\.apps)? \\?\"(?P<name>[\w.-]+)\\?\" is invalid: [^\n]*?(?:maxUnavailable|maxSurge)[^\n]*may not be 0 when `?(?:maxSurge|maxUnavailable)`? is 0"
        ),
        "invalid_object",
    ),
    MessageRule(
        "keda_hpa_conflict",
        "cause",
        90,
        "KEDA cannot take over {workload}: it is already managed by the HPA {hpa}, and a workload may have only one autoscaler, so the ScaledObject stays not Ready and never scales it",
        "Delete the pre-existing HPA {hpa} (KEDA creates and owns its own keda-hpa-* HPA), or let the ScaledObject adopt it (scaledobject.keda.sh/transfer-hpa-ownership annotation)",
        _r(r"the workload '(?P<workload>[\w.-]+)' of type '[\w./]+' is already managed by the hpa '(?P<hpa>[\w.-]+)'"),
    ),
    MessageRule(
        "cloud_quota_exceeded",
        "cause",
        90,
        "the cloud project's quota {quota} is exhausted (limit {limit}), so the cloud provider refuses to create the resource",
        "Request a higher {quota} quota from the cloud provider, or free capacity (delete unused disks/addresses/instances)",
        _r(r"Quota '(?P<quota>[A-Z][A-Z0-9_]+)' exceeded\.?\s+Limit:\s*(?P<limit>[\d.]+(?: in region [\w-]+)?)"),
    ),
    MessageRule(
        "autoscaler_max_size",
        "cause",
        86,
        "the cluster autoscaler will not add nodes: the node group that fits the pod is at its maximum size ({detail})",
        "Raise the maximum size of that node group (ASG / node pool / Karpenter limits) or let the pod run on another node group",
        _r(r"pod didn't trigger scale-up:?\s*(?P<detail>[^\n]*max node group size reached[^\n]{0,160})"),
    ),
    MessageRule(
        "acme_failed",
        "cause",
        82,
        "cert-manager cannot get the certificate issued: {detail}",
        "Fix the issuer/challenge (kubectl describe certificaterequest,order,challenge) - DNS/HTTP01 reachability or issuer credentials",
        _r(
            r"(?P<detail>(?:Failed to (?:finalize Order|create Order|wait for order resource)|Error presenting challenge|Waiting for (?:HTTP-01|DNS-01) challenge propagation)[^\n]{0,160})"
        ),
    ),
    # The generic "is invalid" explanation comes last: a rule naming the exact invalid field wins its family.
    MessageRule(
        "object_invalid",
        "cause",
        84,
        "the API server rejects {kind} {name} as invalid: {detail}",
        "Fix the field the API server names in {name} and apply it again",
        # kubectl prints "The Service "x" is invalid", Helm and API clients 'Service "x" is invalid'
        _r(
            r"(?:The )?(?<![\w.])(?P<kind>[A-Z]\w+)(?:\.[a-z0-9.-]+)? \\?\"(?P<name>[\w.-]+)\\?\" is invalid: (?P<detail>[^\n]{3,200})"
        ),
        "invalid_object",
    ),
)


def match_rules(line: str) -> list[tuple[MessageRule, dict[str, str]]]:
    found: list[tuple[MessageRule, dict[str, str]]] = []
    for rule in RULES:
        match = rule.pattern.search(line)
        if match is None:
            continue
        groups: dict[str, str] = {}
        for key, value in match.groupdict().items():
            base = key.rstrip("0123456789")
            if value and base not in groups:
                groups[base] = value.strip().rstrip('.,;\\"')
                if base == "detail":
                    groups[base] = condense(groups[base])
        if rule.kind == "statefulset_forbidden_update":
            groups["sts"] = f" {groups['sts']}" if groups.get("sts") else ""
        if rule.kind == "preempted":
            groups["by"] = f" ({groups['by']})" if groups.get("by") else ""
        if rule.kind == "rbac_forbidden":
            where = groups.get("where", "")
            ns = re.search(r"namespace \\?\"([\w.-]+)", where)
            groups["where"] = f" in namespace {ns.group(1)}" if ns else (" cluster-wide" if where else "")
            group = groups.get("group", "")
            groups["group"] = f" in API group {group}" if group else ""
        found.append((rule, groups))
    return found


_RPC_PREFIX = re.compile(r"rpc error: code = \w+ desc = ", re.IGNORECASE)
_DETAIL_LIMIT = 240


def condense(detail: str) -> str:
    """A wrapped error chain, shortened to what it says: CSI drivers and cloud SDKs repeat the same clause at every
    layer ("rpc error: code = Internal desc = could not attach X: could not attach X: InvalidVolume.ZoneMismatch:
    ..."), and the decisive cause is the last clause. Repeated clauses and the gRPC wrapper go; when it is still
    long, the first clause and the tail are kept."""
    parts: list[str] = []
    for part in _RPC_PREFIX.sub("", detail).split(": "):
        if part and part.lower() not in (p.lower() for p in parts):
            parts.append(part)
    text = ": ".join(parts)
    if len(text) <= _DETAIL_LIMIT:
        return text
    head, tail = parts[0][:80], ""
    for part in reversed(parts[1:]):
        if len(tail) + len(part) + len(head) + 4 > _DETAIL_LIMIT:
            break
        tail = f"{part}: {tail}" if tail else part
    return f"{head} … {tail}" if tail else text[: _DETAIL_LIMIT - 1] + "…"


def first_of_each_family(
    found: list[tuple[MessageRule, dict[str, str]]],
) -> list[tuple[MessageRule, dict[str, str]]]:
    """One explanation per family for a line (a 429 pull failure is not also an "image not found")."""
    kept: list[tuple[MessageRule, dict[str, str]]] = []
    families: set[str] = set()
    for rule, groups in found:
        if rule.family and rule.family in families:
            continue
        families.add(rule.family)
        kept.append((rule, groups))
    return kept


def render(template: str, groups: dict[str, str]) -> str | None:
    """The template filled from the match; None when a field it needs is missing (never a placeholder)."""
    try:
        return template.format_map(dict(groups))
    except (KeyError, IndexError, ValueError):
        return None


RULES = RULES + tuple(  # the controller-side messages live in their own module
    MessageRule(kind, role, weight, title, action, _r(pattern), family)  # type: ignore[arg-type]
    for kind, role, weight, title, action, pattern, family in CONTROLLER_RULES + APP_SERVER_RULES
)
