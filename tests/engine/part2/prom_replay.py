"""Prometheus HTTP API answers for a small shop, served by ``replay_server``: payments' 5xx ratio jumps from 0.1%
to 30% at ``ONSET`` while request rates stay steady everywhere. The discovery, range-query and alert endpoints are
the ones the connector uses; ``prefix`` mounts them under a path (a Grafana data source proxy)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from .replay_server import Route, Seen

NOW = datetime(2024, 1, 15, 15, 0, tzinfo=UTC)
ONSET = (NOW - timedelta(minutes=20)).timestamp()
SERVICES = ("frontend", "checkout", "payments")


def ok(data: Any) -> Route:
    return lambda _seen: (200, {"status": "success", "data": data}, {})


def _query_range(seen: Seen) -> tuple[int, Any, dict[str, str]]:
    """payments' 5xx ratio jumps from 0.1% to 30% at ONSET; request rates stay steady everywhere."""
    expr = seen.query["query"][0]
    start, end, step = (float(seen.query[k][0]) for k in ("start", "end", "step"))
    times = [start + i * step for i in range(int((end - start) // step) + 1)]
    result = []
    if "code)" in expr:  # the discovery sweep asks for every status code at once: "sum by (service, code) (...)"
        for service in SERVICES:
            broken = service == "payments"
            for code in ("200", "503"):
                errors = [40.0 * (0.3 if broken and t >= ONSET else 0.001) for t in times]
                values = [e if code == "503" else 40.0 + (i % 5) * 0.1 - e for i, e in enumerate(errors)]
                metric = {"service": service, "code": code}
                result.append({"metric": metric, "values": [[t, str(v)] for t, v in zip(times, values, strict=False)]})
        return 200, {"status": "success", "data": {"resultType": "matrix", "result": result}}, {}
    for service in SERVICES:
        if 'code=~"5.."' in expr:  # the 5xx rate: 30% of payments' 40 requests/s from ONSET, 0.1% before
            broken = service == "payments"
            values = [40.0 * (0.3 if broken and t >= ONSET else 0.001) for t in times]
        else:
            values = [40.0 + (i % 5) * 0.1 for i in range(len(times))]
        result.append(
            {"metric": {"service": service}, "values": [[t, str(v)] for t, v in zip(times, values, strict=False)]}
        )
    return 200, {"status": "success", "data": {"resultType": "matrix", "result": result}}, {}


METADATA = {"http_requests_total": [{"type": "counter", "help": "Requests served", "unit": ""}]}


def prometheus_routes(prefix: str = "") -> dict[tuple[str, str], Route]:
    series = [{"__name__": "http_requests_total", "service": s, "code": c} for s in SERVICES for c in ("200", "503")]
    return {
        ("GET", f"{prefix}/api/v1/label/__name__/values"): ok(["http_requests_total", "up"]),
        ("GET", f"{prefix}/api/v1/series"): ok(series),
        ("GET", f"{prefix}/api/v1/label/service/values"): ok(list(SERVICES)),
        ("GET", f"{prefix}/api/v1/alerts"): ok({"alerts": []}),
        ("GET", f"{prefix}/api/v1/metadata"): ok(
            {"http_requests_total": [{"type": "counter", "help": "", "unit": ""}]}
        ),
        ("GET", f"{prefix}/api/v1/query"): ok({"resultType": "vector", "result": [{"metric": {}, "value": [0, "40"]}]}),
        ("GET", f"{prefix}/api/v1/query_range"): _query_range,
    }
