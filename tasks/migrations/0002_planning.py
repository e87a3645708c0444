"""Planning fields, step 1 of 3: the per-user lock row and the new columns.

Safe on a live database: each column is added nullable or with a constant
default, a catalog change that rewrites and scans nothing. On PostgreSQL,
priority keeps its DEFAULT 0 until 0004, so the previous version of the app
can go on inserting tasks, and its `>= 0` check is added NOT VALID (checked
inline, it would scan the table under an exclusive lock; 0004 validates it).
position stays nullable until 0004. docs/deployment.md has the whole upgrade.
"""

from django.db import migrations, models

import tasks.models
from tasks.migration_operations import OnPostgreSQL


class Migration(migrations.Migration):
    dependencies = [
        ("tasks", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="TaskOwner",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("user_id", models.CharField(max_length=255, unique=True)),
            ],
        ),
        migrations.AddField(
            model_name="task",
            name="completed_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="task",
            name="due_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="task",
            name="due_date",
            field=models.DateField(blank=True, null=True),
        ),
        OnPostgreSQL(
            sql=[
                'ALTER TABLE "tasks_task" ADD COLUMN "priority" smallint DEFAULT 0 NOT NULL',
                'ALTER TABLE "tasks_task" ADD CONSTRAINT "tasks_task_priority_check" CHECK ("priority" >= 0) NOT VALID',
            ],
            reverse_sql=['ALTER TABLE "tasks_task" DROP COLUMN "priority"'],
            otherwise=migrations.AddField(
                model_name="task",
                name="priority",
                field=models.PositiveSmallIntegerField(
                    choices=[(0, "none"), (1, "low"), (2, "medium"), (3, "high")], default=0
                ),
            ),
        ),
        migrations.AddField(
            model_name="task",
            name="position",
            field=tasks.models.CodePointOrderCharField(editable=False, max_length=64, null=True),
        ),
    ]
