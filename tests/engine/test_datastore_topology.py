"""A datastore's own view of its topology explains the client's error: Redis Cluster slots without a master,
a MongoDB replica set without a primary, writes sent to a Patroni replica, a Redis client without a password."""
# ruff: noqa: E501  (tool output lines are quoted as printed)

from __future__ import annotations

from datetime import UTC, datetime

from engine import Attachment, InvestigationContext, InvestigationRequest, investigate
from engine.logs.signatures import match_signatures

NOW = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)


def run(message: str, *attachments: tuple[str, str], **context: object):
    files = [Attachment(name=name, content=content) for name, content in attachments]
    request = InvestigationRequest(message=message, now=NOW, context=InvestigationContext(**context, attachments=files))
    return investigate(request)


def test_a_healthy_redis_cluster_is_not_reported():
    info = "cluster_state:ok\ncluster_slots_assigned:16384\ncluster_slots_fail:0\n"
    report = run("is redis ok?", ("info.txt", info))
    assert "Redis Cluster is down" not in report.root_cause.description


def test_a_replica_set_with_a_primary_is_not_reported_as_without_one():
    rs = '{"set": "rs1", "members": [{"name": "m-0:27017", "health": 1, "stateStr": "PRIMARY"}, {"name": "m-1:27017", "health": 0, "stateStr": "(not reachable/healthy)"}]}'
    report = run("mongo?", ("rs.json", rs))
    assert "no PRIMARY" not in report.root_cause.description


def test_writes_to_the_address_of_a_replica_name_the_member_and_the_leader():
    patroni = "| pg-0 | 10.1.0.4 | Replica | streaming | 3 | 0 |\n| pg-1 | 10.1.0.5 | Leader | running | 3 | |\n"
    log = "ERROR cannot execute INSERT in a read-only transaction\nINFO url=jdbc:postgresql://10.1.0.4:5432/app\n"
    report = run("why are inserts failing?", ("patroni.txt", patroni), ("app.log", log), service="billing")
    assert "pg-0" in report.root_cause.description
    assert "pg-1" in report.root_cause.description


def test_a_redis_client_with_a_password_variable_is_not_said_to_lack_one():
    env = '{"name":"REDIS_HOST","value":"r"}\n{"name":"REDIS_PASSWORD","valueFrom":{"secretKeyRef":{"name":"r","key":"p"}}}\n'
    report = run(
        "cart errors", ("env.txt", env), ("cart.log", "ERROR NOAUTH Authentication required.\n"), service="cart"
    )
    assert "without a password" not in report.root_cause.description


def test_a_kafka_poll_timeout_names_the_consumer_group():
    line = "[Consumer clientId=c-1, groupId=billing-events] consumer poll timeout has expired. This means the time between subsequent calls to poll() was longer than the configured max.poll.interval.ms"
    titles = [m.title() for m in match_signatures(line)]
    assert any("group 'billing-events'" in t for t in titles)


def _jaeger(*spans: str, processes: str) -> str:
    return '{"data":[{"traceID":"t","spans":[' + ",".join(spans) + '],"processes":' + processes + "}]}"


def test_a_message_that_waits_in_its_queue_is_named_as_queue_wait_not_as_the_consumers_work():
    trace = _jaeger(
        '{"spanID":"p","operationName":"publish","references":[],"startTime":0,"duration":1000,"tags":[{"key":"messaging.destination.name","value":"jobs"}],"processID":"a"}',
        '{"spanID":"c","operationName":"process","references":[{"refType":"FOLLOWS_FROM","spanID":"p"}],"startTime":30000000,"duration":200000,"tags":[],"processID":"b"}',
        processes='{"a":{"serviceName":"api"},"b":{"serviceName":"worker"}}',
    )
    report = run("jobs run late", ("trace.json", trace))
    assert "waits 30.0 s in the queue" in report.root_cause.description
    assert "worker" in report.root_cause.description


def test_a_short_gap_between_producer_and_consumer_is_not_called_queue_wait():
    trace = _jaeger(
        '{"spanID":"p","operationName":"publish","references":[],"startTime":0,"duration":1000,"tags":[],"processID":"a"}',
        '{"spanID":"c","operationName":"process","references":[{"refType":"FOLLOWS_FROM","spanID":"p"}],"startTime":5000,"duration":2000000,"tags":[],"processID":"b"}',
        processes='{"a":{"serviceName":"api"},"b":{"serviceName":"worker"}}',
    )
    report = run("slow", ("trace.json", trace))
    assert "in the queue" not in report.root_cause.description


def test_the_error_of_a_trace_is_placed_in_the_deepest_failed_span_with_its_exception():
    trace = _jaeger(
        '{"spanID":"r","operationName":"GET /","references":[],"startTime":0,"duration":100,"tags":[{"key":"error","value":true}],"processID":"a"}',
        '{"spanID":"x","operationName":"Pay","references":[{"refType":"CHILD_OF","spanID":"r"}],"startTime":1,"duration":50,"tags":[{"key":"error","value":true}],"logs":[{"fields":[{"key":"exception.type","value":"CardDeclined"},{"key":"exception.message","value":"issuer unavailable"}]}],"processID":"b"}',
        processes='{"a":{"serviceName":"web"},"b":{"serviceName":"payments"}}',
    )
    report = run("which service fails?", ("trace.json", trace))
    assert report.root_cause.description.startswith("payments")
    assert "CardDeclined: issuer unavailable" in report.root_cause.description


def test_a_kafka_partition_with_a_leader_is_not_called_offline():
    topics = "Topic: t\tPartition: 0\tLeader: 1\tReplicas: 1,2\tIsr: 1,2\n"
    report = run("kafka ok?", ("t.txt", topics))
    assert "offline" not in report.root_cause.description


def test_an_active_replication_slot_is_not_blamed_for_wal():
    slots = " slot_name | active | retained\n-----------+--------+---------\n s1 | t | 400 GB\n"
    report = run("disk?", ("slots.txt", slots))
    assert "inactive" not in report.root_cause.description


def test_a_green_elasticsearch_cluster_is_not_reported_red():
    report = run("es?", ("health.json", '{"cluster_name":"c","status":"green","unassigned_shards":0}'))
    assert "is red" not in report.root_cause.description


def test_an_error_inside_a_request_that_succeeded_is_not_called_its_failure():
    trace = _jaeger(
        '{"spanID":"r","operationName":"GET /","references":[],"startTime":0,"duration":3000000,"tags":[],"processID":"a"}',
        '{"spanID":"x","operationName":"Cache","references":[{"refType":"CHILD_OF","spanID":"r"}],"startTime":1,"duration":50,"tags":[{"key":"error","value":true},{"key":"otel.status_description","value":"stale read"}],"processID":"b"}',
        processes='{"a":{"serviceName":"web"},"b":{"serviceName":"cache"}}',
    )
    report = run("why slow?", ("trace.json", trace))
    assert "stale read" not in report.root_cause.description
