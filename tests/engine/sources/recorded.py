"""Responses in the shapes Datadog, Sentry, Coralogix and CloudWatch Logs document, for the loopback stand-ins.

Field names, nesting and value types follow each API's reference (Datadog's /api/v1/query, /api/v1/monitor,
/api/v1/events and /api/v2/logs/events/search; Sentry's project issues and issue events; Coralogix's DataPrime
NDJSON answer; CloudWatch Logs' FilterLogEvents). The values describe one incident: payments was deployed at
14:05 and a KeyError began at 14:08.
"""

from __future__ import annotations

import json
from typing import Any

DEPLOY = 1705327500  # 2024-01-15T14:05:00Z
FIRST_ERROR = "2024-01-15T14:08:11.412000Z"
START, END = 1705323600, 1705330800  # 13:00 .. 15:00


def metrics_query(query: str) -> dict[str, Any]:
    """``GET /api/v1/query``: the error rate of payments, flat at 0.2 % until 14:08, then 9 %."""
    points: list[list[float | None]] = [
        [(START + 60 * i) * 1000.0, 0.002 if START + 60 * i < DEPLOY + 180 else 0.09] for i in range(120)
    ]
    points.append([(START + 60 * 120) * 1000.0, None])  # Datadog sends null for an empty bucket
    return {
        "status": "ok",
        "res_type": "time_series",
        "resp_version": 1,
        "query": query,
        "from_date": START * 1000,
        "to_date": END * 1000,
        "group_by": [],
        "series": [
            {
                "metric": "trace.http.request.errors",
                "display_name": "trace.http.request.errors",
                "unit": None,
                "pointlist": points,
                "start": START * 1000,
                "end": END * 1000,
                "interval": 60,
                "length": len(points),
                "aggr": "avg",
                "scope": "env:prod,service:payments",
                "expression": "avg:trace.http.request.errors{env:prod,service:payments}",
                "tag_set": ["env:prod", "service:payments"],
            }
        ],
    }


def monitor(monitor_id: int, name: str, state: str, query: str, tags: list[str], modified: str) -> dict[str, Any]:
    return {
        "id": monitor_id,
        "name": name,
        "type": "query alert",
        "query": query,
        "message": "Errors are up on payments @pagerduty-payments",
        "tags": tags,
        "options": {"thresholds": {"critical": 0.05}, "notify_no_data": False},
        "overall_state": state,
        "overall_state_modified": modified,
        "created": "2023-11-02T09:12:44.000000+00:00",
        "modified": "2023-11-02T09:12:44.000000+00:00",
        "creator": {"email": "sre@example.com", "handle": "sre@example.com", "name": "SRE"},
        "multi": False,
        "priority": 1,
        "restricted_roles": None,
    }


MONITORS = [
    monitor(
        4101,
        "Payments error rate is high",
        "Alert",
        "avg(last_5m):avg:trace.http.request.errors{env:prod,service:payments} > 0.05",
        ["service:payments", "team:payments"],
        "2024-01-15T14:10:02.000000+00:00",
    ),
    monitor(
        4102,
        "Checkout p99 latency",
        "OK",
        "avg(last_5m):p99:trace.http.request.duration{service:checkout} > 2",
        ["service:checkout"],
        "2024-01-10T08:00:00.000000+00:00",
    ),
]

EVENTS = {
    "status": "ok",
    "events": [
        {
            "id": 7401923811,
            "id_str": "7401923811",
            "title": "Deployed payments v2.14.0 to prod",
            "text": "argo-cd synced payments to v2.14.0",
            "date_happened": DEPLOY,
            "alert_type": "info",
            "priority": "normal",
            "source_type_name": "argocd",
            "host": None,
            "tags": ["service:payments", "env:prod", "deployment", "version:v2.14.0"],
            "url": "/event/event?id=7401923811",
            "device_name": None,
        },
        {
            "id": 7401923999,
            "id_str": "7401923999",
            "title": "[Triggered] Payments error rate is high",
            "text": "avg:trace.http.request.errors > 0.05",
            "date_happened": DEPLOY + 300,
            "alert_type": "error",
            "priority": "normal",
            "source_type_name": "monitor alert",
            "host": None,
            "tags": ["service:payments", "monitor"],
            "url": "/event/event?id=7401923999",
            "device_name": None,
        },
    ],
}


def log_event(event_id: str, timestamp: str, status: str, message: str, service: str = "payments") -> dict[str, Any]:
    return {
        "id": event_id,
        "type": "log",
        "attributes": {
            "timestamp": timestamp,
            "status": status,
            "service": service,
            "host": "i-0a1b2c3d",
            "message": message,
            "tags": ["env:prod", f"service:{service}"],
            "attributes": {"logger": {"name": "payments.charge"}},
        },
    }


