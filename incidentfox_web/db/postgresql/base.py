"""Django's PostgreSQL backend, with a health check that costs no round trip when the connection is quiet, and
prepared statements for the few fixed statements on the hottest paths.

With persistent connections and ``CONN_HEALTH_CHECKS``, Django checks a connection at the first query of every
request by running ``SELECT 1``: one extra round trip to PostgreSQL on every request that touches the database,
which on a status poll was as much as the poll's own query. A connection the server has closed or broken (a
restart, ``pg_terminate_backend``, an idle timeout, a pooler dropping it) always leaves something to read on its
socket: the server's FATAL message, or the end of the stream. So an idle connection whose socket has nothing to
read is as usable as ``SELECT 1`` would find it, and the check is a zero-timeout ``poll``. Anything else — data
waiting, an error flag, a transaction not idle, or a connection that saw an error — gets Django's own check.

``statement_cursor`` serves the statements built once per process (``incidentfox_web.prepared``, the token
lookup, the rate-limit upsert). It binds parameters on the server, so PostgreSQL prepares each statement once per
connection (psycopg's ``prepare_threshold``, set from ``DATABASE_PREPARED_STATEMENTS``) instead of parsing and
planning it on every request. The ORM keeps Django's client-side binding, which never prepares.
"""

from __future__ import annotations

import select

from django.db.backends.postgresql import base
from django.db.backends.utils import CursorWrapper
from django.utils.asyncio import async_unsafe
from psycopg.pq import Format, TransactionStatus


class DatabaseWrapper(base.DatabaseWrapper):
    def close_if_health_check_failed(self) -> None:
        if (
            self.connection is not None
            and self.health_check_enabled  # type: ignore[attr-defined]  # set by Django at connect; not in the stubs
            and not self.health_check_done  # type: ignore[has-type]
            and not self.errors_occurred
            and self._socket_is_quiet()
        ):
            self.health_check_done = True
            return
        super().close_if_health_check_failed()

    def _socket_is_quiet(self) -> bool:
        """True when the idle connection's socket has nothing to read and no error or hang-up pending."""
        connection = self.connection
        if connection is None or connection.closed or connection.broken:
            return False
        if connection.info.transaction_status != TransactionStatus.IDLE:
            return False
        poller = select.poll()
        poller.register(connection.fileno(), select.POLLIN | select.POLLPRI | select.POLLERR | select.POLLHUP)
        return not poller.poll(0)

    @async_unsafe
    def statement_cursor(self) -> CursorWrapper:
        """Like ``cursor()`` (health check, connection, wrapping for query logging), with server-side binding."""
        self.close_if_health_check_failed()
        self.ensure_connection()
        with self.wrap_database_errors:
            cursor = base.ServerBindingCursor(self.connection)  # type: ignore[call-arg]  # the stubs know psycopg2 only
            # As Django's create_cursor does: the connection's time zone, where it differs from the template's.
            tzloader = self.connection.adapters.get_loader(base.TIMESTAMPTZ_OID, Format.TEXT)
            if self.timezone != tzloader.timezone:
                base.register_tzloader(self.timezone, cursor)  # type: ignore[attr-defined]  # psycopg 3 only
            wrapped: CursorWrapper = self._prepare_cursor(cursor)  # type: ignore[attr-defined]  # not in the stubs
            return wrapped
