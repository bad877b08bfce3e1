"""How to call each implemented tool, written for a language model.

In LLM mode (``engine.llm.review``) every implemented tool is offered to the model as a function taking one
argument, ``params``: a JSON object that the tool's implementation reads keys from (``func(client, params)``).
The implementations' docstrings are written for engineers and rarely say which keys they read, so a model left
with them guesses key names, and a wrong key is silently ignored (a missing window falls back to the last hour, a
missing ``name`` fails the call). ``TOOL_GUIDE`` gives the model, per tool, what the tool returns, every key its
implementation really reads (with type, default and whether it is required) and one example call.

Each entry has the same three-line shape, which the tests parse to check it against the implementations::

    <one sentence: what the tool returns>
    params: key (type, default …); other_key (…)        or  params: none
    example: {"key": "value"}

Items on the ``params`` line are separated by ``"; "`` and never contain one themselves.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

_TIME = "time: ISO 8601 or unix seconds, not relative"
_NAMESPACE = "namespace (string, default: the team's default namespace)"
_REPO = "repo (string, owner/name or a bare name under the team's org, default: the team's default repo)"
_LOG_QUERY = "query (string, text to find, or raw LogQL starting with { that ignores service and errors)"
_LOG_FILTERS = (
    "service (string, optional)",
    "errors (boolean, default false, true keeps only lines with error words)",
    "limit (integer, default 500, max 5000)",
)
_LOG_GROUPS = (
    "log_group (string, default: configured groups)",
    "log_groups (list of strings, read if no log_group)",
)
_SIGNALS = "request_rate, error_ratio, latency_p50, latency_p95, latency_p99"


def _window(default_minutes: int) -> tuple[str, ...]:
    return (
        f"start ({_TIME})",
        "end (time, default now)",
        f"minutes (number, default {default_minutes}, span before end if no start)",
    )


def _entry(returns: str, params: tuple[str, ...], example: Mapping[str, Any]) -> str:
    """One guide entry in the three-line shape the module docstring describes."""
    listed = "; ".join(params) if params else "none"
    return f"{returns}\nparams: {listed}\nexample: {json.dumps(example)}"


_GUIDE: dict[str, str] = {
    # Kubernetes
    "list_pods": _entry(
        "Lists up to 500 pods of a namespace with phase, container states, restarts and last exit reasons.",
        (_NAMESPACE, "label_selector (string, a Kubernetes label selector, optional)"),
        {"namespace": "shop", "label_selector": "app=checkout"},
    ),
    "describe_pod": _entry(
        "Returns one pod's phase, container states, restarts and last exit reasons, plus the events about it.",
        ("name (string, required, the pod name)", _NAMESPACE),
        {"name": "checkout-7d9f8c-x2k4p", "namespace": "shop"},
    ),
    "get_pod_logs": _entry(
        "Returns the tail of one pod container's log (the call's output shows its last 40 lines).",
        (
            "name (string, required, the pod name)",
            _NAMESPACE,
            "container (string, required when the pod has several containers)",
            "previous (boolean, default false, true reads the previous, crashed container's log)",
            "tail_lines (integer, default 500)",
        ),
        {"name": "checkout-7d9f8c-x2k4p", "namespace": "shop", "previous": True},
    ),
    "get_pod_events": _entry(
        "Returns the events whose involved object has this name (a pod, or any other object).",
        ("name (string, required, the object name)", _NAMESPACE),
        {"name": "checkout-7d9f8c-x2k4p", "namespace": "shop"},
    ),
    "list_events": _entry(
        "Returns the Warning events of a namespace.",
        (_NAMESPACE,),
        {"namespace": "shop"},
    ),
    "describe_deployment": _entry(
        "Returns a deployment's desired, ready and available replicas and images, plus the events about it.",
        ("name (string, required, the deployment name)", _NAMESPACE),
        {"name": "checkout", "namespace": "shop"},
    ),
    "get_deployment_history": _entry(
        "Returns a deployment's rollout history: its ReplicaSets oldest revision first, with images and replicas.",
        ("name (string, required, the deployment name)", _NAMESPACE),
        {"name": "checkout", "namespace": "shop"},
    ),
    "describe_service": _entry(
        "Returns a Kubernetes service and how many ready endpoint addresses it has.",
        ("name (string, required, the service name)", _NAMESPACE),
        {"name": "checkout", "namespace": "shop"},
    ),
    "get_pod_resource_usage": _entry(
        "Returns current CPU (millicores) and memory use from metrics.k8s.io for one pod or all pods of a namespace.",
        ("name (string, a pod name, omit for every pod)", _NAMESPACE),
        {"namespace": "shop"},
    ),
    "describe_node": _entry(
        "Returns a node's conditions (Ready, MemoryPressure, DiskPressure, PIDPressure).",
        ("name (string, required, the node name)",),
        {"name": "ip-10-0-1-23.ec2.internal"},
    ),
    # Metrics
    "query_prometheus": _entry(
        "Runs an instant PromQL query and returns each series' labels and value.",
        (
            "query (string, PromQL, required)",
            f"time ({_TIME}, default: the current time)",
            "limit (integer, default 50, max 500)",
            "start (time, turns the call into query_prometheus_range, as end, minutes and service do)",
            "service (string, turns the call into query_prometheus_range)",
        ),
        {"query": 'sum by (service) (rate(http_requests_total{code=~"5.."}[5m]))'},
    ),
    "query_prometheus_range": _entry(
        "Returns PromQL range series (points, min, max, last) or a service's auto-discovered golden signals.",
        (
            "query (string, PromQL, required unless service)",
            'service (string, one, comma-separated or "*" for all)',
            *_window(60),
            "step (seconds, default span/1000, min 15)",
            f"signals (with service, comma-separated, default all {_SIGNALS})",
            "rate_window (seconds, default 4 x step)",
        ),
        {"service": "checkout", "minutes": 120},
    ),
    "grafana_query": _entry(
        "Runs PromQL via a Grafana Prometheus data source: instant, or range/golden signals given window or service.",
        (
            "query (string, PromQL, required unless service)",
            'service (string, one, comma-separated or "*")',
            "datasource (string, data source uid, default: team's)",
            "time (instant query time)",
            f"start ({_TIME})",
            "end (time, default now)",
            "minutes (number, default 60)",
            "step (seconds)",
            f"signals (comma-separated, default all: {_SIGNALS})",
            "limit (integer, default 50)",
        ),
        {"service": "checkout", "minutes": 60},
    ),
    "get_prometheus_alerts": _entry(
        "Returns the alerts Prometheus has pending or firing now, with state, service, start time and summary.",
        (),
        {},
    ),
    # Logs
    "search_logs": _entry(
        "Returns matching log lines in a time window, per service, each '<ISO time> <message>'.",
        (_LOG_QUERY, *_LOG_FILTERS, *_window(60)),
        {"service": "checkout", "errors": True, "minutes": 30},
    ),
    "get_logs_around_timestamp": _entry(
        "Returns log lines from window_seconds before to window_seconds after a moment, as search_logs does.",
        (
            f"timestamp ({_TIME}, required)",
            "window_seconds (number, default 300, on each side)",
            _LOG_QUERY,
            *_LOG_FILTERS,
        ),
        {"timestamp": "2024-01-15T10:00:00Z", "service": "checkout", "window_seconds": 120},
    ),
    "search_logs_by_pattern": _entry(
        "Returns the window's log lines matching a regular expression (case-insensitive), per service.",
        ("pattern (string, a regular expression, required)", *_LOG_FILTERS, *_window(60)),
        {"pattern": "timeout|refused", "service": "checkout", "minutes": 30},
    ),
    "get_log_statistics": _entry(
        "Summarises the window's log lines: counts per service and level, and the most telling line patterns.",
        (_LOG_QUERY, *_LOG_FILTERS, *_window(60)),
        {"service": "checkout", "minutes": 30},
    ),
    "extract_log_signatures": _entry(
        "Counts known failure signatures (connection refused, OOM, pool exhausted ...) in the window's failing lines.",
        (
            _LOG_QUERY,
            "service (string, optional)",
            "errors (boolean, default true here)",
            "all_lines (boolean, default false, true reads every line, not only failing ones)",
            "limit (integer, default 500, max 5000)",
            *_window(60),
        ),
        {"service": "checkout", "minutes": 30},
    ),
    # Datadog
    "query_datadog_metrics": _entry(
        "Returns the series of a Datadog metric query over a window, with min, max and last value per series.",
        (
            "query (string, Datadog metric query, required)",
            "service (string, optional, names series without a service tag)",
            "kind (string, optional, e.g. error_ratio, default from the metric name)",
            *_window(60),
        ),
        {"query": "avg:trace.http.request.errors{service:checkout}", "minutes": 60},
    ),
    "get_datadog_monitors": _entry(
        "Lists Datadog monitors in Alert, Warn or No Data with their query and since when.",
        ("service (string, optional, only monitors tagged service:<service>)",),
        {"service": "checkout"},
    ),
    "list_datadog_events": _entry(
        "Lists Datadog events in a window; deploy and release events are returned as changes.",
        ("service (string, optional, only events tagged service:<service>)", *_window(360)),
        {"service": "checkout", "minutes": 180},
    ),
    # Sentry
    "list_sentry_issues": _entry(
        "Lists Sentry issues seen in a window: title, culprit, first and last seen, event count.",
        (
            "project (string, default: the service's project or the configured ones)",
            "service (string, optional)",
            "query (string, Sentry search, default is:unresolved)",
            "limit (integer, default 25, max 100)",
            *_window(360),
        ),
        {"service": "checkout", "minutes": 180},
    ),
    "get_sentry_issue_events": _entry(
        "Returns one Sentry issue's events in a window as '<ISO time> ERROR <title>' lines.",
        (
            "issue_id (string, required)",
            "service (string, optional, labels the lines)",
            "limit (integer, default 100, max 1000)",
            *_window(360),
        ),
        {"issue_id": "4505", "minutes": 120},
    ),
    # AWS
    "get_cloudwatch_logs": _entry(
        "Returns CloudWatch Logs events of log groups in a time window, as '<ISO time> <message>' lines.",
        (
            *_LOG_GROUPS,
            "filter_pattern (string, CloudWatch filter pattern, optional)",
            "service (string, labels the lines)",
            "limit (integer, default 500, max 5000)",
            *_window(60),
        ),
        {"log_group": "/ecs/checkout", "filter_pattern": "ERROR", "minutes": 30},
    ),
    "query_cloudwatch_insights": _entry(
        "Runs a CloudWatch Logs Insights query and returns its result rows as field=value lines.",
        (
            "query (string, Insights query, default: the latest 200 messages)",
            *_LOG_GROUPS,
            "limit (integer, default 200, max 10000)",
            *_window(60),
            "wait_seconds (number, default 20)",
        ),
        {
            "query": "fields @timestamp, @message | filter @message like /ERROR/ | limit 50",
            "log_group": "/ecs/checkout",
        },
    ),
    "get_cloudwatch_metrics": _entry(
        "Returns one CloudWatch metric's datapoints in a window (count, min, max, last).",
        (
            "namespace (string, required, e.g. AWS/RDS)",
            "metric_name (string, required)",
            "dimensions (object of name to value, optional)",
            "stat (string, default Average)",
            "period (integer seconds, default 60)",
            "service (string, series label)",
            *_window(60),
        ),
        {
            "namespace": "AWS/RDS",
            "metric_name": "DatabaseConnections",
            "dimensions": {"DBInstanceIdentifier": "orders-db"},
            "stat": "Maximum",
        },
    ),
    "describe_ec2_instance": _entry(
        "Returns an EC2 instance's state, type and system and instance status checks.",
        ("instance_id (string, required)",),
        {"instance_id": "i-0abc123def4567890"},
    ),
    "get_rds_instance_status": _entry(
        "Returns an RDS instance's status, engine, class and endpoint.",
        (
            "db_instance_identifier (string, required)",
            "instance (string, accepted instead of db_instance_identifier)",
        ),
        {"db_instance_identifier": "orders-db"},
    ),
    "describe_lambda_function": _entry(
        "Returns a Lambda function's runtime, memory, timeout, state and last update time.",
        ("function_name (string, required, name or ARN)",),
        {"function_name": "resize-images"},
    ),
    "list_ecs_tasks": _entry(
        "Lists an ECS cluster's running and stopped tasks (up to 100) with their stop reasons.",
        ('cluster (string, default "default")', "service (string, an ECS service name, optional)"),
        {"cluster": "prod", "service": "checkout"},
    ),
    # Code
    "list_recent_commits": _entry(
        "Returns the commits to a repository in a time window (time, short sha, title).",
        (
            _REPO,
            "path (string, only commits touching this path, optional)",
            "service (string, the service the commits change, default: the repo name)",
            "limit (integer, default 50, max 500)",
            *_window(1440),
        ),
        {"repo": "acme/checkout", "minutes": 360},
    ),
    "list_pull_requests": _entry(
        "Returns the pull requests merged into a repository in a time window (merge time, number, title, author).",
        (
            _REPO,
            "service (string, the service the changes belong to, default: the repo name)",
            "limit (integer, default 30, max 300)",
            *_window(1440),
        ),
        {"repo": "acme/checkout", "start": "2024-01-14T10:00:00Z", "end": "2024-01-15T10:00:00Z"},
    ),
    "list_deployments": _entry(
        "Returns the GitHub deployments of a repository created in a time window, with their latest status.",
        (
            _REPO,
            "environment (string, optional)",
            "service (string, the service deployed, default: the repo name)",
            "limit (integer, default 30, max 300)",
            *_window(1440),
        ),
        {"repo": "acme/checkout", "environment": "production"},
    ),
    "search_github_code": _entry(
        "Searches code for one exact phrase and returns the matching files as owner/repo/path.",
        (
            "query (string, required, searched as one exact phrase)",
            "repo (string, default: the team's default repo, else every repo of its org)",
            "limit (integer, default 10, max 50)",
        ),
        {"query": "DB_POOL_SIZE", "repo": "acme/checkout"},
    ),
    "read_github_file": _entry(
        "Returns the text of one file in a repository (its first 20000 characters).",
        (
            "path (string, required, the file path in the repo)",
            _REPO,
            "ref (string, a branch, tag or commit sha, default: the default branch)",
        ),
        {"repo": "acme/checkout", "path": "config/database.yml", "ref": "main"},
    ),
    # Analysis of data already fetched
    "detect_anomalies": _entry(
        "Lists onsets in the metric series this investigation already fetched, inside its window (fetches nothing).",
        (
            'service (string or list, comma-separated services, default or "*": all)',
            f"signals (string or list of metric kinds such as {_SIGNALS}, default all)",
        ),
        {"service": "checkout", "signals": "error_ratio,latency_p99"},
    ),
    # The team's knowledge base
    "kb_retrieve": _entry(
        "Lists the team's runbooks, notes and postmortems most relevant to a query, one passage each.",
        (
            "query (string, required, an alert name, a symptom or a question)",
            "service (string, optional, prefers documents about this service)",
            "top_k (integer, default 3, max 10)",
        ),
        {"query": "KubePodCrashLooping", "service": "checkout"},
    ),
}

TOOL_GUIDE: Mapping[str, str] = MappingProxyType(_GUIDE)


def describe_tool(name: str, fallback: str = "") -> str:
    """The guide entry for tool ``name`` (what it returns, its ``params`` keys, an example), else ``fallback``."""
    return TOOL_GUIDE.get(name, fallback)