def logs_page(events: list[dict[str, Any]], after: str | None) -> dict[str, Any]:
    return {
        "data": events,
        "links": {"next": f"https://api.datadoghq.com/api/v2/logs/events?page[cursor]={after}"} if after else {},
        "meta": {"elapsed": 132, "request_id": "pddv1ChZ", "status": "done", "page": {"after": after} if after else {}},
    }


LOG_PAGES = [
    logs_page(
        [
            log_event("AQAAAY1", "2024-01-15T14:09:30.000Z", "error", "KeyError: 'currency' in capture"),
            log_event("AQAAAY2", "2024-01-15T14:09:10.000Z", "info", "charge ok id=ch_19"),
        ],
        "eyJhZnRlciI6IkFRQUFBWTIifQ",
    ),
    logs_page(
        [log_event("AQAAAY3", "2024-01-15T14:08:12.000Z", "error", "KeyError: 'currency' in capture")],
        None,
    ),
]


def sentry_issue(issue_id: str, short: str, error_type: str, value: str, culprit: str, first: str, last: str) -> Any:
    return {
        "annotations": [],
        "assignedTo": None,
        "count": "412",
        "culprit": culprit,
        "firstSeen": first,
        "hasSeen": False,
        "id": issue_id,
        "isBookmarked": False,
        "isPublic": False,
        "isSubscribed": True,
        "lastSeen": last,
        "level": "error",
        "logger": None,
        "metadata": {"type": error_type, "value": value, "filename": "payments/charge.py", "function": "capture"},
        "numComments": 0,
        "permalink": f"https://sentry.io/organizations/acme/issues/{issue_id}/",
        "project": {"id": "2", "name": "payments", "slug": "payments"},
        "shareId": None,
        "shortId": short,
        "stats": {"24h": [[1705327200, 0], [1705330800, 412]]},
        "status": "unresolved",
        "statusDetails": {},
        "subscriptionDetails": None,
        "title": f"{error_type}: {value}",
        "type": "error",
        "userCount": 97,
    }


SENTRY_NEW = sentry_issue(
    "4505",
    "PAYMENTS-3F",
    "KeyError",
    "'currency'",
    "payments.charge in capture",
    FIRST_ERROR,
    "2024-01-15T14:39:58.120000Z",
)
SENTRY_OLD = sentry_issue(
    "3011",
    "PAYMENTS-1A",
    "ConnectionResetError",
    "[Errno 104] Connection reset by peer",
    "payments.ledger in flush",
    "2023-12-01T03:14:00Z",
    "2024-01-15T14:20:00Z",
)
SENTRY_ANCIENT = sentry_issue(
    "2001",
    "PAYMENTS-0Z",
    "ValueError",
    "bad amount",
    "payments.api in parse",
    "2023-06-01T00:00:00Z",
    "2023-07-01T00:00:00Z",
)
SENTRY_EVENTS = [
    {
        "eventID": "9fac2ceed9344f2bbfdd1fdacb0ed9b1",
        "id": "9fac2ceed9344f2bbfdd1fdacb0ed9b1",
        "groupID": "4505",
        "dateCreated": "2024-01-15T14:08:11Z",
        "message": "",
        "title": "KeyError: 'currency'",
        "platform": "python",
        "tags": [{"key": "release", "value": "payments@2.14.0"}, {"key": "environment", "value": "prod"}],
        "user": None,
    },
    {
        "eventID": "1b2ac3eed9344f2bbfdd1fdacb0ed9b2",
        "id": "1b2ac3eed9344f2bbfdd1fdacb0ed9b2",
        "groupID": "4505",
        "dateCreated": "2024-01-15T14:09:40Z",
        "message": "charge failed for order 8812",
        "title": "KeyError: 'currency'",
        "platform": "python",
        "tags": [{"key": "release", "value": "payments@2.14.0"}],
        "user": None,
    },
]


