"""Application logs are read for the concrete thing: the host behind an address, the topic that does not exist,
the port two containers of one pod both claim."""
# ruff: noqa: E501  (log lines are quoted as printed)

from __future__ import annotations

from datetime import UTC, datetime

from engine import Attachment, InvestigationContext, InvestigationRequest, investigate
from engine.logs.signatures import match_signatures

NOW = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)


def run(message: str, *attachments: tuple[str, str], **context: object):
    files = [Attachment(name=name, content=content) for name, content in attachments]
    request = InvestigationRequest(message=message, now=NOW, context=InvestigationContext(**context, attachments=files))
    return investigate(request)


def test_a_topic_missing_from_the_cluster_metadata_is_named():
    titles = [
        m.title() for m in match_signatures("TimeoutException: Topic orders.v3 not present in metadata after 60000 ms.")
    ]
    assert any("orders.v3 does not exist" in t for t in titles)


def test_a_python_name_resolution_error_names_the_host_it_could_not_resolve():
    log = (
        "2026-09-01 11:00:00,000 ERROR api lookup failed\n"
        "socket.gaierror: [Errno -2] Name or service not known\n"
        "urllib3.exceptions.NameResolutionError: <urllib3.connection.HTTPSConnection object at 0x7f>: Failed to resolve 'quotes.partner.example' ([Errno -2] Name or service not known)\n"
    )
    report = run("why does quoting fail?", ("quote.log", log), service="quoting")
    assert "quotes.partner.example" in report.root_cause.description


def test_two_containers_claiming_one_port_are_named_when_one_cannot_bind_it():
    spec = 'containers:\n- name: api\n  ports:\n  - name: http\n    containerPort: 7000\n- name: profiler\n  args: ["--listen=:7000"]\n'
    log = "starting api on :7000\nError: listen tcp :7000: bind: address already in use\n"
    report = run("api crashes after we added the profiler", ("spec.yaml", spec), ("api.log", log))
    assert "api and profiler" in report.root_cause.description
    assert "7000" in report.root_cause.description


def test_a_port_conflict_is_not_claimed_when_only_one_container_uses_the_port():
    spec = 'containers:\n- name: api\n  ports:\n  - name: http\n    containerPort: 7000\n- name: profiler\n  args: ["--listen=:7001"]\n'
    log = "Error: listen tcp :7000: bind: address already in use\n"
    report = run("api crashes", ("spec.yaml", spec), ("api.log", log))
    assert "both listen" not in report.root_cause.description


def _ask(message: str):
    from engine.question import parse_question

    return parse_question(InvestigationRequest(message=message, now=datetime(2026, 11, 3, 12, 0, tzinfo=UTC)))


def test_since_a_weekday_means_the_most_recent_such_day_before_today():
    assert _ask("what errors has api logged since Monday?").since == datetime(2026, 11, 2, tzinfo=UTC)
    assert _ask("what errors has api logged since last Friday?").since == datetime(2026, 10, 30, tzinfo=UTC)


def test_a_remark_that_there_are_no_errors_keeps_a_time_bounded_question_a_root_cause_question():
    assert _ask("jobs keep getting killed since Monday, no errors in the job logs").intent == "rca"
    assert _ask("which errors did api log since Monday?").intent == "log_summary"


def test_did_it_run_ok_is_a_health_question():
    assert _ask("did last night's export job run ok?").intent == "health"
    assert _ask("has the backup finished successfully?").intent == "health"


def test_a_webhook_whose_signature_does_not_verify_points_at_the_signing_secret():
    titles = [
        m.title()
        for m in match_signatures("webhook rejected: No signatures found matching the expected signature for payload")
    ]
    assert any("signing secret" in t for t in titles)


def test_a_log_named_after_a_longer_workload_is_that_workloads_not_the_named_subjects():
    pods = "NAME   READY   STATUS   RESTARTS   AGE\nshop-1a2b3c4d5e-aaaaa   1/1   Running   0   1d\nshop-canary-2b3c4d5e6f-bbbbb   0/1   CrashLoopBackOff   9   1h\n"
    report = run(
        "what is wrong with shop?",
        ("pods.txt", pods),
        ("shop-canary.log", "Error: Cannot find module 'left-pad'\n"),
        ("shop.log", '{"level":"error","msg":"charge failed","error":"Invalid API Key provided"}\n'),
        service="shop",
    )
    assert "left-pad" not in report.root_cause.description


def test_a_stopped_replica_sql_thread_is_named_with_its_error():
    status = "Replica_IO_Running: Yes\nReplica_SQL_Running: No\nLast_SQL_Errno: 1062\nLast_SQL_Error: Duplicate entry '5' for key 'PRIMARY'\n"
    report = run("why is db-1 lagging?", ("status.txt", status))
    assert "1062" in report.root_cause.description
    assert "duplicate key" in report.root_cause.description
