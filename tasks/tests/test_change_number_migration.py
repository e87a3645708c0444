"""Migration 0008 moves PostgreSQL's change numbers from the per-user
counters to a sequence: the sync tokens clients already hold stay valid."""

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from tasks.sync import encode_token
from testing.sync import changes_since

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("postgresql_only")]

BEFORE = [("tasks", "0007_sync_indexes")]


def migrate(targets: list[tuple[str, str]]) -> Any:
    """Migrate to `targets`; the historical apps of that state."""
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor.loader.project_state(targets).apps


@pytest.fixture
def before_the_sequence() -> Iterator[Any]:
    """The database at 0007, migrated back to the latest state afterwards."""
    latest = MigrationExecutor(connection).loader.graph.leaf_nodes("tasks")
    try:
        yield migrate(BEFORE)
    finally:
        migrate(latest)


def test_a_token_from_the_counters_still_brings_every_later_change(before_the_sequence: Any, alice) -> None:
    task = before_the_sequence.get_model("tasks", "Task").objects.create(
        user_id="alice", title="Old", position="a0", change_seq=41
    )
    before_the_sequence.get_model("tasks", "TaskOwner").objects.create(user_id="alice", change_seq=41)
    token = encode_token("alice", 41)

    migrate(MigrationExecutor(connection).loader.graph.leaf_nodes("tasks"))
    alice.patch(f"/api/tasks/{task.pk}", {"title": "New"}, format="json")

    assert changes_since(alice, token) == ([task.pk], [])
