"""The service works behind a PgBouncer in transaction pooling mode (what a Neon
pooled URL is): a server connection is ours for one transaction only, so
nothing may rely on session state from an earlier transaction — no named
prepared statements, no server-side cursors held across transactions.

The settings are pinned in a fresh interpreter, since they are read once per
process. The behaviour is checked on the database of the run: on PostgreSQL
directly it is unremarkable; through `make test-pgbouncer`, which sets
EXPECT_TRANSACTION_POOLER=1, consecutive transactions land on different server
connections (the pooler hands them out round robin) and any such state is lost.
"""

import os
from collections.abc import Callable

import psycopg
import pytest
from django.db import connection, transaction

from tasks.models import Task
from testing.assertions import assert_refused_with_one_line
from testing.databases import backend_pid
from testing.environments import production_env
from testing.processes import manage

POOLED_URL = "postgres://u@db.invalid:6432/todo"
postgresql_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL only")


def test_postgresql_never_uses_server_side_cursors(value_in_fresh_process) -> None:
    setting = "settings.DATABASES['default']['DISABLE_SERVER_SIDE_CURSORS']"
    assert value_in_fresh_process(setting, DATABASE_URL=POOLED_URL) is True


def test_postgresql_connections_never_prepare_statements(value_in_fresh_process) -> None:
    # None: psycopg never prepares a named statement, however often a query runs.
    threshold = "connection.get_connection_params()['prepare_threshold']"
    assert value_in_fresh_process(threshold, DATABASE_URL=POOLED_URL) is None


@pytest.mark.parametrize("value", ["0", "5"])
def test_a_database_url_that_enables_prepared_statements_is_refused_with_one_line(value: str) -> None:
    url = f"postgres://u:hunter2@db.invalid:6432/todo?server_side_binding=true&prepare_threshold={value}"

    result = manage("check", env=production_env(DATABASE_URL=url))

    line = assert_refused_with_one_line(result, "prepare_threshold")
    assert "hunter2" not in line


@pytest.fixture
def two_server_connections() -> None:
    """Make a pooler open a second server connection to the test database: two
    clients in a transaction at the same time. Directly on PostgreSQL this is
    two short transactions and nothing else."""
    with transaction.atomic(), psycopg.connect(**connection.get_connection_params()) as other:
        backend_pid(connection)
        other.execute("SELECT 1")
        other.rollback()


@postgresql_only
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("two_server_connections")
def test_autocommit_queries_keep_no_session_state(make_task: Callable[..., Task]) -> None:
    for number in range(5):
        make_task(title=f"Task {number}")

    # Each statement is its own transaction (autocommit, as in a request).
    pids = {backend_pid(connection) for _ in range(4)}
    # The same query, again and again: a prepared statement would be reused.
    counts = [Task.objects.filter(user_id="alice").count() for _ in range(6)]
    # Fetched one row at a time: a server-side cursor would be fetched from
    # in later transactions.
    titles = [task.title for task in Task.objects.order_by("id").iterator(chunk_size=1)]

    assert counts == [5] * 6
    assert titles == [f"Task {number}" for number in range(5)]
    if os.environ.get("EXPECT_TRANSACTION_POOLER") == "1":
        # Otherwise this test would pass for the wrong reason: one server connection.
        assert len(pids) > 1, "expected consecutive transactions on different server connections"
