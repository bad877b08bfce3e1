"""Knowledge about autoscalers and workload controllers, on what real tools print."""

from __future__ import annotations

from engine.expertise.messages import first_of_each_family, match_rules
from engine.parsers.command_line import command_object


def _kinds(line: str) -> list[str]:
    """The explanations a line gets: one per family, as the analyzers read it."""
    return [rule.kind for rule, _ in first_of_each_family(match_rules(line))]


def test_a_kubectl_command_line_names_the_object_it_printed():
    assert command_object("kubectl -n logging get ds fluentd -o wide") == ("DaemonSet", "fluentd")
    assert command_object("kubectl describe nodeclaim gpu-p4d-7xk2q | sed -n '/Conditions/,$p'") == (
        "NodeClaim",
        "gpu-p4d-7xk2q",
    )
    assert command_object("kubectl get sts/cassandra -o yaml") == ("StatefulSet", "cassandra")


def test_a_command_listing_several_objects_names_none():
    assert command_object("kubectl -n cache get sts,pods,pvc") is None
    assert command_object("kubectl get pods -l app=web") is None
    assert command_object("argocd app get public-api") is None


def test_the_hpa_names_the_container_without_a_request():
    found = match_rules("failed to get cpu utilization: missing request for cpu in container fluent-bit of Pod x-1")
    rule, groups = found[0]
    assert rule.kind == "hpa_missing_request"
    assert groups["container"] == "fluent-bit"


def test_a_rolling_update_with_surge_and_unavailable_both_zero_is_named():
    line = (
        'The Deployment "wallet-api" is invalid: spec.strategy.rollingUpdate.maxUnavailable: Invalid value: '
        'intstr.IntOrString{Type:0, IntVal:0, StrVal:""}: may not be 0 when `maxSurge` is 0'
    )
    assert _kinds(line) == ["rollout_strategy_invalid"]


def test_a_scaledobject_over_a_workload_with_its_own_hpa_is_a_conflict():
    line = "the workload 'mailer' of type 'apps/v1.Deployment' is already managed by the hpa 'mailer-cpu'"
    assert _kinds(line) == ["keda_hpa_conflict"]


def test_a_cloud_quota_is_named_with_its_limit():
    found = match_rules("googleapi: Error 403: Quota 'SSD_TOTAL_GB' exceeded.  Limit: 500.0 in region us-east1.")
    assert [(r.kind, g["quota"]) for r, g in found] == [("cloud_quota_exceeded", "SSD_TOTAL_GB")]


def test_a_config_dump_mentioning_quotas_is_not_a_quota_failure():
    assert _kinds("quota_project_id = my-project; quotaExceeded retries: 3") == []


def _investigate(message: str, name: str, content: str) -> str:
    from datetime import UTC, datetime

    from engine import InvestigationRequest, investigate

    request = InvestigationRequest.model_validate(
        {
            "message": message,
            "now": datetime(2026, 4, 2, 10, tzinfo=UTC).isoformat(),
            "context": {"attachments": [{"name": name, "content": content}]},
        }
    )
    return investigate(request).root_cause.description


def test_an_ondelete_daemonset_whose_pods_all_run_the_current_template_is_not_blamed():
    content = (
        "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: agent, namespace: ops}\n"
        "spec:\n  updateStrategy: {type: OnDelete}\n"
        "status: {desiredNumberScheduled: 5, updatedNumberScheduled: 5, numberReady: 5}\n"
    )
    assert "OnDelete" not in _investigate("why do agent pods run the old image?", "ds.yaml", content)
    behind = content.replace("5, numberReady", "2, numberReady")
    assert "OnDelete" in _investigate("why do agent pods run the old image?", "ds.yaml", behind)


def test_a_partition_is_named_when_pods_below_it_keep_the_old_revision():
    content = (
        "$ kubectl get sts ledger-db -o yaml | yq .spec.updateStrategy,.status\n"
        "rollingUpdate:\n  partition: 1\ntype: RollingUpdate\nreplicas: 3\nupdatedReplicas: 2\n"
    )
    assert "partition 1" in _investigate("ledger-db-0 is still on the old image", "sts.txt", content)


def test_an_admin_port_on_loopback_that_no_service_exposes_is_not_blamed():
    content = (
        "$ kubectl logs deploy/gateway\n"
        "2026-04-02T09:00:00Z INFO admin server listening on 127.0.0.1:15000\n"
        "2026-04-02T09:00:00Z INFO proxy listening on 0.0.0.0:8080\n"
    )
    assert "loopback" not in _investigate("is gateway healthy?", "gateway.log", content)


def test_a_server_bound_to_loopback_on_the_port_callers_use_is_named():
    content = "$ kubectl logs deploy/gateway\n2026-04-02T09:00:00Z INFO proxy listening on 127.0.0.1:8080\n"
    found = _investigate("callers of gateway get connection refused on 8080", "gateway.log", content)
    assert "127.0.0.1:8080" in found


def test_an_openshift_scc_refusal_is_named():
    line = 'pods "agent-" is forbidden: unable to validate against any security context constraint: [x]'
    assert _kinds(line) == ["scc_denied"]


def test_an_hpa_without_metrics_for_unready_pods_is_not_called_a_missing_metrics_server():
    line = "failed to get cpu utilization: did not receive metrics for targeted pods (pods might be unready)"
    assert _kinds(line) == ["hpa_pods_without_metrics"]


def test_an_ondelete_strategy_alone_is_not_a_problem_in_a_health_check():
    content = '$ kubectl -n ops get ds agent -o jsonpath=\'{.spec.updateStrategy}\'\n{"type":"OnDelete"}\n'
    assert "OnDelete" not in _investigate("is the agent daemonset healthy?", "ds.txt", content)


def test_a_node_group_at_its_maximum_is_not_blamed_when_nothing_waits_for_a_node():
    content = (
        "NodeGroups:\n"
        "  Name:        ng-general\n"
        "  Health:      Healthy (ready=5 unready=0 cloudProviderTarget=5 (minSize=1, maxSize=5))\n"
    )
    assert "maximum size" not in _investigate("is checkout healthy?", "ca-status.txt", content)
