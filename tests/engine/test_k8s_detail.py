"""The concrete detail behind Kubernetes failures, read from every format kubectl prints it in."""

from __future__ import annotations

from engine.analyzers import scheduling_detail
from engine.facts import LogDoc, Observations, TextDoc
from engine.models import Attachment
from engine.parsers.detect import parse_attachment


def _obs(*texts: str) -> Observations:
    return Observations(texts=[TextDoc(f"[attachment:a{i}.txt]", t.splitlines()) for i, t in enumerate(texts)])


def test_a_request_is_read_from_a_describe_requests_block_and_not_from_the_limits():
    obs = _obs("    Limits:\n      memory:  64Gi\n    Requests:\n      cpu:     4\n      memory:  48Gi\n")
    assert scheduling_detail.requested("memory", obs) == ("48Gi", "[attachment:a0.txt] memory:  48Gi")


def test_a_request_is_read_from_a_one_line_jsonpath_print():
    obs = Observations(
        logs=[LogDoc("[attachment:r.txt]", ['{"limits":{"memory":"1Gi"},"requests":{"memory":"512Mi"}}'])]
    )
    found = scheduling_detail.requested("memory", obs)
    assert found is not None
    assert found[0] == "512Mi"


def test_a_request_is_read_from_a_yaml_requests_block():
    obs = _obs("resources:\n  requests:\n    ephemeral-storage: 250Gi\n  limits:\n    ephemeral-storage: 300Gi\n")
    found = scheduling_detail.requested("ephemeral-storage", obs)
    assert found is not None
    assert found[0] == "250Gi"


def test_the_pod_capacity_of_a_node_is_read_from_a_custom_columns_table():
    obs = _obs("NAME     TYPE        PODS\nnode-1   t3.medium   17\n")
    found = scheduling_detail.pod_capacity(obs)
    assert found is not None
    assert found[0] == 17


def test_the_pod_capacity_of_a_node_is_read_from_describe_allocatable():
    obs = _obs("Allocatable:\n  cpu:   2\n  pods:  29\n")
    found = scheduling_detail.pod_capacity(obs)
    assert found is not None
    assert found[0] == 29


def test_a_pod_affinity_selector_is_read_from_a_jsonpath_print():
    line = (
        '{"requiredDuringSchedulingIgnoredDuringExecution":[{"labelSelector":{"matchLabels":{"app":"cache"}},'
        '"topologyKey":"kubernetes.io/hostname"}]}'
    )
    found = scheduling_detail.pod_affinity_selector(_obs(line), anti=False)
    assert found is not None
    assert found[0] == "app=cache"


def test_a_describe_fragment_without_its_name_line_is_named_by_the_command_that_printed_it():
    content = (
        "$ kubectl -n jobs describe pod render-7c9d-x2x7q | tail -1\n"
        "  Warning  FailedScheduling  2m (x3 over 9m)  default-scheduler  0/2 nodes are available: 2 Too many pods.\n"
    )
    obs = parse_attachment(Attachment(name="d.txt", content=content)).observations
    assert [(e.object_name, e.namespace, e.reason) for e in obs.events] == [
        ("render-7c9d-x2x7q", "jobs", "FailedScheduling")
    ]


def _findings(*contents: str) -> list[str]:
    from datetime import UTC, datetime, timedelta

    from engine.analysis_context import AnalysisContext
    from engine.analyzers import volumes

    obs = Observations()
    for i, content in enumerate(contents):
        obs.extend(parse_attachment(Attachment(name=f"a{i}.txt", content=content)).observations)
    return [f.title for f in volumes.analyze(obs, AnalysisContext(now=datetime.now(UTC), window=timedelta(hours=1)))]


def test_a_lost_claim_names_its_deleted_volume_and_who_deleted_it():
    table = (
        "NAME      STATUS   VOLUME                                     CAPACITY   ACCESS MODES   STORAGECLASS   AGE\n"
        "data-x    Lost     pvc-11111111-2222-4333-8444-555555555555   0                         gp3            9d\n"
    )
    audit = (
        '{"verb":"delete","user":{"username":"janitor"},"objectRef":{"resource":"persistentvolumes",'
        '"name":"pvc-11111111-2222-4333-8444-555555555555"}}\n'
    )
    (title,) = _findings(table, audit)
    assert "data-x" in title
    assert "deleted by janitor" in title


def test_a_terminating_claim_names_the_pod_that_still_uses_it():
    fragment = "$ kubectl -n a describe pvc uploads | grep -E 'Status|Used By'\nStatus:  Terminating\nUsed By: web-0\n"
    table = (
        "NAME      STATUS        VOLUME   CAPACITY   ACCESS MODES   STORAGECLASS   AGE\n"
        "uploads   Terminating   pv-1     1Gi        RWO            gp3            1y\n"
    )
    (title,) = _findings(table, fragment)
    assert "pod web-0 still uses it" in title


