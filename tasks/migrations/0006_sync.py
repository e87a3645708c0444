"""Sync, step 1 of 2: the trash (deleted_at), change numbers (change_seq on
tasks and their owners) and the tombstones of purged tasks.

Every new column is nullable or has a database default, so the previous
version of the app goes on inserting while it still runs (docs/deployment.md);
adding them takes a brief lock and rewrites nothing. The indexes on tasks are
built concurrently in 0007.
"""

import django.utils.timezone
from django.db import migrations, models

BATCH = 5_000


def give_every_user_a_counter(apps, schema_editor):
    """Every user with tasks gets a TaskOwner row (users whose tasks all
    predate it have none), so a write never has to create one."""
    task_model = apps.get_model("tasks", "Task")
    owner_model = apps.get_model("tasks", "TaskOwner")
    alias = schema_editor.connection.alias
    users = task_model.objects.using(alias).order_by("user_id").values_list("user_id", flat=True).distinct()
    batch = []
    for user_id in users.iterator(chunk_size=BATCH):
        batch.append(owner_model(user_id=user_id))
        if len(batch) == BATCH:
            owner_model.objects.using(alias).bulk_create(batch, ignore_conflicts=True)
            batch = []
    owner_model.objects.using(alias).bulk_create(batch, ignore_conflicts=True)


class Migration(migrations.Migration):
    dependencies = [
        ("tasks", "0005_task_user_undated_idx"),
    ]

    operations = [
        migrations.CreateModel(
            name="TaskTombstone",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("user_id", models.CharField(max_length=255)),
                ("task_id", models.BigIntegerField()),
                ("change_seq", models.BigIntegerField()),
                ("purged_at", models.DateTimeField(default=django.utils.timezone.now)),
            ],
            options={
                "indexes": [
                    models.Index(fields=["user_id", "change_seq"], name="tombstone_user_change_idx"),
                    models.Index(fields=["purged_at"], name="tombstone_purged_idx"),
                ],
            },
        ),
        migrations.AddField(
            model_name="task",
            name="change_seq",
            field=models.BigIntegerField(db_default=0, default=0, editable=False),
        ),
        migrations.AddField(
            model_name="task",
            name="deleted_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="taskowner",
            name="change_seq",
            field=models.BigIntegerField(db_default=0, default=0),
        ),
        migrations.RunPython(give_every_user_a_counter, migrations.RunPython.noop, elidable=True),
    ]
