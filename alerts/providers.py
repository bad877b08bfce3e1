"""What each alert provider sends, and how it proves itself (API.md §7). Pure functions: no database, no Django.

Each provider module-level pair is ``verify_<provider>(settings, raw_body, headers) -> bool`` and
``alerts_<provider>(payload) -> list[Alert]``. An ``Alert`` is one item of the payload, already normalised to what an
investigation needs; ``skip`` is set when the payload itself says not to start one (resolved, an ignored event type).
Team-level rules (``alerts.disabled``, ``auto_investigate``, filters, duplicates, the per-payload limit) are applied
by ``alerts.services``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from standardwebhooks import Webhook

Provider = Literal["alertmanager", "pagerduty", "incidentio"]
Severity = Literal["low", "medium", "high"]
PROVIDERS: tuple[Provider, ...] = ("alertmanager", "pagerduty", "incidentio")
SEVERITY_RANK: dict[Severity, int] = {"low": 0, "medium": 1, "high": 2}
INCIDENT_IO_STARTS_ON = "public_incident.incident_created_v2"
PAGERDUTY_STARTS_ON = "incident.triggered"
MAX_FINGERPRINT_CHARS = 200  # context.related_alert's limit (API.md §4.1)
MAX_SERVICE_CHARS = 200
MAX_NAMESPACE_CHARS = 253  # context.namespace's limit
MAX_HINT_CHARS = 2000  # context.hint's limit


class PayloadInvalid(ValueError):
    """The body is JSON but not this provider's payload; the message names what is wrong (a 400)."""


@dataclass(frozen=True)
class Alert:
    fingerprint: str
    name: str
    message: str
    service: str | None
    severity: Severity
    raw: dict[str, Any]
    skip: str | None = None  # "resolved" | "ignored_event"
    namespace: str | None = None  # the Kubernetes namespace the alert names, to scope the investigation
    hint: str | None = None  # the provider's longer description, for the agent
    started_at: datetime | None = None  # when the alert began firing, to size the investigation's time window


def severity_of(label: object) -> Severity:
    """critical / high / major → high; warning / minor / medium → medium; anything else → low."""
    text = str(label or "").strip().lower()
    if text in ("critical", "high", "major"):
        return "high"
    if text in ("warning", "minor", "medium"):
        return "medium"
    return "low"


# -- verification ------------------------------------------------------------------------------------------------
def verify_alertmanager(settings: Mapping[str, Any], raw_body: bytes, headers: Mapping[str, str]) -> bool:
    """``Authorization: Bearer <bearer_token>``, compared in constant time."""
    expected = settings.get("bearer_token")
    scheme, _, presented = headers.get("authorization", "").strip().partition(" ")
    if not isinstance(expected, str) or not expected or scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(presented.strip().encode(), expected.encode())


def verify_pagerduty(settings: Mapping[str, Any], raw_body: bytes, headers: Mapping[str, str]) -> bool:
    """``X-PagerDuty-Signature: v1=<hex HMAC-SHA256(secret, raw body)>``; one of several comma-separated values."""
    secret = settings.get("webhook_secret")
    if not isinstance(secret, str) or not secret:
        return False
    expected = "v1=" + hmac.new(secret.encode(), raw_body, hashlib.sha256).hexdigest()
    presented = [value.strip() for value in headers.get("x-pagerduty-signature", "").split(",")]
    matches = [hmac.compare_digest(value.encode(), expected.encode()) for value in presented]  # every value compared
    return any(matches)


def verify_incidentio(settings: Mapping[str, Any], raw_body: bytes, headers: Mapping[str, str]) -> bool:
    """Standard Webhooks: ``webhook-id``, ``webhook-timestamp`` (within ±5 min) and ``webhook-signature``."""
    secret = settings.get("webhook_secret")
    if not isinstance(secret, str) or not secret:
        return False
    try:
        Webhook(secret).verify(raw_body, dict(headers), json_parse=False)
    except Exception:  # a bad secret, missing or malformed headers, a stale timestamp, no matching signature
        return False
    return True


# The headers that carry each provider's proof: without any of them, no credential was presented.
CREDENTIAL_HEADERS: dict[Provider, tuple[str, ...]] = {
    "alertmanager": ("authorization",),
    "pagerduty": ("x-pagerduty-signature",),
    "incidentio": ("webhook-signature",),
}
VERIFIERS: dict[Provider, Callable[[Mapping[str, Any], bytes, Mapping[str, str]], bool]] = {
    "alertmanager": verify_alertmanager,
    "pagerduty": verify_pagerduty,
    "incidentio": verify_incidentio,
}