def _storage_titles(*contents: str) -> list[str]:
    from datetime import UTC, datetime, timedelta

    from engine.analysis_context import AnalysisContext
    from engine.analyzers import storage_detail

    obs = Observations()
    for i, content in enumerate(contents):
        obs.extend(parse_attachment(Attachment(name=f"s{i}.txt", content=content)).observations)
    ctx = AnalysisContext(now=datetime.now(UTC), window=timedelta(hours=1))
    return [f.title for f in storage_detail.analyze(obs, ctx)]


def test_a_provisioner_refused_by_the_cloud_names_the_permission_and_the_node_role_it_fell_back_to():
    line = (
        'Warning  ProvisioningFailed  1m  ebs.csi.aws.com  failed to provision volume with StorageClass "gp3": '
        "could not create volume in EC2: api error UnauthorizedOperation: You are not authorized to perform this "
        "operation. User: arn:aws:sts::1:assumed-role/my-nodegroup-role/i-1 is not authorized to perform: "
        "ec2:CreateVolume on resource"
    )
    (title,) = _storage_titles(line)
    assert "ec2:CreateVolume" in title
    assert "my-nodegroup-role" in title
    assert "service account has no IAM role" in title


def test_a_missing_external_secret_names_the_close_name_the_store_has():
    event = (
        'MountVolume.SetUp failed for volume "secrets" : failed to mount secrets store objects for pod a/web-1, '
        "err: Failed fetching secret app/api-token: ResourceNotFoundException: Secrets Manager can't find it"
    )
    listing = '[\n    "app/api_token",\n    "app/db"\n]\n'
    (title,) = _storage_titles(event, listing)
    assert "app/api-token" in title
    assert "'app/api_token'" in title


def test_a_kubernetes_secret_that_is_missing_is_not_read_as_an_external_store_secret():
    line = 'error resolving auth params: failed to get secret q/conn: secrets "conn" not found'
    assert _storage_titles(line) == []


def test_the_last_line_of_a_python_traceback_is_the_decisive_line_even_when_the_class_is_not_named_error():
    from engine.logs.reader import decisive_lines

    lines = [
        "[1] [ERROR] Exception in worker process",
        "Traceback (most recent call last):",
        '  File "/x/conf.py", line 81, in __getattr__',
        "mypkg.conf.exceptions.ImproperlyConfigured: The TOKEN setting must not be empty.",
        "[1] [ERROR] Reason: Worker failed to boot.",
    ]
    assert decisive_lines(lines)[0].line.startswith("mypkg.conf.exceptions.ImproperlyConfigured")


def test_the_line_after_a_bare_caused_by_is_the_decisive_line():
    from engine.logs.reader import decisive_lines

    lines = ["Error: failed to load configuration", "", "Caused by:", "    YAML parse error at line 3, column 1"]
    assert decisive_lines(lines)[0].line == "YAML parse error at line 3, column 1"


def test_a_ruby_exception_is_read_with_its_message_and_class():
    from engine.logs.reader import exception_of

    line = "/app/lib/boot.rb:12:in `check': Missing `api_key` for 'production' (ArgumentError)"
    assert exception_of(line) == ("ArgumentError", "Missing `api_key` for 'production'")


def test_a_manifest_that_uses_env_var_references_is_not_an_unexpanded_reference():
    from engine.logs.signatures import match_signatures

    assert not [
        m for m in match_signatures("  value: postgres://u:$(DB_PASSWORD)@db:5432/x") if m.kind == "unexpanded_env"
    ]
    found = match_signatures('could not translate host name "$(DB_HOST)" to address')
    assert [m.groups.get("ref") for m in found if m.kind == "unexpanded_env"] == ["$(DB_HOST)"]


def _pod_titles(*contents: tuple[str, str]) -> list[str]:
    from datetime import UTC, datetime, timedelta

    from engine.analysis_context import AnalysisContext
    from engine.analyzers import pods_detail

    obs = Observations()
    for name, content in contents:
        obs.extend(parse_attachment(Attachment(name=name, content=content)).observations)
    ctx = AnalysisContext(now=datetime.now(UTC), window=timedelta(hours=1))
    return [f.title for f in pods_detail.analyze(obs, ctx)]


def test_a_write_to_a_read_only_mount_names_the_container_the_volume_and_the_mount_path():
    describe = (
        "Name:         web-5d9c-abcde\nNamespace:    a\nNode:         n1\nContainers:\n  nginx:\n"
        "    Image:          nginx:1.27\n    Mounts:\n      /etc/nginx/conf.d from conf (ro)\n"
    )
    log = 'nginx: [emerg] open() "/etc/nginx/conf.d/default.conf" failed (30: Read-only file system)\n'
    (title,) = _pod_titles(("d.txt", describe), ("nginx.log", log))
    assert "container nginx" in title
    assert "volume conf is mounted read-only at /etc/nginx/conf.d" in title


def test_a_write_under_a_read_write_mount_is_not_blamed_on_a_mount():
    describe = (
        "Name:         w-1\nNamespace:    a\nNode:    n1\nContainers:\n  app:\n    Mounts:\n      /data from d (rw)\n"
    )
    log = "open /data/x: read-only file system\n"
    assert _pod_titles(("d.txt", describe), ("app.log", log)) == []


