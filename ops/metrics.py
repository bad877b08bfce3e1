"""Prometheus metrics (prometheus-client). Every process records into its own files when
``PROMETHEUS_MULTIPROC_DIR`` is set (``scripts/serve.sh`` and the container set it), and ``/metrics`` aggregates
the files of every process on the host (the library's multiprocess mode); without it the process's own registry
is served. No label carries a tenant: org and team ids would make the series count grow with customers.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterable
from pathlib import Path

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    generate_latest,
    multiprocess,
)
from prometheus_client.registry import Collector

MULTIPROC_DIR_ENV = "PROMETHEUS_MULTIPROC_DIR"
# Gauges read from the queues at scrape time (ops/queue_stats.py).
QUEUE_DEPTH = "incidentfox_queue_depth"
QUEUE_OLDEST_AGE = "incidentfox_queue_oldest_age_seconds"
WORKER_HEARTBEAT_AGE = "incidentfox_worker_heartbeat_age_seconds"
SCRAPE_TIME_METRICS = (QUEUE_DEPTH, QUEUE_OLDEST_AGE, WORKER_HEARTBEAT_AGE)
CONTENT_TYPE = CONTENT_TYPE_LATEST

INVESTIGATIONS_STARTED = Counter(
    "incidentfox_investigations_started", "Investigations started, by agent and trigger.", ["agent", "trigger"]
)
INVESTIGATIONS_FINISHED = Counter(
    "incidentfox_investigations", "Investigations finished, by terminal status and agent.", ["agent", "status"]
)
INVESTIGATION_DURATION = Histogram(
    "incidentfox_investigation_duration_seconds",
    "Time from a worker starting an investigation to its terminal state.",
    ["agent", "status"],
    buckets=(0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600),
)
INVESTIGATIONS_DEFERRED = Counter(
    "incidentfox_investigations_deferred",
    "Investigation starts put back on the queue because their org already ran its cap of investigations.",
)
TOOL_CALL_DURATION = Histogram(
    "incidentfox_tool_call_duration_seconds",
    "Latency of the engine's tool calls, by data source.",
    ["source"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60),
)
TOOL_CALL_FAILURES = Counter("incidentfox_tool_call_failures", "Tool calls that failed, by data source.", ["source"])
WEBHOOK_DELIVERIES = Counter(
    "incidentfox_webhook_deliveries", "Outbound webhook delivery attempts, by outcome.", ["outcome"]
)
INBOUND_ALERTS = Counter(
    "incidentfox_inbound_alerts",
    "Alerts received on the inbound webhooks, by provider and outcome (started or the skip reason).",
    ["provider", "outcome"],
)
RATE_LIMITED = Counter("incidentfox_rate_limited_requests", "Requests refused with 429, by bucket.", ["bucket"])
HTTP_REQUESTS = Counter(
    "incidentfox_http_requests", "HTTP requests answered, by method and status.", ["method", "status"]
)
HTTP_DURATION = Histogram(
    "incidentfox_http_request_duration_seconds",
    "Time to answer an HTTP request (to the response headers).",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
TASK_ROWS_RECONCILED = Counter(
    "incidentfox_task_rows_reconciled",
    "Task-queue rows left running by a worker that died, marked failed by the maintenance loop.",
)

# Process metrics, one series per live process (multiprocess mode cannot run the library's process collector for
# other processes, so each process publishes its own numbers; "liveall" drops a process's series once it is dead).
_PROCESS_GAUGES = {
    "process_resident_memory_bytes": Gauge(
        "incidentfox_process_resident_memory_bytes", "Resident memory.", ["role"], multiprocess_mode="liveall"
    ),
    "process_cpu_seconds": Gauge(
        "incidentfox_process_cpu_seconds", "CPU time used (user + system).", ["role"], multiprocess_mode="liveall"
    ),
    "process_open_fds": Gauge(
        "incidentfox_process_open_fds", "Open file descriptors.", ["role"], multiprocess_mode="liveall"
    ),
    "process_start_time_seconds": Gauge(
        "incidentfox_process_start_time_seconds", "Start time (Unix epoch).", ["role"], multiprocess_mode="liveall"
    ),
}
_process_collector = ProcessCollector(registry=None)
_last_process_refresh = 0.0


def refresh_process_metrics(role: str, *, min_interval: float = 10.0) -> None:
    """Publish this process's memory, CPU, descriptors and start time (at most every ``min_interval`` s)."""
    global _last_process_refresh
    now = time.monotonic()
    if now - _last_process_refresh < min_interval:
        return
    _last_process_refresh = now
    for family in _process_collector.collect():
        for sample in family.samples:
            name = sample.name.removesuffix("_total")
            if name in _PROCESS_GAUGES:
                _PROCESS_GAUGES[name].labels(role=role).set(sample.value)


def multiprocess_dir() -> Path | None:
    value = os.environ.get(MULTIPROC_DIR_ENV)
    return Path(value) if value else None


def process_registry() -> CollectorRegistry:
    """Every process's metrics on this host (multiprocess mode), else this process's own registry."""
    directory = multiprocess_dir()
    if directory is None:
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=str(directory))  # type: ignore[no-untyped-call]
    return registry


def exposition(extra: Iterable[Collector] = ()) -> bytes:
    """The text exposition of every process's metrics plus ``extra`` collectors (read at scrape time)."""
    scraped = CollectorRegistry()
    for collector in extra:
        scraped.register(collector)
    return generate_latest(process_registry()) + generate_latest(scraped)


_LIVE_FILE = re.compile(r"^gauge_live\w+_(\d+)\.db$")


def forget_dead_processes() -> int:
    """Drop the live-gauge files of processes that no longer exist on this host (the library's
    ``mark_process_dead``); returns how many processes were forgotten."""
    directory = multiprocess_dir()
    if directory is None or not directory.is_dir():
        return 0
    pids = {int(match[1]) for name in os.listdir(directory) if (match := _LIVE_FILE.match(name))}
    dead = [pid for pid in pids if not _alive(pid)]
    for pid in dead:
        multiprocess.mark_process_dead(pid, str(directory))  # type: ignore[no-untyped-call]
    return len(dead)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
