"""Planning fields, step 2 of 3: existing tasks get positions in their current
newest-first order, per user, and completed ones get completed_at from
updated_at (tasks/planning_backfill.py).

Not atomic: the backfill commits every BATCH_SIZE rows, so no long
transaction holds row locks, and an interrupted run resumes where it stopped
(it only touches tasks without a position).
"""

from django.db import migrations

from tasks.planning_backfill import fill_positions


def backfill(apps, schema_editor):
    fill_positions(apps.get_model("tasks", "Task"), schema_editor.connection.alias)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("tasks", "0002_planning"),
    ]

    operations = [
        migrations.RunPython(backfill, migrations.RunPython.noop, elidable=True),
    ]