def test_a_missing_image_pull_secret_is_named_with_its_namespace():
    events = (
        "LAST SEEN   TYPE      REASON                            OBJECT          MESSAGE\n"
        "1m          Warning   FailedToRetrieveImagePullSecret   pod/api-0       "
        "Unable to retrieve some image pull secrets (quay-creds); attempting to pull the image may not succeed.\n"
    )
    (title,) = _pod_titles(("e.txt", events))
    assert "imagePullSecret quay-creds does not exist" in title


def test_a_pointer_to_another_log_is_never_the_decisive_line():
    from engine.logs.reader import decisive_lines

    lines = [
        "mount: /sys/fs/bpf: permission denied.",
        "       dmesg(1) may have more information after failed mount system call.",
    ]
    assert decisive_lines(lines)[0].line == "mount: /sys/fs/bpf: permission denied."


def test_a_full_conntrack_table_names_the_source_that_fills_it():
    from datetime import UTC, datetime, timedelta

    from engine.analysis_context import AnalysisContext
    from engine.analyzers import node_detail

    text = (
        "root@n-1:~# dmesg | tail -1\n[x] nf_conntrack: nf_conntrack: table full, dropping packet\n"
        "root@n-1:~# conntrack -L | awk '{print $5}' | sort | uniq -c | sort -rn\n"
        "  9000 src=10.1.1.1\n    12 src=10.1.1.2\n"
    )
    obs = parse_attachment(Attachment(name="n.txt", content=text)).observations
    (finding,) = node_detail.analyze(obs, AnalysisContext(now=datetime.now(UTC), window=timedelta(hours=1)))
    assert finding.title.startswith("n-1: ")
    assert "9000 of the entries come from 10.1.1.1" in finding.title


def test_a_dotnet_heap_hard_limit_is_read_as_bytes_and_named_with_the_out_of_memory_error():
    from datetime import UTC, datetime, timedelta

    from engine.analysis_context import AnalysisContext
    from engine.analyzers import oom_detail

    obs = Observations(
        logs=[
            LogDoc("[attachment:env]", ["DOTNET_GCHeapHardLimit=0x20000000"]),
            LogDoc(
                "[attachment:log]", ["System.OutOfMemoryException: Exception of type 'System.OutOfMemoryException'"]
            ),
        ]
    )
    (finding,) = oom_detail.analyze(obs, AnalysisContext(now=datetime.now(UTC), window=timedelta(hours=1)))
    assert "DOTNET_GCHeapHardLimit=0x20000000 (512 MiB)" in finding.title


def test_an_eviction_in_the_newer_kubelet_wording_names_the_container_and_its_request():
    from engine.analyzers.evictions import _USAGE

    found = _USAGE.search("Container shipper was using 38912140Ki, which exceeds its request of 0.")
    assert found is not None
    assert found.groups() == ("shipper", "38912140Ki", "0")


def test_a_false_readiness_gate_is_named_with_the_pods_the_wide_table_shows_unready():
    from datetime import UTC, datetime, timedelta

    from engine.analysis_context import AnalysisContext
    from engine.analyzers import probes_detail

    table = (
        "NAME          READY   STATUS    RESTARTS   AGE   IP         NODE   NOMINATED NODE   READINESS GATES\n"
        "web-7d-abcde  1/1     Running   0          5m    10.0.0.1   n1     <none>           0/1\n"
    )
    describe = (
        "Name:  web-7d-abcde\nReadiness Gates:\n  Type                                  Status\n"
        "  cloud.google.com/load-balancer-neg-ready   False\n"
    )
    obs = Observations()
    obs.extend(parse_attachment(Attachment(name="t.txt", content=table)).observations)
    obs.extend(parse_attachment(Attachment(name="d.txt", content=describe)).observations)
    (finding,) = probes_detail.analyze(obs, AnalysisContext(now=datetime.now(UTC), window=timedelta(hours=1)))
    assert "readiness gate cloud.google.com/load-balancer-neg-ready is False" in finding.title
    assert "pod web-7d-abcde is not Ready" in finding.title


def test_an_exec_enoent_for_a_script_names_the_interpreter_of_its_shebang():
    titles = _pod_titles(
        ("logs.txt", "$ kubectl logs job-1-abcde --previous\nexec /app/run.sh: no such file or directory\n"),
        ("Dockerfile", "FROM alpine:3.20\nCOPY run.sh /app/run.sh\n#!/usr/bin/env-bash-missing\n"),
    )
    assert any("/usr/bin/env-bash-missing" in t and "does not exist in the image (alpine:3.20)" in t for t in titles)


def test_a_namespace_called_logs_does_not_make_a_describe_a_log():
    from engine.parsers.detect import detect_kind

    assert detect_kind("Name: x\nNamespace: logs\n", "kubectl -n logs describe pvc x") == "describe"
    assert detect_kind("line one\n", "kubectl -n logs logs api-0 --previous") == "logs"


def test_a_replicaset_hash_written_with_any_letters_is_stripped_but_a_versioned_name_is_not():
    from engine.findings import workload_of

    assert workload_of("billing-ui-6b7c8d9e0f") == "billing-ui"
    assert workload_of("db-postgres16") == "db-postgres16"
    assert workload_of("api-gateway2") == "api-gateway2"
