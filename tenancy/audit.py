"""Writing audit events. Every writer passes the request context it has; details must not hold secrets."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tenancy.models import AuditEvent, Organization


@dataclass(frozen=True)
class RequestMeta:
    """Who did it and from where: the actor string, the request id and the client IP."""

    actor: str
    request_id: str = ""
    ip_address: str | None = None

    @classmethod
    def system(cls) -> RequestMeta:
        return cls(actor="system")


def audit_record(
    *,
    org: Organization,
    event_type: str,
    meta: RequestMeta,
    team_id: str = "",
    target: str = "",
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    return AuditEvent.objects.create(
        org=org,
        event_type=event_type,
        actor=meta.actor,
        team_id=team_id,
        target=target,
        details=details or {},
        request_id=meta.request_id,
        ip_address=meta.ip_address,
    )
