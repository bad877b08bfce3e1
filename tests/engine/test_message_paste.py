"""Output pasted into the question is read as evidence; the prose before it stays the question."""

from __future__ import annotations

from datetime import UTC, datetime

from engine.models import InvestigationRequest
from engine.parsers.command_line import is_command_line, is_query_message, logs_pod, prompt_host
from engine.parsers.message_paste import asked_text, pasted_output
from engine.question import parse_question

PASTE = """why is quote-service stuck on the old image?

$ kubectl -n pricing describe deploy quote-service
Name:                   quote-service
Conditions:
  Type           Status   Reason
  Progressing    Unknown  DeploymentPaused
"""


def test_printed_lines_after_the_question_become_an_attachment_named_message():
    pasted = pasted_output(PASTE)
    assert pasted is not None
    assert pasted.name == "message"
    assert pasted.content.startswith("$ kubectl -n pricing describe deploy quote-service")
    assert asked_text(PASTE).strip() == "why is quote-service stuck on the old image?"


def test_a_plain_question_has_no_paste_and_stays_whole():
    question = "checkout keeps crashing since 10:00, why?\nit was fine yesterday"
    assert pasted_output(question) is None
    assert asked_text(question) == question


def test_code_fences_are_dropped_from_the_paste():
    pasted = pasted_output(
        "logs:\n```\n2026-01-01T00:00:00Z error a\n2026-01-01T00:00:01Z error b\n2026-01-01T00:00:02Z error c\n```"
    )
    assert pasted is not None
    assert "```" not in pasted.content


def test_a_shell_prompt_and_its_output_are_a_paste_however_short():
    message = (
        "migrate step fails, log:\n$ kubectl -n p exec deploy/api -- ./migrate\nError from server (Forbidden): nope\n"
    )
    pasted = pasted_output(message)
    assert pasted is not None
    assert pasted.content.startswith("$ kubectl")
    assert asked_text(message) == "migrate step fails, log:"


def test_a_pasted_alert_keeps_naming_the_subject_through_its_labels():
    message = (
        "got paged, can you check?\n  alertname = KubeDeploymentRolloutStuck\n  namespace = catalog\n"
        "  deployment = search-frontend\n"
    )
    question = parse_question(InvestigationRequest(message=message, now=datetime(2026, 1, 1, tzinfo=UTC)))
    assert question.named == "search-frontend"


def test_an_indented_excerpt_is_dedented_so_it_parses_like_the_tools_output():
    message = "describe says:\n    Name:         api-7f9c\n    Namespace:    shop\n    Status:       Pending\n"
    pasted = pasted_output(message)
    assert pasted is not None
    assert pasted.content.startswith("Name:         api-7f9c\nNamespace:")
    assert asked_text(message) == "describe says:"


def test_the_host_of_a_shell_prompt_and_the_pod_of_kubectl_logs_are_read_from_their_command_lines():
    assert prompt_host("[root@bm-rack3-07 ~]# du -sh /var/log/pods/*") == "bm-rack3-07"
    assert prompt_host("ubuntu@worker-5:~$ df -h") == "worker-5"
    assert prompt_host("why is worker-5 full?") is None
    assert logs_pod("kubectl -n shop logs --tail=200 pod/api-7f9c") == "api-7f9c"
    assert logs_pod("kubectl get pods") is None


def test_a_prompt_and_the_command_typed_at_it_are_a_command_line_in_every_shell() -> None:
    for line in (
        "$ amtool alert query --alertmanager.url=http://alertmanager:9093",
        "# journalctl -u kubelet --since '10 min ago'",
        "ubuntu@worker-5:~$ tail -n 50 /var/log/app.log",
        "[root@bm-rack3-07 ~]# grep -i timeout /etc/haproxy/haproxy.cfg",
        "➜  infra git:(main) kubectl -n shop logs deploy/cart",
        "PS C:\\Users\\ops> kubectl get pods",
        "postgres=# SELECT pid, state FROM pg_stat_activity;",
        "127.0.0.1:6379> INFO replication",
        "mysql> SHOW REPLICA STATUS\\G",
    ):
        assert is_command_line(line), line
    for line in (
        "# A fatal error has been detected by the Java Runtime Environment:",
        "2026-12-02T09:21:16Z ERROR failed to connect: connection refused",
        "alice@example.com paid $ 5 and got a timeout",
        "ERROR: lock timeout",
    ):
        assert not is_command_line(line), line


def test_kubectl_answering_about_its_own_query_is_told_apart_from_a_cluster_error() -> None:
    assert is_query_message('Error from server (NotFound): jobs.batch "db-migrate-41" not found')
    assert is_query_message("No resources found in payments namespace.")
    assert is_query_message('error: the server doesn\'t have a resource type "scaledobjectz"')
    assert not is_query_message('Error from server (Forbidden): pods is forbidden: User "ci" cannot list resource')
    assert not is_query_message("rpc error: code = NotFound desc = volume not found")


def test_a_jq_reshaped_object_with_metadata_fields_beside_its_spec_is_read_as_the_object_the_command_names() -> None:
    from engine.parsers.detect import filtered_object

    command = "kubectl -n web get ingress docs -o json | jq '{annotations: .metadata.annotations, spec: .spec}'"
    document = {"annotations": {"a": "b"}, "generation": 4, "spec": {"rules": []}}
    assert filtered_object(document, command) == {
        "kind": "Ingress",
        "metadata": {"name": "docs", "namespace": "web", "annotations": {"a": "b"}, "generation": 4},
        "spec": {"rules": []},
    }
    assert filtered_object({"summary": 1, "spec": {}}, command) == {"summary": 1, "spec": {}}
