"""The public contract: errors, progress, cancellation, agents, bad input and the Django-free import."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest

from engine import (
    BUILTIN_AGENTS,
    TOOL_CATALOG,
    AgentSettings,
    Attachment,
    EngineError,
    InvestigationContext,
    InvestigationRequest,
    Progress,
    describe_agents,
    investigate,
)

CRASH_LOG = "2024-01-15T10:00:00Z INFO boot\n2024-01-15T10:00:01Z FATAL environment variable API_TOKEN is not set\n"


def _request(*attachments: Attachment, **kwargs) -> InvestigationRequest:
    return InvestigationRequest(
        message="why is it down?", context=InvestigationContext(attachments=list(attachments)), **kwargs
    )


def test_importing_engine_loads_no_django_module():
    code = "import engine, sys; assert not any(m == 'django' or m.startswith('django.') for m in sys.modules)"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_unknown_agent_is_an_invalid_request():
    with pytest.raises(EngineError) as error:
        investigate(_request(agent="db_agent"))
    assert error.value.code == "invalid_request"
    assert error.value.message == "Unknown agent 'db_agent'"


def test_disabled_agent_is_an_invalid_request():
    with pytest.raises(EngineError) as error:
        investigate(_request(agent="k8s_agent", agents={"k8s_agent": AgentSettings(enabled=False)}))
    assert error.value.code == "invalid_request"


def test_cancel_stops_at_the_next_step_boundary_and_reports_tools_used():
    calls = []

    def cancel() -> bool:
        calls.append(1)
        return len(calls) > 1

    attachments = [Attachment(name=f"a{i}.log", content=CRASH_LOG) for i in range(3)]
    with pytest.raises(EngineError) as error:
        investigate(_request(*attachments), should_cancel=cancel)
    assert error.value.code == "cancelled"
    assert error.value.tools_used == ["read_attachment"]


def test_a_past_deadline_is_a_timeout():
    past = datetime.now(UTC) - timedelta(seconds=1)
    with pytest.raises(EngineError) as error:
        investigate(_request(Attachment(name="a.log", content=CRASH_LOG), deadline=past))
    assert error.value.code == "timeout"


def test_progress_never_reports_fewer_total_steps_than_completed():
    seen: list[Progress] = []
    investigate(_request(Attachment(name="a.log", content=CRASH_LOG)), on_progress=seen.append)
    assert seen
    assert all(p.steps_total >= p.steps_completed for p in seen)
    assert seen[-1].steps_completed == seen[-1].steps_total


def test_every_tool_call_is_logged_and_forwarded():
    forwarded = []
    report = investigate(_request(Attachment(name="a.log", content=CRASH_LOG)), on_tool_call=forwarded.append)
    assert [c.tool for c in report.tool_calls] == ["read_attachment"]
    assert forwarded == report.tool_calls
    assert report.tool_calls[0].ok


def test_api_result_formats_timestamps_as_utc_seconds():
    result = investigate(_request(Attachment(name="a.log", content=CRASH_LOG))).api_result()
    assert set(result) == {"summary", "root_cause", "timeline", "affected_systems", "recommendations", "hypotheses"}
    assert result["timeline"][0]["timestamp"] == "2024-01-15T10:00:01Z"
    assert "API_TOKEN" in result["root_cause"]["description"]


def test_api_result_ranks_at_most_five_hypotheses_with_their_subject_root_cause_first():
    result = investigate(_request(Attachment(name="a.log", content=CRASH_LOG))).api_result()
    hypotheses = result["hypotheses"]
    assert 1 <= len(hypotheses) <= 5
    assert set(hypotheses[0]) == {"description", "confidence", "status", "subject", "evidence"}
    assert hypotheses[0]["confidence"] == result["root_cause"]["confidence"]
    assert all(line.startswith(("[tool:", "[attachment:")) for h in hypotheses for line in h["evidence"])


@pytest.mark.parametrize(("content", "reason"), [("", "empty"), ("\x00\x01\x02binary\x00" * 50, "binary")])
def test_unusable_attachment_is_recorded_as_skipped(content, reason):
    good = Attachment(name="good.log", content=CRASH_LOG)
    report = investigate(_request(Attachment(name="bad", content=content), good))
    assert report.skipped_attachments[0]["name"] == "bad"
    assert reason in report.skipped_attachments[0]["reason"]
    assert "API_TOKEN" in report.root_cause.description


@pytest.mark.parametrize(
    "content",
    ['{"kind": "Pod", "metadata": {', "apiVersion: v1\nkind: Pod\nmetadata: [unclosed\n"],
)
def test_malformed_json_or_yaml_is_read_as_text_not_refused(content):
    good = Attachment(name="good.log", content=CRASH_LOG)
    report = investigate(_request(Attachment(name="bad", content=content), good))
    assert report.skipped_attachments == []
    assert "read_attachment" in report.tools_used
    assert "API_TOKEN" in report.root_cause.description


def test_only_unusable_attachments_give_an_honest_report_naming_them():
    report = investigate(_request(Attachment(name="blob.bin", content="\x00\x01" * 100)))
    assert report.skipped_attachments[0]["name"] == "blob.bin"
    assert "blob.bin" in report.summary
    assert report.root_cause.confidence < 50


def test_a_json_document_that_is_not_kubernetes_is_read_not_refused():
    status = '{"cluster_name": "rabbit@prod", "partitions": [], "alarms": [], "listeners": [{"port": 5672}]}'
    report = investigate(_request(Attachment(name="status.json", content=status)))
    assert report.skipped_attachments == []
    assert report.tools_used == ["read_attachment"]


def test_a_one_mebibyte_single_line_log_is_analyzed_without_crashing():
    line = "ERROR " + "x" * (1024 * 1024 - 100) + " connection refused"
    report = investigate(_request(Attachment(name="huge.log", content=line)))
    assert report.root_cause.confidence < 80
    assert all(len(e) < 1000 for e in report.root_cause.evidence)


def test_no_evidence_gives_an_honest_low_confidence_answer():
    report = investigate(_request())
    assert report.root_cause.confidence < 50
    assert report.root_cause.evidence == []
    assert "insufficient" in report.root_cause.description.lower()


def test_describe_agents_lists_builtins_then_custom_agents_with_available_tools():
    agents = {
        "zz_agent": AgentSettings(prompt="x", enable_extra_tools=["list_pods", "query_prometheus"]),
        "aws_agent": AgentSettings(enabled=False),
        "k8s_agent": AgentSettings(disable_default_tools=["get_pod_events"]),
    }
    infos = describe_agents(agents, {"kubernetes": {"kubeconfig": "x"}, "prometheus": {"enabled": False}})
    assert [i.name for i in infos] == [*BUILTIN_AGENTS, "zz_agent"]
    by_name = {i.name: i for i in infos}
    assert by_name["planner"].tools[:2] == ["think", "read_attachment"]
    assert "aws_agent" not in by_name["planner"].tools
    assert "k8s_agent" in by_name["planner"].tools
    assert by_name["k8s_agent"].tools == [
        "think",
        "read_attachment",
        "list_pods",
        "describe_pod",
        "get_pod_logs",
        "get_deployment_history",
    ]
    assert by_name["zz_agent"].tools == ["think", "read_attachment", "list_pods"]
    assert not by_name["zz_agent"].builtin
    assert by_name["metrics_agent"].tools == ["think", "read_attachment", "detect_anomalies"]


def test_the_tool_catalog_names_every_documented_tool_and_its_source():
    for spec in BUILTIN_AGENTS.values():
        assert set(spec.default_tools) <= set(TOOL_CATALOG)
    assert TOOL_CATALOG["list_pods"] == "kubernetes"
    assert TOOL_CATALOG["extract_log_signatures"] == "loki"  # reads the team's log source
    assert TOOL_CATALOG["query_prometheus_range"] == "prometheus"


def test_the_cli_prints_a_json_report_for_attached_files(tmp_path):
    log = tmp_path / "app.log"
    log.write_text(CRASH_LOG)
    out = subprocess.run(
        [sys.executable, "-m", "engine", "investigate", "why down?", "--attach", str(log), "--json"],
        check=True,
        capture_output=True,
        text=True,
    )
    report = json.loads(out.stdout)
    assert "API_TOKEN" in report["root_cause"]["description"]
    assert report["tools_used"] == ["read_attachment"]


def test_the_cli_reports_an_unknown_agent_as_an_error(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "engine", "investigate", "x", "--agent", "nope"], capture_output=True, text=True
    )
    assert out.returncode == 1
    assert "invalid_request" in out.stderr


def test_a_bare_kubernetes_reason_ending_in_error_is_not_an_exception():
    from engine.logs.signatures import match_signatures

    assert match_signatures("      Reason:       CreateContainerConfigError") == []
    assert [m.title() for m in match_signatures("java.lang.NullPointerException")] == [
        "Unhandled java.lang.NullPointerException"
    ]
