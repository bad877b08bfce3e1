"""Fixed one-minute rate-limit windows in a store shared by every server process (API.md §3).

Redis (when ``REDIS_URL`` is set) counts with one pipelined ``INCR`` + ``EXPIRE NX`` per request; the database
store with one atomic upsert. Both are exact across processes. If the store is unreachable, requests pass and a
warning is logged: a limiter outage must not become an API outage.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from dataclasses import dataclass
from functools import cache
from typing import Protocol

import redis
from django.conf import settings
from django.db import DatabaseError, connection

from tenancy.models import RateLimitCounter

logger = logging.getLogger("incidentfox.ratelimit")

WINDOW_SECONDS = 60
_SQLITE_WRITES = threading.Lock()


@dataclass(frozen=True)
class RateDecision:
    bucket: str
    limit: int
    count: int
    reset: int  # Unix seconds when the window ends

    @property
    def allowed(self) -> bool:
        return self.count <= self.limit

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.count)

    def retry_after(self, now: float) -> int:
        return max(1, math.ceil(self.reset - now))

    def headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset),
        }


class CounterStore(Protocol):
    def increment(self, key: str, minute: int) -> int:
        """The window's count after this hit."""
        ...


class DatabaseStore:
    _UPSERT = (
        'INSERT INTO tenancy_ratelimitcounter ("key", "minute", "count") VALUES (%s, %s, 1) '
        'ON CONFLICT ("key", "minute") DO UPDATE SET "count" = tenancy_ratelimitcounter."count" + 1 '
        'RETURNING "count"'
    )

    def increment(self, key: str, minute: int) -> int:
        if connection.vendor == "sqlite":
            # SQLite admits one writer at a time and makes the others back off with sleeps of growing length;
            # queueing this process's threads on a lock instead keeps the wait to the write itself.
            with _SQLITE_WRITES:
                return self._upsert(key, minute)
        return self._upsert(key, minute)

    def _upsert(self, key: str, minute: int) -> int:
        with connection.cursor() as cursor:
            cursor.execute(self._UPSERT, [key, minute])
            (count,) = cursor.fetchone()
        return int(count)


class RedisStore:
    """One round trip per request: ``INCR``, and ``EXPIRE ... NX`` (which sets the window's lifetime only on its
    first hit), pipelined. Each command is atomic on its own, so no MULTI/EXEC is needed for an exact count."""

    def __init__(self, url: str) -> None:
        self._client = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)

    def increment(self, key: str, minute: int) -> int:
        pipeline = self._client.pipeline(transaction=False)
        name = f"ratelimit:{key}:{minute}"
        pipeline.incr(name)
        pipeline.expire(name, WINDOW_SECONDS * 2, nx=True)
        count, _ = pipeline.execute()
        return int(count)


@cache
def _store() -> CounterStore:
    if settings.RATE_LIMIT_STORE == "redis" and settings.REDIS_URL:
        return RedisStore(settings.REDIS_URL)
    return DatabaseStore()


def hit(*, bucket: str, key: str, limit: int, now: float | None = None) -> RateDecision | None:
    """Count one request against ``bucket:key``. Returns None when the store is unavailable (fail open)."""
    now = time.time() if now is None else now
    minute = int(now // WINDOW_SECONDS)
    reset = (minute + 1) * WINDOW_SECONDS
    try:
        count = _store().increment(f"{bucket}:{key}", minute)
    except Exception as exc:  # any store failure fails open
        if isinstance(exc, DatabaseError) and connection.in_atomic_block:
            raise  # inside a transaction the error must surface, or the transaction would be left broken
        logger.warning("Rate-limit store unavailable; request allowed (%s)", type(exc).__name__)
        return None
    return RateDecision(bucket=bucket, limit=limit, count=count, reset=reset)


def prune_database_counters(now: float | None = None) -> int:
    """Delete finished windows of the database store; run periodically by the maintenance loop."""
    minute = int((time.time() if now is None else now) // WINDOW_SECONDS)
    deleted, _ = RateLimitCounter.objects.filter(minute__lt=minute - 1).delete()
    return deleted
