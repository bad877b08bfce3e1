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
