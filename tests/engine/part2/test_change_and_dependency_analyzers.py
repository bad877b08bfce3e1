"""Change correlation and dependency chains as pure functions."""

from engine.analyzers.changes import Change, ChangeKind, correlate_changes, normalize_service
from engine.analyzers.dependencies import TargetState, build_chains
from engine.analyzers.dependency_logs import LogLine, extract_signals, normalize_target, parse_dependency_error
from engine.analyzers.metrics import Anomaly, MetricKind

ONSET = 1_705_329_120.0  # 14:32Z


def change(minutes_before, service, kind=ChangeKind.DEPLOY, ref="v1"):
    return Change(
        ONSET - minutes_before * 60, kind, service, f"{service} {ref} deployed", "[tool:list_deployments] x", ref
    )


def test_a_deploy_of_the_affected_service_just_before_onset_is_the_best_candidate():
    scored = correlate_changes(
        [change(60, "inventory", ref="v9"), change(3, "payments-api", ref="v2.14.0"), change(1, "search")],
        onset=ONSET,
        affected=["payments"],
    )
    assert scored[0].change.ref == "v2.14.0"
    assert scored[0].relation == "affected"
    assert scored[0].score > 0.8
    assert scored[0].explain() == "payments-api v2.14.0 deployed (3 min before the anomaly began)"
    unrelated = next(s for s in scored if s.change.service == "inventory")
    assert unrelated.score < 0.05


def test_changes_after_onset_beyond_the_grace_are_not_candidates():
    assert correlate_changes([change(-10, "payments")], onset=ONSET, affected=["payments"]) == []


def test_a_change_to_a_dependency_scores_between_affected_and_unrelated():
    dep, other = correlate_changes(
        [change(5, "postgres", kind=ChangeKind.CONFIG), change(5, "search", kind=ChangeKind.CONFIG)],
        onset=ONSET,
        affected=["payments"],
        dependencies={"payments": ["postgres"]},
    )
    assert (dep.relation, other.relation) == ("dependency", "unrelated")
    assert dep.score > other.score


def test_service_names_compare_without_common_suffixes():
    assert normalize_service("Payments-API") == normalize_service("payments") == "payments"


def test_log_lines_name_the_dependency_and_the_mechanism():
    cases = {
        "dial tcp 10.0.3.7:5432: connect: connection refused": ("connection_refused", "10.0.3.7"),
        'could not connect to server: Connection refused Is the server running on host "db.shop.svc"': (
            "connection_refused",
            "db",
        ),
        "Connection to payments-db:5432 refused. Check that the hostname and port are correct": (
            "connection_refused",
            "payments-db",
        ),
        "HikariPool-1 - Connection is not available, request timed out after 30000ms.": ("pool_exhausted", None),
        "getaddrinfo ENOTFOUND fraud-api.shop.svc.cluster.local": ("dns", "fraud-api"),
        "request to inventory.shop.svc:8080 timed out after 5s": ("timeout", "inventory"),
        "upstream inventory returned 503 Service Unavailable": ("unavailable", "inventory"),
        "POST https://api.card-gateway.example/v1/charges timed out": ("timeout", "api.card-gateway.example"),
    }
    for line, expected in cases.items():
        assert parse_dependency_error(line) == expected, line
    assert parse_dependency_error("INFO charge ok in 120ms") is None


def test_rds_endpoints_and_cluster_dns_names_reduce_to_the_component():
    assert normalize_target("payments-db.c9akciq32.eu-west-1.rds.amazonaws.com") == "payments-db"
    assert normalize_target("postgres.shop.svc.cluster.local") == "postgres"


def test_signals_aggregate_per_caller_and_target_and_skip_self_references():
    lines = [LogLine(ONSET + i, "checkout", "dial tcp payments:8080: connect: connection refused") for i in range(4)]
    lines.append(LogLine(ONSET, "payments", "dial tcp payments:8080: connect: connection refused"))
    [signal] = extract_signals(lines)
    assert (signal.caller, signal.target, signal.mechanism, signal.count) == (
        "checkout",
        "payments",
        "connection_refused",
        4,
    )
    assert signal.first_seen == ONSET


def test_a_chain_with_the_target_down_is_confident_and_names_the_target():
    lines = [
        LogLine(
            ONSET + i,
            "payments",
            "could not connect to server payments-db.x.rds.amazonaws.com:5432: Connection refused",
        )
        for i in range(5)
    ]
    state = TargetState("payments-db", False, "RDS instance payments-db is stopped", "get_rds_instance_status")
    caller = Anomaly("payments", MetricKind.ERROR_RATIO, ONSET, 0.001, 0.4, 0.5, 30.0)
    [chain] = build_chains(extract_signals(lines), states=[state], anomalies=[caller])
    assert chain.target == "payments-db"
    assert chain.confidence >= 80
    assert chain.describe().startswith(
        "payments get connection refused from payments-db; RDS instance payments-db is stopped"
    )


def test_logs_alone_are_only_a_hypothesis_and_a_healthy_target_lowers_it():
    lines = [LogLine(ONSET, "checkout", "request to inventory:8080 timed out")]
    [alone] = build_chains(extract_signals(lines))
    [healthy] = build_chains(extract_signals(lines), states=[TargetState("inventory", True, "ok", "list_pods")])
    assert alone.confidence < 50
    assert healthy.confidence < alone.confidence
