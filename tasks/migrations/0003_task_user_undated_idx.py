"""ordering=due lists the tasks without a due date last, by id: this index
serves that scan for one user (docs/decisions/list-keyset-pagination.md)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("tasks", "0002_planning"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="task",
            index=models.Index(
                condition=models.Q(("due_at__isnull", True), ("due_date__isnull", True)),
                fields=["user_id", "id"],
                name="task_user_undated_idx",
            ),
        ),
    ]
