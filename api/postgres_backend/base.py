"""Django's PostgreSQL backend, with a cheaper connection health check.

With CONN_HEALTH_CHECKS, Django sends `SELECT 1` on a persistent connection
before the first query of every request, so that a connection the server
dropped while it idled (a restart, a PgBouncer restart, a suspended Neon
compute, `pg_terminate_backend`) is replaced instead of failing the request.
That is one round trip to PostgreSQL on every request.

A server that drops a connection tells the client first or at once: a FATAL
error message, then the end of the stream (or a reset). Either makes the idle
socket readable. So the check here first asks the socket, without waiting,
whether anything arrived since the last request; only if something did (or
the socket is gone) does it run Django's `SELECT 1` check, which then replaces
the connection. An idle connection the server did not touch has nothing to
read, and the request goes on with no round trip. (Anything else the server
may send between queries, such as a notice, only costs the `SELECT 1`.)

A peer that vanishes without a word (a network partition) leaves the socket
quiet; Django's `SELECT 1` would then wait for the same TCP timeouts that the
request's own first query waits for (settings.py bounds both).
"""

import select
from typing import Any

import psycopg
from django.db.backends.postgresql import base


def server_sent_something(connection: psycopg.Connection[Any]) -> bool:
    """Whether the socket of an idle psycopg connection has anything to read
    (a message, the end of the stream, an error), asked without waiting."""
    if connection.closed:
        return True
    try:
        fd = connection.pgconn.socket
    except psycopg.OperationalError:  # libpq has no socket any more
        return True
    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLPRI)
    return bool(poller.poll(0))


class DatabaseWrapper(base.DatabaseWrapper):
    # BaseDatabaseWrapper's since Django 4.1; django-stubs does not declare them.
    health_check_enabled: bool
    health_check_done: bool

    def close_if_health_check_failed(self) -> None:
        if (
            self.connection is not None
            and self.health_check_enabled
            and not self.health_check_done
            and not server_sent_something(self.connection)
        ):
            self.health_check_done = True
            return
        super().close_if_health_check_failed()
