"""The engine answers the question asked about the object it names, reads any attachment, and knows what the
tools around a cluster print. Inputs are what kubectl and the tools print; expectations name the concrete detail."""
# ruff: noqa: E501  (tool output lines are quoted as printed)

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from engine import Attachment, InvestigationContext, InvestigationRequest, investigate
from engine.findings import Finding
from engine.focus import Focus
from engine.logs.reader import decisive_lines
from engine.logs.signatures import match_signatures
from engine.parsers.detect import flatten, parse_attachment
from engine.question import parse_question
from engine.ranking import Scored
from engine.report import _also_noticed

NOW = datetime(2026, 11, 3, 12, 0, tzinfo=UTC)


def run(message: str, *attachments: tuple[str, str], **context: object):
    files = [Attachment(name=name, content=content) for name, content in attachments]
    request = InvestigationRequest(message=message, now=NOW, context=InvestigationContext(**context, attachments=files))
    return investigate(request)


def test_questions_are_read_for_intent_subject_and_time():
    def ask(message: str):
        return parse_question(InvestigationRequest(message=message, now=NOW))

    assert ask("find 'payment declined' in the logs of checkout").intent == "log_search"
    assert ask("find 'payment declined' in the logs of checkout").terms == ("payment declined",)
    assert ask("summarise the errors in the edge-nginx logs").intent == "log_summary"
    since = ask("what errors has notification-worker logged since Nov 2?")
    assert (since.intent, since.since) == ("log_summary", datetime(2026, 11, 2, tzinfo=UTC))
    assert ask("before the drain tonight: is rabbitmq healthy?").intent == "health"
    assert ask("what is wrong with job nightly-export-2912?").subject.name == "nightly-export-2912"
    alert = ask('alertname=KubeDeploymentReplicasMismatch deployment="orders" namespace="shop"')
    assert (alert.alert, alert.subject.kind, alert.subject.name) == (
        "KubeDeploymentReplicasMismatch",
        "deployment",
        "orders",
    )


@pytest.mark.parametrize(
    ("message", "intent"),
    [
        ("anything wrong with the search service?", "health"),
        ("any problems with checkout?", "health"),
        ("how is payments doing?", "health"),
        ("how's the cart service looking?", "health"),
        ("can you check on billing-api?", "health"),
        ("is there an issue with redis?", "health"),
        ("status of the ingress controller?", "health"),
        ("everything good with notifier?", "health"),
        ("search checkout logs for connection refused", "log_search"),
        ("any mentions of ECONNRESET in gateway logs?", "log_search"),
        ("how many times did 'timeout' appear in the logs of checkout?", "log_search"),
        ("filter the billing logs for NullPointerException", "log_search"),
        ("show me errors from orders-api in the last 2 hours", "log_summary"),
        ("what happened to ledger yesterday around 14:00?", "log_summary"),
        ("give me a rundown of errors in billing since monday", "log_summary"),
        ("what has the worker been complaining about?", "log_summary"),
        ("the canary keeps aborting, what is the analysis complaining about?", "rca"),
        ("what are the readiness probes complaining about on web?", "rca"),
        ("what did search log between 09:00 and 10:00?", "log_summary"),
        ("errors in checkout over the past 30 minutes?", "log_summary"),
        ("people complain about the portal, is portal-web fine?", "health"),
        ("payments-api keeps restarting since the last deploy, why?", "rca"),
        ("checkout errors are up since the deploy", "rca"),
        ("check the logs of ingest for errors", "log_summary"),
        ("does checkout log any errors?", "log_summary"),
        ("show me warnings from gateway today", "log_summary"),
    ],
)
def test_everyday_phrasings_are_read_as_the_intent_they_ask_for(message: str, intent: str):
    assert parse_question(InvestigationRequest(message=message, now=NOW)).intent == intent


