"""The PostgreSQL backend checks a quiet idle connection by polling its socket, and still finds dead ones.

Each test opens a connection of its own next to pytest-django's, so terminating it leaves the test's own
connection and transaction alone.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from django.db import connection, connections

from incidentfox_web.db.postgresql.base import DatabaseWrapper

pytestmark = pytest.mark.django_db


@pytest.fixture
def own_connection() -> Iterator:
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL backend test: runs in the PostgreSQL pass")
    assert isinstance(connections["default"], DatabaseWrapper)  # the settings select this backend
    wrapper = DatabaseWrapper({**connection.settings_dict, "CONN_HEALTH_CHECKS": True}, alias="health-probe")
    wrapper.ensure_connection()
    try:
        yield wrapper
    finally:
        wrapper.close()


def _start_request(wrapper) -> None:
    """What Django does at a request's start (``close_old_connections``) and at its first query."""
    wrapper.close_if_unusable_or_obsolete()
    wrapper.close_if_health_check_failed()


def _server_pid(wrapper) -> int:
    with wrapper.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return int(cursor.fetchone()[0])


def test_a_quiet_idle_connection_passes_the_check_without_a_query(own_connection, monkeypatch):
    own_connection.health_check_enabled = True
    _server_pid(own_connection)

    def no_queries(*args, **kwargs):
        raise AssertionError("the health check sent a query")

    monkeypatch.setattr(own_connection.connection, "cursor", no_queries)
    _start_request(own_connection)
    assert own_connection.connection is not None
    assert own_connection.health_check_done


def test_a_connection_the_server_terminated_is_replaced_before_the_next_query(own_connection):
    own_connection.health_check_enabled = True
    dead_pid = _server_pid(own_connection)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [dead_pid])
    time.sleep(0.2)  # the server's FATAL message and end of stream reach the socket

    _start_request(own_connection)

    assert own_connection.connection is None  # closed by the check, not left for the next query to fail on
    assert _server_pid(own_connection) != dead_pid


def test_a_connection_that_saw_an_error_gets_the_full_check(own_connection, monkeypatch):
    own_connection.health_check_enabled = True
    _server_pid(own_connection)
    own_connection.errors_occurred = True
    checked = []

    def is_usable() -> bool:
        checked.append(True)
        return True

    monkeypatch.setattr(own_connection, "is_usable", is_usable)
    _start_request(own_connection)
    assert checked


def test_the_hot_statements_are_prepared_by_the_server_after_their_first_run(own_connection):
    with own_connection.statement_cursor() as cursor:
        for _ in range(3):
            cursor.execute("SELECT %s::int + 1", [41])
            assert cursor.fetchone()[0] == 42
    with own_connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s", ["SELECT $1::int + 1"])
        assert cursor.fetchone()[0] == 1
