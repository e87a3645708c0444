"""Planning fields, step 3 of 3: the indexes and constraints, then position
NOT NULL once the tasks the previous version of the app inserted meanwhile
have theirs.

Not atomic. On PostgreSQL (tasks/migration_operations.py) indexes are built
CONCURRENTLY, the unique constraint is attached to such an index, and checks
are added NOT VALID then validated: writes go on throughout. The only
exclusive lock lasting longer than a catalog update covers the positions of
the stragglers, found through a temporary partial index. Rerunning after an
interruption picks up where it stopped. SQLite takes the plain path.
"""

import django.db.models.functions.text
from django.db import migrations, models

import tasks.models
from tasks.migration_operations import (
    AddCheckConstraintNotValid,
    AddIndexConcurrently,
    AddUniqueConstraintConcurrently,
    OnPostgreSQL,
    RemoveIndexConcurrently,
    SetNotNullConcurrently,
)
from tasks.planning_backfill import fill_positions, sync_completed_at


def sync_completed(apps, schema_editor):
    sync_completed_at(apps.get_model("tasks", "Task"), schema_editor.connection.alias)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("tasks", "0003_planning_backfill"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="task",
            index=models.Index(fields=["user_id", "updated_at", "id"], name="task_user_updated_idx"),
        ),
        AddIndexConcurrently(
            model_name="task",
            index=models.Index(fields=["user_id", "priority", "id"], name="task_user_priority_idx"),
        ),
        AddIndexConcurrently(
            model_name="task",
            index=models.Index(
                models.F("user_id"),
                tasks.models.CodePointOrder(django.db.models.functions.text.Lower("title")),
                models.F("id"),
                name="task_user_title_idx",
            ),
        ),
        AddIndexConcurrently(
            model_name="task",
            index=models.Index(
                condition=models.Q(due_at__isnull=False), fields=["user_id", "due_at", "id"], name="task_user_due_at_idx"
            ),
        ),
        AddIndexConcurrently(
            model_name="task",
            index=models.Index(
                condition=models.Q(due_date__isnull=False),
                fields=["user_id", "due_date", "id"],
                name="task_user_due_date_idx",
            ),
        ),
        AddUniqueConstraintConcurrently(
            model_name="task",
            constraint=models.UniqueConstraint(fields=["user_id", "position"], name="task_user_position_unique"),
        ),
        AddCheckConstraintNotValid(
            model_name="task",
            constraint=models.CheckConstraint(
                condition=models.Q(("due_date__isnull", True), ("due_at__isnull", True), _connector="OR"),
                name="task_one_due_kind",
            ),
        ),
        AddCheckConstraintNotValid(
            model_name="task",
            constraint=models.CheckConstraint(
                condition=models.Q(("priority__in", [0, 1, 2, 3])), name="task_priority_known"
            ),
        ),
        OnPostgreSQL(
            sql=['ALTER TABLE "tasks_task" VALIDATE CONSTRAINT "tasks_task_priority_check"'],
            reverse_sql=[],
            description="Validate the check of priority added NOT VALID by 0002 (PostgreSQL only)",
        ),
        # Tasks the previous version of the app completed or reopened since 0003.
        migrations.RunPython(sync_completed, migrations.RunPython.noop, elidable=True),
        # Finds the stragglers without a position fast, so the lock below is brief.
        AddIndexConcurrently(
            model_name="task",
            index=models.Index(
                fields=["user_id"], condition=models.Q(position__isnull=True), name="task_position_missing_idx"
            ),
        ),
        SetNotNullConcurrently(
            model_name="task",
            name="position",
            field=tasks.models.CodePointOrderCharField(editable=False, max_length=64),
            fill=fill_positions,
        ),
        RemoveIndexConcurrently(model_name="task", name="task_position_missing_idx"),
        # From here on, inserting a task takes the new version of the app.
        OnPostgreSQL(
            sql=['ALTER TABLE "tasks_task" ALTER COLUMN "priority" DROP DEFAULT'],
            reverse_sql=['ALTER TABLE "tasks_task" ALTER COLUMN "priority" SET DEFAULT 0'],
            description="Drop the default of priority kept by 0002 for the previous version (PostgreSQL only)",
        ),
    ]