def test_a_window_named_without_since_filters_the_logs_to_that_window():
    def window(message: str):
        question = parse_question(InvestigationRequest(message=message, now=NOW))
        return question.since, question.until

    assert window("what happened to ledger yesterday around 14:00?") == (
        datetime(2026, 11, 2, 13, 30, tzinfo=UTC),
        datetime(2026, 11, 2, 14, 30, tzinfo=UTC),
    )
    # asked at noon, "between 13:00 and 14:00" can only be yesterday afternoon
    assert window("what did search log between 13:00 and 14:00?") == (
        datetime(2026, 11, 2, 13, 0, tzinfo=UTC),
        datetime(2026, 11, 2, 14, 0, tzinfo=UTC),
    )
    assert window("errors from checkout in the last hour") == (datetime(2026, 11, 3, 11, 0, tzinfo=UTC), None)
    assert window("errors in billing since 2 hours ago") == (datetime(2026, 11, 3, 10, 0, tzinfo=UTC), None)
    assert window("any errors in worker logs from the last 15m?") == (datetime(2026, 11, 3, 11, 45, tzinfo=UTC), None)
    assert window("main errors in the auth logs yesterday") == (
        datetime(2026, 11, 2, tzinfo=UTC),
        datetime(2026, 11, 3, tzinfo=UTC),
    )


def test_the_named_job_is_investigated_not_the_more_broken_bystander():
    pods = (
        "NAME                            READY   STATUS             RESTARTS       AGE\n"
        "report-export-29365200-7xk2p    0/1     Error              0              20m\n"
        "ml-api-6d8f7c9b5-q2w3e          0/1     CrashLoopBackOff   31 (1m ago)    3h\n"
    )
    describe = (
        "Name:         ml-api-6d8f7c9b5-q2w3e\nNamespace:    data\nContainers:\n  api:\n    Image:  acme/ml-api:2\n"
        "    State:          Waiting\n      Reason:       CrashLoopBackOff\n    Last State:     Terminated\n"
        "      Reason:       OOMKilled\n      Exit Code:    137\n    Restart Count:  31\n    Limits:\n      memory:  512Mi\n"
    )
    log = (
        "2026-11-03 06:03:40 INFO exporting weekly revenue\n"
        "upload failed: ../out/r.parquet to s3://acme-exports/r.parquet An error occurred (AccessDenied) when calling the "
        "PutObject operation: User: arn:aws:sts::1:assumed-role/export/bot is not authorized to perform: s3:PutObject\n"
        "2026-11-03 06:03:42 ERROR export failed with exit code 1\n"
    )
    report = run(
        "what is wrong with job report-export-29365200?",
        ("pods.txt", pods),
        ("describe-ml-api.txt", describe),
        ("report-export.log", log),
        namespace="data",
    )
    assert "report-export" in report.root_cause.description
    assert "s3:PutObject" in report.root_cause.description
    assert "ml-api" not in report.root_cause.description


def test_a_broker_status_document_is_read_and_its_alarm_named():
    status = json.dumps(
        {
            "alarms": [{"node": "rabbit@rabbitmq-server-1", "resource": "memory", "type": "resource_limit"}],
            "partitions": [],
            "vm_memory_high_watermark_limit": 4123168604,
        }
    )
    report = run("publishers hang", ("status.json", status))
    assert report.skipped_attachments == []
    assert "rabbit@rabbitmq-server-1" in report.root_cause.description
    assert "memory alarm" in report.root_cause.description


def test_any_json_is_flattened_into_searchable_paths():
    assert flatten({"a": {"b": [1, {"c": "x"}]}}) == ["a.b[0]: 1", "a.b[1].c: x"]
    parsed = parse_attachment(Attachment(name="finding.json", content='{"results": [{"error": [{"Text": "boom"}]}]}'))
    assert parsed.observations.documents
    assert any("boom" in line for doc in parsed.observations.logs for line in doc.lines)


