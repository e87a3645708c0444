"""PostgreSQL's change numbers come from a sequence (tasks.models.change_number),
so writes of one user no longer wait for each other to take one.

It starts above every number the per-user counters handed out, so the sync
tokens clients already hold stay valid: every change after them gets a
higher number. SQLite keeps the counters (it has no sequences)."""

from django.db import migrations

SEQUENCE = "tasks_change_number_seq"  # tasks.models.CHANGE_NUMBER_SEQUENCE, as of this migration


def create_sequence(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"CREATE SEQUENCE {SEQUENCE} AS bigint")
    # Every number in tasks and tombstones came from a counter: the
    # counters' maximum bounds them all (and reads a small table).
    schema_editor.execute(
        f"SELECT setval('{SEQUENCE}', COALESCE((SELECT max(change_seq) FROM tasks_taskowner), 0) + 1, false)"
    )


def drop_sequence(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP SEQUENCE {SEQUENCE}")


class Migration(migrations.Migration):
    dependencies = [
        ("tasks", "0007_sync_indexes"),
    ]

    operations = [
        migrations.RunPython(create_sequence, drop_sequence),
    ]
