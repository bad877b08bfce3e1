"""A firing kube-prometheus alert is read with its labels and its runbook's triage step over what was pasted
next to it; the summary reads as one paragraph. Inputs are what the tools print."""
# ruff: noqa: E501  (tool output lines are quoted as printed)

from __future__ import annotations

from datetime import UTC, datetime

from engine import Attachment, InvestigationContext, InvestigationRequest, investigate

NOW = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)


def run(message: str, *attachments: tuple[str, str], **context: object):
    files = [Attachment(name=name, content=content) for name, content in attachments]
    request = InvestigationRequest(message=message, now=NOW, context=InvestigationContext(**context, attachments=files))
    return investigate(request)


def test_cpu_throttling_high_names_the_container_its_cpu_limit_and_usage_at_that_limit():
    pod_json = '{"spec":{"containers":[{"name":"app","resources":{"limits":{"cpu":"1"}}},{"name":"sidecar","resources":{"limits":{"cpu":"100m"}}}]}}'
    report = run(
        "CPUThrottlingHigh on web-1",
        ("resources.txt", f"$ kubectl get pod web-1 -o jsonpath='{{.spec}}'\nsidecar {pod_json}\n"),
        (
            "top.txt",
            "POD     NAME      CPU(cores)   MEMORY(bytes)\nweb-1   app       120m         300Mi\nweb-1   sidecar   99m          40Mi\n",
        ),
        alert_name="CPUThrottlingHigh",
        labels={"alertname": "CPUThrottlingHigh", "pod": "web-1", "container": "sidecar"},
    )
    assert "sidecar" in report.root_cause.description
    assert "100m" in report.root_cause.description
    assert "99m" in report.root_cause.description


def test_etcd_slow_fsync_is_traced_to_the_process_that_saturates_the_disk_of_its_host():
    report = run(
        "etcdHighFsyncDurations firing, API slow",
        (
            "node.txt",
            "root@ctrl-1:~# iostat -x 1 1\n"
            "Device   r/s   w/s   rkB/s   wkB/s   rrqm/s   wrqm/s  %rrqm  %wrqm r_await w_await aqu-sz rareq-sz wareq-sz  svctm  %util\n"
            "vda      900.0  50.0  90000.0  800.0  0.00  1.00  0.00  2.00  30.00  250.00  40.00  100.00  16.00  1.00  99.50\n"
            "root@ctrl-1:~# iotop -b -o -n 1\n"
            "  TID  PRIO  USER     DISK READ  DISK WRITE  SWAPIN     IO>    COMMAND\n"
            " 7001 be/4 root       80.00 M/s    0.00 B/s  0.00 % 91.00 % tar czf /backup/etc.tgz /var/lib\n",
        ),
        alert_name="etcdHighFsyncDurations",
        labels={"alertname": "etcdHighFsyncDurations", "instance": "10.9.0.5:2379"},
    )
    description = report.root_cause.description
    assert "ctrl-1" in description
    assert "10.9.0.5" in description
    assert "tar czf" in description
    assert "fsync" in description


def test_a_node_filesystem_alert_on_the_runtime_directory_says_it_holds_images_and_when_gc_starts():
    report = run(
        "NodeFilesystemSpaceFillingUp worker-2",
        (
            "df.txt",
            "$ df -h\nFilesystem  Size  Used Avail Use% Mounted on\n/dev/sdc  100G   80G   20G  80% /var/lib/docker\n"
            "$ grep imageGC /var/lib/kubelet/config.yaml\nimageGCHighThresholdPercent: 90\n",
        ),
        alert_name="NodeFilesystemSpaceFillingUp",
        labels={"alertname": "NodeFilesystemSpaceFillingUp", "instance": "worker-2", "mountpoint": "/var/lib/docker"},
    )
    assert "worker-2" in report.root_cause.description
    assert "images" in report.root_cause.description
    assert "90%" in report.root_cause.description


def test_a_version_skew_alert_during_an_upgrade_is_not_an_incident_and_names_the_versions():
    report = run(
        "KubeVersionMismatch — we are upgrading the workers",
        (
            "nodes.txt",
            "NAME   STATUS   ROLES   AGE   VERSION\nw-1    Ready    <none>  1d    v1.29.3\nw-2    Ready    <none>  9d    v1.28.7\n10.1.1.10 is the LB\n",
        ),
        alert_name="KubeVersionMismatch",
        labels={"alertname": "KubeVersionMismatch"},
    )
    assert report.summary.startswith("Not an incident")
    assert "1.28 and 1.29" in report.summary
    assert "1.1" not in report.summary.replace("1.28", "").replace("1.29", "")


def test_a_version_skew_alert_without_an_upgrade_is_investigated_as_usual():
    report = run(
        "KubeVersionMismatch",
        (
            "nodes.txt",
            "NAME   STATUS   ROLES   AGE   VERSION\nw-1    Ready    <none>  1d    v1.29.3\nw-2    Ready    <none>  400d  v1.26.1\n",
        ),
        alert_name="KubeVersionMismatch",
        labels={"alertname": "KubeVersionMismatch"},
    )
    assert not report.summary.startswith("Not an incident")