def test_the_decisive_line_is_the_specific_error_not_the_wrap_up():
    lines = [
        "2026-11-03 04:39:58.101 INFO indexer: starting bulk of 500 docs",
        '2026-11-03 04:40:02.331 ERROR indexer: bulk request failed: elasticsearch returned 429: {"error":{"type":'
        '"cluster_block_exception","reason":"index [articles] blocked by: [FORBIDDEN/12/index read-only / allow delete"}}',
        "2026-11-03 04:40:02.332 FATAL indexer: giving up after 5 bulk failures, exiting",
    ]
    assert "cluster_block_exception" in decisive_lines(lines)[0].line


def test_a_config_dump_is_not_an_outage():
    assert match_signatures("max_connections=200") == []
    assert match_signatures("  max_connections: 200") == []
    assert [m.kind for m in match_signatures("FATAL: sorry, too many clients already")] == ["db_too_many_connections"]


def test_log_search_answers_with_the_matching_lines_and_their_count():
    log = (
        '2026-11-03T11:41:17Z warn checkout order=ord_7782 reason="payment declined: insufficient funds"\n'
        "2026-11-03T11:43:09Z error checkout upstream inventory timeout after 2000ms\n"
        '2026-11-03T11:44:30Z warn checkout order=ord_7785 reason="payment declined: card expired"\n'
    )
    report = run("find 'payment declined' in the logs of checkout", ("checkout.log", log), service="checkout")
    assert report.summary.startswith("Found 2 lines containing 'payment declined'")
    assert "ord_7785" in report.summary
    assert "inventory timeout" not in report.summary


def test_a_heartbeat_alert_is_not_an_incident():
    report = run("[FIRING:1] Watchdog (prometheus-k8s monitoring) - do I need to fix this?")
    assert report.summary.startswith("Not an incident")
    assert "heartbeat" in report.root_cause.description


def test_default_deny_egress_without_dns_is_named():
    policies = """apiVersion: v1
kind: List
items:
- apiVersion: networking.k8s.io/v1
  kind: NetworkPolicy
  metadata: {name: default-deny-all, namespace: payments}
  spec: {podSelector: {}, policyTypes: [Ingress, Egress]}
- apiVersion: networking.k8s.io/v1
  kind: NetworkPolicy
  metadata: {name: allow-api-to-postgres, namespace: payments}
  spec:
    podSelector: {matchLabels: {app: payments-api}}
    policyTypes: [Egress]
    egress:
    - ports: [{port: 5432, protocol: TCP}]
"""
    report = run("payments-api cannot reach postgres since the new policies", ("netpol.yaml", policies))
    assert "default-deny-all" in report.root_cause.description
    assert "port 53" in report.root_cause.description


def test_a_service_whose_selector_matches_no_pod_is_named_with_the_labels_it_should_use():
    service = (
        "Name:              cart\nNamespace:         shop\nSelector:          app.kubernetes.io/name=cart-service\n"
        "Type:              ClusterIP\nIP:                10.100.88.213\nPort:              http  80/TCP\n"
        "Endpoints:         <none>\n"
    )
    pods = (
        "NAME                    READY   STATUS    RESTARTS   AGE   LABELS\n"
        "cart-7f8b9c6d5-4kq2m    1/1     Running   0          3h    app.kubernetes.io/name=cart,pod-template-hash=7f8b9c6d5\n"
    )
    report = run("cart returns 503", ("svc.txt", service), ("pods.txt", pods), service="cart")
    assert "app.kubernetes.io/name=cart-service" in report.root_cause.description
    assert "app.kubernetes.io/name=cart" in report.root_cause.description


def test_a_gitops_destination_that_does_not_exist_names_the_existing_one_meant():
    app = json.dumps(
        {
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "Application",
            "metadata": {"name": "notification-svc", "namespace": "argocd"},
            "spec": {"destination": {"namespace": "notification"}},
            "status": {
                "sync": {"status": "OutOfSync"},
                "health": {"status": "Missing"},
                "operationState": {
                    "message": 'one or more objects failed to apply, reason: namespaces "notification" not found'
                },
            },
        }
    )
    namespaces = "NAME            STATUS   AGE\nargocd          Active   2y\nnotifications   Active   410d\n"
    report = run("argocd app notification-svc does not sync", ("app.json", app), ("ns.txt", namespaces))
    assert "'notification' does not exist" in report.root_cause.description
    assert "'notifications' is probably what was meant" in report.root_cause.description