def coralogix_answer() -> bytes:
    """DataPrime's newline-delimited answer: the query id, then result batches."""
    results = [
        {
            "metadata": [
                {"key": "timestamp", "value": "2024-01-15T14:09:30.123Z"},
                {"key": "severity", "value": "Error"},
                {"key": "logid", "value": "b7e1"},
            ],
            "labels": [
                {"key": "applicationname", "value": "prod"},
                {"key": "subsystemname", "value": "payments"},
            ],
            "userData": json.dumps({"message": "KeyError: 'currency' in capture", "order": 8812}),
        },
        {
            "metadata": [
                {"key": "timestamp", "value": "2024-01-15T14:09:31.500Z"},
                {"key": "severity", "value": "Error"},
            ],
            "labels": [
                {"key": "applicationname", "value": "prod"},
                {"key": "subsystemname", "value": "payments"},
            ],
            "userData": "plain text line: could not connect to ledger: connection refused",
        },
    ]
    lines = [{"queryId": {"queryId": "c3f9a1e2-6b1d-4b0e-9f4e-1a2b3c4d5e6f"}}, {"result": {"results": results}}]
    return "\n".join(json.dumps(line) for line in lines).encode() + b"\n"


def filter_log_events(token: str | None) -> dict[str, Any]:
    """CloudWatch Logs ``FilterLogEvents`` (AWS JSON 1.1), two pages."""
    if token is None:
        events = [
            {
                "logStreamName": "payments/app/3f1c",
                "timestamp": 1705328050000,
                "message": "ERROR KeyError: 'currency' in capture",
                "ingestionTime": 1705328051000,
                "eventId": "37981234",
            },
            {
                "logStreamName": "payments/app/3f1c",
                "timestamp": 1705328040000,
                "message": "INFO charge ok id=ch_19",
                "ingestionTime": 1705328041000,
                "eventId": "37981233",
            },
        ]
        return {"events": events, "searchedLogStreams": [], "nextToken": "Bxkq6kVGFtq2y_Moigeqscgt"}
    return {
        "events": [
            {
                "logStreamName": "payments/app/3f1c",
                "timestamp": 1705328092000,
                "message": "ERROR could not connect to ledger:5432: Connection refused",
                "ingestionTime": 1705328093000,
                "eventId": "37981240",
            }
        ],
        "searchedLogStreams": [],
    }


# -- connection checks ------------------------------------------------------------------------------------------
DATADOG_VALID = {"valid": True}  # GET /api/v1/validate


def monitor_search(total: int) -> dict[str, Any]:
    """GET /api/v1/monitor/search?per_page=1: one monitor, and metadata counting them all."""
    return {
        "counts": {
            "status": [{"count": total - 1, "name": "OK"}, {"count": 1, "name": "Alert"}],
            "type": [{"count": total, "name": "metric"}],
            "tag": [{"count": 3, "name": "service:payments"}],
            "muted": [{"count": 0, "name": False}],
        },
        "metadata": {"page": 0, "page_count": total, "per_page": 1, "total_count": total},
        "monitors": [
            {
                "id": 41877,
                "name": "Payments error rate is high",
                "query": "avg(last_5m):avg:trace.http.request.errors{env:prod,service:payments} > 0.05",
                "status": "Alert",
                "type": "query alert",
                "tags": ["service:payments", "env:prod"],
                "creator": {"handle": "sre@example.com", "name": "SRE"},
                "classification": "metric",
                "last_triggered_ts": 1705327802,
                "metrics": ["trace.http.request.errors"],
                "notifications": [{"handle": "pagerduty-payments", "name": "pagerduty-payments"}],
                "org_id": 2,
                "overall_state": "Alert",
                "scopes": ["env:prod", "service:payments"],
            }
        ],
    }


def sentry_project(slug: str, project_id: str) -> dict[str, Any]:
    """An item of GET /api/0/organizations/{org}/projects/ (and the body of GET /api/0/projects/{org}/{slug}/)."""
    return {
        "id": project_id,
        "slug": slug,
        "name": slug,
        "platform": "python",
        "dateCreated": "2023-03-01T10:00:00.000000Z",
        "isBookmarked": False,
        "isMember": True,
        "features": ["minidump", "similarity-indexing"],
        "firstEvent": "2023-03-01T10:12:00Z",
        "hasAccess": True,
        "status": "active",
        "organization": {"id": "1", "slug": "acme", "name": "Acme"},
    }


SENTRY_PROJECTS = [sentry_project("payments", "2"), sentry_project("checkout", "3")]


def coralogix_count_answer(count: int) -> bytes:
    """DataPrime's answer to ``… | count``: one result whose user data is ``{"_count": n}``."""
    lines = [
        {"queryId": {"queryId": "5d1e0c2a-77b4-4c1f-a0aa-2f4b6c8d9e01"}},
        {"result": {"results": [{"metadata": [], "labels": [], "userData": json.dumps({"_count": count})}]}},
    ]
    return "\n".join(json.dumps(line) for line in lines).encode() + b"\n"