# -- payloads ----------------------------------------------------------------------------------------------------
def _object(value: object, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise PayloadInvalid(f"{where} must be an object")
    return value


def _mapping(value: object) -> dict[str, Any]:
    """An optional object of the payload: ``{}`` when it is absent or not an object."""
    return value if isinstance(value, dict) else {}


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""


def _instant(value: object) -> datetime | None:
    """An RFC 3339 time as providers send it (Alertmanager uses nanoseconds); None when absent or unreadable."""
    text = _text(value)
    if not text or text.startswith("0001-"):  # Go's zero time: "not set"
        return None
    head, dot, rest = text.partition(".")
    if dot:  # keep microseconds: Python's parser takes at most six fractional digits
        digits = "".join(char for char in rest if char.isdigit())
        text = f"{head}.{digits[:6]}{rest[len(digits) :]}"
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        return moment.astimezone(UTC) if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    except (ValueError, OverflowError):  # OverflowError: an offset that moves it past year 1 or 9999
        return None


def _fingerprint(value: object, fallback: dict[str, Any]) -> str:
    text = str(value).strip() if isinstance(value, int | str) and not isinstance(value, bool) else ""
    if not text:  # providers always send one; a hand-written payload may not: derive it from the content
        text = hashlib.sha256(json.dumps(fallback, sort_keys=True, default=str).encode()).hexdigest()[:16]
    return text[:MAX_FINGERPRINT_CHARS]


def alerts_alertmanager(payload: dict[str, Any]) -> list[Alert]:
    """Alertmanager's webhook (``version: "4"``): one ``Alert`` per ``alerts[]`` item; firing ones start runs."""
    if payload.get("version") != "4":
        raise PayloadInvalid('version must be "4" (the Alertmanager webhook payload)')
    items = payload.get("alerts")
    if not isinstance(items, list):
        raise PayloadInvalid("alerts must be a list")
    found: list[Alert] = []
    for index, item in enumerate(items):
        item = _object(item, f"alerts[{index}]")
        labels = _mapping(item.get("labels"))
        annotations = _mapping(item.get("annotations"))
        name = _text(labels.get("alertname")) or "unnamed alert"
        summary = _text(annotations.get("summary")) or _text(annotations.get("description")) or name
        service = (_text(labels.get("service")) or _text(labels.get("job")))[:MAX_SERVICE_CHARS] or None
        found.append(
            Alert(
                fingerprint=_fingerprint(item.get("fingerprint"), item),
                name=name,
                message=f"Alert {name} firing: {summary}",
                service=service,
                severity=severity_of(labels.get("severity")),
                raw=item,
                skip=None if item.get("status") == "firing" else "resolved",
                namespace=_text(labels.get("namespace"))[:MAX_NAMESPACE_CHARS] or None,
                hint=_text(annotations.get("description"))[:MAX_HINT_CHARS] or None,
                started_at=_instant(item.get("startsAt")),
            )
        )
    return found


def alerts_pagerduty(payload: dict[str, Any]) -> list[Alert]:
    """PagerDuty v3 webhooks: ``{"event": {"id", "event_type", "data"}}``; ``incident.triggered`` starts a run."""
    event = _object(payload.get("event"), "event")
    data = _object(event.get("data"), "event.data")
    title = _text(data.get("title")) or "untitled incident"
    service = _mapping(data.get("service"))
    event_type = _text(event.get("event_type"))
    return [
        Alert(
            fingerprint=_fingerprint(data.get("id"), data),
            name=title,
            message=f"PagerDuty incident triggered: {title}",
            service=_text(service.get("summary"))[:MAX_SERVICE_CHARS] or None,
            severity="high" if _text(data.get("urgency")).lower() == "high" else "low",
            raw=event,
            skip=None if event_type == PAGERDUTY_STARTS_ON else "ignored_event",
            started_at=_instant(data.get("created_at")) or _instant(event.get("occurred_at")),
        )
    ]


def alerts_incidentio(payload: dict[str, Any]) -> list[Alert]:
    """incident.io: ``public_incident.incident_created_v2`` starts a run; the incident sits under the event type."""
    event_type = _text(payload.get("event_type"))
    if not event_type:
        raise PayloadInvalid("event_type is required")
    incident = _mapping(payload.get(event_type))
    name = _text(incident.get("name")) or "unnamed incident"
    severity = _mapping(incident.get("severity"))
    summary = _text(incident.get("summary"))
    return [
        Alert(
            fingerprint=_fingerprint(incident.get("id"), payload),
            name=name,
            message=f"incident.io incident declared: {name}" + (f": {summary}" if summary else ""),
            service=None,
            severity=severity_of(severity.get("name")),
            raw=payload,
            skip=None if event_type == INCIDENT_IO_STARTS_ON else "ignored_event",
            hint=summary[:MAX_HINT_CHARS] or None,
            started_at=_instant(incident.get("created_at")),
        )
    ]


PARSERS: dict[Provider, Callable[[dict[str, Any]], list[Alert]]] = {
    "alertmanager": alerts_alertmanager,
    "pagerduty": alerts_pagerduty,
    "incidentio": alerts_incidentio,
}
