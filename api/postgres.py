"""PostgreSQL-specific helpers.

A faster loader for PostgreSQL `timestamptz` values, for psycopg 3.
Django's loader (BaseTzLoader) wraps psycopg's pure-Python parser and spends
about 3.5 µs on each value, most of the time it takes to read a 500-task list
(two timestamps a row). This one parses with `datetime.fromisoformat`, which is
written in C, and gives the same aware UTC datetimes (a test compares them);
anything it cannot read (BC dates, infinity) goes to Django's loader.

A transaction-scoped advisory lock, tried without waiting, for requests that
must not run twice at once on any worker or host (api/idempotency.py).
"""

from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.postgresql.psycopg_any import BaseTzLoader, is_psycopg3


class UTCTimestamptzLoader(BaseTzLoader):
    timezone = UTC

    def load(self, data: Any) -> datetime:
        try:
            return datetime.fromisoformat(bytes(data).decode()).astimezone(UTC)
        except ValueError:
            return super().load(data)


def use_fast_timestamptz_loader(sender: Any, connection: BaseDatabaseWrapper, **kwargs: Any) -> None:
    """`connection_created` receiver: install the loader on a new PostgreSQL
    connection that reads times in UTC (USE_TZ with TIME_ZONE "UTC")."""
    if connection.vendor == "postgresql" and is_psycopg3 and settings.USE_TZ and connection.timezone == UTC:
        connection.connection.adapters.register_loader("timestamptz", UTCTimestamptzLoader)


def try_advisory_xact_lock(lock_id: int, using: str = "default") -> bool:
    """Take the advisory lock `lock_id` (a signed 64-bit integer) for the rest
    of the current transaction, without waiting: False when another
    transaction holds it. PostgreSQL releases it when the transaction ends, or
    the connection dies (a killed worker never leaves it held), and since it
    belongs to the transaction, not the session, it works through a
    transaction-pooling PgBouncer. Call it inside transaction.atomic()."""
    with connections[using].cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [lock_id])
        (acquired,) = cursor.fetchone()
    return bool(acquired)