def test_a_root_cause_that_explains_a_crash_loop_is_one_sentence_joined_by_so():
    describe = """Name:         api-6d4f-abcde
Namespace:    shop
Node:         n1/10.0.0.1
Status:       Pending
Containers:
  api:
    Image:          shop/api:1.0
    State:          Waiting
      Reason:       CreateContainerConfigError
    Ready:          False
    Restart Count:  0
Events:
  Type     Reason  Age   From     Message
  ----     ------  ----  ----     -------
  Warning  Failed  1m    kubelet  Error: secret "api-db" not found
"""
    report = run("why is api not starting?", ("describe.txt", describe), namespace="shop")
    assert "api-db" in report.summary
    assert "explains" not in report.summary


def test_with_only_an_unreadable_attachment_the_alert_text_is_read_and_said_to_be_unconfirmed():
    report = run(
        "[FIRING:1] KubePodCrashLooping shop/api-1 (api): last termination OOMKilled, exit code 137, memory limit 512Mi",
        ("dump.bin", "\x00\x01\x02 binary \x00\x00"),
        alert_name="KubePodCrashLooping",
        labels={"alertname": "KubePodCrashLooping", "pod": "api-1", "container": "api"},
    )
    assert "512Mi" in report.summary
    assert "OOMKilled" in report.root_cause.description
    assert "no readable data confirms it" in report.root_cause.description


def test_strict_mtls_with_a_namespace_without_sidecars_explains_connection_resets():
    report = run(
        "client gets connection reset by peer",
        ("c.log", "ERROR read tcp 10.0.0.1:5000->10.0.0.2:80: read: connection reset by peer\n"),
        (
            "pa.yaml",
            "apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: default, namespace: istio-system}\nspec: {mtls: {mode: STRICT}}\n",
        ),
        ("ns.txt", "NAME   STATUS   AGE   LABELS\nlegacy   Active   1d   kubernetes.io/metadata.name=legacy\n"),
    )
    assert "STRICT" in report.root_cause.description
    assert "legacy" in report.root_cause.description


def test_connection_resets_without_a_strict_policy_are_not_blamed_on_mtls():
    report = run(
        "client gets connection reset by peer",
        ("c.log", "ERROR read tcp 10.0.0.1:5000->10.0.0.2:80: read: connection reset by peer\n"),
        (
            "pa.yaml",
            "apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: default, namespace: istio-system}\nspec: {mtls: {mode: PERMISSIVE}}\n",
        ),
    )
    assert "STRICT" not in report.root_cause.description


def test_an_attached_alertmanager_payload_supplies_the_alert_and_its_labels():
    from engine.question import Question, with_alert_documents

    payload = {"alerts": [{"labels": {"alertname": "KubeJobFailed", "job_name": "backup-1", "namespace": "ops"}}]}
    question = with_alert_documents(Question(), [payload])
    assert question.alert == "KubeJobFailed"
    assert dict(question.labels)["job_name"] == "backup-1"


def test_a_firing_notification_names_its_alert_even_when_it_is_not_a_kube_prefixed_one():
    from engine.question import parse_question

    request = InvestigationRequest(message="[FIRING:2] etcdHighCommitDurations etcd-0", now=NOW)
    assert parse_question(request).alert == "etcdHighCommitDurations"


def test_a_synchronised_clock_is_not_reported_as_drifting():
    report = run(
        "NodeClockNotSynchronising on n1?",
        ("node.txt", "me@n1:~$ timedatectl\nSystem clock synchronized: yes\nNTP service: active\n"),
        alert_name="NodeClockNotSynchronising",
        labels={"alertname": "NodeClockNotSynchronising", "instance": "n1:9100"},
    )
    assert "not synchronised" not in report.root_cause.description


def test_certificates_with_months_left_are_not_called_expiring():
    table = "CERTIFICATE   EXPIRES   RESIDUAL TIME   CERTIFICATE AUTHORITY   EXTERNALLY MANAGED\napiserver     Nov 20, 2026 09:12 UTC   233d   ca   no\n"
    report = run("are the certs fine?", ("certs.txt", table))
    assert "expiring" not in report.root_cause.description


def test_prometheus_rule_failures_name_the_rule_and_the_error():
    from engine.logs.signatures import match_signatures

    line = 'level=warn component="rule manager" msg="Evaluating rule failed" rule="alert: QueueBacklog\\nexpr: x" err="many-to-many matching not allowed: matching labels must be unique on one side"'
    titles = [m.title() for m in match_signatures(line)]
    assert any("QueueBacklog" in t and "many-to-many" in t for t in titles)


def test_alerts_that_fire_together_without_a_lower_layer_alert_get_no_invented_root():
    payload = '{"alerts":[{"labels":{"alertname":"KubePodNotReady","pod":"a-1"}},{"labels":{"alertname":"TargetDown","job":"a"}},{"labels":{"alertname":"KubeDeploymentReplicasMismatch","deployment":"a"}}]}'
    report = run("lots of pages", ("webhook.json", payload))
    assert "explains the others" not in report.root_cause.description
