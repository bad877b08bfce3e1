"""Plans for the telemetry sources: metrics first (when and where did things change), then logs, changes and
dependency state around the service that moved first.

The metrics step's follow-up runs the anomaly detector on what it fetched, so later steps look at the right
service and time instead of everything everywhere.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from engine.analysis_context import AnalysisContext, parse_window
from engine.analyzers.dependency_logs import log_signals
from engine.analyzers.metric_findings import ranking
from engine.connectors.params import iso
from engine.plan_steps import PlanContext, Step
from engine.registry import ToolResult, tools_available

DEFAULT_LOOKBACK = timedelta(hours=3)
BASELINE = timedelta(minutes=65)  # read before a stated incident start
AFTER_START = timedelta(minutes=30)  # read after it
# The tools that sweep every service's golden signals, in order of preference (Grafana proxies a Prometheus).
METRICS_TOOLS = ("query_prometheus_range", "query_prometheus", "grafana_query")
SIMULTANEOUS = 120.0
MAX_SUSPECTS = 3
# Without discovery (a stand-in that only knows golden signals), these are the signals every service gets.
SWEEP_SIGNALS = "request_rate,error_ratio,latency_p99,saturation"
# Resolution of the sweeps: a 15 s step up to about six hours; longer windows get a coarser step so one sweep
# stays near 1,500 points per series (a minute's resolution over 24 h is plenty to place an onset).
MAX_POINTS = 1_500

# Planner-only extras: when a specialist is enabled, the planner may also use its source's sibling tools.
_EXTRAS: dict[str, tuple[str, ...]] = {
    "query_prometheus": ("query_prometheus_range", "get_prometheus_alerts"),
    "search_logs_by_pattern": ("search_logs", "get_logs_around_timestamp"),
    "search_github_code": ("list_deployments", "list_pull_requests"),
    "list_pull_requests": ("list_deployments",),
    "get_cloudwatch_logs": ("get_cloudwatch_metrics", "get_rds_instance_status"),
    "get_rds_instance_status": ("get_cloudwatch_metrics",),
    "get_datadog_monitors": ("query_datadog_metrics", "list_datadog_events"),
    "list_sentry_issues": ("get_sentry_issue_events",),
}
MAX_MONITOR_QUERIES = 3


def planner_extras(delegated: list[str], enabled_sources: Mapping[str, Any]) -> list[str]:
    wanted = [extra for tool in delegated for extra in _EXTRAS.get(tool, ())]
    return [t for t in tools_available(wanted, enabled_sources) if t not in delegated]


def _lookback(plan: PlanContext) -> timedelta:
    text = plan.request.context.time_window
    return parse_window(text) if text else DEFAULT_LOOKBACK


def _analysis_ctx(plan: PlanContext) -> AnalysisContext:
    if plan.analysis is not None:
        return plan.analysis
    return AnalysisContext(
        now=plan.request.reference_now(), window=_lookback(plan), service=plan.request.context.service
    )


def sweep_window(plan: PlanContext) -> tuple[float, float]:
    """The window the metrics are read over: around the stated start of the incident, else the lookback to now.

    With a stated start, the hour before it is the baseline and the half hour after it shows what changed
    (clipped to now); everything after that only adds noise and query cost.
    """
    now = plan.request.reference_now().timestamp()
    anchor = plan.analysis.anchor if plan.analysis is not None else None
    if anchor is not None and anchor.timestamp() <= now:
        start = anchor.timestamp() - BASELINE.total_seconds()
        return start, min(now, anchor.timestamp() + AFTER_START.total_seconds())
    return now - _lookback(plan).total_seconds(), now


def telemetry_playbook(plan: PlanContext) -> list[Step]:
    tools = set(plan.tools)
    start_ts, end_ts = sweep_window(plan)
    span = timedelta(seconds=end_ts - start_ts)
    window = {"start": iso(start_ts), "end": iso(end_ts)}
    service = plan.request.context.service
    steps: list[Step] = []
    if "get_prometheus_alerts" in tools:
        steps.append(Step("Reading active Prometheus alerts", "get_prometheus_alerts", {}))
    if "get_datadog_monitors" in tools and "datadog" in plan.settings:  # the demo has no Datadog data
        steps.append(
            Step(
                "Reading alerting Datadog monitors",
                "get_datadog_monitors",
                {"service": service} if service else {},
                follow_up=lambda result: _monitor_metrics(plan, result, window),
            )
        )
    metrics_tool = next((t for t in METRICS_TOOLS if t in tools), None)
    if metrics_tool is not None:
        step = max(15.0, span.total_seconds() / MAX_POINTS)
        params: dict[str, Any] = {"service": "*", **window, "step": step, "signals": SWEEP_SIGNALS}
        params["discover"] = True  # every metric family the server holds, not only the request counter
        if plan.request.context.namespace:
            params["namespace"] = plan.request.context.namespace
        steps.append(
            Step(
                "Discovering the metrics and reading every component's signals",
                metrics_tool,
                params,
                follow_up=lambda result: _after_metrics(plan, result),
            )
        )
    elif service:
        steps.extend(_around(plan, [service], None))
    else:
        steps.extend(_unscoped_changes(plan))
    return steps


def _monitor_metrics(plan: PlanContext, result: ToolResult, window: dict[str, str]) -> list[Step]:
    """Read the metric behind each alerting monitor over the sweep window, so its onset can be placed."""
    if "query_datadog_metrics" not in plan.tools or not isinstance(result.data, list):
        return []
    return [
        Step(
            f"Reading the metric behind a Datadog monitor: {item['query']}",
            "query_datadog_metrics",
            {"query": item["query"], **({"service": item["service"]} if item.get("service") else {}), **window},
        )
        for item in result.data[:MAX_MONITOR_QUERIES]
    ]


def _unscoped_changes(plan: PlanContext) -> list[Step]:
    """With no service to start from and no metrics to find one: every recent deploy event and error issue."""
    now = plan.request.reference_now().timestamp()
    window = {"start": iso(now - _lookback(plan).total_seconds() - 6 * 3600), "end": iso(now)}
    steps: list[Step] = []
    if "list_datadog_events" in plan.tools and "datadog" in plan.settings:
        steps.append(Step("Listing recent Datadog events", "list_datadog_events", window))
    if "list_sentry_issues" in plan.tools and plan.settings.get("sentry", {}).get("projects"):
        steps.append(Step("Listing recent Sentry issues", "list_sentry_issues", window))
    return steps


def _after_metrics(plan: PlanContext, result: ToolResult) -> list[Step]:
    ctx = _analysis_ctx(plan)
    found = ranking(result.observations, ctx)
    leaders = found.components[:MAX_SUSPECTS] if found is not None else []
    suspects = [c.name for c in leaders]
    named = plan.request.context.service
    if named and named not in suspects:
        suspects.append(named)
    steps = _around(plan, suspects[:MAX_SUSPECTS], leaders[0].onset if leaders else None)
    if _detects_anomalies(plan) and result.observations.series:
        # The metrics specialist states the onsets it found in what it fetched (the planner's follow-ups
        # already run the same detector to pick suspects, so it does not spend a step on it).
        steps.insert(0, Step("Detecting anomalies in the fetched metrics", "detect_anomalies", {}))
    return steps


def _detects_anomalies(plan: PlanContext) -> bool:
    return "detect_anomalies" in plan.tools and plan.request.agent != "planner"


def _around(plan: PlanContext, suspects: list[str], onset: float | None) -> list[Step]:
    """Logs of every service, then changes and rollout history of the suspects."""
    tools = set(plan.tools)
    now = plan.request.reference_now()
    end = now.timestamp()
    start = (now - _lookback(plan)).timestamp()
    steps: list[Step] = []
    if "search_logs" in tools:
        log_start = max(start, onset - 15 * 60) if onset is not None else start
        # Every service's errors at once: the callers' logs name the dependency that fails.
        steps.append(
            Step(
                "Searching all services' logs for errors",
                "search_logs",
                {"errors": True, "start": iso(log_start), "end": iso(end), "limit": 1000},
                follow_up=lambda result: _after_logs(plan, result),
            )
        )
    change_window = {"start": iso((onset if onset is not None else end) - 6 * 3600), "end": iso(end)}
    namespace = None
    if "kubernetes" in plan.settings:
        namespace = plan.request.context.namespace or plan.settings["kubernetes"].get("default_namespace") or "default"
    for service in suspects:
        repo = {"repo": _repo(plan, service), "service": service, **change_window}
        by_service = {"service": service, **change_window}
        if "list_deployments" in tools:
            steps.append(Step(f"Listing recent deployments of {service}", "list_deployments", repo))
        if "list_pull_requests" in tools:
            steps.append(Step(f"Listing recently merged pull requests of {service}", "list_pull_requests", repo))
        if "list_datadog_events" in tools and "datadog" in plan.settings:
            steps.append(Step(f"Listing Datadog events of {service}", "list_datadog_events", by_service))
        if "list_sentry_issues" in tools and "sentry" in plan.settings:
            steps.append(Step(f"Listing Sentry issues of {service}", "list_sentry_issues", by_service))
        if "get_deployment_history" in tools and namespace is not None:
            steps.append(
                Step(
                    f"Reading rollout history of {service}",
                    "get_deployment_history",
                    {"name": service, "namespace": namespace},
                )
            )
    return steps


def _repo(plan: PlanContext, service: str) -> str:
    settings = plan.settings.get("github", {})
    default = settings.get("default_repo")
    return str(default) if default and not settings.get("default_org") else service


def _after_logs(plan: PlanContext, result: ToolResult) -> list[Step]:
    """Check the state of the dependency the logs say the service cannot reach."""
    tools = set(plan.tools)
    steps: list[Step] = []
    targets: list[str] = []
    for signal in log_signals(result.observations):
        if signal.target not in targets:
            targets.append(signal.target)
    now = plan.request.reference_now()
    end = now.timestamp()
    start = (now - _lookback(plan)).timestamp()
    for target in targets[:2]:
        if "get_rds_instance_status" in tools and "aws" in plan.settings:
            steps.append(
                Step(
                    f"Checking RDS instance {target}",
                    "get_rds_instance_status",
                    {"db_instance_identifier": target},
                )
            )
        if "get_cloudwatch_metrics" in tools and "aws" in plan.settings:
            steps.append(
                Step(
                    f"Reading {target} database connections",
                    "get_cloudwatch_metrics",
                    {
                        "namespace": "AWS/RDS",
                        "metric_name": "DatabaseConnections",
                        "dimensions": {"DBInstanceIdentifier": target},
                        "stat": "Maximum",
                        "period": 60,
                        "start": iso(start),
                        "end": iso(end),
                    },
                )
            )
        if "list_pods" in tools and "kubernetes" in plan.settings:
            namespace = plan.request.context.namespace or plan.settings["kubernetes"].get("default_namespace")
            steps.append(
                Step(
                    f"Checking pods of {target}",
                    "list_pods",
                    {"namespace": namespace or "default", "label_selector": f"app={target}"},
                )
            )
    return steps
