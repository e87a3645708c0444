from typing import Any

from django.db import IntegrityError, connection, models, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models.expressions import Func, Subquery
from django.db.models.functions import Coalesce, Length, Lower, Trim
from django.db.models.lookups import GreaterThan, LessThanOrEqual
from django.utils import timezone

from api.users import USER_ID_MAX_LENGTH
from tasks.positions import KEY_MAX_LENGTH, key_between

TITLE_MAX_LENGTH = 200
DESCRIPTION_MAX_LENGTH = 2000


class Priority(models.IntegerChoices):
    """Stored as its rank, so ordering by priority is ordering by the column."""

    NONE = 0, "none"
    LOW = 1, "low"
    MEDIUM = 2, "medium"
    HIGH = 3, "high"


class CodePointOrder(Func):
    """An expression compared by code point, whatever the database's default
    collation: COLLATE "C" on PostgreSQL; SQLite's default (BINARY) already
    compares UTF-8 bytes, which is code point order."""

    template = '%(expressions)s COLLATE "C"'

    def as_sqlite(self, compiler: Any, connection: BaseDatabaseWrapper, **extra_context: Any) -> Any:
        return compiler.compile(self.source_expressions[0])


class CodePointOrderCharField(models.CharField):
    """A CharField whose column sorts by code point (see CodePointOrder), so
    its plain index serves ORDER BY on every database."""

    def db_parameters(self, connection: BaseDatabaseWrapper) -> dict[str, Any]:
        parameters = super().db_parameters(connection)
        if connection.vendor == "postgresql":
            parameters["collation"] = "C"
        return parameters


def first_position(user_id: str) -> str:
    """A position before every task of the user, the trash included (a
    restored task goes back to its place, which nobody may have taken).
    Unlocked: the API takes it holding the user's order lock
    (tasks/changes.py); the unique constraint guards every other caller."""
    first = Task.all_objects.filter(user_id=user_id).aggregate(first=models.Min("position"))["first"]
    return key_between(None, first)


def title_order() -> CodePointOrder:
    """`ordering=title`: ignoring letter case, then by code point."""
    return CodePointOrder(Lower("title"))


class LiveTaskManager(models.Manager["Task"]):
    """The tasks that are not in the trash: what every task route sees."""

    def get_queryset(self) -> models.QuerySet["Task"]:
        return super().get_queryset().filter(deleted_at__isnull=True)


CHANGE_NUMBER_SEQUENCE = "tasks_change_number_seq"


class NextChangeNumber(models.Expression):
    """The next value of PostgreSQL's change number sequence (migration
    0008), taken once per statement (a subquery without outer references
    runs once): the rows one UPDATE writes share a number. (No source
    expressions: it compiles to its SQL at once, on the path of every write.)"""

    output_field = models.BigIntegerField()

    def as_sql(self, compiler: Any, connection: BaseDatabaseWrapper) -> tuple[str, list[str | int]]:
        return "(SELECT nextval(%s::regclass))", [CHANGE_NUMBER_SEQUENCE]


def change_number(user_id: str) -> models.Expression:
    """The change number for a row a write of the user's tasks writes now,
    holding the user's write lock (tasks/changes.py):

    - PostgreSQL: the next value of one sequence, for every user. The
      sequence takes no lock, so writes of one user never wait for each other
      here; GET /api/sync waits for those in progress instead.
    - SQLite runs one write at a time and has no sequences: the user's
      counter (TaskOwner), which the write lock has just moved on (0 for a
      user with no counter yet: only a write outside the API, such as a
      fixture, gets there).

    docs/decisions/sync-change-numbers.md"""
    if connection.vendor == "postgresql":
        return NextChangeNumber()
    return Coalesce(Subquery(TaskOwner.objects.filter(user_id=user_id).values("change_seq")[:1]), 0)


