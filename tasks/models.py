from typing import Any

from django.db import models
from django.db.models.functions import Length, Trim
from django.db.models.lookups import GreaterThan, LessThanOrEqual
from django.utils import timezone

from api.users import USER_ID_MAX_LENGTH

TITLE_MAX_LENGTH = 200
DESCRIPTION_MAX_LENGTH = 2000


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
                # Q | Q, the same condition Q | lookup builds: Q's stubs only take a Q.
                condition=models.Q(description__isnull=True)
                | models.Q(LessThanOrEqual(Length("description"), DESCRIPTION_MAX_LENGTH)),
                name="task_description_length",
            ),
            models.CheckConstraint(
                condition=GreaterThan(Length("user_id"), 0) & LessThanOrEqual(Length("user_id"), USER_ID_MAX_LENGTH),
                name="task_user_id_length",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Keep `updated_at` moving on every save, and equal to `created_at` on
        the first one. Writes that name their fields also write `updated_at`."""
        if self._state.adding:
            self.updated_at = self.created_at
        else:
            self.updated_at = timezone.now()
            if (fields := kwargs.get("update_fields")) is not None:
                kwargs["update_fields"] = {*fields, "updated_at"}
        super().save(*args, **kwargs)

    def set_completed(self, completed: bool | None) -> None:
        """Flip `completed` (None) or set it, saving only a change.

        Call it on a row read with select_for_update() in a transaction: the
        lock makes concurrent flips queue up, so each sees the state the
        previous one left, answers with the state it produced, and stamps
        updated_at once it holds the lock, in the order of the flips. (One
        UPDATE ... RETURNING in autocommit would save two round trips but lose
        both: its updated_at is computed before it waits, and it commits even
        when the worker that sent it has died; docs/decisions/toggle-row-lock.md.)
        """
        completed = not self.completed if completed is None else completed
        if completed != self.completed:
            self.completed = completed
            self.save(update_fields=["completed"])
