"""Fixed one-minute rate-limit windows in a store shared by every server process (API.md §3).

The database store uses one atomic upsert per request; the Redis store one server-side script (INCR, and EXPIRE
on a window's first hit). The same round trip also returns the credential epoch, which is how a cached token is
confirmed to be still valid without another query (``tenancy.credential_cache``). If the store is unreachable,
requests pass and a warning is logged: a limiter outage must not become an API outage (cached tokens are then
read again from the database, since their epoch cannot be confirmed).
"""

from __future__ import annotations

import hashlib
import logging
import math
import threading
import time
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Protocol

import hiredis
from django.conf import settings
from django.db import DatabaseError, connection

from incidentfox_web.prepared import statement_cursor

if TYPE_CHECKING:
    from redis.connection import AbstractConnection

logger = logging.getLogger("incidentfox.ratelimit")

WINDOW_SECONDS = 60
_SQLITE_WRITES = threading.Lock()


@dataclass(frozen=True)
class RateDecision:
    bucket: str
    limit: int
    count: int
    reset: int  # Unix seconds when the window ends
    credential_epoch: int | None = None  # read in the same round trip; None when the store holds none

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
    def increment(self, key: str, minute: int) -> tuple[int, int | None]:
        """The window's count after this hit, and the current credential epoch."""
        ...

    def publish_epoch(self, value: int) -> None: ...


class DatabaseStore:
    _UPSERT = (
        'INSERT INTO tenancy_ratelimitcounter ("key", "minute", "count") VALUES (%s, %s, 1) '
        'ON CONFLICT ("key", "minute") DO UPDATE SET "count" = tenancy_ratelimitcounter."count" + 1 '
        'RETURNING "count", (SELECT "value" FROM tenancy_credentialepoch WHERE "id" = 1)'
    )

    def increment(self, key: str, minute: int) -> tuple[int, int | None]:
        if connection.vendor == "sqlite":
            # SQLite admits one writer at a time and makes the others back off with sleeps of growing length;
            # queueing this process's threads on a lock instead keeps the wait to the write itself.
            with _SQLITE_WRITES:
                return self._upsert(key, minute)
        return self._upsert(key, minute)

    def _upsert(self, key: str, minute: int) -> tuple[int, int | None]:
        with statement_cursor() as cursor:
            cursor.execute(self._UPSERT, [key, minute])
            count, epoch = cursor.fetchone()
        return int(count), None if epoch is None else int(epoch)

    def publish_epoch(self, value: int) -> None:
        """Nothing to do: the epoch is read from its own table."""


def redis_epoch_key() -> str:
    """The Redis key of this deployment's credential epoch, named after its database, so deployments (or test and
    bench databases) sharing one Redis never read each other's epoch."""
    database = connection.settings_dict
    identity = f"{connection.vendor}|{database.get('HOST')}|{database.get('PORT')}|{database.get('NAME')}"
    return "credential-epoch:" + hashlib.sha256(identity.encode()).hexdigest()[:16]


class RedisStore:
    """Counts on Redis with one script call per request.

    The per-request call bypasses the client's connection pool: each server thread keeps one connection of its
    own and speaks to it directly (send, read). The pool's checkout, its readiness poll, its retry and metrics
    wrappers cost more than the round trip itself, and a thread never needs two connections at once. A failed call
    closes its connection (the next call reconnects); the caller fails open.
    """

    _INCREMENT = """
        local count = redis.call('INCR', KEYS[1])
        if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
        return {count, redis.call('GET', KEYS[2])}
    """
    _RAISE_EPOCH = """
        local current = tonumber(redis.call('GET', KEYS[1]) or '0')
        if tonumber(ARGV[1]) > current then redis.call('SET', KEYS[1], ARGV[1]) end
        return 1
    """

    def __init__(self, url: str) -> None:
        import redis

        self._client = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self._per_thread = threading.local()
        self.epoch_key = redis_epoch_key()
        self._raise_epoch = self._client.register_script(self._RAISE_EPOCH)

    def _connection(self) -> AbstractConnection:
        connection: AbstractConnection | None = getattr(self._per_thread, "connection", None)
        if connection is None:
            connection = self._client.connection_pool.connection_class(**self._client.connection_pool.connection_kwargs)
            self._per_thread.connection = connection
        return connection

    def increment(self, key: str, minute: int) -> tuple[int, int | None]:
        connection = self._connection()
        # EVAL rather than EVALSHA: Redis keeps the compiled script by its hash either way, and a restarted Redis
        # (empty script cache) needs no NOSCRIPT round trip.
        command = ("EVAL", self._INCREMENT, 2, f"ratelimit:{key}:{minute}", self.epoch_key, WINDOW_SECONDS * 2)
        # Packed by hiredis in one C call (the client's own packer walks the arguments in Python).
        packed = hiredis.pack_command(command)  # type: ignore[arg-type]  # its stub types a 1-tuple
        try:
            connection.send_packed_command([packed], check_health=False)  # type: ignore[no-untyped-call]
            count, epoch = connection.read_response()
        except BaseException:
            connection.disconnect()  # type: ignore[no-untyped-call]
            raise
        return int(count), None if epoch is None else int(epoch)

    def publish_epoch(self, value: int) -> None:
        """Raise the Redis copy to ``value``; it never goes down, so a late writer cannot restore an old stamp."""
        self._raise_epoch(keys=[self.epoch_key], args=[value])


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
        count, epoch = _store().increment(f"{bucket}:{key}", minute)
    except Exception as exc:  # any store failure fails open
        if isinstance(exc, DatabaseError) and connection.in_atomic_block:
            raise  # inside a transaction the error must surface, or the transaction would be left broken
        logger.warning("Rate-limit store unavailable; request allowed (%s)", type(exc).__name__)
        return None
    return RateDecision(bucket=bucket, limit=limit, count=count, reset=reset, credential_epoch=epoch)


def publish_credential_epoch(value: int) -> None:
    _store().publish_epoch(value)


def prune_database_counters(now: float | None = None) -> int:
    """Delete finished windows of the database store; run periodically by the maintenance loop."""
    from tenancy.models import RateLimitCounter

    minute = int((time.time() if now is None else now) // WINDOW_SECONDS)
    deleted, _ = RateLimitCounter.objects.filter(minute__lt=minute - 1).delete()
    return deleted
