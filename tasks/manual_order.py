"""Moving a task in its owner's manual order (`POST /api/tasks/{id}/move`).

Callers hold the user's order lock (tasks/changes.py), so the neighbours
read here stay the neighbours until the move commits, and concurrent moves
and creates of one user take their gaps one after another.

Tasks in the trash keep their positions (a restore puts a task back in its
place), so new keys are found among every task of the user, the trash
included, while the place a task is moved to is among the live ones.
"""

from django.db.models import CharField, Min, Q, QuerySet, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from tasks.models import Task, change_number
from tasks.positions import KEY_MAX_LENGTH, key_between, keys_between

# Windows of neighbours tried, in turn, when a gap has no short key left.
RESPACE_WIDTHS = (8, 64, 512)


def move_after(task: Task, after: Task | None) -> bool:
    """Put `task` right after `after` (None: first). Returns False, writing
    nothing, when it is already there."""
    others = Task.all_objects.filter(user_id=task.user_id).exclude(pk=task.pk)
    lower = None if after is None else after.position
    above = others if lower is None else others.filter(position__gt=lower)
    first_above = above.aggregate(live=Min("position", filter=Q(deleted_at__isnull=True)), any=Min("position"))
    if (lower is None or lower < task.position) and (
        first_above["live"] is None or task.position < first_above["live"]
    ):
        return False
    upper = first_above["any"]
    key = key_between(lower, upper)
    if len(key) > KEY_MAX_LENGTH:
        key = respace(task, others, lower, upper)
    task.position = key
    task.save(update_fields=["position"])
    return True


def respace(task: Task, others: QuerySet[Task], lower: str | None, upper: str | None) -> str:
    """Give the neighbours around the gap (lower, upper) shorter keys, evenly
    spread, and return the key for `task` in the middle of them. The
    neighbours count as changed: their updated_at and change number move. A few neighbours
    are enough unless a whole region has grown long keys; the window widens
    until the keys fit, at worst to the whole list."""
    for width in (*RESPACE_WIDTHS, None):
        below = _neighbours(others, lower, width, descending=True)
        beyond = _neighbours(others, upper, width, descending=False)
        window_low = below.pop() if width is not None and len(below) > width else None
        window_high = beyond.pop() if width is not None and len(beyond) > width else None
        window = [*reversed(below), task, *beyond]
        keys = keys_between(
            None if window_low is None else window_low.position,
            None if window_high is None else window_high.position,
            len(window),
        )
        if max(map(len, keys)) <= KEY_MAX_LENGTH // 2 or width is None:
            break
    # New keys fall among the window's old ones: park the window on keys that
    # cannot clash ("~" sorts after every key character) before the real ones.
    ids = [neighbour.pk for neighbour in window]
    Task.all_objects.filter(pk__in=ids).update(position=Concat(Value("~"), Cast("id", CharField())))
    now = timezone.now()
    neighbours = []
    for neighbour, key in zip(window, keys, strict=True):
        if neighbour is task:
            task_key = key
            continue
        neighbour.position, neighbour.updated_at = key, now
        neighbour.change_seq = change_number(task.user_id)
        neighbours.append(neighbour)
    Task.all_objects.bulk_update(neighbours, ["position", "updated_at", "change_seq"])
    return task_key


def _neighbours(others: QuerySet[Task], bound: str | None, width: int | None, descending: bool) -> list[Task]:
    """Up to width + 1 tasks from `bound` outwards (inclusive), nearest first."""
    if bound is None:
        return []
    if descending:
        tasks = others.filter(position__lte=bound).order_by("-position")
    else:
        tasks = others.filter(position__gte=bound).order_by("position")
    return list(tasks if width is None else tasks[: width + 1])
