from django.db import connection, models
from django.db.models.functions import Length, Trim
from django.db.models.lookups import GreaterThan, LessThanOrEqual
from django.utils import timezone

TITLE_MAX_LENGTH = 200
DESCRIPTION_MAX_LENGTH = 2000
USER_ID_MAX_LENGTH = 255


class TaskQuerySet(models.QuerySet["Task"]):
    def set_completed(self, pk: int, completed: bool | None) -> "Task | None":
        """Flip `completed` (None) or set it on the task `pk` of this queryset,
        in one statement, and return the task as it now is; None when this
        queryset holds no such task.

        One `UPDATE … RETURNING` (the ORM's update() returns a count, not the
        row), scoped by this queryset's own filters: the row lock it takes
        makes concurrent flips queue, and each flips the state the previous
        one left. Setting the state a task already has writes nothing
        (`updated_at` stays); a second query then tells it from a missing task."""
        scope = self.filter(pk=pk).order_by()
        scope_sql, scope_params = scope.values("pk").query.sql_with_params()
        table = connection.ops.quote_name(self.model._meta.db_table)
        columns = ", ".join(connection.ops.quote_name(field.column) for field in self.model._meta.concrete_fields)
        if completed is None:
            change, change_params, condition, condition_params = "NOT completed", [], "", []
        else:
            change, change_params, condition, condition_params = "%s", [completed], " AND completed <> %s", [completed]
        # Names come from the model's metadata; every value is a parameter.
        sql = (
            f"UPDATE {table} SET completed = {change}, updated_at = %s"  # noqa: S608
            f" WHERE id IN ({scope_sql}){condition} RETURNING {columns}"
        )
        params = [*change_params, timezone.now(), *scope_params, *condition_params]
        for task in self.raw(sql, params):
            return task
        return None if completed is None else scope.first()


class Task(models.Model):
    """One person's task. `user_id` is the Better Auth user id from the token:
    users live in Better Auth, so it is a plain string, not a foreign key."""

    user_id = models.CharField(max_length=USER_ID_MAX_LENGTH)
    title = models.CharField(max_length=TITLE_MAX_LENGTH)
    # null (never given, or cleared) and "" (sent empty) are different values.
    description = models.TextField(null=True, blank=True)  # noqa: DJ001
    completed = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = TaskQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The caller's list, newest first; the leading column also serves
            # every lookup by user_id.
            models.Index(fields=["user_id", "-created_at", "-id"], name="task_user_newest_idx"),
            # The same list filtered by ?status=pending|completed.
            models.Index(fields=["user_id", "completed", "-created_at", "-id"], name="task_user_status_newest_idx"),
        ]
        constraints = [
            # The database itself refuses what the API must never store, even
            # where SQLite would ignore a VARCHAR length.
            models.CheckConstraint(
                condition=GreaterThan(Length(Trim("title")), 0) & LessThanOrEqual(Length("title"), TITLE_MAX_LENGTH),
                name="task_title_length",
            ),
            models.CheckConstraint(
                condition=models.Q(description__isnull=True)
                | LessThanOrEqual(Length("description"), DESCRIPTION_MAX_LENGTH),
                name="task_description_length",
            ),
            models.CheckConstraint(
                condition=GreaterThan(Length("user_id"), 0) & LessThanOrEqual(Length("user_id"), USER_ID_MAX_LENGTH),
                name="task_user_id_length",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def save(self, *args, **kwargs) -> None:
        """Keep `updated_at` moving on every save, and equal to `created_at` on
        the first one. Writes that name their fields also write `updated_at`."""
        if self._state.adding:
            self.updated_at = self.created_at
        else:
            self.updated_at = timezone.now()
            if (fields := kwargs.get("update_fields")) is not None:
                kwargs["update_fields"] = {*fields, "updated_at"}
        super().save(*args, **kwargs)
