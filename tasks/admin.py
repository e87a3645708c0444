from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import admin, messages
from django.db import transaction
from django.db.models import Q, QuerySet
from django.forms import ModelForm
from django.http import HttpRequest
from django.utils import timezone

from tasks.changes import lock_for_writing
from tasks.models import Task, TaskTombstone, change_number, first_position
from tasks.quota import TaskLimitReached
from tasks.trash import purge, restore

admin.site.site_header = "TODO administration"
admin.site.site_title = "TODO admin"
admin.site.index_title = "Tasks and staff accounts"


class DueFilter(admin.SimpleListFilter):
    """Whether a task is due, and whether it is overdue: pending, with a due
    instant in the past or a due date before today. Today is the server's
    (TIME_ZONE): the admin does not know the user's time zone."""

    title = "due"
    parameter_name = "due"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("set", "Has a due date"), ("overdue", "Overdue"), ("none", "No due date")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Task]) -> QuerySet[Task]:
        no_due = Q(due_date__isnull=True, due_at__isnull=True)
        if self.value() == "set":
            return queryset.exclude(no_due)
        if self.value() == "overdue":
            past = Q(due_at__lt=timezone.now()) | Q(due_date__lt=timezone.localdate())
            return queryset.filter(past, completed=False)
        if self.value() == "none":
            return queryset.filter(no_due)
        return queryset


class InTrashFilter(admin.SimpleListFilter):
    """Live tasks, or those in their owner's trash (deleted_at set)."""

    title = "in trash"
    parameter_name = "in_trash"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "Yes"), ("no", "No")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Task]) -> QuerySet[Task]:
        if self.value() == "yes":
            return queryset.filter(deleted_at__isnull=False)
        if self.value() == "no":
            return queryset.filter(deleted_at__isnull=True)
        return queryset


def lock_users(user_ids: set[str]) -> list[str]:
    """Take each user's write locks with the order lock (tasks/changes.py),
    in sorted order, so two admin writes over the same users never
    deadlock; call it in a transaction. The users, sorted."""
    users = sorted(user_ids)
    for user_id in users:
        lock_for_writing(user_id, order=True)
    return users


def owners(queryset: QuerySet[Task]) -> set[str]:
    return set(queryset.order_by().values_list("user_id", flat=True).distinct())


@admin.register(Task)
class TaskAdmin(admin.ModelAdmin):
    # priority shows its name (none, low, medium, high): Django displays a choice's label.
    list_display = [
        "id",
        "title",
        "user_id",
        "completed",
        "priority",
        "due_date",
        "due_at",
        "completed_at",
        "position",
        "created_at",
        "updated_at",
        "deleted_at",
    ]
    list_display_links = ["id", "title"]
    list_filter = ["completed", "priority", DueFilter, InTrashFilter, "created_at", "updated_at"]
    search_fields = ["title", "description", "user_id"]
    date_hierarchy = "created_at"
    readonly_fields = ["completed_at", "position", "created_at", "updated_at", "deleted_at"]
    fields = [
        "user_id",
        "title",
        "description",
        "completed",
        "priority",
        "due_date",
        "due_at",
        "completed_at",
        "position",
        "created_at",
        "updated_at",
        "deleted_at",
    ]
    ordering = ["-created_at", "-id"]
    list_per_page = 50
    actions = ["mark_completed", "mark_pending", "restore_from_trash"]

    # Every write here is a change like any other for GET /api/sync: it
    # takes the owners' write locks first (lock_users, in the admin's
    # transaction), what it writes records a change number, and a purge
    # leaves tombstones, as the API's writes do.

    def get_queryset(self, request: HttpRequest) -> QuerySet[Task]:
        """Every task, the trash included (the default manager sees live tasks only)."""
        queryset = Task.all_objects.get_queryset()
        if ordering := self.get_ordering(request):
            queryset = queryset.order_by(*ordering)
        return queryset

    def save_model(self, request: HttpRequest, obj: Task, form: ModelForm[Task], change: bool) -> None:
        """A save that changes nothing is not a change: updated_at stays.
        Any other save runs under the owner's write locks (the admin view
        runs in a transaction). A task added (Task.save gives it its position) or
        given to another user goes first in that user's manual order, as the
        API's creates do; the user it was taken from gets a tombstone, so
        their next sync drops it."""
        if change and not form.has_changed():
            return
        previous_owner = form.initial.get("user_id") if change else None
        lock_users({obj.user_id, *([previous_owner] if previous_owner else [])})
        if previous_owner is not None and previous_owner != obj.user_id:
            obj.position = first_position(obj.user_id)
            TaskTombstone.objects.create(
                user_id=previous_owner, task_id=obj.pk, change_seq=change_number(previous_owner)
            )
        super().save_model(request, obj, form, change)

    def delete_model(self, request: HttpRequest, obj: Task) -> None:
        """Deleting in the admin purges the task (no trash), leaving a tombstone."""
        self.delete_queryset(request, Task.all_objects.filter(pk=obj.pk))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Task]) -> None:
        with transaction.atomic():
            for user_id in lock_users(owners(queryset)):
                purge(queryset, user_id)

    @admin.action(description="Mark selected tasks as completed", permissions=["change"])
    def mark_completed(self, request: HttpRequest, queryset: QuerySet[Task]) -> None:
        self._set_completed(request, queryset, completed=True)

    @admin.action(description="Mark selected tasks as pending", permissions=["change"])
    def mark_pending(self, request: HttpRequest, queryset: QuerySet[Task]) -> None:
        self._set_completed(request, queryset, completed=False)

    def _set_completed(self, request: HttpRequest, queryset: QuerySet[Task], completed: bool) -> None:
        # Only rows that change get a new updated_at and change number;
        # completed_at is that same moment for a completed task, and null
        # for a pending one.
        now = timezone.now()
        changing = queryset.exclude(completed=completed)
        changed = 0
        with transaction.atomic():
            for user_id in lock_users(owners(changing)):
                changed += changing.filter(user_id=user_id).update(
                    completed=completed,
                    updated_at=now,
                    completed_at=now if completed else None,
                    change_seq=change_number(user_id),
                )
        state = "completed" if completed else "pending"
        self.message_user(request, f"{changed} task(s) marked as {state}.", messages.SUCCESS)

    @admin.action(description="Restore selected tasks from the trash", permissions=["change"])
    def restore_from_trash(self, request: HttpRequest, queryset: QuerySet[Task]) -> None:
        """As POST /api/trash/{id}/restore does: back to their old place, as
        long as their owner stays within TASKS_MAX_PER_USER. Live tasks in
        the selection are left alone."""
        trashed = queryset.filter(deleted_at__isnull=False)
        restored, refused = 0, 0
        with transaction.atomic():
            for user_id in lock_users(owners(trashed)):
                # Read under the lock: what is still in the trash now.
                for task in trashed.filter(user_id=user_id).order_by("-deleted_at", "-id"):
                    try:
                        restore(task)
                    except TaskLimitReached:
                        refused += 1
                    else:
                        restored += 1
        self.message_user(request, f"{restored} task(s) restored from the trash.", messages.SUCCESS)
        if refused:
            self.message_user(
                request,
                f"{refused} task(s) not restored: their owner already holds "
                f"TASKS_MAX_PER_USER ({settings.TASKS_MAX_PER_USER}) live tasks.",
                messages.ERROR,
            )
