"""Datastores outside Kubernetes-native instrumentation, as their usual Prometheus exporters describe them
(postgres_exporter, mysqld_exporter, mongodb_exporter, redis_exporter, memcached_exporter). The exporter's scrape
job is named after the datastore; ``<type>_up`` is 0 while the datastore is down."""

from __future__ import annotations

from tests.support.metrics_sim.latent import Sim
from tests.support.metrics_sim.series import Builder


def render_datastore(sim: Sim, b: Builder, name: str, host: str) -> None:
    st = sim.states[name]
    n = sim.cells
    pod = st.pods[0]
    up = [0.0 if (i in pod.down or st.rps[i] < 1e-6 < max(st.rps)) else 1.0 for i in range(n)]
    in_flight = [r * p for r, p in zip(st.rps, st.p50, strict=True)]
    kind = name.rsplit("-", 1)[-1]
    port = {"postgres": 9187, "db": 9187, "mysql": 9104, "mongodb": 9216, "redis": 9121, "cache": 9121}.get(kind, 9150)
    tgt = b.target(f"exporter:{name}")
    labels = {"job": name, "instance": f"{host}:{port}"}
    live = tgt.only(lambda i: up[i] > 0)  # the exporter answers, the datastore does not
    if kind in ("postgres", "db"):
        db = {**labels, "datname": name.split("-")[0]}
        b.gauge(
            "pg_up",
            "Whether the last scrape of metrics from PostgreSQL was able to connect to the server.",
            labels,
            tgt,
            up,
        )
        b.gauge(
            "pg_stat_activity_count",
            "number of connections in this state",
            {**db, "state": "active"},
            live,
            [f * 1.2 + 1 for f in in_flight],
        )
        b.gauge(
            "pg_stat_database_numbackends",
            "Number of backends currently connected to this database.",
            db,
            live,
            [u * (12 + f) for u, f in zip(up, in_flight, strict=True)],
        )
        b.counter(
            "pg_stat_database_xact_commit",
            "Number of transactions in this database that have been committed.",
            db,
            live,
            st.rps,
            start=8e8,
        )
        b.counter(
            "pg_stat_database_xact_rollback",
            "Number of transactions in this database that have been rolled back.",
            db,
            live,
            [r * e for r, e in zip(st.rps, st.err, strict=True)],
            start=2e5,
        )
        b.gauge("pg_database_size_bytes", "Disk space used by the database", db, live, st.fs, unit="bytes")
    elif kind == "mysql":
        b.gauge("mysql_up", "Whether the MySQL server is up.", labels, tgt, up)
        b.gauge(
            "mysql_global_status_threads_connected",
            "Generic metric from SHOW GLOBAL STATUS.",
            labels,
            live,
            [u * (10 + f) for u, f in zip(up, in_flight, strict=True)],
        )
        b.gauge(
            "mysql_global_status_threads_running",
            "Generic metric from SHOW GLOBAL STATUS.",
            labels,
            live,
            [u * (1 + f * 1.2) for u, f in zip(up, in_flight, strict=True)],
        )
        b.counter(
            "mysql_global_status_queries", "Generic metric from SHOW GLOBAL STATUS.", labels, live, st.rps, start=3e9
        )
        b.gauge(
            "mysql_info_schema_table_size",
            "The size of the table components.",
            {**labels, "schema": name.split("-")[0], "component": "data_length"},
            live,
            st.fs,
        )
    elif kind == "mongodb":
        b.gauge("mongodb_up", "Whether MongoDB is up.", labels, tgt, up)
        b.gauge(
            "mongodb_connections",
            "The number of connections.",
            {**labels, "state": "current"},
            live,
            [u * (20 + f) for u, f in zip(up, in_flight, strict=True)],
        )
        b.counter(
            "mongodb_op_counters",
            "The total number of operations since the mongod instance last started.",
            {**labels, "type": "query"},
            live,
            st.rps,
            resets=pod.restarts,
        )
        b.gauge(
            "mongodb_dbstats_storage_size",
            "The total amount of space allocated to collections in this database.",
            {**labels, "database": name.split("-")[0]},
            live,
            st.fs,
        )
    elif kind in ("redis", "cache"):
        b.gauge("redis_up", "Information about the Redis instance", labels, tgt, up)
        b.gauge(
            "redis_connected_clients",
            "connected_clients metric",
            labels,
            live,
            [u * (15 + f) for u, f in zip(up, in_flight, strict=True)],
        )
        b.counter(
            "redis_commands_processed", "commands_processed_total metric", labels, live, st.rps, resets=pod.restarts
        )
        b.counter(
            "redis_cpu_user_seconds",
            "cpu_user_seconds_total metric",
            labels,
            live,
            [c * 0.8 for c in st.cpu],
            resets=pod.restarts,
            unit="seconds",
            integer=False,
        )
        b.counter(
            "redis_cpu_sys_seconds",
            "cpu_sys_seconds_total metric",
            labels,
            live,
            [c * 0.2 for c in st.cpu],
            resets=pod.restarts,
            unit="seconds",
            integer=False,
        )
        b.gauge("redis_memory_used_bytes", "memory_used_bytes metric", labels, live, pod.mem, unit="bytes")
    else:  # memcached
        b.gauge("memcached_up", "Could the memcached server be reached.", labels, tgt, up)
        b.gauge(
            "memcached_current_connections",
            "Current number of open connections.",
            labels,
            live,
            [u * (15 + f) for u, f in zip(up, in_flight, strict=True)],
        )
        b.counter(
            "memcached_commands",
            "Total number of all requests broken down by command (get, set, etc.) and status.",
            {**labels, "command": "get", "status": "hit"},
            live,
            st.rps,
            resets=pod.restarts,
        )
        b.counter(
            "memcached_rusage_user_seconds",
            "Accumulated user time for this process.",
            labels,
            live,
            st.cpu,
            resets=pod.restarts,
            unit="seconds",
            integer=False,
        )
        b.gauge(
            "memcached_current_bytes",
            "Current number of bytes used to store items.",
            labels,
            live,
            pod.mem,
            unit="bytes",
        )
