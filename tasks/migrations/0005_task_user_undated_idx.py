"""ordering=due lists the tasks without a due date last, by id: this index
serves that scan for one user (docs/decisions/list-keyset-pagination.md).

Not atomic: on PostgreSQL the index is built CONCURRENTLY, as the planning
indexes are (tasks/migration_operations.py), so writes go on meanwhile."""

from django.db import migrations, models

from tasks.migration_operations import AddIndexConcurrently


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("tasks", "0004_planning_constraints"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="task",
            index=models.Index(
                condition=models.Q(("due_at__isnull", True), ("due_date__isnull", True)),
                fields=["user_id", "id"],
                name="task_user_undated_idx",
            ),
        ),
    ]