def test_the_slow_trace_blames_the_service_that_spends_the_time():
    trace = {
        "data": [
            {
                "spans": [
                    {
                        "spanID": "a",
                        "operationName": "GET /orders",
                        "references": [],
                        "duration": 3_000_000,
                        "processID": "p1",
                    },
                    {
                        "spanID": "b",
                        "operationName": "SELECT orders",
                        "references": [{"refType": "CHILD_OF", "spanID": "a"}],
                        "duration": 2_800_000,
                        "processID": "p2",
                    },
                ],
                "processes": {"p1": {"serviceName": "web"}, "p2": {"serviceName": "order-service"}},
            }
        ]
    }
    report = run("orders page is slow, which service?", ("trace.json", json.dumps(trace)))
    assert "order-service" in report.root_cause.description
    assert "SELECT orders" in report.root_cause.description


def test_cpu_throttling_against_the_limit_is_named():
    top = (
        "NAME                            CPU(cores)   MEMORY(bytes)\n"
        "quote-engine-7d8c9b6f5-4hk2l    999m         1411Mi\n"
        "rates-sync-6b5c4d3e2-w8x9y      12m          210Mi\n"
    )
    ratio = (
        "> sum by (pod) (increase(container_cpu_cfs_throttled_periods_total[5m])) / sum by (pod) "
        "(increase(container_cpu_cfs_periods_total[5m]))\n"
        '{pod="quote-engine-7d8c9b6f5-4hk2l"}  0.8612\n'
        '{pod="rates-sync-6b5c4d3e2-w8x9y"}  0.0100\n'
    )
    report = run("quote-engine latency is high", ("top.txt", top), ("promql.txt", ratio))
    assert "quote-engine" in report.root_cause.description
    assert "CPU-throttled" in report.root_cause.description
    assert "rates-sync" not in report.root_cause.description


def test_a_cause_quoting_the_root_causes_own_failure_is_not_also_noticed_as_unrelated():
    rejected = 'spec.timeZone: Invalid value: "Europe/Frankfurt": unknown time zone Europe/Frankfurt'
    root = Finding(
        "object_invalid", "cronjob/export", "cause", f"export: the API server rejects it: {rejected}", 90, ["e"]
    )
    root.workload = "export"
    same = Finding(
        "gitops_not_ready", "kustomization/billing", "cause", f"Kustomization billing fails: {rejected}", 80, ["e"]
    )
    same.workload = "billing"
    other = Finding("disk_full", "node/n1", "cause", "node n1: disk /var is 97 % full", 80, ["e"])
    other.workload = "n1"
    focus = Focus(names={"export"}, label="export")
    scored = [Scored(root, 100), Scored(same, 80), Scored(other, 70)]
    assert _also_noticed(scored, scored[0], focus) == "node n1: disk /var is 97 % full"
    assert _also_noticed(scored[:2], scored[0], focus) == ""


def test_the_decisive_line_is_never_a_typed_command_a_diff_line_or_kubectl_answering_about_its_query() -> None:
    lines = [
        "$ kubectl -n shop logs deploy/cart --since=5m | grep -iE 'failed|timeout|refused'",
        "2026-05-02T10:00:01Z cart starting",
        "2026-05-02T10:00:03Z ERROR cart quota service said: invoice ledger closed for period 2026-04",
    ]
    assert "ledger closed" in decisive_lines(lines)[0].line
    diff = [
        "shop, cart, Deployment (apps) has changed:",
        "-           timeoutSeconds: 1",
        "+           timeoutSeconds: 30",
        "+           failureThreshold: 10",
    ]
    assert decisive_lines(diff) == []
    asked = ['Error from server (NotFound): deployments.apps "cart-v2" not found']
    assert decisive_lines(asked) == []