class Task(models.Model):
    """One person's task. `user_id` is the Better Auth user id from the token:
    users live in Better Auth, so it is a plain string, not a foreign key."""

    user_id = models.CharField(max_length=USER_ID_MAX_LENGTH)
    title = models.CharField(max_length=TITLE_MAX_LENGTH)
    # null (never given, or cleared) and "" (sent empty) are different values.
    description = models.TextField(null=True, blank=True)  # noqa: DJ001
    completed = models.BooleanField(default=False)
    # The updated_at of the write that completed the task; null while pending.
    completed_at = models.DateTimeField(null=True, blank=True, editable=False)
    # An all-day task has a due date, a timed one a due instant; never both.
    due_date = models.DateField(null=True, blank=True)
    due_at = models.DateTimeField(null=True, blank=True)
    priority = models.PositiveSmallIntegerField(choices=Priority.choices, default=Priority.NONE)
    # The manual order: a key from tasks/positions.py, unique per user.
    position = CodePointOrderCharField(max_length=KEY_MAX_LENGTH, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)
    # When the task went to the trash; null while it is live.
    deleted_at = models.DateTimeField(null=True, blank=True, editable=False)
    # The change number of the last write to this row: what
    # GET /api/sync compares with a token (docs/decisions/sync-change-numbers.md).
    # db_default: rows the previous version of the app inserts during an
    # upgrade get 0 from the database.
    change_seq = models.BigIntegerField(default=0, db_default=0, editable=False)

    # The first manager is the default one: the admin and every lookup see
    # live tasks unless they ask for all_objects.
    objects = LiveTaskManager()
    all_objects = models.Manager()  # noqa: DJ012 (a manager, which ruff takes for a field)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The caller's list, newest first; the leading column also serves
            # every lookup by user_id.
            models.Index(fields=["user_id", "-created_at", "-id"], name="task_user_newest_idx"),
            # The same list filtered by ?status=pending|completed.
            models.Index(fields=["user_id", "completed", "-created_at", "-id"], name="task_user_status_newest_idx"),
            # One per other ordering; each is also read backwards.
            models.Index(fields=["user_id", "updated_at", "id"], name="task_user_updated_idx"),
            models.Index(fields=["user_id", "priority", "id"], name="task_user_priority_idx"),
            models.Index(models.F("user_id"), title_order(), models.F("id"), name="task_user_title_idx"),
            # ordering=due merges these two (a due date's instant depends on the caller's time zone).
            models.Index(
                fields=["user_id", "due_at", "id"],
                condition=models.Q(due_at__isnull=False),
                name="task_user_due_at_idx",
            ),
            models.Index(
                fields=["user_id", "due_date", "id"],
                condition=models.Q(due_date__isnull=False),
                name="task_user_due_date_idx",
            ),
            # ...then the tasks with neither, by id (the ordering's tie-break).
            models.Index(
                fields=["user_id", "id"],
                condition=models.Q(due_at__isnull=True, due_date__isnull=True),
                name="task_user_undated_idx",
            ),
            # The trash, most recently deleted first.
            models.Index(
                fields=["user_id", "-deleted_at", "-id"],
                condition=models.Q(deleted_at__isnull=False),
                name="task_user_trash_idx",
            ),
            # GET /api/sync?token=T: the rows written after change T.
            models.Index(fields=["user_id", "change_seq"], name="task_user_change_idx"),
        ]
        constraints = [
            # The manual order is strict, and its index serves ordering=position.
            models.UniqueConstraint(fields=["user_id", "position"], name="task_user_position_unique"),
            models.CheckConstraint(
                condition=models.Q(due_date__isnull=True) | models.Q(due_at__isnull=True), name="task_one_due_kind"
            ),
            models.CheckConstraint(condition=models.Q(priority__in=Priority.values), name="task_priority_known"),
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
        the first one, and record the change number of the write (the caller
        holds the user's write lock, tasks/changes.py). Writes that name their fields also write
        `updated_at` and `change_seq`."""
        self.change_seq = change_number(self.user_id)
        if self._state.adding:
            self.updated_at = self.created_at
            if not self.position:
                self.position = first_position(self.user_id)
        else:
            self.updated_at = timezone.now()
            if (fields := kwargs.get("update_fields")) is not None:
                kwargs["update_fields"] = {
                    *fields,
                    "updated_at",
                    "change_seq",
                    *(["completed_at"] if "completed" in fields else []),
                }
        if not self.completed:
            self.completed_at = None
        elif self.completed_at is None:
            self.completed_at = self.updated_at
        super().save(*args, **kwargs)

    def set_completed(self, completed: bool | None) -> None:
        """Flip `completed` (None) or set it, saving only a change.

        Call it on a row read with its lock (SELECT ... FOR UPDATE, inside
        the user's write lock): the row lock makes concurrent flips of the
        task queue up, so each sees the state the previous one left, answers
        with the state it produced, and stamps updated_at once it holds the
        lock, in the order of the flips. (One
        UPDATE ... RETURNING in autocommit would save two round trips but lose
        both: its updated_at is computed before it waits, and it commits even
        when the worker that sent it has died; docs/decisions/toggle-row-lock.md.)
        """
        completed = not self.completed if completed is None else completed
        if completed != self.completed:
            self.completed = completed
            self.save(update_fields=["completed"])


class TaskOwner(models.Model):
    """A user's change counter on SQLite, which has no sequences: one row per
    user id that a token names (not a user record: users live in Better
    Auth). SQLite runs one write transaction at a time, so the numbers a
    user's writes take here commit in order. PostgreSQL uses the sequence
    instead (change_number) and leaves these rows as they are.
    docs/decisions/sync-change-numbers.md"""

    user_id = models.CharField(max_length=USER_ID_MAX_LENGTH, unique=True)
    # The number of the user's last write (SQLite).
    change_seq = models.BigIntegerField(default=0, db_default=0)

    def __str__(self) -> str:
        return self.user_id

    @classmethod
    def take_next_number(cls, user_id: str) -> None:
        """Move the user's counter on (creating it on their first write);
        rows the transaction writes then record it (change_number). Call it
        inside transaction.atomic(), as its first statement."""
        bump = cls.objects.filter(user_id=user_id)
        if bump.update(change_seq=models.F("change_seq") + 1):
            return
        try:
            with transaction.atomic():
                cls.objects.create(user_id=user_id, change_seq=1)
        except IntegrityError:  # another first write made it meanwhile
            bump.update(change_seq=models.F("change_seq") + 1)


class TaskTombstone(models.Model):
    """A task purged from the trash (or taken from its user in the admin):
    GET /api/sync?token=T names it in `deleted` when the purge came after T.
    Kept for TRASH_RETENTION_DAYS, as long as a token stays valid."""

    user_id = models.CharField(max_length=USER_ID_MAX_LENGTH)
    task_id = models.BigIntegerField()
    change_seq = models.BigIntegerField()
    purged_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["user_id", "change_seq"], name="tombstone_user_change_idx"),
            models.Index(fields=["purged_at"], name="tombstone_purged_idx"),
        ]

    def __str__(self) -> str:
        return f"task {self.task_id} of {self.user_id}"
