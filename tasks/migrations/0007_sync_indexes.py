"""Sync, step 2 of 2: the indexes that serve the trash and GET /api/sync.

Not atomic: on PostgreSQL they are built CONCURRENTLY, as the planning
indexes are (tasks/migration_operations.py), so writes go on meanwhile."""

from django.db import migrations, models

from tasks.migration_operations import AddIndexConcurrently


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("tasks", "0006_sync"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="task",
            index=models.Index(
                condition=models.Q(("deleted_at__isnull", False)),
                fields=["user_id", "-deleted_at", "-id"],
                name="task_user_trash_idx",
            ),
        ),
        AddIndexConcurrently(
            model_name="task",
            index=models.Index(fields=["user_id", "change_seq"], name="task_user_change_idx"),
        ),
    ]
