"""TASKS_MAX_PER_USER: how many live tasks one user may hold."""

from django.conf import settings
from rest_framework import status
from rest_framework.exceptions import APIException


class TaskLimitReached(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "task_limit_reached"

    def __init__(self) -> None:
        limit = settings.TASKS_MAX_PER_USER
        super().__init__(f"Task limit reached: a user can hold at most {limit} tasks")


def check_room_for_one_more(live_tasks: int) -> None:
    """Refuse a task beyond the limit. The count must be read under the
    user's order lock (tasks/changes.py), or two creates at the limit could
    both pass."""
    if live_tasks >= settings.TASKS_MAX_PER_USER:
        raise TaskLimitReached()
