"""Planning fields: completion time, due date or instant, priority, and the
manual order. Existing tasks keep their newest-first order as their manual
order, and completed ones get completed_at from updated_at."""

import django.db.models.functions.text
from django.db import migrations, models

import tasks.models
from tasks.positions import keys_between

BATCH_SIZE = 1000


def backfill(apps, schema_editor):
    Task = apps.get_model("tasks", "Task")
    users = Task.objects.filter(position__isnull=True).values_list("user_id", flat=True).distinct().order_by()
    for user_id in users.iterator():
        ids = list(Task.objects.filter(user_id=user_id).order_by("-created_at", "-id").values_list("id", flat=True))
        keys = keys_between(None, None, len(ids))
        for start in range(0, len(ids), BATCH_SIZE):
            batch = [Task(id=id_, position=key) for id_, key in zip(ids[start : start + BATCH_SIZE], keys[start:])]
            Task.objects.bulk_update(batch, ["position"])
    Task.objects.filter(completed=True, completed_at__isnull=True).update(completed_at=models.F("updated_at"))


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
        migrations.AddField(
            model_name="task",
            name="priority",
            field=models.PositiveSmallIntegerField(
                choices=[(0, "none"), (1, "low"), (2, "medium"), (3, "high")], default=0
            ),
        ),
        migrations.AddField(
            model_name="task",
            name="position",
            field=tasks.models.CodePointOrderCharField(editable=False, max_length=64, null=True),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop, elidable=True),
        migrations.AlterField(
            model_name="task",
            name="position",
            field=tasks.models.CodePointOrderCharField(editable=False, max_length=64),
        ),
        migrations.AddIndex(
            model_name="task",
            index=models.Index(fields=["user_id", "updated_at", "id"], name="task_user_updated_idx"),
        ),
        migrations.AddIndex(
            model_name="task",
            index=models.Index(fields=["user_id", "priority", "id"], name="task_user_priority_idx"),
        ),
        migrations.AddIndex(
            model_name="task",
            index=models.Index(
                models.F("user_id"),
                tasks.models.CodePointOrder(django.db.models.functions.text.Lower("title")),
                models.F("id"),
                name="task_user_title_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="task",
            index=models.Index(
                condition=models.Q(due_at__isnull=False), fields=["user_id", "due_at", "id"], name="task_user_due_at_idx"
            ),
        ),
        migrations.AddIndex(
            model_name="task",
            index=models.Index(
                condition=models.Q(due_date__isnull=False),
                fields=["user_id", "due_date", "id"],
                name="task_user_due_date_idx",
            ),
        ),
        migrations.AddConstraint(
            model_name="task",
            constraint=models.UniqueConstraint(fields=["user_id", "position"], name="task_user_position_unique"),
        ),
        migrations.AddConstraint(
            model_name="task",
            constraint=models.CheckConstraint(
                condition=models.Q(("due_date__isnull", True), ("due_at__isnull", True), _connector="OR"),
                name="task_one_due_kind",
            ),
        ),
        migrations.AddConstraint(
            model_name="task",
            constraint=models.CheckConstraint(
                condition=models.Q(("priority__in", [0, 1, 2, 3])), name="task_priority_known"
            ),
        ),
    ]
