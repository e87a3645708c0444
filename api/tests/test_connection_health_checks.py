"""A persistent PostgreSQL connection is checked before each request uses it
(CONN_HEALTH_CHECKS), without a round trip unless the server has said
something while it idled (api/postgres_backend/base.py).

`close_if_unusable_or_obsolete()` is what Django runs at the start and end of
every request; the next query then runs the health check.
"""

from typing import Any

import psycopg
import pytest
from django.db import connection, connections

from api.postgres_backend.base import DatabaseWrapper
from testing.databases import backend_pid


def terminate(pid: int, other: psycopg.Connection[Any]) -> None:
    """Close the server side of `pid`'s connection, as a restart does, and
    wait (up to 5 s) until it is gone."""
    assert other.execute("SELECT pg_terminate_backend(%s, 5000)", [pid]).fetchone() == (True,)


@pytest.mark.django_db(transaction=True)
def test_a_connection_the_server_closed_while_idle_is_replaced_before_the_next_request_uses_it(
    other_connection: psycopg.Connection[Any],
) -> None:
    first = backend_pid(connection)
    connection.close_if_unusable_or_obsolete()  # the request ends

    terminate(first, other_connection)

    assert backend_pid(connection) != first  # the next request's first query, on a new connection


@pytest.mark.django_db(transaction=True)
def test_a_connection_the_server_left_alone_is_reused_without_a_select_1(
    other_connection: psycopg.Connection[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    first = backend_pid(connection)
    connection.close_if_unusable_or_obsolete()
    round_trips = []

    def is_usable() -> bool:
        round_trips.append("SELECT 1")
        return True

    monkeypatch.setattr(connection, "is_usable", is_usable)

    assert backend_pid(connection) == first
    assert round_trips == []
    wrapper = connections["default"]
    assert isinstance(wrapper, DatabaseWrapper)  # settings.py's ENGINE for PostgreSQL
    assert wrapper.health_check_done  # checked once per request, not once per query
