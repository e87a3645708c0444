from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import Q, QuerySet
from django.forms import ModelForm
from django.http import HttpRequest
from django.utils import timezone

from tasks.models import Task, TaskOwner, first_position

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
    ]
    list_display_links = ["id", "title"]
    list_filter = ["completed", "priority", DueFilter, "created_at", "updated_at"]
    search_fields = ["title", "description", "user_id"]
    date_hierarchy = "created_at"
    readonly_fields = ["completed_at", "position", "created_at", "updated_at"]
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
    ]
    ordering = ["-created_at", "-id"]
    list_per_page = 50
    actions = ["mark_completed", "mark_pending"]

    def save_model(self, request: HttpRequest, obj: Task, form: ModelForm[Task], change: bool) -> None:
        """A save that changes nothing is not a change: updated_at stays. A
        task added (Task.save gives it its position) or given to another user
        goes first in that user's manual order, under the user's lock, as
        the API's creates do (the admin view runs in a transaction)."""
        if change and not form.has_changed():
            return
        if not change or "user_id" in form.changed_data:
            TaskOwner.lock(obj.user_id)
            if change:
                obj.position = first_position(obj.user_id)
        super().save_model(request, obj, form, change)

    @admin.action(description="Mark selected tasks as completed", permissions=["change"])
    def mark_completed(self, request: HttpRequest, queryset: QuerySet[Task]) -> None:
        self._set_completed(request, queryset, completed=True)

    @admin.action(description="Mark selected tasks as pending", permissions=["change"])
    def mark_pending(self, request: HttpRequest, queryset: QuerySet[Task]) -> None:
        self._set_completed(request, queryset, completed=False)

    def _set_completed(self, request: HttpRequest, queryset: QuerySet[Task], completed: bool) -> None:
        # Only rows that change get a new updated_at; completed_at is that
        # same moment for a completed task, and null for a pending one.
        now = timezone.now()
        changed = queryset.exclude(completed=completed).update(
            completed=completed, updated_at=now, completed_at=now if completed else None
        )
        state = "completed" if completed else "pending"
        self.message_user(request, f"{changed} task(s) marked as {state}.", messages.SUCCESS)
